"""Recomputing open tickets' deadlines after a policy or calendar change."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select, update

from hotline.extensions import db
from hotline.models import CalendarOverride, SlaPolicy, Ticket
from hotline.services import sla
from hotline.services.sla_recompute import recompute
from tests.factories import MONDAY_9AM
from tests.services.sla_fixtures import DUE_AT, FIRST_RESPONSE_DUE, counts, staff, ticket

__all__ = ["staff"]

THREE_DAYS_DUE = MONDAY_9AM + timedelta(days=4)  # Mon 23/11 + 3 working days = Fri 27/11


@pytest.fixture
def opened(receive, staff):
    t = ticket(receive().ticket_id)
    t.accepted_at = MONDAY_9AM
    db.session.commit()
    return t


def shorten_normal_policy(days: int = 3) -> None:
    db.session.execute(update(SlaPolicy).where(SlaPolicy.name == "Thường")
                       .values(resolution_minutes=days * 480))
    db.session.commit()


def test_dry_run_reports_and_writes_nothing(opened):
    shorten_normal_policy()
    before = counts()
    report = recompute(MONDAY_9AM + timedelta(hours=1), dry_run=True)
    db.session.rollback()
    assert (report.examined, report.changed) == (1, 1)
    [change] = report.changes
    assert (change.due_before, change.due_after) == (DUE_AT, THREE_DAYS_DUE)
    assert "01/12/2026" in change.describe() and "27/11/2026" in change.describe()
    assert ticket(opened.id).due_at == DUE_AT and counts() == before


def test_policy_change_applies_to_open_tickets(opened):
    shorten_normal_policy()
    report = recompute(MONDAY_9AM + timedelta(hours=1))
    db.session.commit()
    t = ticket(opened.id)
    assert report.changed == 1
    assert t.due_at == THREE_DAYS_DUE
    # Due soon 20 % (4.8 working hours) before: Thursday 13:42 local.
    assert t.due_soon_at == datetime(2026, 11, 26, 6, 42, tzinfo=UTC)
    assert t.first_response_due == FIRST_RESPONSE_DUE
    assert recompute(MONDAY_9AM + timedelta(hours=1)).changed == 0  # idempotent


def test_calendar_change_moves_deadlines(opened):
    db.session.add(CalendarOverride(day=date(2026, 11, 26), is_working=False,
                                    reason="Nghỉ bù"))
    db.session.commit()
    recompute(MONDAY_9AM + timedelta(hours=1))
    db.session.commit()
    t = ticket(opened.id)
    assert t.due_at == DUE_AT + timedelta(days=1)  # one working day fewer before it


def test_earlier_deadline_is_left_for_the_scan_to_cross_and_notify(opened, staff):
    shorten_normal_policy()
    now = MONDAY_9AM + timedelta(days=6)  # Sun 29/11: past the new due time
    recompute(now)
    db.session.commit()
    assert ticket(opened.id).sla_state == "on_track"  # recompute never notifies
    report = sla.scan(now)
    db.session.commit()
    assert report.overdue == [opened.id] and report.notifications == 4


def test_later_deadline_takes_an_overdue_ticket_back(opened):
    sla.scan(DUE_AT + timedelta(days=2))
    db.session.commit()
    assert ticket(opened.id).escalated_at is not None
    shorten_normal_policy(days=10)
    recompute(DUE_AT + timedelta(days=2))
    db.session.commit()
    t = ticket(opened.id)
    assert (t.sla_state, t.escalated_at) == ("on_track", None)


def test_paused_time_and_approved_extensions_are_kept(receive, staff):
    paused = ticket(receive(external_id="p", force_new=True).ticket_id)
    sla.pause_clock(paused, MONDAY_9AM + timedelta(days=2))
    sla.resume_clock(paused, MONDAY_9AM + timedelta(days=3))   # one working day paused
    extended = ticket(receive(external_id="e", force_new=True).ticket_id)
    db.session.commit()
    later = DUE_AT + timedelta(days=7)
    sla.request_extension(extended, staff.lead, later, "Chờ vật tư.", now=MONDAY_9AM)
    sla.decide_extension(extended, staff.manager, True, None, now=MONDAY_9AM)
    db.session.commit()
    assert ticket(paused.id).due_at == DUE_AT + timedelta(days=1)
    shorten_normal_policy()
    report = recompute(MONDAY_9AM + timedelta(hours=5))
    db.session.commit()
    assert report.kept_extension == 1
    assert ticket(paused.id).due_at == THREE_DAYS_DUE + timedelta(days=3)  # Fri + 1 wd = Mon
    assert ticket(extended.id).due_at == later


def test_stopped_clocks_are_not_touched(opened):
    sla.stop_clock(opened)
    db.session.commit()
    shorten_normal_policy()
    assert recompute(MONDAY_9AM).examined == 0


def test_keyset_batches_cover_every_ticket(receive, staff):
    for i in range(5):
        receive(external_id=f"b{i}", force_new=True)
    shorten_normal_policy()
    seen = []
    report = recompute(MONDAY_9AM, batch=2, progress=lambda n, c: seen.append((n, c)))
    assert seen == [(2, 2), (4, 4), (5, 5)] and report.changed == 5


def test_cli_dry_run_then_real_run(opened, runner):
    shorten_normal_policy()
    dry = runner.invoke(args=["sla-recompute", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert "Recomputing deadlines of 1 open ticket(s) (dry run: nothing is written)" in dry.output
    assert "1/1 examined, 1 changed" in dry.output
    assert f"{opened.code}: due 09:00 01/12/2026 → 09:00 27/11/2026" in dry.output
    assert "1 ticket(s) examined, 1 would change" in dry.output
    assert ticket(opened.id).due_at == DUE_AT
    real = runner.invoke(args=["sla-recompute"])
    assert real.exit_code == 0, real.output
    assert "1 ticket(s) examined, 1 changed" in real.output
    assert db.session.scalar(select(Ticket.due_at).where(Ticket.id == opened.id)) == THREE_DAYS_DUE
    again = runner.invoke(args=["sla-recompute"])
    assert "1 ticket(s) examined, 0 changed" in again.output
