"""Engine settings per database: SQLite needs explicit transactions and WAL to serve
several threads; PostgreSQL's pooled connections are checked after sitting idle."""
from __future__ import annotations

import time

from flask import Flask
from sqlalchemy import Table, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DisconnectionError

from hotline.extensions import db


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    else:
        _ping_when_idle(engine, float(app.config.get("DB_PING_IDLE_SECONDS", 10)))


def _ping_when_idle(engine: Engine, idle_seconds: float) -> None:
    """Check a pooled connection before use only if it sat idle ``idle_seconds`` or more.

    A connection can die while it waits in the pool (database restart, failover, a
    firewall's idle timeout); pinging on every checkout (``pool_pre_ping``) would cost
    every request one more round trip. Busy connections are used within seconds of their
    last request, so a burst pays nothing; an idle one is pinged and, if dead, replaced by
    the pool (SQLAlchemy's "pessimistic disconnect handling" with a custom condition).
    """
    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection, record):
        record.info["idle_since"] = time.monotonic()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection, record, _proxy):
        idle_since = record.info.get("idle_since")
        if idle_since is None or time.monotonic() - idle_since < idle_seconds:
            return
        try:
            engine.dialect.do_ping(dbapi_connection)
        except Exception as exc:  # noqa: BLE001 - any failure means: get another one
            raise DisconnectionError("pooled connection is gone") from exc


def _configure_sqlite(engine: Engine) -> None:
    # pysqlite's own transaction handling breaks SAVEPOINT; let SQLAlchemy issue BEGIN.
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection, _record):
        dbapi_connection.isolation_level = None
        cur = dbapi_connection.cursor()
        cur.execute("PRAGMA foreign_keys=ON")
        cur.execute("PRAGMA busy_timeout=30000")
        if engine.url.database not in (None, "", ":memory:"):
            cur.execute("PRAGMA journal_mode=WAL")
        cur.close()

    # IMMEDIATE takes the write lock up front: concurrent writers queue on busy_timeout
    # instead of failing with "database is locked" when a read transaction tries to write.
    # The embedded default trades write concurrency for never losing a message.
    @event.listens_for(engine, "begin")
    def _on_begin(conn):
        conn.exec_driver_sql("BEGIN IMMEDIATE")


def is_postgres() -> bool:
    return db.engine.dialect.name == "postgresql"


def insert_or_skip(table: Table):
    """An INSERT on this database that can take ``.on_conflict_do_nothing(...)``."""
    return (pg_insert if is_postgres() else sqlite_insert)(table)
