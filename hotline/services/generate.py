"""Bulk generation of realistic tickets for benchmarks (``flask generate-tickets N``).

Rows are written straight to the tables in large batches — binary COPY on PostgreSQL,
multi-row INSERTs on SQLite — because going through intake one ticket at a time would
measure Python, not the database. The tickets still look real (see
:mod:`hotline.services.generate_rows`): Vietnamese text, fields, places, agencies chosen
by the real router, deadlines from the real working calendar, a lifecycle and a timeline
of events each.

The tickets are written first, then their timelines, made from the stored tickets: so a
large load on PostgreSQL can commit the tickets and build their indexes while the events
load (:mod:`hotline.services.generate_bulk`). On PostgreSQL a worker thread writes batch k
while the next one is made: psycopg waits for the server without the GIL, so the server's
share of the load runs on the other core instead of after Python's.
"""
from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy import func, insert, select, text

from hotline.extensions import db
from hotline.models import Area, Contact, Field, Ticket, TicketEvent
from hotline.services import generate_bulk, memo, routing
from hotline.services.calendar import get_calendar
from hotline.services.generate_rows import (
    CONTACT_COLUMNS,
    EVENT_COLUMNS,
    TICKET_COLUMNS,
    TIMELINE_SOURCE,
    RowMaker,
    contact_rows,
    recode,
    ticket_code,
    timeline_rows,
)
from hotline.services.sla import active_policies, policy_for

T = TypeVar("T")
R = TypeVar("R")

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
    tickets' and events' indexes and foreign keys, and commits as it goes while it puts them
    back (see :mod:`hotline.services.generate_bulk`). ``progress`` hears how many tickets
    each batch wrote; ``status`` what the steps after the tickets are.
    """
    started = time.perf_counter()
    now = now or datetime.now(UTC)
    fields = db.session.scalars(select(Field).where(Field.active.is_(True))).all()
    # Today's units only: former ones (kept as history) take no new tickets.
    communes = db.session.scalars(select(Area).where(Area.level == "commune",
                                                     Area.valid_to.is_(None))).all() or \
        db.session.scalars(select(Area).where(Area.valid_to.is_(None))).all()
    if not fields or not communes:
        raise RuntimeError("No fields or areas: run `flask --app hotline seed-demo --tickets 0` first.")
    pg = db.engine.dialect.name == "postgresql"
    writer = _CopyWriter() if pg else _InsertWriter()
    if pg and finish_bulk_load(status):  # a killed run left its rebuild undone
        writer.bind()
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
    writer.contacts(contact_rows(contact_base, n_contacts, now - maker.span))
    _follow_sequence("contacts")
    if bulk_load is None and pg:
        existing = db.session.scalar(select(func.count()).select_from(Ticket))
        bulk_load = n >= max(BULK_LOAD_MIN, existing // 2)
    load = generate_bulk.BulkLoad(status) if pg and bulk_load else None
    stop_id = first_id + n
    try:
        if load:
            load.begin(first_id, stop_id)
        ticket_spans = ((start, min(n, start + batch)) for start in range(0, n, batch))
        with memo.batch():  # the router reads an area's chain once for all its fields
            for count in _pipeline(maker.tickets, ticket_spans, writer.tickets, threaded=pg):
                if progress:
                    progress(count)
        _follow_sequence("tickets")
        if load:  # the tickets' indexes build while their timelines load
            load.committed("tickets")
            writer.bind()
        with _reading(writer, separate=load is not None):
            events = write_timelines(writer, first_id, stop_id, batch, seed, status, threaded=pg)
        _follow_sequence("ticket_events")
        if load:
            load.committed("ticket_events", timelines_written=True)
            load.finish()
    finally:
        if load:
            load.close()
    if pg:
        db.session.execute(text("ANALYZE tickets; ANALYZE ticket_events; ANALYZE contacts"))
    return GenerateReport(n, events, n_contacts, time.perf_counter() - started)


def finish_bulk_load(status: Callable[[str], None] = lambda _: None) -> bool:
    """Finish what a killed bulk load left undone (timelines, indexes, foreign keys), if
    anything; commits. Returns whether there was anything."""
    def timelines(first_id: int, stop_id: int) -> int:
        return write_timelines(_CopyWriter(), first_id, stop_id, 20_000, 0, status, threaded=False)
    return generate_bulk.finish(status, timelines)


def write_timelines(writer, first_id: int, stop_id: int, batch: int, seed: int,
                    status: Callable[[str], None], *, threaded: bool) -> int:
    """Write the events of the stored tickets ``first_id`` to ``stop_id`` (exclusive);
    returns how many."""
    rng = random.Random(seed ^ 0x7E)
    spans = ((start, min(stop_id, start + batch)) for start in range(first_id, stop_id, batch))

    def make(start: int, stop: int) -> tuple[int, list[tuple]]:
        return stop, timeline_rows(writer.read(start, stop), rng)

    def write(made: tuple[int, list[tuple]]) -> tuple[int, int]:
        return made[0], writer.events(made[1])

    written = 0
    for reached, events in _pipeline(make, spans, write, threaded=threaded):
        written += events
        status(f"timelines {100 * (reached - first_id) // (stop_id - first_id)}%")
    return written


def _pipeline(make: Callable[[int, int], T], spans: Iterable[tuple[int, int]],
              write: Callable[[T], R], *, threaded: bool) -> Iterator[R]:
    """Make and write every span's rows; yields what each write returned, span by span.

    Threaded, span k+1 is made while a worker writes span k (two spans in memory at most);
    a write's error is raised here, at the next span or at the end.
    """
    if not threaded:
        for start, stop in spans:
            yield write(make(start, stop))
        return
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="generate-copy") as pool:
        pending: Future[R] | None = None
        for start, stop in spans:
            rows = make(start, stop)
            if pending:
                yield pending.result()
            pending = pool.submit(write, rows)
        if pending:
            yield pending.result()


@contextmanager
def _reading(writer, *, separate: bool) -> Iterator[None]:
    """Committed tickets are read back on a connection of their own, so the writer's COPY
    of one span does not hold up the reading of the next."""
    if not separate:
        yield
        return
    with db.engine.connect() as conn:
        writer.reading = conn.connection.driver_connection
        try:
            yield
        finally:
            writer.reading = None


def _follow_sequence(table: str) -> None:
    """Point ``table``'s id sequence past the generated ids (they were given explicitly)."""
    if db.engine.dialect.name == "postgresql":
        db.session.execute(text(
            f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
            f"(SELECT COALESCE(MAX(id), 1) FROM {table}))"))


