"""The daily digest: working days only, from the configured local time, once a day."""
from __future__ import annotations

from datetime import date, datetime, timedelta, timezone

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import CalendarOverride, OutboxMessage
from hotline.services import sla, sla_digest
from tests.services.sla_fixtures import DUE_AT, counts, staff

__all__ = ["staff"]

HCM = timezone(timedelta(hours=7))


def local(y, m, d, hh, mm):
    return datetime(y, m, d, hh, mm, tzinfo=HCM)


@pytest.fixture
def late_tickets(receive, staff):
    """Two overdue tickets at UBND Đồng Xoài, one due-soon ticket at Sở Xây dựng."""
    a = receive(external_id="c1", force_new=True)
    b = receive(external_id="c2", force_new=True, text="Đèn đường tắt cả tuần.")
    c = receive(external_id="c3", force_new=True, field_code="XD",
                received_at=DUE_AT - timedelta(days=6), text="Công trình không phép.")
    sla.scan(DUE_AT)
    db.session.commit()
    return a, b, c


def digests(day: date) -> dict[str, OutboxMessage]:
    rows = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.key.startswith(f"digest:{day.isoformat()}:")))
    return {row.recipient: row for row in rows}


def test_before_the_configured_time_nothing_is_sent(late_tickets):
    before = counts()
    report = sla_digest.send_digests(local(2026, 12, 2, 7, 29))
    assert report.skipped == "before the digest time" and report.sent == 0
    assert counts() == before


def test_leads_get_their_list_managers_get_counts_by_agency(late_tickets, staff):
    a, b, c = late_tickets
    report = sla_digest.send_digests(local(2026, 12, 2, 7, 30))
    db.session.commit()
    assert report.day == date(2026, 12, 2) and report.skipped is None
    sent = digests(date(2026, 12, 2))
    assert set(sent) == {staff.lead.email, staff.lead2.email, staff.other_lead.email,
                         staff.manager.email, staff.manager2.email}
    assert report.sent == 5
    lead_text = sent[staff.lead.email].payload["text"]
    assert "Quá hạn: 2 phiếu" in lead_text and a.code in lead_text and b.code in lead_text
    assert c.code not in lead_text  # another agency's ticket
    other_text = sent[staff.other_lead.email].payload["text"]
    assert "Sắp đến hạn: 1 phiếu" in other_text and c.code in other_text
    manager_text = sent[staff.manager.email].payload["text"]
    assert "tổng cộng 2 phiếu" in manager_text
    assert "UBND Thành phố Đồng Xoài: 2 quá hạn, 0 sắp đến hạn" in manager_text
    assert "Sở Xây dựng: 0 quá hạn, 1 sắp đến hạn" in manager_text
    assert a.code not in manager_text  # managers get counts, not lists
    assert sent[staff.manager.email].channel == "email"
    assert sent[staff.manager.email].payload["audience"] == "staff"


def test_once_per_day(late_tickets):
    sla_digest.send_digests(local(2026, 12, 2, 7, 30))
    db.session.commit()
    before = counts()
    again = sla_digest.send_digests(local(2026, 12, 2, 16, 0))
    assert again.skipped == "already sent today" and counts() == before
    tomorrow = sla_digest.send_digests(local(2026, 12, 3, 7, 45))
    assert tomorrow.sent == 5


def test_a_new_lead_gets_todays_digest_later_that_day(late_tickets, staff):
    sla_digest.send_digests(local(2026, 12, 2, 7, 30))
    db.session.commit()
    staff.operator.role = "agency_lead"
    staff.operator.agency_id = staff.lead.agency_id
    db.session.commit()
    report = sla_digest.send_digests(local(2026, 12, 2, 9, 0))
    assert report.sent == 1 and report.recipients == [staff.operator.email]


@pytest.mark.parametrize("when, why", [
    (local(2026, 11, 24, 8, 0), "public holiday (Ngày Văn hóa Việt Nam)"),
    (local(2026, 11, 28, 8, 0), "Saturday"),
    (local(2026, 11, 29, 8, 0), "Sunday"),
])
def test_not_on_days_off(late_tickets, when, why):
    report = sla_digest.send_digests(when)
    assert report.skipped == "not a working day", why
    assert report.sent == 0


def test_administrators_overrides_count(late_tickets):
    # A make-up working Saturday gets a digest; an extra day off does not.
    db.session.add_all([
        CalendarOverride(day=date(2026, 12, 5), is_working=True, reason="Làm bù"),
        CalendarOverride(day=date(2026, 12, 7), is_working=False, reason="Nghỉ bù"),
    ])
    db.session.commit()
    assert sla_digest.send_digests(local(2026, 12, 5, 8, 0)).sent == 5
    assert sla_digest.send_digests(local(2026, 12, 7, 8, 0)).skipped == "not a working day"


@pytest.mark.parametrize("app_config", [{"DIGEST_LOCAL_TIME": "16:45"}])
def test_the_time_is_configurable(late_tickets):
    assert sla_digest.send_digests(local(2026, 12, 2, 16, 44)).skipped == "before the digest time"
    assert sla_digest.send_digests(local(2026, 12, 2, 16, 45)).sent == 5


def test_cli_send_digests(late_tickets, runner):
    result = runner.invoke(args=["send-digests"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith(("Queued ", "No digest for "))
