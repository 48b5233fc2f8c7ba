"""Administrators edit SLA policies and the working calendar's overrides.

Administrators only (``Actor.user`` with role admin; commands run with no user).
Every change writes an ``audit_log`` row (entity ``sla_policy`` or
``calendar``) in the caller's transaction. A change applies to deadlines
computed from now on; ``flask --app hotline sla-recompute`` rebuilds the
existing ones and says what it changed.

The policies must keep covering every ticket: for every kind and priority some
active policy without a field must match, or intake could not time a ticket —
a change that would break that is refused.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from sqlalchemy import extract, select

from hotline.domain import sla as sla_domain
from hotline.domain import text
from hotline.domain.errors import NotFound, PermissionDenied, ValidationError
from hotline.extensions import db
from hotline.models import CalendarOverride, Field, Role, SlaPolicy
from hotline.services.admin.audit import Actor, changes, record, snapshot
from hotline.services.calendar import get_calendar

POLICY_FIELDS = ("name", "field_id", "kind", "priority", "resolution_minutes",
                 "first_response_minutes", "due_soon_fraction", "due_soon_max_minutes", "active")
OVERRIDE_FIELDS = ("day", "is_working", "reason")
MAX_TARGET_MINUTES = 366 * 24 * 60


@dataclass(frozen=True)
class PolicyData:
    """An SLA policy as the admin form gives it (targets in working minutes)."""

    name: str
    resolution_minutes: int
    first_response_minutes: int
    field_code: str | None = None
    kind: str | None = None
    priority: str | None = None
    due_soon_fraction: float = 0.2
    due_soon_max_minutes: int | None = None
    active: bool = True


def _require_admin(actor: Actor) -> None:
    user = actor.user
    if user is not None and (user.role != Role.ADMIN.value or not user.active):
        raise PermissionDenied("Chỉ quản trị hệ thống được sửa chính sách SLA và lịch làm việc.")


# --- policies -----------------------------------------------------------------------


def list_policies(actor: Actor, *, include_inactive: bool = True) -> list[SlaPolicy]:
    """Every policy (a province has tens), active first, most specific first."""
    _require_admin(actor)
    query = select(SlaPolicy)
    if not include_inactive:
        query = query.where(SlaPolicy.active.is_(True))
    rows = list(db.session.scalars(query))
    return sorted(rows, key=lambda p: (not p.active, p.field_id is None, p.priority is None,
                                       p.kind is None, p.id))


def get_policy(actor: Actor, policy_id: int) -> SlaPolicy:
    _require_admin(actor)
    row = db.session.get(SlaPolicy, policy_id)
    if row is None:
        raise NotFound("Không tìm thấy chính sách SLA.")
    return row


def create_policy(actor: Actor, data: PolicyData) -> SlaPolicy:
    """Add a policy; it times tickets received from now on."""
    _require_admin(actor)
    row = SlaPolicy()
    _apply(row, data)
    db.session.add(row)
    db.session.flush()
    _check(row)
    record(actor, "create", "sla_policy", row.id, after=snapshot(row, POLICY_FIELDS))
    return row


def update_policy(actor: Actor, policy_id: int, data: PolicyData) -> SlaPolicy:
    """Change a policy; existing deadlines stay until ``sla-recompute``."""
    row = get_policy(actor, policy_id)
    before = snapshot(row, POLICY_FIELDS)
    _apply(row, data)
    db.session.flush()
    _check(row)
    b, a = changes(before, snapshot(row, POLICY_FIELDS))
    if a:
        record(actor, "update", "sla_policy", row.id, before=b, after=a)
    return row


def deactivate_policy(actor: Actor, policy_id: int) -> SlaPolicy:
    """Stop using a policy for new deadlines (rows are kept: tickets refer to them)."""
    row = get_policy(actor, policy_id)
    if not row.active:
        return row
    row.active = False
    db.session.flush()
    _check(row)
    record(actor, "deactivate", "sla_policy", row.id, before={"active": True},
           after={"active": False})
    return row


def _apply(row: SlaPolicy, data: PolicyData) -> None:
    name = text.clean_text(data.name, max_length=200, field="tên chính sách", required=True,
                           multiline=False)
    field_id = None
    if data.field_code:
        field_id = db.session.scalar(select(Field.id).where(Field.code == data.field_code))
        if field_id is None:
            raise ValidationError(f"Lĩnh vực không tồn tại: {data.field_code}",
                                  code="unknown_field")
    resolution = _minutes(data.resolution_minutes, "Thời hạn giải quyết")
    first_response = _minutes(data.first_response_minutes, "Thời hạn tiếp nhận")
    if first_response > resolution:
        raise ValidationError("Thời hạn tiếp nhận không được dài hơn thời hạn giải quyết.",
                              code="invalid_policy")
    soon_max = (None if data.due_soon_max_minutes in (None, "", 0)
                else _minutes(data.due_soon_max_minutes, "Cảnh báo sắp đến hạn tối đa"))
    try:
        fraction = float(data.due_soon_fraction)
    except (TypeError, ValueError) as exc:
        raise ValidationError("Tỷ lệ cảnh báo sắp đến hạn phải là số từ 0 đến 1.",
                              code="invalid_policy") from exc
    # The domain's own checks (kind, priority, fraction) with Vietnamese messages.
    sla_domain.SlaPolicy(id=None, resolution=timedelta(minutes=resolution),
                         first_response=timedelta(minutes=first_response),
                         field_code=data.field_code or None, kind=data.kind or None,
                         priority=data.priority or None, due_soon_fraction=fraction,
                         due_soon_max=timedelta(minutes=soon_max) if soon_max else None)
    row.name = name
    row.field_id = field_id
    row.kind = data.kind or None
    row.priority = data.priority or None
    row.resolution_minutes = resolution
    row.first_response_minutes = first_response
    row.due_soon_fraction = fraction
    row.due_soon_max_minutes = soon_max
    row.active = bool(data.active)


def _minutes(value, what: str) -> int:
    try:
        minutes = int(value)
    except (TypeError, ValueError) as exc:
        raise ValidationError(f"{what} phải là số phút làm việc.", code="invalid_policy") from exc
    if not 0 < minutes <= MAX_TARGET_MINUTES:
        raise ValidationError(f"{what} phải lớn hơn 0 và không quá một năm.",
                              code="invalid_policy")
    return minutes


def _check(row: SlaPolicy) -> None:
    """No duplicate of an active policy, and every kind × priority still has a policy."""
    if row.active:
        twin = db.session.scalar(select(SlaPolicy.id).where(
            SlaPolicy.id != row.id, SlaPolicy.active.is_(True),
            _same(SlaPolicy.field_id, row.field_id), _same(SlaPolicy.kind, row.kind),
            _same(SlaPolicy.priority, row.priority)))
        if twin is not None:
            raise ValidationError("Đã có chính sách SLA đang áp dụng cho cùng lĩnh vực, loại và "
                                  "mức độ ưu tiên; hãy sửa chính sách đó.", code="duplicate")
    from hotline.services.sla import active_policies
    policies = [p for p in active_policies() if p.field_code is None]
    for kind in sorted(sla_domain.KINDS):
        for priority in sla_domain.Priority:
            try:
                sla_domain.select_policy(policies, field_code=None, kind=kind, priority=priority)
            except ValidationError as exc:
                raise ValidationError(
                    "Thay đổi này làm một số phiếu không có chính sách SLA (loại "
                    f"{kind}, mức độ {priority.value}): cần giữ một chính sách chung "
                    "không gắn lĩnh vực.", code="policy_gap") from exc


def _same(column, value):
    return column.is_(None) if value is None else column == value


# --- calendar overrides ------------------------------------------------------------


def list_overrides(actor: Actor, *, year: int | None = None) -> list[CalendarOverride]:
    """The administrator's extra days off and working days, by date."""
    _require_admin(actor)
    query = select(CalendarOverride).order_by(CalendarOverride.day)
    if year is not None:
        query = query.where(extract("year", CalendarOverride.day) == year)
    return list(db.session.scalars(query))


