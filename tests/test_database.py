"""Pooled PostgreSQL connections: one that died while idle is replaced, not handed out."""
from __future__ import annotations

from sqlalchemy import create_engine, text

from hotline import create_app
from hotline.extensions import db


def test_a_connection_killed_while_idle_is_replaced(postgres_url):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": postgres_url,
                      "REDIS_URL": None, "DB_PING_IDLE_SECONDS": 0})
    admin = create_engine(postgres_url, isolation_level="AUTOCOMMIT")
    with app.app_context():
        pid = db.session.execute(text("SELECT pg_backend_pid()")).scalar()
        db.session.remove()  # back to the pool
        with admin.connect() as conn:  # a restart, a failover, a firewall's idle timeout
            assert conn.execute(text("SELECT pg_terminate_backend(:p)"), {"p": pid}).scalar()
        # The pool hands out a live connection: the dead one was pinged and replaced.
        assert db.session.execute(text("SELECT pg_backend_pid()")).scalar() != pid
        db.session.remove()
        db.engine.dispose()
    admin.dispose()
