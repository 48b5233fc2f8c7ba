"""The demo loader: a whole province played through the real intake, on SQLite and PostgreSQL."""
from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone

import pytest
from sqlalchemy import func, select

from hotline.domain import text
from hotline.domain.errors import PermissionDenied
from hotline.extensions import db
from hotline.models import (Agency, Area, Field, KbArticle, OutboxMessage, Role, RoutingRule,
                            Ticket, TicketEvent, User, utcnow)
from hotline.services import accounts, demo, routing


@pytest.fixture
def seeded(app):
    assert not demo.already_seeded()
    lines: list[str] = []
    summary = demo.seed(tickets=120, seed=7, progress=lines.append)
    db.session.commit()
    return summary, lines


def test_organisation_accounts_and_knowledge_base(seeded):
    summary, lines = seeded
    assert demo.already_seeded()

    users = db.session.scalars(select(User)).all()
    assert {u.role for u in users} == {r.value for r in Role}
    for account in summary.accounts:
        user = next(u for u in users if u.username == account.username)
        assert accounts.check_password(user, account.password)
        assert account.password == demo.demo_password(account.username)
        assert user.role in (Role.OPERATOR, Role.MANAGER, Role.ADMIN,
                             Role.PRIVACY_OFFICER) or user.agency_id
    assert sum(u.role == Role.OPERATOR for u in users) == 2

    areas = {a.id: a for a in db.session.scalars(select(Area))}
    # Today's Đồng Nai on two levels; Bình Phước's former three levels kept as history.
    today = Counter(a.level for a in areas.values() if a.valid_to is None)
    former = Counter(a.level for a in areas.values() if a.valid_to is not None)
    assert today == {"province": 1, "commune": 95}
    assert former == {"province": 1, "district": 11, "commune": 111}
    for area in areas.values():
        parent = areas.get(area.parent_id)
        assert area.path == (parent.path if parent else "/") + f"{area.id}/"
        assert area.name_folded == text.fold(area.name)
        if area.valid_to is not None and area.level == "commune":
            assert areas[area.successor_id].valid_to is None
    governed = set(db.session.scalars(select(Agency.area_id).where(Agency.governs_area.is_(True))))
    assert governed == {a.id for a in areas.values()
                        if a.level == "commune" and a.valid_to is None}
    # Routing rules name only today's units.
    ruled = set(db.session.scalars(select(RoutingRule.area_id).where(
        RoutingRule.area_id.is_not(None))))
    assert ruled and all(areas[i].valid_to is None for i in ruled)
    assert db.session.scalar(select(func.count()).select_from(Field)) >= 15
    # No catch-all rule: an unknown field or place goes to the operators' triage.
    assert db.session.scalar(select(func.count()).select_from(RoutingRule).where(
        RoutingRule.field_id.is_(None))) == 0
    articles = db.session.scalars(select(KbArticle)).all()
    assert 8 <= len(articles) <= 12
    assert all(a.search_text == text.fold(f"{a.title} {a.body}") and a.reviewed_at
               for a in articles)

    assert "Tickets received: 100/120" in lines and "Tickets received: 120/120" in lines
    described = summary.describe()
    for account in summary.accounts:
        assert account.username in described and account.password in described


