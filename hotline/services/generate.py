"""Bulk generation of realistic tickets for benchmarks (``flask generate-tickets N``).

Rows are written straight to the tables in large batches — binary COPY on PostgreSQL,
multi-row INSERTs on SQLite — because going through intake one ticket at a time would
measure Python, not the database. The tickets still look real (see
:mod:`hotline.services.generate_rows`): Vietnamese text, fields, places, agencies chosen
by the real router, deadlines from the real working calendar, a lifecycle and a timeline
of events each.

On PostgreSQL a worker thread writes batch k while the next one is generated: psycopg
waits for the server without the GIL, so the server's share of the load runs on the
other core instead of after Python's.
"""
from __future__ import annotations

import re
import secrets
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, insert, select, text

from hotline.extensions import db
from hotline.models import Area, Contact, Field, Ticket, TicketEvent
from hotline.services import routing
from hotline.services.calendar import get_calendar
from hotline.services.generate_rows import (
    CONTACT_COLUMNS,
    EVENT_COLUMNS,
    TICKET_COLUMNS,
    RowMaker,
    contact_rows,
    recode,
    ticket_code,
)
from hotline.services.sla import active_policies, policy_for

# Below this many tickets a load keeps the indexes (rebuilding them would cost more).
BULK_LOAD_MIN = 50_000


@dataclass
class GenerateReport:
    tickets: int
    events: int
    contacts: int
    seconds: float


