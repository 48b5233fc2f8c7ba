"""The SLA scan: crossings in working time, each notifying the right people exactly once."""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import OutboxMessage, Ticket, TicketEvent
from hotline.services import sla
from tests.factories import MONDAY_9AM
from tests.services.sla_fixtures import (DUE_AT, DUE_SOON_AT, ESCALATE_AT, FIRST_RESPONSE_DUE,
                                         MINUTE, counts, event_types, outbox_rows, recipients,
                                         staff, ticket)

__all__ = ["staff"]


def scan(now):
    report = sla.scan(now)
    db.session.commit()
    return report


@pytest.fixture
def opened(receive, staff):
    """A street-lighting ticket routed to UBND Đồng Xoài on Monday 09:00."""
    result = receive()
    t = ticket(result.ticket_id)
    assert (t.first_response_due, t.due_soon_at, t.due_at) == (FIRST_RESPONSE_DUE, DUE_SOON_AT,
                                                               DUE_AT)
    assert t.agency.code == "UBND-689" and t.sla_started_at == MONDAY_9AM
    return t


def test_nothing_crosses_before_the_thresholds(opened):
    report = scan(FIRST_RESPONSE_DUE - MINUTE)
    assert report == sla.ScanReport([], [], [], [], 0)
    assert ticket(opened.id).sla_state == "on_track"


def test_first_response_deadline_missed_tells_the_agency_once(opened, staff):
    before = counts()
    report = scan(FIRST_RESPONSE_DUE)
    assert report.first_response == [opened.id] and report.due_soon == []
    t = ticket(opened.id)
    assert t.first_response_breached_at == FIRST_RESPONSE_DUE and t.sla_state == "on_track"
    # No one is assigned yet: the agency's two leads hear it.
    assert recipients("sla_first_response") == sorted([staff.lead.email, staff.lead2.email])
    assert event_types(opened.id)[-1] == "sla_first_response_overdue"
    assert counts() == (before[0] + 2, before[1] + 1)
    scan(FIRST_RESPONSE_DUE + timedelta(hours=1))
    assert counts() == (before[0] + 2, before[1] + 1)


def test_accepted_ticket_never_misses_its_first_response(opened):
    opened.accepted_at = MONDAY_9AM + timedelta(hours=2)
    db.session.commit()
    assert scan(FIRST_RESPONSE_DUE + timedelta(hours=1)).first_response == []


def test_due_soon_tells_the_handler_and_the_leads(opened, staff):
    opened.assignee_id = staff.handler.id
    opened.accepted_at = MONDAY_9AM + timedelta(hours=1)
    db.session.commit()
    report = scan(DUE_SOON_AT)
    assert report.due_soon == [opened.id] and report.overdue == []
    assert ticket(opened.id).sla_state == "due_soon"
    assert recipients("sla_due_soon") == sorted([staff.handler.email, staff.lead.email,
                                                 staff.lead2.email])
    mail = outbox_rows("sla_due_soon")[0]
    assert mail.channel == "email" and mail.ticket_id == opened.id and mail.status == "pending"
    assert mail.payload["audience"] == "staff"
    assert opened.code in mail.payload["subject"] and "sắp đến hạn" in mail.payload["subject"]
    assert "09:00 01/12/2026" in mail.payload["text"]  # local time, Vietnamese format
    assert mail.key.startswith(f"sla:{opened.id}:due_soon:")


def test_overdue_tells_the_leads_and_the_managers_and_scanning_again_adds_nothing(opened, staff):
    opened.accepted_at = MONDAY_9AM
    db.session.commit()
    scan(DUE_SOON_AT)
    before = counts()
    report = scan(DUE_AT)
    assert report.overdue == [opened.id] and report.due_soon == []
    assert ticket(opened.id).sla_state == "overdue"
    assert recipients("sla_overdue") == sorted([staff.lead.email, staff.lead2.email,
                                                staff.manager.email, staff.manager2.email])
    event = db.session.scalars(select(TicketEvent).where(TicketEvent.type == "sla_overdue")).one()
    assert event.data == {"from": "due_soon", "to": "overdue", "notified": 4}
    assert counts() == (before[0] + 4, before[1] + 1)
    again = scan(DUE_AT + timedelta(minutes=5))
    assert again.overdue == [] and again.notifications == 0
    assert counts() == (before[0] + 4, before[1] + 1)


def test_a_missed_scan_goes_straight_to_overdue_without_a_due_soon_notice(opened):
    opened.accepted_at = MONDAY_9AM
    db.session.commit()
    report = scan(DUE_AT + timedelta(hours=1))
    assert report.overdue == [opened.id] and report.due_soon == []
    assert outbox_rows("sla_due_soon") == []
    assert db.session.scalars(select(TicketEvent.data).where(
        TicketEvent.type == "sla_overdue")).one()["from"] == "on_track"


