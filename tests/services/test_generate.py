"""The benchmark data generator writes real-looking, consistent tickets in bulk."""
from __future__ import annotations

import random
from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text

from hotline.domain import codes
from hotline.domain.calendar import WorkingCalendar
from hotline.domain.sla import DEFAULT_POLICIES, SlaPolicy, compute_deadlines
from hotline.extensions import db
from hotline.models import Contact, Ticket, TicketEvent
from hotline.services import generate, generate_bulk
from hotline.services.generate_rows import (
    EVENT_COLUMNS,
    TICKET_COLUMNS,
    DeadlineCache,
    recode,
    ticket_code,
)

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=UTC)


def test_generates_consistent_tickets(org):
    report = generate.generate(600, years=1, batch=250, now=NOW)
    db.session.commit()
    assert report.tickets == 600
    count = lambda q: db.session.scalar(q)
    assert count(select(func.count()).select_from(Ticket)) == 600
    assert count(select(func.count(func.distinct(Ticket.code)))) == 600
    assert count(select(func.count()).select_from(TicketEvent)) == report.events >= 600
    assert count(select(func.count()).select_from(Contact)) == report.contacts
    # Every ticket has its "received" event, and open ones carry a running clock.
    assert count(select(func.count()).select_from(TicketEvent)
                 .where(TicketEvent.type == "received")) == 600
    assert count(select(func.count()).select_from(Ticket).where(
        Ticket.status.in_(["assigned", "in_progress"]), Ticket.sla_state.is_(None))) == 0
    assert count(select(func.count()).select_from(Ticket).where(Ticket.sla_state == "overdue")) > 0
    # Overdue means the due time has passed; on track means it has not.
    assert count(select(func.count()).select_from(Ticket).where(
        Ticket.sla_state == "overdue", Ticket.due_at > NOW)) == 0
    assert count(select(func.count()).select_from(Ticket).where(
        Ticket.sla_state == "on_track", Ticket.due_soon_at <= NOW)) == 0
    statuses = set(db.session.scalars(select(Ticket.status).distinct()))
    assert {"closed", "in_progress", "answered", "assigned"} <= statuses
    sample = db.session.scalar(select(Ticket).where(Ticket.agency_id.is_not(None)).limit(1))
    assert sample.received_at.tzinfo is not None and "đường" in sample.description


def test_generation_appends_and_codes_stay_unique(org, runner):
    first = runner.invoke(args=["generate-tickets", "120", "--years", "1"])
    assert first.exit_code == 0, first.output
    second = runner.invoke(args=["generate-tickets", "80", "--years", "1", "--seed", "7"])
    assert second.exit_code == 0, second.output
    assert "80 tickets" in second.output
    assert db.session.scalar(select(func.count(func.distinct(Ticket.code)))) == 200


def test_without_an_organisation_it_says_what_to_do(runner):
    result = runner.invoke(args=["generate-tickets", "10"])
    assert result.exit_code != 0
    assert "seed-demo" in str(result.exception) or "seed-demo" in result.output


def test_published_tickets_are_searchable(org, client):
    generate.generate(400, years=3, now=NOW)
    db.session.commit()
    published = db.session.scalar(select(func.count()).select_from(Ticket)
                                  .where(Ticket.published_at.is_not(None)))
    assert published > 0
    assert db.session.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.published_at.is_not(None), Ticket.public_search_text.is_(None))) == 0
    page = client.get("/results", query_string={"q": "den duong"}).get_data(as_text=True)
    assert "Đèn đường" in page or "đèn đường" in page.lower()


def test_a_code_already_taken_through_intake_is_avoided(org, receive):
    first = receive()
    ticket = db.session.get(Ticket, first.ticket_id)
    # The code the generator would give its first ticket (id = current max + 1) this year.
    ticket.code = ticket_code("phan_anh", NOW.year, ticket.id + 1)
    db.session.commit()
    generate.generate(50, years=0.001, now=NOW)
    db.session.commit()
    assert db.session.scalar(select(func.count(func.distinct(Ticket.code)))) == 51


