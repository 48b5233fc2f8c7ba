"""SLA policies, deadlines and states of a ticket.

A :class:`SlaPolicy` gives the resolution and first-response targets, in
working time, for tickets of a field / kind / priority; :func:`select_policy`
picks the most specific one. Deadlines are computed on a
:class:`~hotline.domain.calendar.WorkingCalendar`: the clock stops while a
ticket waits for the citizen (:func:`resume_deadlines`) and a manager may
approve a later due time (:func:`extend_deadlines`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from hotline.domain.calendar import WorkingCalendar
from hotline.domain.errors import ValidationError

__all__ = [
    "DEFAULT_POLICIES",
    "KINDS",
    "Deadlines",
    "Priority",
    "SlaPolicy",
    "SlaState",
    "compute_deadlines",
    "due_soon_margin",
    "extend_deadlines",
    "remaining_working_time",
    "resume_deadlines",
    "select_policy",
    "sla_state",
]


class Priority(StrEnum):
    """How fast a ticket must be handled."""

    URGENT = "urgent"
    NORMAL = "normal"
    COMPLEX = "complex"


class SlaState(StrEnum):
    """Where a ticket stands against its due time."""

    ON_TRACK = "on_track"
    DUE_SOON = "due_soon"
    OVERDUE = "overdue"


#: Ticket kinds: complaint about a problem, proposal, question.
KINDS = frozenset({"phan_anh", "kien_nghi", "hoi_dap"})

_HOUR = timedelta(hours=1)
# Policies are stored as working time; the defaults assume the standard 8-hour day.
_WORKING_DAY = 8 * _HOUR


@dataclass(frozen=True)
class SlaPolicy:
    """Targets in working time for the tickets whose attributes match.

    ``None`` in ``field_code``, ``kind`` or ``priority`` matches anything. A
    ticket becomes due soon in the last ``due_soon_fraction`` of its resolution
    time, but never earlier than ``due_soon_max`` of working time before due.
    """

    id: int | None
    resolution: timedelta
    first_response: timedelta
    field_code: str | None = None
    kind: str | None = None
    priority: Priority | None = None
    due_soon_fraction: float = 0.2
    due_soon_max: timedelta | None = None

    def __post_init__(self) -> None:
        if not isinstance(self.resolution, timedelta) or self.resolution <= timedelta(0):
            raise ValidationError("Thời hạn giải quyết phải lớn hơn 0.", code="invalid_policy")
        if not isinstance(self.first_response, timedelta) or self.first_response <= timedelta(0):
            raise ValidationError("Thời hạn tiếp nhận phải lớn hơn 0.", code="invalid_policy")
        if self.kind is not None and self.kind not in KINDS:
            raise ValidationError(
                f"Loại phản ánh không hợp lệ: {self.kind!r}.", code="invalid_policy"
            )
        if self.priority is not None:
            try:
                object.__setattr__(self, "priority", Priority(self.priority))
            except ValueError as exc:
                raise ValidationError(
                    f"Mức độ ưu tiên không hợp lệ: {self.priority!r}.", code="invalid_policy"
                ) from exc
        if not 0 <= self.due_soon_fraction <= 1:
            raise ValidationError(
                "Tỷ lệ cảnh báo sắp đến hạn phải nằm trong khoảng 0–1.", code="invalid_policy"
            )
        if self.due_soon_max is not None and self.due_soon_max < timedelta(0):
            raise ValidationError(
                "Thời gian cảnh báo sắp đến hạn tối đa không được âm.", code="invalid_policy"
            )

    @property
    def specificity(self) -> tuple[bool, bool, bool]:
        """Which attributes are pinned, in precedence order: field, priority, kind."""
        return (self.field_code is not None, self.priority is not None, self.kind is not None)

    def matches(self, *, field_code: str | None, kind: str | None, priority: str | None) -> bool:
        """Whether every attribute this policy pins equals the ticket's."""
        return (
            (self.field_code is None or self.field_code == field_code)
            and (self.kind is None or self.kind == kind)
            and (self.priority is None or self.priority == priority)
        )


def select_policy(
    policies: Iterable[SlaPolicy],
    *,
    field_code: str | None,
    kind: str | None,
    priority: Priority | str | None,
) -> SlaPolicy:
    """The most specific matching policy.

    Field beats priority beats kind (compared lexicographically); among equally
    specific policies the lowest id wins (policies without id come last).
    Raises :class:`ValidationError` when nothing matches.
    """
    candidates = [
        p for p in policies if p.matches(field_code=field_code, kind=kind, priority=priority)
    ]
    if not candidates:
        raise ValidationError(
            "Không có chính sách SLA phù hợp với lĩnh vực "
            f"{field_code or '(không có)'}, loại {kind or '(không có)'}, "
            f"mức độ {priority or '(không có)'}.",
            code="no_sla_policy",
        )
    return min(
        candidates,
        key=lambda p: (
            tuple(not pinned for pinned in p.specificity),
            p.id is None,
            p.id or 0,
        ),
    )


