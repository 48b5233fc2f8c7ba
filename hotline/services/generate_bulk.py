"""Bulk loads on PostgreSQL, for :mod:`hotline.services.generate`.

Loading much more than a table holds is several times faster without its secondary indexes
and foreign keys, built once afterwards, than with them kept up to date row by row. A load
here runs in two transactions: the tickets, then their timelines. The tickets' indexes are
built on other connections while the timelines load (the trigram index on the search text
alone is a third of the work, and PostgreSQL builds a GIN on one core), then the events'
indexes, then the foreign keys are put back and validated.

What a load dropped is written to a stash table in its first transaction: a run killed
after that is finished by the next one (``finish``), timelines included.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor

from sqlalchemy import text

from hotline.extensions import db

STASH = "hotline_bulk_load_pending"
TABLES = ("tickets", "ticket_events")
# Index builds (then key validations) run side by side on this many connections.
REBUILD_CONNECTIONS = 2


class BulkLoad:
    """One load's drops and rebuilds. ``begin`` in the loading transaction, ``committed``
    after each table's rows, ``finish`` at the end; ``close`` in any case."""

    def __init__(self, status: Callable[[str], None]) -> None:
        self.status = status
        self.pool = ThreadPoolExecutor(REBUILD_CONNECTIONS, thread_name_prefix="generate-index")
        self.builds: list[Future] = []

    def begin(self, first_id: int, stop_id: int) -> None:
        """Stash and drop the secondary indexes and foreign keys of tickets and events, and
        note that tickets ``first_id`` to ``stop_id`` (exclusive) still need their timelines."""
        db.session.execute(text(
            f"CREATE TABLE {STASH} (seq serial, kind text NOT NULL, tbl text NOT NULL, "
            "name text NOT NULL, definition text NOT NULL)"))
        db.session.execute(text(
            f"INSERT INTO {STASH} (kind, tbl, name, definition) "
            "SELECT 'index', i.tablename, i.indexname, i.indexdef FROM pg_indexes i "
            "WHERE i.tablename = ANY(:t) AND i.schemaname = current_schema() AND NOT EXISTS "
            "(SELECT 1 FROM pg_constraint c WHERE c.conindid = to_regclass(quote_ident(i.indexname)))"
            " UNION ALL SELECT 'key', conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
            "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(ARRAY['tickets'::regclass, "
            "'ticket_events'::regclass])"), {"t": list(TABLES)})
        for kind, table, name in db.session.execute(text(
                f"SELECT kind, tbl, name FROM {STASH} ORDER BY kind DESC, seq")):
            db.session.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"' if kind == "key"
                                    else f'DROP INDEX "{name}"'))
        db.session.execute(text(
            f"INSERT INTO {STASH} (kind, tbl, name, definition) VALUES "
            "('timelines', 'ticket_events', 'timelines', :span)"), {"span": f"{first_id} {stop_id}"})

    def committed(self, table: str, *, timelines_written: bool = False) -> None:
        """Commit what is loaded so far; ``table``'s indexes start building meanwhile."""
        if timelines_written:
            db.session.execute(text(f"DELETE FROM {STASH} WHERE kind = 'timelines'"))
        indexes = _pending(table)
        db.session.commit()
        self.status(f"building {len(indexes)} indexes of {table}")
        engine = db.engine
        self.builds += [self.pool.submit(_create_index, engine, d) for d in indexes]

    def finish(self) -> None:
        """Wait for the index builds, put the foreign keys back, drop the stash; commits."""
        self.status("finishing the index builds")
        for build in self.builds:
            build.result()
        _restore_keys(self.status, self.pool)
        db.session.execute(text(f"DROP TABLE {STASH}"))
        db.session.commit()

    def close(self) -> None:
        self.pool.shutdown(wait=True, cancel_futures=True)


def finish(status: Callable[[str], None], write_timelines: Callable[[int, int], int]) -> bool:
    """Finish what a killed load left undone, if anything: its timelines (written by
    ``write_timelines(first_id, stop_id)``), indexes and foreign keys. Commits; safe to repeat."""
    if db.session.scalar(text("SELECT to_regclass(:t)"), {"t": STASH}) is None:
        return False
    span = db.session.scalar(text(f"SELECT definition FROM {STASH} WHERE kind = 'timelines'"))
    if span is not None:
        status("writing the timelines of a load cut short")
        first_id, stop_id = map(int, span.split())
        # What part of them was written rolled back with its transaction.
        write_timelines(first_id, stop_id)
    load = BulkLoad(status)
    try:
        load.committed("tickets", timelines_written=span is not None)
        load.committed("ticket_events")
        load.finish()
    finally:
        load.close()
    return True


def _pending(table: str) -> list[str]:
    """The stashed index definitions of ``table``, the slowest to build (GIN) first."""
    return sorted(db.session.scalars(text(
        f"SELECT definition FROM {STASH} WHERE kind = 'index' AND tbl = :t ORDER BY seq"),
        {"t": table}), key=lambda d: " USING gin " not in d)


def _create_index(engine, definition: str) -> None:
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(text("SET maintenance_work_mem = '512MB'"))
        # The builds already run side by side with the load: parallel workers would only
        # add their hand-over to the same cores.
        conn.execute(text("SET max_parallel_maintenance_workers = 0"))
        conn.execute(text(re.sub(r"^CREATE (UNIQUE )?INDEX ", r"CREATE \1INDEX IF NOT EXISTS ",
                                 definition)))


def _restore_keys(status: Callable[[str], None], pool: ThreadPoolExecutor) -> None:
    """Put the stashed foreign keys back: added unchecked, then each table's validated on its
    own connection (a validation locks only its own table against another validation)."""
    status("validating foreign keys")
    keys = db.session.execute(text(
        f"SELECT tbl, name, definition FROM {STASH} s WHERE kind = 'key' AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conname = s.name "
        "AND c.conrelid = CAST(s.tbl AS regclass))")).all()
    unchecked = db.session.execute(text(
        "SELECT conrelid::regclass::text, conname FROM pg_constraint WHERE NOT convalidated "
        "AND contype = 'f' AND conrelid = ANY(ARRAY['tickets'::regclass, "
        "'ticket_events'::regclass])")).all()
    for table, name, definition in keys:
        db.session.execute(text(f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition} NOT VALID'))
    db.session.commit()
    by_table: dict[str, list[str]] = {}
    for table, name in [*unchecked, *((k.tbl, k.name) for k in keys)]:
        by_table.setdefault(table, []).append(name)
    engine = db.engine
    for done in [pool.submit(_validate, engine, table, names) for table, names in by_table.items()]:
        done.result()


def _validate(engine, table: str, names: list[str]) -> None:
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        for name in names:
            conn.execute(text(f'ALTER TABLE {table} VALIDATE CONSTRAINT "{name}"'))