# Index names, columns, uniqueness, partial or not (PostgreSQL deparses a rebuilt predicate
# in its own words), and every constraint's definition, of tickets and their events.
SCHEMA = text("SELECT c.relname || ' ' || i.indkey::text || ' ' || i.indisunique::text || ' '"
              " || (i.indpred IS NOT NULL)::text || ' ' || am.amname FROM pg_index i"
              " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam"
              " WHERE i.indrelid IN ('tickets'::regclass, 'ticket_events'::regclass)"
              " UNION ALL SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint"
              " WHERE conrelid IN ('tickets'::regclass, 'ticket_events'::regclass)")


def test_a_bulk_load_leaves_every_index_and_foreign_key_as_it_was(org, app):
    if db.engine.dialect.name != "postgresql":
        generate.generate(50, years=1, now=NOW, bulk_load=True)  # ignored on SQLite
        assert db.session.scalar(select(func.count()).select_from(Ticket)) == 50
        return
    before = sorted(db.session.scalars(SCHEMA))
    generate.generate(500, years=1, now=NOW, bulk_load=True)
    db.session.commit()
    assert sorted(db.session.scalars(SCHEMA)) == before
    assert db.session.scalar(text("SELECT to_regclass(:t)"), {"t": generate_bulk.STASH}) is None
    # The keys were validated when they were put back: every event has its ticket.
    orphans = text("SELECT count(*) FROM ticket_events e LEFT JOIN tickets t ON t.id = e.ticket_id "
                   "WHERE t.id IS NULL")
    assert db.session.scalar(orphans) == 0


def test_a_load_cut_short_is_finished_by_the_next_run(org, app):
    """Interrupted (Ctrl-C) while the timelines load: the tickets are committed, their
    indexes partly built; the next run writes the timelines and rebuilds the rest."""
    if db.engine.dialect.name != "postgresql":  # no bulk load, so nothing to finish
        stages = []
        generate.generate(20, years=1, now=NOW, bulk_load=True, status=stages.append)
        assert not any(stage.startswith("building") for stage in stages)
        return
    before = sorted(db.session.scalars(SCHEMA))

    def interrupt(stage: str) -> None:
        if stage.startswith("timelines"):
            raise KeyboardInterrupt
    with pytest.raises(KeyboardInterrupt):
        generate.generate(300, years=1, batch=100, now=NOW, bulk_load=True, status=interrupt)
    db.session.rollback()
    count = lambda model: db.session.scalar(select(func.count()).select_from(model))
    assert count(Ticket) == 300 and count(TicketEvent) == 0
    assert db.session.scalar(text("SELECT to_regclass(:t)"), {"t": generate_bulk.STASH}) is not None
    assert sorted(db.session.scalars(SCHEMA)) != before
    stages = []
    generate.generate(20, years=1, now=NOW, bulk_load=False, status=stages.append)
    db.session.commit()
    assert sorted(db.session.scalars(SCHEMA)) == before
    assert db.session.scalar(text("SELECT to_regclass(:t)"), {"t": generate_bulk.STASH}) is None
    assert stages[0] == "writing the timelines of a load cut short"
    received = select(func.count(func.distinct(TicketEvent.ticket_id))).where(
        TicketEvent.type == "received")
    assert db.session.scalar(received) == count(Ticket) == 320
    assert not generate.finish_bulk_load()


def test_old_tickets_are_settled_and_the_first_scan_finds_only_new_crossings(org):
    from datetime import timedelta

    from hotline.services import sla
    generate.generate(3000, years=2, now=NOW)
    db.session.commit()
    old = select(func.count()).select_from(Ticket).where(Ticket.received_at < NOW - timedelta(days=60))
    open_old = db.session.scalar(old.where(Ticket.sla_state.is_not(None)))
    assert 0 < open_old < 0.06 * db.session.scalar(old)  # a few stragglers, not a third
    report = sla.scan(NOW)
    # Escalations and missed first responses of the past are already on the tickets.
    assert len(report.escalated) < 0.2 * max(1, open_old) + 5
    assert len(report.first_response) < 20


