"""Engine settings per database: SQLite needs explicit transactions and WAL to serve
several threads; PostgreSQL needs nothing beyond its driver."""
from __future__ import annotations

from flask import Flask
from sqlalchemy import Table, event
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Engine

from hotline.extensions import db


def init_app(app: Flask) -> None:
    with app.app_context():
        engine = db.engine
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)


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
