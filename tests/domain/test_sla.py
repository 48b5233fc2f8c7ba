"""SLA policies, deadlines, states, pauses and extensions."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from hotline.domain.calendar import WorkingCalendar
from hotline.domain.errors import ValidationError
from hotline.domain.sla import (
    DEFAULT_POLICIES,
    Deadlines,
    Priority,
    SlaPolicy,
    SlaState,
    compute_deadlines,
    due_soon_margin,
    extend_deadlines,
    remaining_working_time,
    resume_deadlines,
    select_policy,
    sla_state,
)

VN = ZoneInfo("Asia/Ho_Chi_Minh")
H = timedelta(hours=1)
MIN = timedelta(minutes=1)
DAY = 8 * H
CAL = WorkingCalendar()


def local(*args) -> datetime:
    return datetime(*args, tzinfo=VN)


def policy(id=None, **kwargs) -> SlaPolicy:
    kwargs.setdefault("resolution", 5 * DAY)
    kwargs.setdefault("first_response", DAY)
    return SlaPolicy(id=id, **kwargs)


# --- policy selection ---------------------------------------------------------------


def test_most_specific_policy_wins():
    any_ = policy(1)
    by_kind = policy(2, kind="phan_anh")
    by_priority = policy(3, priority=Priority.URGENT)
    by_priority_and_kind = policy(4, priority=Priority.URGENT, kind="phan_anh")
    by_field = policy(5, field_code="GT")
    policies = [any_, by_kind, by_priority, by_priority_and_kind, by_field]

    def pick(field_code=None, kind=None, priority=None):
        return select_policy(policies, field_code=field_code, kind=kind, priority=priority)

    assert pick(field_code="GT", kind="phan_anh", priority="urgent") is by_field
    assert pick(field_code="MT", kind="phan_anh", priority="urgent") is by_priority_and_kind
    assert pick(field_code="MT", kind="hoi_dap", priority="urgent") is by_priority
    assert pick(field_code="MT", kind="phan_anh", priority="normal") is by_kind
    assert pick(field_code="MT", kind="hoi_dap", priority="normal") is any_


def test_field_beats_priority_and_kind_together():
    by_field = policy(9, field_code="GT")
    by_both = policy(1, priority=Priority.NORMAL, kind="kien_nghi")
    picked = select_policy(
        [by_both, by_field], field_code="GT", kind="kien_nghi", priority=Priority.NORMAL
    )
    assert picked is by_field


def test_equally_specific_policies_tie_break_on_lower_id():
    later, earlier, unsaved = (
        policy(7, kind="hoi_dap"),
        policy(3, kind="hoi_dap"),
        policy(None, kind="hoi_dap"),
    )
    assert (
        select_policy([unsaved, later, earlier], field_code=None, kind="hoi_dap", priority=None)
        is earlier
    )


def test_no_matching_policy_is_an_error():
    with pytest.raises(ValidationError, match="Không có chính sách SLA phù hợp"):
        select_policy(
            [policy(1, field_code="GT"), policy(2, priority=Priority.URGENT)],
            field_code="MT",
            kind="phan_anh",
            priority=Priority.NORMAL,
        )
    with pytest.raises(ValidationError):
        select_policy([], field_code=None, kind=None, priority=None)


def test_default_policies():
    def pick(kind, priority):
        return select_policy(DEFAULT_POLICIES, field_code="GT", kind=kind, priority=priority)

    assert pick("phan_anh", Priority.URGENT).resolution == 4 * H
    assert pick("phan_anh", Priority.URGENT).first_response == H
    assert pick("phan_anh", Priority.NORMAL).resolution == 5 * DAY
    assert pick("kien_nghi", Priority.NORMAL).first_response == DAY
    assert pick("phan_anh", Priority.COMPLEX).resolution == 10 * DAY
    assert pick("phan_anh", Priority.COMPLEX).first_response == 2 * DAY
    assert pick("hoi_dap", Priority.NORMAL).resolution == 3 * DAY
    assert pick("hoi_dap", Priority.URGENT).resolution == 4 * H


@pytest.mark.parametrize(
    "kwargs",
    [
        {"resolution": timedelta(0)},
        {"first_response": -H},
        {"kind": "khieu_nai"},
        {"priority": "very_urgent"},
        {"due_soon_fraction": 1.5},
        {"due_soon_max": -H},
    ],
)
def test_invalid_policies_are_rejected(kwargs):
    with pytest.raises(ValidationError):
        policy(1, **kwargs)


def test_priority_given_as_text_becomes_the_enum():
    assert policy(1, priority="urgent").priority is Priority.URGENT


# --- deadlines --------------------------------------------------------------------------


def urgent():
    return select_policy(DEFAULT_POLICIES, field_code=None, kind="phan_anh", priority="urgent")


def normal():
    return select_policy(DEFAULT_POLICIES, field_code=None, kind="phan_anh", priority="normal")


def complex_():
    return select_policy(DEFAULT_POLICIES, field_code=None, kind="phan_anh", priority="complex")


def test_urgent_deadlines():
    d = compute_deadlines(CAL, urgent(), local(2026, 3, 5, 15, 0))  # Thursday
    assert d.first_response_due == local(2026, 3, 5, 16, 0)
    assert d.due_at == local(2026, 3, 6, 9, 30)
    # margin 20 % of 4h = 48 min of working time before due
    assert d.due_soon_at == local(2026, 3, 6, 8, 42)
    assert d.due_at.tzinfo is UTC


def test_normal_deadlines():
    d = compute_deadlines(CAL, normal(), local(2026, 3, 2, 9, 0))  # Monday
    assert d.first_response_due == local(2026, 3, 3, 9, 0)
    assert d.due_at == local(2026, 3, 9, 9, 0)
    assert d.due_soon_at == local(2026, 3, 6, 9, 0)  # 20 % of 5 days = 1 day


def test_complex_deadlines_over_tet():
    d = compute_deadlines(CAL, complex_(), local(2026, 2, 13, 15, 0))  # Friday before Tết
    assert d.first_response_due == local(2026, 2, 24, 15, 0)
    assert d.due_at == local(2026, 3, 6, 15, 0)
    # 20 % of 10 days is 2 days, capped at 1 working day
    assert d.due_soon_at == local(2026, 3, 5, 15, 0)


def test_due_soon_margin_fraction_and_cap():
    assert due_soon_margin(policy(resolution=10 * H)) == 2 * H
    assert due_soon_margin(policy(resolution=10 * H, due_soon_max=H)) == H
    assert due_soon_margin(policy(resolution=10 * H, due_soon_max=5 * H)) == 2 * H
    assert due_soon_margin(policy(resolution=10 * H, due_soon_fraction=0.5)) == 5 * H


def test_due_soon_edges():
    start = local(2026, 3, 2, 9, 0)
    never = compute_deadlines(CAL, policy(due_soon_fraction=0), start)
    assert never.due_soon_at == never.due_at
    always = compute_deadlines(CAL, policy(due_soon_fraction=1), start)
    assert always.due_soon_at == start


# --- states ------------------------------------------------------------------------------


def test_sla_state_boundaries():
    due_soon_at, due_at = local(2026, 3, 6, 9, 0), local(2026, 3, 9, 9, 0)
    tick = timedelta(microseconds=1)

    def state(now):
        return sla_state(now=now, due_at=due_at, due_soon_at=due_soon_at)

    assert state(due_soon_at - tick) is SlaState.ON_TRACK
    assert state(due_soon_at) is SlaState.DUE_SOON
    assert state(due_at - tick) is SlaState.DUE_SOON
    assert state(due_at) is SlaState.OVERDUE
    assert state(due_at + timedelta(days=30)) is SlaState.OVERDUE


def test_paused_ticket_is_judged_at_the_pause_instant():
    due_soon_at, due_at = local(2026, 3, 6, 9, 0), local(2026, 3, 9, 9, 0)
    paused_at = local(2026, 3, 5, 10, 0)
    assert (
        sla_state(now=paused_at, due_at=due_at, due_soon_at=due_soon_at, paused=True)
        is SlaState.ON_TRACK
    )


def test_sla_state_rejects_naive_datetimes():
    with pytest.raises(ValueError):
        sla_state(now=datetime(2026, 3, 6), due_at=local(2026, 3, 9), due_soon_at=local(2026, 3, 8))


# --- pause and resume ------------------------------------------------------------------------


def test_pause_over_the_weekend_moves_deadlines_by_the_working_time_missed():
    d = compute_deadlines(CAL, normal(), local(2026, 3, 2, 9, 0))
    # Paused at Friday's close, resumed Monday 09:00: Monday 07:30–09:00 was lost.
    resumed = resume_deadlines(CAL, d, local(2026, 3, 6, 17, 0), local(2026, 3, 9, 9, 0))
    assert resumed.due_at == local(2026, 3, 9, 10, 30)
    assert CAL.working_time_between(d.due_at, resumed.due_at) == 90 * MIN
    # Paused Friday 16:00: Friday's last hour was lost too.
    resumed = resume_deadlines(CAL, d, local(2026, 3, 6, 16, 0), local(2026, 3, 9, 9, 0))
    assert resumed.due_at == local(2026, 3, 9, 11, 30)
    assert CAL.working_time_between(d.due_at, resumed.due_at) == 150 * MIN


def test_deadline_falling_inside_the_pause_gets_its_remaining_time_back():
    d = compute_deadlines(CAL, normal(), local(2026, 3, 2, 9, 0))
    # due_soon_at is Friday 09:00; paused Thursday 16:00 with 2h30 left
    resumed = resume_deadlines(CAL, d, local(2026, 3, 5, 16, 0), local(2026, 3, 9, 8, 0))
    assert resumed.due_soon_at == local(2026, 3, 9, 10, 30)


def test_deadlines_already_passed_at_pause_do_not_move():
    d = compute_deadlines(CAL, normal(), local(2026, 3, 2, 9, 0))
    paused_at, resumed_at = local(2026, 3, 9, 10, 0), local(2026, 3, 12, 10, 0)
    assert resume_deadlines(CAL, d, paused_at, resumed_at) == d

    # first response passed, resolution not yet
    resumed = resume_deadlines(CAL, d, local(2026, 3, 4, 9, 0), local(2026, 3, 5, 9, 0))
    assert resumed.first_response_due == d.first_response_due
    assert resumed.due_at == local(2026, 3, 10, 9, 0)
    assert resumed.due_soon_at == local(2026, 3, 9, 9, 0)


def test_resume_before_pause_is_rejected():
    d = compute_deadlines(CAL, normal(), local(2026, 3, 2, 9, 0))
    with pytest.raises(ValidationError):
        resume_deadlines(CAL, d, local(2026, 3, 5, 9, 0), local(2026, 3, 4, 9, 0))


# --- extension -------------------------------------------------------------------------------


def test_extension_moves_due_and_due_soon_but_not_first_response():
    p = normal()
    d = compute_deadlines(CAL, p, local(2026, 3, 2, 9, 0))
    extended = extend_deadlines(CAL, d, local(2026, 3, 16, 17, 0), p)
    assert extended.due_at == local(2026, 3, 16, 17, 0)
    assert extended.due_soon_at == local(2026, 3, 13, 17, 0)  # one working day before
    assert extended.first_response_due == d.first_response_due
    assert extended.due_at.tzinfo is UTC


def test_extension_keeps_the_policy_margin_not_a_fraction_of_the_new_total():
    p = urgent()  # margin 48 min
    d = compute_deadlines(CAL, p, local(2026, 3, 5, 15, 0))
    # 30 min on Monday morning plus 18 min of Friday afternoon
    extended = extend_deadlines(CAL, d, local(2026, 3, 9, 8, 0), p)
    assert extended.due_soon_at == local(2026, 3, 6, 16, 42)


@pytest.mark.parametrize("delta", [timedelta(0), -H])
def test_extension_must_be_later_than_current_due(delta):
    p = normal()
    d = compute_deadlines(CAL, p, local(2026, 3, 2, 9, 0))
    with pytest.raises(ValidationError, match="gia hạn"):
        extend_deadlines(CAL, d, d.due_at + delta, p)


# --- remaining time ------------------------------------------------------------------------


def test_remaining_working_time():
    due_at = local(2026, 3, 9, 9, 30)
    assert remaining_working_time(CAL, local(2026, 3, 6, 15, 0), due_at) == 4 * H
    assert remaining_working_time(CAL, local(2026, 3, 9, 13, 30), due_at) == -150 * MIN


def test_deadlines_is_a_value():
    t = datetime(2026, 3, 2, tzinfo=UTC)
    assert Deadlines(t, t, t) == Deadlines(t, t, t)