def add_override(actor: Actor, day: date, is_working: bool, reason: str) -> CalendarOverride:
    """Declare an extra day off (``is_working=False``) or a make-up working day."""
    _require_admin(actor)
    if not isinstance(day, date):
        raise ValidationError("Ngày không hợp lệ.", code="invalid_date")
    reason = text.clean_text(reason, max_length=200, field="lý do", required=True,
                             multiline=False)
    if db.session.scalar(select(CalendarOverride.id).where(CalendarOverride.day == day)):
        raise ValidationError(f"Ngày {day:%d/%m/%Y} đã có điều chỉnh; hãy xoá điều chỉnh cũ trước.",
                              code="duplicate")
    if get_calendar().is_working_day(day) == bool(is_working):
        state = "ngày làm việc" if is_working else "ngày nghỉ"
        raise ValidationError(f"Ngày {day:%d/%m/%Y} đã là {state}.", code="no_change")
    row = CalendarOverride(day=day, is_working=bool(is_working), reason=reason)
    db.session.add(row)
    db.session.flush()
    record(actor, "create", "calendar", row.id, after=snapshot(row, OVERRIDE_FIELDS))
    return row


def remove_override(actor: Actor, override_id: int) -> None:
    """Withdraw an override: the day follows the law's calendar again."""
    _require_admin(actor)
    row = db.session.get(CalendarOverride, override_id)
    if row is None:
        raise NotFound("Không tìm thấy ngày điều chỉnh.")
    before = snapshot(row, OVERRIDE_FIELDS)
    db.session.delete(row)
    db.session.flush()
    record(actor, "delete", "calendar", override_id, before=before)
