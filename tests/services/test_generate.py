"""The benchmark data generator writes real-looking, consistent tickets in bulk."""
from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import func, select, text

from hotline.extensions import db
from hotline.models import Contact, Ticket, TicketEvent
from hotline.services import generate

NOW = datetime(2026, 11, 20, 3, 0, tzinfo=timezone.utc)


def test_generates_consistent_tickets(org):
    report = generate.generate(600, years=1, batch=250, now=NOW)
    db.session.commit()
    assert report.tickets == 600
    count = lambda q: db.session.scalar(q)  # noqa: E731
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
    from hotline.services.generate import _code
    first = receive()
    ticket = db.session.get(Ticket, first.ticket_id)
    # The code the generator would give its first ticket (id = current max + 1) this year.
    ticket.code = _code("phan_anh", NOW.year, ticket.id + 1)
    db.session.commit()
    generate.generate(50, years=0.001, now=NOW)
    db.session.commit()
    assert db.session.scalar(select(func.count(func.distinct(Ticket.code)))) == 51


def test_a_bulk_load_leaves_every_index_and_foreign_key_as_it_was(org, app):
    if db.engine.dialect.name != "postgresql":
        generate.generate(50, years=1, now=NOW, bulk_load=True)  # ignored on SQLite
        assert db.session.scalar(select(func.count()).select_from(Ticket)) == 50
        return
    # Index names, columns, uniqueness, partial or not (PostgreSQL deparses a rebuilt
    # predicate in its own words), and every constraint's definition.
    schema = text("SELECT c.relname || ' ' || i.indkey::text || ' ' || i.indisunique::text || ' '"
                  " || (i.indpred IS NOT NULL)::text || ' ' || am.amname FROM pg_index i"
                  " JOIN pg_class c ON c.oid = i.indexrelid JOIN pg_am am ON am.oid = c.relam"
                  " WHERE i.indrelid IN ('tickets'::regclass, 'ticket_events'::regclass)"
                  " UNION ALL SELECT conname || ' ' || pg_get_constraintdef(oid) FROM pg_constraint"
                  " WHERE conrelid IN ('tickets'::regclass, 'ticket_events'::regclass)")
    before = sorted(db.session.scalars(schema))
    generate.generate(500, years=1, now=NOW, bulk_load=True)
    db.session.commit()
    assert sorted(db.session.scalars(schema)) == before
    # The keys were validated when they were put back: every event has its ticket.
    orphans = text("SELECT count(*) FROM ticket_events e LEFT JOIN tickets t ON t.id = e.ticket_id "
                   "WHERE t.id IS NULL")
    assert db.session.scalar(orphans) == 0


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