#: Provincial defaults (8-hour working days), for seeding and tests. The
#: normal-priority policy pins nothing, so every ticket matches at least it.
DEFAULT_POLICIES: tuple[SlaPolicy, ...] = (
    SlaPolicy(
        id=None,
        priority=Priority.URGENT,
        resolution=4 * _HOUR,
        first_response=1 * _HOUR,
    ),
    SlaPolicy(
        id=None,
        resolution=5 * _WORKING_DAY,
        first_response=1 * _WORKING_DAY,
        due_soon_max=1 * _WORKING_DAY,
    ),
    SlaPolicy(
        id=None,
        priority=Priority.COMPLEX,
        resolution=10 * _WORKING_DAY,
        first_response=2 * _WORKING_DAY,
        due_soon_max=1 * _WORKING_DAY,
    ),
    SlaPolicy(
        id=None,
        kind="hoi_dap",
        priority=Priority.NORMAL,
        resolution=3 * _WORKING_DAY,
        first_response=1 * _WORKING_DAY,
        due_soon_max=1 * _WORKING_DAY,
    ),
)


@dataclass(frozen=True)
class Deadlines:
    """The due instants of one ticket (UTC-aware)."""

    first_response_due: datetime
    due_at: datetime
    due_soon_at: datetime  # the instant the ticket becomes "due soon"


def due_soon_margin(policy: SlaPolicy) -> timedelta:
    """Working time before due at which a ticket turns due soon."""
    margin = policy.resolution * policy.due_soon_fraction
    if policy.due_soon_max is not None:
        margin = min(margin, policy.due_soon_max)
    return margin


def compute_deadlines(calendar: WorkingCalendar, policy: SlaPolicy, start: datetime) -> Deadlines:
    """Deadlines of a ticket whose clock starts at ``start`` under ``policy``."""
    return Deadlines(
        first_response_due=calendar.add_working_time(start, policy.first_response),
        due_at=calendar.add_working_time(start, policy.resolution),
        due_soon_at=calendar.add_working_time(start, policy.resolution - due_soon_margin(policy)),
    )


def sla_state(
    *, now: datetime, due_at: datetime, due_soon_at: datetime, paused: bool = False
) -> SlaState:
    """State of a ticket at ``now``: overdue from ``due_at`` on, due soon from ``due_soon_at``.

    A paused ticket keeps the state it had when it was paused: for
    ``paused=True`` the caller passes the pause instant as ``now`` (the flag
    only documents that at the call site; the rule is the same).
    """
    for name, value in (("now", now), ("due_at", due_at), ("due_soon_at", due_soon_at)):
        _require_aware(value, name)
    if now >= due_at:
        return SlaState.OVERDUE
    if now >= due_soon_at:
        return SlaState.DUE_SOON
    return SlaState.ON_TRACK


def resume_deadlines(
    calendar: WorkingCalendar, deadlines: Deadlines, paused_at: datetime, resumed_at: datetime
) -> Deadlines:
    """Deadlines after a pause: the working time left at ``paused_at`` restarts at ``resumed_at``.

    A deadline already passed when the ticket was paused stays where it was.
    """
    _require_aware(paused_at, "paused_at")
    _require_aware(resumed_at, "resumed_at")
    if resumed_at < paused_at:
        raise ValidationError(
            "Thời điểm tiếp tục xử lý không được trước thời điểm tạm dừng.", code="invalid_pause"
        )

    def moved(deadline: datetime) -> datetime:
        left = calendar.working_time_between(paused_at, deadline)
        if left <= timedelta(0):
            return deadline
        return calendar.add_working_time(resumed_at, left)

    return Deadlines(
        first_response_due=moved(deadlines.first_response_due),
        due_at=moved(deadlines.due_at),
        due_soon_at=moved(deadlines.due_soon_at),
    )


def extend_deadlines(
    calendar: WorkingCalendar, deadlines: Deadlines, new_due_at: datetime, policy: SlaPolicy
) -> Deadlines:
    """Deadlines after a manager approved ``new_due_at`` (which must be later than ``due_at``).

    The due-soon instant keeps the policy's margin before the new due time;
    the first-response deadline does not change. ``new_due_at`` is kept as
    given (converted to UTC).
    """
    _require_aware(new_due_at, "new_due_at")
    if new_due_at <= deadlines.due_at:
        raise ValidationError(
            "Thời hạn gia hạn phải sau thời hạn giải quyết hiện tại.", code="invalid_extension"
        )
    new_due_at = new_due_at.astimezone(UTC)
    return Deadlines(
        first_response_due=deadlines.first_response_due,
        due_at=new_due_at,
        due_soon_at=calendar.subtract_working_time(new_due_at, due_soon_margin(policy)),
    )


def remaining_working_time(calendar: WorkingCalendar, now: datetime, due_at: datetime) -> timedelta:
    """Working time left until ``due_at``; negative once overdue (for UI badges)."""
    return calendar.working_time_between(now, due_at)


def _require_aware(value: datetime, name: str) -> None:
    if not isinstance(value, datetime):
        raise TypeError(f"{name} must be a datetime")
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"{name} is naive: a timezone-aware datetime is required")
