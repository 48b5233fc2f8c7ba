"""Deadline extensions: who may ask, who may decide, and what an approval moves."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from hotline.domain.errors import PermissionDenied, ValidationError
from hotline.extensions import db
from hotline.models import OutboxMessage, TicketEvent
from hotline.services import sla
from hotline.services.sla_extension import pending_extension
from tests.factories import MONDAY_9AM
from tests.services.sla_fixtures import DUE_AT, DUE_SOON_AT, counts, recipients, staff, ticket

__all__ = ["staff"]

THURSDAY = MONDAY_9AM + timedelta(days=3)       # Thu 26/11 09:00, before due
NEW_DUE = DUE_AT + timedelta(days=7)             # Tue 08/12 09:00


@pytest.fixture
def opened(receive, staff):
    t = ticket(receive().ticket_id)
    t.assignee_id = staff.handler.id
    t.accepted_at = MONDAY_9AM
    db.session.commit()
    return t


def request(t, actor, new_due=NEW_DUE, reason="Cần khảo sát hiện trường cùng Điện lực."):
    event = sla.request_extension(t, actor, new_due, reason, now=THURSDAY)
    db.session.commit()
    return event


def test_handler_requests_and_managers_are_told(opened, staff):
    event = request(opened, staff.handler)
    assert event.type == "extension_requested" and event.actor_id == staff.handler.id
    assert event.note == "Cần khảo sát hiện trường cùng Điện lực." and not event.public
    assert ticket(opened.id).due_at == DUE_AT  # nothing moves until a manager decides
    pending = pending_extension(opened)
    assert pending.new_due == NEW_DUE and pending.requested_by_id == staff.handler.id
    assert recipients("extension_request") == sorted([staff.manager.email, staff.manager2.email])


@pytest.mark.parametrize("who", ["other_handler", "other_lead", "operator", "manager", "admin"])
def test_only_the_ticket_agencys_staff_may_request(opened, staff, who):
    before = counts()
    with pytest.raises(PermissionDenied):
        sla.request_extension(opened, getattr(staff, who), NEW_DUE, "Lý do", now=THURSDAY)
    db.session.rollback()
    assert counts() == before and pending_extension(opened) is None


@pytest.mark.parametrize("new_due, reason, code", [
    (DUE_AT - timedelta(hours=1), "Lý do", "invalid_extension"),
    (DUE_AT, "Lý do", "invalid_extension"),
    (NEW_DUE.replace(tzinfo=None), "Lý do", "invalid_time"),
    (NEW_DUE, "   ", "required"),
])
def test_bad_requests_are_refused_and_change_nothing(opened, staff, new_due, reason, code):
    before = counts()
    with pytest.raises(ValidationError) as exc:
        sla.request_extension(opened, staff.lead, new_due, reason, now=THURSDAY)
    assert exc.value.code == code
    db.session.rollback()
    assert counts() == before


def test_one_pending_request_at_a_time(opened, staff):
    request(opened, staff.handler)
    with pytest.raises(ValidationError) as exc:
        request(opened, staff.lead, NEW_DUE + timedelta(days=1))
    assert exc.value.code == "extension_pending"


def test_operator_and_agency_staff_cannot_decide(opened, staff):
    request(opened, staff.handler)
    for who in ("operator", "lead", "handler", "admin"):
        with pytest.raises(PermissionDenied):
            sla.decide_extension(opened, getattr(staff, who), True, "Đồng ý", now=THURSDAY)
        db.session.rollback()
    assert ticket(opened.id).due_at == DUE_AT and pending_extension(opened) is not None


def test_deciding_without_a_request_is_refused(opened, staff):
    with pytest.raises(ValidationError) as exc:
        sla.decide_extension(opened, staff.manager, True, None, now=THURSDAY)
    assert exc.value.code == "no_pending_extension"


def test_approval_moves_the_due_time_and_tells_everyone(opened, staff):
    request(opened, staff.handler)
    event = sla.decide_extension(opened, staff.manager, True, None, now=THURSDAY)
    db.session.commit()
    t = ticket(opened.id)
    assert t.due_at == NEW_DUE
    assert t.due_soon_at == NEW_DUE - timedelta(days=1)  # the policy's 1-working-day margin
    assert t.first_response_due == MONDAY_9AM + timedelta(days=2)  # unchanged
    assert t.sla_state == "on_track"
    assert event.type == "extension_approved" and event.public
    assert event.data["new_due_at"] == NEW_DUE.isoformat()
    assert pending_extension(opened) is None
    assert recipients("extension_decision") == [staff.handler.email]
    citizen = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.purpose == "extension")).one()
    assert citizen.channel == "sms" and citizen.recipient == "+84912345678"
    assert "09:00 08/12/2026" in citizen.payload["text"]


def test_refusal_needs_a_reason_and_moves_nothing(opened, staff):
    request(opened, staff.lead)
    with pytest.raises(ValidationError):
        sla.decide_extension(opened, staff.manager, False, "", now=THURSDAY)
    db.session.rollback()
    event = sla.decide_extension(opened, staff.manager, False, "Không đủ căn cứ.",
                                 now=THURSDAY)
    db.session.commit()
    assert event.type == "extension_rejected" and not event.public
    assert ticket(opened.id).due_at == DUE_AT
    assert recipients("extension_decision") == [staff.lead.email]
    assert db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.purpose == "extension")).all() == []
    # A new request may follow a refusal.
    request(opened, staff.lead, NEW_DUE + timedelta(days=1))


def test_an_overdue_escalated_ticket_extended_goes_back_on_track_and_is_watched_again(opened,
                                                                                       staff):
    sla.scan(DUE_AT + timedelta(days=2))
    db.session.commit()
    t = ticket(opened.id)
    assert t.sla_state == "overdue" and t.escalated_at is not None
    later = DUE_AT + timedelta(days=2, hours=1)
    sla.request_extension(t, staff.handler, NEW_DUE, "Chờ kinh phí sửa chữa.", now=later)
    sla.decide_extension(t, staff.manager, True, "Đồng ý.", now=later)
    db.session.commit()
    t = ticket(opened.id)
    assert (t.sla_state, t.escalated_at) == ("on_track", None)
    report = sla.scan(NEW_DUE - timedelta(days=1))
    db.session.commit()
    assert report.due_soon == [t.id]  # the new deadline is watched: a fresh notice
    assert len(recipients("sla_due_soon")) == 3
    types = db.session.scalars(select(TicketEvent.type).where(TicketEvent.ticket_id == t.id)
                               .order_by(TicketEvent.id)).all()
    assert types[-3:] == ["extension_requested", "extension_approved", "sla_due_soon"]


def test_no_extension_once_the_clock_stopped(opened, staff):
    sla.stop_clock(opened)
    db.session.commit()
    with pytest.raises(ValidationError) as exc:
        sla.request_extension(opened, staff.handler, NEW_DUE, "Lý do", now=THURSDAY)
    assert exc.value.code == "clock_stopped"


def test_due_soon_notice_keys_follow_the_deadline(opened, staff):
    """Scanning at the old due-soon instant after an extension notifies nobody."""
    request(opened, staff.handler)
    sla.decide_extension(opened, staff.manager, True, None, now=THURSDAY)
    db.session.commit()
    assert sla.scan(DUE_SOON_AT).due_soon == []