def generate(n: int, *, years: float = 3.0, seed: int = 1022, batch: int = 20_000,
             now: datetime | None = None, progress: Callable[[int], None] | None = None,
             bulk_load: bool | None = None,
             status: Callable[[str], None] = lambda _: None) -> GenerateReport:
    """Insert ``n`` tickets spread over the last ``years`` years; the caller commits.

    ``bulk_load`` (PostgreSQL; by default when ``n`` is large beside the table) drops the
    tickets' and events' indexes and foreign keys, loads, commits, and rebuilds them (see
    ``finish_bulk_load``). ``status`` hears what the long steps after the rows are.
    """
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    fields = db.session.scalars(select(Field).where(Field.active.is_(True))).all()
    communes = db.session.scalars(select(Area).where(Area.level == "commune")).all() or \
        db.session.scalars(select(Area)).all()
    if not fields or not communes:
        raise RuntimeError("No fields or areas: run `flask --app hotline seed-demo --tickets 0` first.")
    policies = active_policies()
    first_id = (db.session.scalar(select(func.max(Ticket.id))) or 0) + 1
    contact_base = (db.session.scalar(select(func.max(Contact.id))) or 0) + 1
    n_contacts = max(1, n // 3)
    maker = RowMaker(
        seed=seed, now=now, years=years, fields=fields, communes=communes,
        calendar=get_calendar(),
        route=lambda field, area, kind: routing.suggest(field=field, area=area, kind=kind).agency_id,
        policy=lambda field, kind, priority: policy_for(field, kind, priority, policies),
        first_id=first_id, contact_base=contact_base, n_contacts=n_contacts,
        run=secrets.token_hex(3))
    pg = db.engine.dialect.name == "postgresql"
    writer = _CopyWriter() if pg else _InsertWriter()
    writer.contacts(contact_rows(contact_base, n_contacts, now - maker.span))

    if pg and finish_bulk_load(status):  # a killed run left its rebuild undone
        status("generating")
    if bulk_load is None and pg:
        existing = db.session.scalar(select(func.count()).select_from(Ticket))
        bulk_load = n >= max(BULK_LOAD_MIN, existing // 2)
    written_events = 0
    # Loading much more than the table holds: drop its secondary indexes and foreign keys,
    # load, then build them in one pass each — several times faster than maintaining them.
    with _bulk_load(bool(pg and bulk_load), status):
        for tickets, events in _pipeline(maker, n, batch, writer.batch, threaded=pg):
            written_events += events
            if progress:
                progress(tickets)
    if pg:
        for table in ("tickets", "contacts", "ticket_events"):
            db.session.execute(text(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))
        db.session.execute(text("ANALYZE tickets; ANALYZE ticket_events; ANALYZE contacts"))
    return GenerateReport(n, written_events, n_contacts, time.perf_counter() - started)


def _pipeline(maker: RowMaker, n: int, batch: int, write: Callable[[list, list], int],
              *, threaded: bool) -> Iterator[tuple[int, int]]:
    """Generate and write every batch; yields (tickets, events) written, batch by batch.

    Threaded, batch k+1 is generated while a worker writes batch k (two batches in memory
    at most); a write's error is raised here, at the next batch or at the end.
    """
    batches = ((start, min(n, start + batch)) for start in range(0, n, batch))
    if not threaded:
        for start, stop in batches:
            tickets, events = maker.batch(start, stop)
            yield len(tickets), write(tickets, events)
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="generate-copy") as pool:
        pending: tuple[int, Future[int]] | None = None
        for start, stop in batches:
            tickets, events = maker.batch(start, stop)
            if pending:
                yield pending[0], pending[1].result()
            pending = len(tickets), pool.submit(write, tickets, events)
        if pending:
            yield pending[0], pending[1].result()


class _CopyWriter:
    """Binary COPY on the session's own connection, so the rows are in the caller's
    transaction. Safe from the worker thread: psycopg serialises a connection's
    operations, and the main thread only reads reference data meanwhile."""

    def __init__(self) -> None:
        self.conn = db.session.connection().connection.driver_connection
        # Binary COPY needs each column's exact type: read them from the catalog.
        self.types = {table: self._types(table, columns) for table, columns in (
            ("contacts", CONTACT_COLUMNS), ("tickets", TICKET_COLUMNS),
            ("ticket_events", EVENT_COLUMNS))}

    def _types(self, table: str, columns: list[str]) -> list[int]:
        oids = dict(self.conn.execute(
            "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass",
            [table]).fetchall())
        return [oids[c] for c in columns]

    def contacts(self, rows: list[tuple]) -> None:
        self._copy("contacts", CONTACT_COLUMNS, rows)

    def batch(self, tickets: list[tuple], events: list[tuple]) -> int:
        _avoid_existing(tickets, self._taken)
        self._copy("tickets", TICKET_COLUMNS, tickets)
        self._copy("ticket_events", EVENT_COLUMNS, events)
        return len(events)

    def _taken(self, codes: list[str]) -> set[str]:
        return {code for code, in self.conn.execute(
            "SELECT code FROM tickets WHERE code = ANY(%s)", [codes])}

    def _copy(self, table: str, columns: list[str], rows: list[tuple]) -> None:
        with self.conn.cursor() as cur, cur.copy(
                f"COPY {table} ({', '.join(columns)}) FROM STDIN (FORMAT BINARY)") as copy:
            copy.set_types(self.types[table])
            for row in rows:
                copy.write_row(row)


class _InsertWriter:
    """Multi-row INSERTs through the session (SQLite)."""

    def contacts(self, rows: list[tuple]) -> None:
        self._insert(Contact.__table__, CONTACT_COLUMNS, rows)

    def batch(self, tickets: list[tuple], events: list[tuple]) -> int:
        _avoid_existing(tickets, self._taken)
        self._insert(Ticket.__table__, TICKET_COLUMNS, tickets)
        self._insert(TicketEvent.__table__, EVENT_COLUMNS, events)
        return len(events)

    @staticmethod
    def _taken(codes: list[str]) -> set[str]:
        taken = set()
        for i in range(0, len(codes), 5000):  # within SQLite's limit of bound parameters
            taken.update(db.session.scalars(select(Ticket.code).where(Ticket.code.in_(codes[i:i + 5000]))))
        return taken

    @staticmethod
    def _insert(table, columns: list[str], rows: list[tuple]) -> None:
        if rows:
            db.session.execute(insert(table), [dict(zip(columns, row)) for row in rows])


def _avoid_existing(tickets: list[tuple], taken: Callable[[list[str]], set[str]]) -> None:
    """Generated codes are unique among themselves (a bijection of the id); move the rare
    one that a ticket received through intake already holds."""
    by_code = {row[1]: i for i, row in enumerate(tickets)}
    for code in taken(list(by_code)):
        i = by_code[code]
        tid, kind = tickets[i][0], tickets[i][2]
        year = int(code.split("-")[1])  # keep the (local) year it was given
        shift = 1
        while True:
            candidate = ticket_code(kind, year, tid + shift * 2 ** 29)
            if candidate not in by_code and not taken([candidate]):
                break
            shift += 1
        tickets[i] = recode(tickets[i], candidate)
        by_code[candidate] = i


# What a bulk load dropped, written in the loading transaction: a run killed while the
# indexes are rebuilt leaves it behind, and the next run finishes the rebuild first.
STASH = "hotline_bulk_load_pending"
# Index builds run side by side on this many connections: the trigram index on
# search_text alone is about half of the rebuild and PostgreSQL builds a GIN on one core.
REBUILD_CONNECTIONS = 2


@contextmanager
def _bulk_load(enabled: bool, status: Callable[[str], None]) -> Iterator[None]:
    """PostgreSQL: load without the secondary indexes and foreign keys of tickets and their
    events, commit, then rebuild them (``finish_bulk_load``): several times faster than
    keeping them up to date row by row."""
    if not enabled:
        yield
        return
    db.session.execute(text(f"CREATE TABLE {STASH} (seq serial, kind text NOT NULL, "
                            "tbl text NOT NULL, name text NOT NULL, definition text NOT NULL)"))
    tables = ("tickets", "ticket_events")
    db.session.execute(text(
        f"INSERT INTO {STASH} (kind, tbl, name, definition) "
        "SELECT 'index', i.tablename, i.indexname, i.indexdef FROM pg_indexes i "
        "WHERE i.tablename = ANY(:t) AND i.schemaname = current_schema() AND NOT EXISTS "
        "(SELECT 1 FROM pg_constraint c WHERE c.conindid = to_regclass(quote_ident(i.indexname)))"
        " UNION ALL SELECT 'key', conrelid::regclass::text, conname, pg_get_constraintdef(oid) "
        "FROM pg_constraint WHERE contype = 'f' AND conrelid = ANY(ARRAY['tickets'::regclass, "
        "'ticket_events'::regclass])"), {"t": list(tables)})
    for kind, table, name in db.session.execute(text(
            f"SELECT kind, tbl, name FROM {STASH} ORDER BY kind DESC, seq")):
        db.session.execute(text(f'ALTER TABLE {table} DROP CONSTRAINT "{name}"' if kind == "key"
                                else f'DROP INDEX "{name}"'))
    yield
    db.session.commit()
    finish_bulk_load(status)


def finish_bulk_load(status: Callable[[str], None] = lambda _: None) -> bool:
    """Rebuild what a bulk load dropped, if it left anything to rebuild; commits.

    The indexes are built ``REBUILD_CONNECTIONS`` at a time, the slowest (GIN) first; then
    the foreign keys are put back one by one (each validates its rows and locks both
    tables). Safe to repeat: what already exists is skipped.
    """
    if db.session.scalar(text("SELECT to_regclass(:t)"), {"t": STASH}) is None:
        return False
    pending = db.session.execute(text(
        f"SELECT kind, tbl, name, definition FROM {STASH} ORDER BY seq")).all()
    db.session.commit()  # hold no lock while other connections build
    indexes = sorted((p.definition for p in pending if p.kind == "index"),
                     key=lambda d: " USING gin " not in d)
    status(f"rebuilding {len(indexes)} indexes")
    engine = db.engine
    with ThreadPoolExecutor(REBUILD_CONNECTIONS, thread_name_prefix="generate-index") as pool:
        list(pool.map(lambda definition: _create_index(engine, definition), indexes))
    status("validating foreign keys")
    for p in pending:
        if p.kind == "key" and db.session.scalar(text(
                "SELECT count(*) FROM pg_constraint WHERE conname = :n "
                "AND conrelid = CAST(:t AS regclass)"), {"n": p.name, "t": p.tbl}) == 0:
            db.session.execute(text(f'ALTER TABLE {p.tbl} ADD CONSTRAINT "{p.name}" {p.definition}'))
    db.session.execute(text(f"DROP TABLE {STASH}"))
    db.session.commit()
    return True


def _create_index(engine, definition: str) -> None:
    with engine.connect() as conn:
        conn = conn.execution_options(isolation_level="AUTOCOMMIT")
        conn.execute(text("SET maintenance_work_mem = '512MB'"))
        conn.execute(text(re.sub(r"^CREATE (UNIQUE )?INDEX ", r"CREATE \1INDEX IF NOT EXISTS ",
                                 definition)))