def test_tickets_cover_the_lifecycle(seeded):
    summary, _lines = seeded
    now = utcnow()
    tickets = db.session.scalars(select(Ticket)).all()
    assert len(tickets) == summary.tickets == 120
    statuses = Counter(t.status for t in tickets)
    for status in ("new", "answered", "rejected", "assigned", "in_progress", "waiting_citizen",
                   "returned", "resolved", "approved", "published", "closed"):
        assert statuses[status], f"no ticket is {status}: {statuses}"
    assert summary.by_status == dict(statuses)
    assert summary.overdue == sum(t.sla_state == "overdue" for t in tickets) > 0
    assert {t.channel for t in tickets} >= {"phone", "zalo", "web", "facebook", "email"}
    assert any(t.field_id is None for t in tickets)  # left for the operators to classify

    # Every ticket has a timeline, and nothing happened before receipt or after now.
    spans = {row.ticket_id: row for row in db.session.execute(
        select(TicketEvent.ticket_id, func.count().label("n"), func.min(TicketEvent.at).label("first"),
               func.max(TicketEvent.at).label("last")).group_by(TicketEvent.ticket_id))}
    for t in tickets:
        span = spans[t.id]
        assert span.n >= 1
        assert t.received_at <= span.first and span.last <= now
        for moment in (t.assigned_at, t.accepted_at, t.resolved_at, t.published_at, t.closed_at):
            assert moment is None or t.received_at <= moment <= now
    for t in tickets:
        if t.status in ("published", "closed") and t.published_at:
            assert t.public_summary and t.public_result
        if t.status == "returned":
            assert t.returned_count >= 1 and t.agency_id is None and t.excluded_agency_ids
        if t.status == "waiting_citizen":
            assert t.sla_state == "paused"
        if t.status in ("answered", "approved", "published", "closed", "rejected"):
            assert t.sla_state is None
    assert any(t.rating for t in tickets if t.status == "closed")

    # Both trees: recent tickets on today's wards; older ones (before 1 July 2025) on the
    # former units, each with its ward of today.
    reform = datetime(2025, 6, 30, 17, tzinfo=timezone.utc)  # 1 July 00:00 in Vietnam
    old = [t for t in tickets if t.area is not None and t.area.valid_to is not None]
    recent = [t for t in tickets if t.area is not None and t.area.valid_to is None]
    assert len(old) >= 10 and len(recent) >= 60
    for t in old:
        assert t.received_at < reform and t.status == "closed"
        assert t.current_area is not None and t.current_area.valid_to is None
        if t.area.level == "commune":
            assert t.current_area_id == t.area.successor_id
    assert all(t.received_at >= reform and t.current_area_id is None for t in recent)
    assert any(t.area.level == "commune" for t in old)

    # The router's choice stands, unless an operator chose by hand (with an event saying so).
    by_router = 0
    for t in tickets:
        if t.agency_id is None:
            continue
        if t.routing_rule_id is not None:
            decision = routing.suggest(field=t.field, area=t.current_area or t.area, kind=t.kind,
                                       exclude_agency_ids=t.excluded_agency_ids or [])
            assert decision.agency_id == t.agency_id, t.code
            by_router += 1
        else:
            last = db.session.scalar(
                select(TicketEvent).where(TicketEvent.ticket_id == t.id,
                                          TicketEvent.type == "assigned")
                .order_by(TicketEvent.id.desc()).limit(1))
            assert last.actor is not None and last.actor.role == Role.OPERATOR, t.code
    assert by_router > 50

    # No fake citizen (or demo staff member) is ever messaged by a worker started later.
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage)) > 120
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status != "sent")) == 0


def test_same_seed_same_tickets(seeded):
    titles = sorted(db.session.scalars(select(Ticket.title)))
    assert titles == sorted(p.title for p in demo.plan_tickets(120, 7))
    again = demo.plan_tickets(120, 7)
    assert [(p.title, p.text, p.contact) for p in again] == \
        [(p.title, p.text, p.contact) for p in demo.plan_tickets(120, 7)]
    assert [p.title for p in demo.plan_tickets(120, 8)] != [p.title for p in again]


def test_demo_contacts_pass_intake_validation():
    for plan in demo.plan_tickets(600, 3):
        if plan.contact.phone:
            assert text.normalize_phone(plan.contact.phone).startswith("+84")
        if plan.contact.email:
            assert text.normalize_email(plan.contact.email)


def test_cli_seeds_once(runner):
    result = runner.invoke(args=["seed-demo", "--tickets", "50"])
    assert result.exit_code == 0, result.output
    assert "Tickets received: 50/50" in result.output
    for username in ("dtv01", "xuly.soxd", "xuly.binhphuoc", "lanhdao.soxd", "lanhdao.tinh",
                     "quantri", "baove.dlcn"):
        assert username in result.output
        assert demo.demo_password(username) in result.output
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 50

    again = runner.invoke(args=["seed-demo", "--tickets", "50"])
    assert again.exit_code == 0, again.output
    assert "nothing to do" in again.output
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 50


def test_cli_refuses_to_seed_in_production(app, runner):
    app.config["HOTLINE_ENV"] = "production"
    result = runner.invoke(args=["seed-demo", "--tickets", "5"])
    assert result.exit_code != 0
    assert "HOTLINE_ENV=production" in result.output
    assert db.session.scalar(select(func.count()).select_from(Agency)) == 0
    assert db.session.scalar(select(func.count()).select_from(User)) == 0
    with pytest.raises(PermissionDenied):
        demo.seed(tickets=0)
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_demo_accounts_must_change_their_published_password(app):
    demo.seed(tickets=0)
    db.session.commit()
    users = list(db.session.scalars(select(User)))
    assert users and all(u.must_change_password for u in users)