def test_escalation_after_the_configured_margin_in_working_hours(opened, staff):
    opened.accepted_at = MONDAY_9AM
    db.session.commit()
    scan(DUE_AT)
    # 8 working hours after Tuesday 09:00 is Wednesday 09:00, not Tuesday 17:00.
    assert scan(ESCALATE_AT - MINUTE).escalated == []
    report = scan(ESCALATE_AT)
    assert report.escalated == [opened.id]
    assert ticket(opened.id).escalated_at == ESCALATE_AT
    assert recipients("sla_escalated") == sorted([staff.manager.email, staff.manager2.email])
    assert "sla_escalated" in event_types(opened.id)
    before = counts()
    scan(ESCALATE_AT + timedelta(days=3))
    assert counts() == before


@pytest.mark.parametrize("app_config", [{
    "SLA_ESCALATE_AFTER_HOURS": "2",
    "SLA_ESCALATION_EMAILS": "vp.ubnd@example.gov.vn, Chu.Tich@example.gov.vn",
}])
def test_escalation_goes_to_the_configured_list(opened):
    opened.accepted_at = MONDAY_9AM
    db.session.commit()
    report = scan(DUE_AT + timedelta(hours=2))  # overdue and escalated in the same scan
    assert report.overdue == [opened.id] and report.escalated == [opened.id]
    assert recipients("sla_escalated") == ["Chu.Tich@example.gov.vn", "vp.ubnd@example.gov.vn"]


def test_paused_tickets_do_not_cross(opened):
    wednesday_10am = MONDAY_9AM + timedelta(days=2, hours=1)
    opened.accepted_at = MONDAY_9AM
    sla.pause_clock(opened, wednesday_10am)
    db.session.commit()
    before = counts()
    report = scan(ESCALATE_AT + timedelta(days=30))
    assert report == sla.ScanReport([], [], [], [], 0)
    assert ticket(opened.id).sla_state == "paused" and counts() == before


def test_resume_counts_the_paused_working_time(opened):
    wednesday_10am = MONDAY_9AM + timedelta(days=2, hours=1)
    opened.accepted_at = MONDAY_9AM
    sla.pause_clock(opened, wednesday_10am)
    # Paused over the weekend, Wednesday 10:00 → next Monday 10:00: 3 working days.
    sla.resume_clock(opened, wednesday_10am + timedelta(days=5))
    db.session.commit()
    t = ticket(opened.id)
    assert t.sla_paused_seconds == 3 * 8 * 3600
    assert t.due_at == DUE_AT + timedelta(days=3)  # Tue 1/12 + 3 working days = Fri 4/12
    assert scan(DUE_AT + timedelta(hours=1)).overdue == []


def test_stopped_clocks_are_left_alone(opened):
    sla.stop_clock(opened)
    db.session.commit()
    assert scan(ESCALATE_AT + timedelta(days=1)) == sla.ScanReport([], [], [], [], 0)


def test_inactive_staff_and_staff_without_email_are_skipped(opened, staff):
    staff.lead2.active = False
    staff.manager2.email = None
    opened.accepted_at = MONDAY_9AM
    db.session.commit()
    scan(DUE_AT)
    assert recipients("sla_overdue") == sorted([staff.lead.email, staff.manager.email])


def test_unassigned_triage_ticket_still_reaches_managers_when_overdue(receive, staff):
    result = receive(field_code=None, area_code=None, text="Hỏi về thủ tục.")
    t = ticket(result.ticket_id)
    assert t.agency_id is None
    report = scan(t.due_at)
    assert t.id in report.overdue and t.id in report.first_response
    assert recipients("sla_overdue", t.id) == sorted([staff.manager.email, staff.manager2.email])
    assert recipients("sla_first_response", t.id) == []  # nobody to tell but the triage queue


def test_many_tickets_cross_in_batches(receive, staff):
    ids = [receive(external_id=f"call-{i}", force_new=True).ticket_id for i in range(7)]
    db.session.execute(Ticket.__table__.update().values(accepted_at=MONDAY_9AM))
    db.session.commit()
    report = sla.scan(DUE_AT, batch=3)
    db.session.commit()
    assert sorted(report.overdue) == sorted(ids)
    assert report.notifications == 7 * 4
    keys = db.session.scalars(select(OutboxMessage.key)).all()
    assert len(keys) == len(set(keys))


def test_cli_sla_scan_reports_what_changed(opened, runner, staff):
    opened.accepted_at = MONDAY_9AM
    db.session.commit()
    # The command scans "now": put the deadlines in the past instead of moving the clock.
    shift = timedelta(days=400)
    opened.due_soon_at -= shift
    opened.due_at -= shift
    db.session.commit()
    result = runner.invoke(args=["sla-scan"])
    assert result.exit_code == 0, result.output
    assert "0 ticket(s) became due soon, 1 became overdue, 1 escalated" in result.output
    assert "notification(s) queued" in result.output
    again = runner.invoke(args=["sla-scan"])
    assert "0 became overdue, 0 escalated" in again.output and "0 notification(s)" in again.output