def test_rows_read_back_through_the_orm_as_generated(org, monkeypatch):
    """Binary COPY (PostgreSQL) and INSERT (SQLite) store exactly the generated values:
    aware timestamps, NULLs, booleans, small integers."""
    written = []
    for writer in (generate._CopyWriter, generate._InsertWriter):
        for table in ("tickets", "events"):
            def spy(self, rows, original=getattr(writer, table), table=table):
                count = original(self, rows)
                written.append((table, rows))
                return count
            monkeypatch.setattr(writer, table, spy)
    generate.generate(400, years=1, batch=150, now=NOW)
    db.session.commit()
    tickets = [row for table, batch in written if table == "tickets" for row in batch]
    events = [row for table, batch in written if table == "events" for row in batch]
    assert len(tickets) == 400
    rating = TICKET_COLUMNS.index("rating")
    assert {row[rating] is None for row in tickets} == {True, False}  # both kinds exercised
    stored = {t.id: tuple(getattr(t, c) for c in TICKET_COLUMNS)
              for t in db.session.scalars(select(Ticket))}
    assert stored == {row[0]: row for row in tickets}
    assert all(value.tzinfo is not None for row in stored.values() for value in row
               if isinstance(value, datetime))
    assert Counter(tuple(getattr(e, c) for c in EVENT_COLUMNS)
                   for e in db.session.scalars(select(TicketEvent))) == Counter(events)


def _code_by_hand(kind: str, year: int, n: int) -> str:
    value = (n * 0x2F5A_9B3D + 0x1022) % (32 ** 6)
    tail = "".join(codes.ALPHABET[(value >> (5 * i)) & 31] for i in reversed(range(6)))
    return f"{codes.PREFIXES[kind]}-{year % 100:02d}-{tail}"


def test_ticket_codes_are_the_bijection_spelled_out():
    for n in [0, 1, 31, 32, 1023, 1024, 2 ** 29, 2 ** 30 - 1, *random.Random(7).sample(range(10**9), 200)]:
        assert ticket_code("hoi_dap", 2026, n) == _code_by_hand("hoi_dap", 2026, n)


def test_a_moved_code_is_moved_in_the_published_search_text_too():
    row = [None] * len(TICKET_COLUMNS)
    row[0], row[1], row[2] = 7, "PA-26-AAAAAA", "phan_anh"
    row[TICKET_COLUMNS.index("public_search_text")] = "pa-26-aaaaaa den duong"
    moved = recode(tuple(row), "PA-26-BBBBBB")
    assert moved[1] == "PA-26-BBBBBB"
    assert moved[TICKET_COLUMNS.index("public_search_text")] == "pa-26-bbbbbb den duong"
    assert [v for i, v in enumerate(moved) if i not in (1, TICKET_COLUMNS.index("public_search_text"))] \
        == [v for i, v in enumerate(row) if i not in (1, TICKET_COLUMNS.index("public_search_text"))]


@pytest.mark.parametrize("policy", [*DEFAULT_POLICIES, SlaPolicy(
    id=None, resolution=timedelta(hours=4), first_response=timedelta(hours=1),
    due_soon_fraction=1.0)], ids=lambda p: f"{p.priority}-{p.kind}-{p.due_soon_fraction}")
def test_remembered_deadlines_are_exactly_the_computed_ones(policy):
    """Starts outside working hours share their deadlines; every answer, shared or not,
    is compute_deadlines's — at shift edges, midnights, weekends, Tết and New Year too."""
    calendar = WorkingCalendar()
    cache = DeadlineCache(calendar)
    rng = random.Random(1022)
    base = datetime(2025, 1, 1, tzinfo=UTC)
    starts = [base + timedelta(seconds=rng.uniform(0, 3 * 365 * 86400)) for _ in range(3000)]
    us = timedelta(microseconds=1)
    for day in [datetime(2025, 1, 27).date() + timedelta(days=k) for k in range(10)] + [
            datetime(2025, 12, 31).date(), datetime(2026, 1, 1).date(), datetime(2026, 1, 2).date(),
            datetime(2026, 11, 20).date(), datetime(2026, 11, 21).date()]:
        midnight = datetime.combine(day, datetime.min.time(), tzinfo=calendar.tz)
        starts += [midnight - us, midnight, midnight + timedelta(hours=23, minutes=59)]
        for begin, end in calendar.working_periods(day):
            starts += [begin - us, begin, begin + us, end - us, end, end + us]
    for start in starts + starts:  # the second round answers from memory
        start = start.astimezone(UTC)
        local_day = start.astimezone(calendar.tz).date()
        assert cache(policy, start, local_day) == compute_deadlines(calendar, policy, start), start
