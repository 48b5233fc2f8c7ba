"""The schema comes only from migrations: `db upgrade` on an empty database gives
exactly the models' schema, on SQLite and on PostgreSQL."""
from __future__ import annotations

import os
import uuid

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from flask_migrate import upgrade
from sqlalchemy import create_engine, inspect, text
from sqlalchemy.engine import make_url

from hotline import create_app
from hotline.extensions import db
from tests.conftest import missing_service


@pytest.fixture(params=["sqlite", "postgres"])
def empty_database(request, tmp_path):
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'empty.db'}"
        return
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        missing_service("TEST_DATABASE_URL is not set")
    url = make_url(base).set(drivername="postgresql+psycopg")
    name = f"hotline_mig_{uuid.uuid4().hex[:8]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def _migration_only_indexes() -> set[str]:
    return {ix.name for table in db.metadata.tables.values() for ix in table.indexes
            if ix.info.get("migration_only")}


def _significant(diff) -> list:
    """Alembic reports; drop the noise that is not a real schema difference."""
    out = []
    for item in diff:
        entry = item[0] if isinstance(item, list) else item
        if entry[0] in ("modify_default", "modify_comment"):
            continue
        # Indexes only one backend gets (pg_trgm) are marked info={"migration_only": True}.
        if entry[0] == "add_index" and entry[1].name in _migration_only_indexes():
            continue
        out.append(item)
    return out


def test_upgrade_from_empty_matches_models(empty_database):
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": empty_database, "REDIS_URL": None})
    with app.app_context():
        upgrade()
        tables = set(inspect(db.engine).get_table_names())
        assert {"tickets", "ticket_events", "contacts", "agencies", "areas", "fields",
                "routing_rules", "sla_policies", "calendar_overrides", "users", "kb_articles",
                "attachments", "outbox", "inbound_messages", "api_keys"} <= tables
        with db.engine.connect() as conn:
            ctx = MigrationContext.configure(conn, opts={"compare_type": True})
            diff = _significant(compare_metadata(ctx, db.metadata))
        assert diff == [], f"models and migrations differ: {diff}"
        db.engine.dispose()