_READ = f"SELECT {', '.join(TIMELINE_SOURCE)} FROM tickets WHERE id >= %s AND id < %s ORDER BY id"


class _CopyWriter:
    """Binary COPY on the session's own connection, so the rows are in the caller's
    transaction. Safe from the worker thread: psycopg serialises a connection's
    operations, and the main thread only reads meanwhile."""

    def __init__(self) -> None:
        self.bind()
        self.reading = None  # where tickets are read back from, if not this connection
        # Binary COPY needs each column's exact type: read them from the catalog.
        self.types = {table: self._types(table, columns) for table, columns in (
            ("contacts", CONTACT_COLUMNS), ("tickets", TICKET_COLUMNS),
            ("ticket_events", EVENT_COLUMNS))}

    def bind(self) -> None:
        """Write on the session's connection (after a commit, it may be another)."""
        self.conn = db.session.connection().connection.driver_connection

    def _types(self, table: str, columns: list[str]) -> list[int]:
        oids = dict(self.conn.execute(
            "SELECT attname, atttypid FROM pg_attribute WHERE attrelid = %s::regclass",
            [table]).fetchall())
        return [oids[c] for c in columns]

    def contacts(self, rows: list[tuple]) -> None:
        self._copy("contacts", CONTACT_COLUMNS, rows)

    def tickets(self, rows: list[tuple]) -> int:
        _avoid_existing(rows, self._taken)
        self._copy("tickets", TICKET_COLUMNS, rows)
        return len(rows)

    def events(self, rows: list[tuple]) -> int:
        self._copy("ticket_events", EVENT_COLUMNS, rows)
        return len(rows)

    def read(self, start: int, stop: int) -> list[tuple]:
        """``TIMELINE_SOURCE`` of the stored tickets ``start`` to ``stop`` (exclusive)."""
        return (self.reading or self.conn).execute(_READ, [start, stop]).fetchall()

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

    def tickets(self, rows: list[tuple]) -> int:
        _avoid_existing(rows, self._taken)
        self._insert(Ticket.__table__, TICKET_COLUMNS, rows)
        return len(rows)

    def events(self, rows: list[tuple]) -> int:
        self._insert(TicketEvent.__table__, EVENT_COLUMNS, rows)
        return len(rows)

    @staticmethod
    def read(start: int, stop: int) -> list[tuple]:
        columns = [Ticket.__table__.c[c] for c in TIMELINE_SOURCE]
        return db.session.execute(select(*columns).where(
            Ticket.id >= start, Ticket.id < stop).order_by(Ticket.id)).all()

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
