"""Administrators edit SLA policies and calendar overrides: admin only, validated, audited."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from hotline.domain.errors import NotFound, PermissionDenied, ValidationError
from hotline.extensions import db
from hotline.models import AuditLog, CalendarOverride, SlaPolicy, Ticket
from hotline.services import sla, sla_admin
from hotline.services.admin.audit import Actor
from hotline.services.sla_admin import PolicyData
from tests.factories import MONDAY_9AM
from tests.services.sla_fixtures import DUE_AT, staff, ticket

__all__ = ["staff"]


@pytest.fixture
def admin(staff) -> Actor:
    return Actor(user=staff.admin, ip="10.0.0.5")


def audit_rows(entity: str) -> list[AuditLog]:
    return list(db.session.scalars(select(AuditLog).where(AuditLog.entity == entity)
                                   .order_by(AuditLog.id)))


def policy_count() -> int:
    return db.session.scalar(select(func.count()).select_from(SlaPolicy))


FIELD_POLICY = PolicyData(name="Chiếu sáng — 2 ngày", field_code="CS", resolution_minutes=960,
                          first_response_minutes=240, due_soon_max_minutes=240)


def test_create_policy_applies_to_new_tickets_and_is_audited(admin, receive):
    row = sla_admin.create_policy(admin, FIELD_POLICY)
    db.session.commit()
    [entry] = audit_rows("sla_policy")
    assert (entry.action, entry.entity_id, entry.actor_id) == ("create", str(row.id),
                                                               admin.user.id)
    assert entry.after["resolution_minutes"] == 960 and entry.ip == "10.0.0.5"
    t = ticket(receive().ticket_id)  # a street-lighting (CS) ticket: the field policy wins
    assert t.sla_policy_id == row.id
    assert t.due_at == MONDAY_9AM + timedelta(days=3)  # 2 working days, Tuesday is a holiday


@pytest.mark.parametrize("who", ["manager", "lead", "operator", "handler"])
def test_only_administrators(staff, who):
    actor = Actor(user=getattr(staff, who))
    before = policy_count()
    for call in (lambda: sla_admin.create_policy(actor, FIELD_POLICY),
                 lambda: sla_admin.list_policies(actor),
                 lambda: sla_admin.add_override(actor, date(2026, 12, 31), False, "Nghỉ"),
                 lambda: sla_admin.list_overrides(actor)):
        with pytest.raises(PermissionDenied):
            call()
    db.session.rollback()
    assert policy_count() == before and audit_rows("sla_policy") == []


@pytest.mark.parametrize("changes, code", [
    ({"name": "  "}, "required"),
    ({"field_code": "NOPE"}, "unknown_field"),
    ({"resolution_minutes": 0}, "invalid_policy"),
    ({"resolution_minutes": "abc"}, "invalid_policy"),
    ({"first_response_minutes": 2000}, "invalid_policy"),  # longer than the resolution
    ({"kind": "khieu_nai"}, "invalid_policy"),
    ({"priority": "rush"}, "invalid_policy"),
    ({"due_soon_fraction": 1.5}, "invalid_policy"),
])
def test_bad_policies_are_refused_and_nothing_is_written(admin, changes, code):
    from dataclasses import replace
    before = policy_count()
    with pytest.raises(ValidationError) as exc:
        sla_admin.create_policy(admin, replace(FIELD_POLICY, **changes))
    assert exc.value.code == code
    db.session.rollback()
    assert policy_count() == before and audit_rows("sla_policy") == []


def test_a_second_active_policy_for_the_same_scope_is_refused(admin):
    sla_admin.create_policy(admin, FIELD_POLICY)
    with pytest.raises(ValidationError) as exc:
        sla_admin.create_policy(admin, FIELD_POLICY)
    assert exc.value.code == "duplicate"


def test_update_records_only_what_changed(admin):
    row = sla_admin.create_policy(admin, FIELD_POLICY)
    from dataclasses import replace
    sla_admin.update_policy(admin, row.id, replace(FIELD_POLICY, resolution_minutes=1440))
    db.session.commit()
    update = audit_rows("sla_policy")[-1]
    assert update.action == "update"
    assert (update.before, update.after) == ({"resolution_minutes": 960},
                                             {"resolution_minutes": 1440})


def test_the_last_catch_all_cannot_go(admin, org):
    normal = db.session.scalar(select(SlaPolicy).where(SlaPolicy.name == "Thường"))
    with pytest.raises(ValidationError) as exc:
        sla_admin.deactivate_policy(admin, normal.id)
    assert exc.value.code == "policy_gap"
    db.session.rollback()
    # With another catch-all for normal priority in place, it can.
    sla_admin.create_policy(admin, PolicyData(name="Thường (mới)", priority=None,
                                              resolution_minutes=3 * 480,
                                              first_response_minutes=480))
    sla_admin.deactivate_policy(admin, normal.id)
    db.session.commit()
    assert [a.action for a in audit_rows("sla_policy")] == ["create", "deactivate"]
    assert [p.name for p in sla_admin.list_policies(admin) if not p.active] == ["Thường"]


def test_unknown_policy(admin):
    with pytest.raises(NotFound):
        sla_admin.deactivate_policy(admin, 99999)


def test_calendar_override_changes_new_deadlines_only(admin, receive):
    before = ticket(receive(external_id="old").ticket_id)
    row = sla_admin.add_override(admin, date(2026, 11, 26), False, "Nghỉ bù theo quyết định")
    db.session.commit()
    assert audit_rows("calendar")[0].after == {"day": "2026-11-26", "is_working": False,
                                               "reason": "Nghỉ bù theo quyết định"}
    after = ticket(receive(external_id="new", force_new=True).ticket_id)
    assert after.due_at == DUE_AT + timedelta(days=1)
    assert ticket(before.id).due_at == DUE_AT  # until sla-recompute
    assert [o.day for o in sla_admin.list_overrides(admin, year=2026)] == [date(2026, 11, 26)]
    sla_admin.remove_override(admin, row.id)
    db.session.commit()
    assert audit_rows("calendar")[-1].action == "delete"
    assert db.session.scalar(select(func.count()).select_from(CalendarOverride)) == 0


@pytest.mark.parametrize("day, working, code", [
    (date(2026, 11, 28), False, "no_change"),   # Saturday is already a day off
    (date(2026, 11, 26), True, "no_change"),    # Thursday is already a working day
    (date(2026, 11, 24), False, "no_change"),   # the public holiday already is one
])
def test_overrides_that_change_nothing_are_refused(admin, day, working, code):
    with pytest.raises(ValidationError) as exc:
        sla_admin.add_override(admin, day, working, "Lý do")
    assert exc.value.code == code


def test_one_override_per_day_and_a_reason_is_required(admin):
    sla_admin.add_override(admin, date(2026, 12, 5), True, "Làm bù thứ Bảy")
    with pytest.raises(ValidationError) as exc:
        sla_admin.add_override(admin, date(2026, 12, 5), False, "Đổi ý")
    assert exc.value.code == "duplicate"
    with pytest.raises(ValidationError) as exc:
        sla_admin.add_override(admin, date(2026, 12, 12), True, " ")
    assert exc.value.code == "required"


def test_commands_may_edit_without_a_user(org):
    actor = Actor(user=None, label="cli")
    row = sla_admin.create_policy(actor, FIELD_POLICY)
    db.session.commit()
    assert audit_rows("sla_policy")[0].actor_label == "cli" and row.id
    assert sla.policy_for(None, "phan_anh", "normal").id != row.id  # field-less tickets
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0
