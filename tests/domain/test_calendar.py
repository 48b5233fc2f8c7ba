"""WorkingCalendar: working days of Vietnamese state agencies and working-time arithmetic."""

from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hotline.domain.calendar import WorkingCalendar
from hotline.domain.errors import CalendarError, ValidationError

VN = ZoneInfo("Asia/Ho_Chi_Minh")
H = timedelta(hours=1)
CAL = WorkingCalendar()


def local(*args) -> datetime:
    return datetime(*args, tzinfo=VN)


def due(start: datetime, duration: timedelta, cal: WorkingCalendar = CAL) -> datetime:
    return cal.add_working_time(start, duration).astimezone(VN)


# --- working days ----------------------------------------------------------------


def test_weekdays_work_and_weekends_do_not():
    assert CAL.is_working_day(date(2026, 3, 6))  # Friday
    assert not CAL.is_working_day(date(2026, 3, 7))  # Saturday
    assert not CAL.is_working_day(date(2026, 3, 8))  # Sunday


def test_tet_2026_is_off():
    for day in range(16, 21):
        assert not CAL.is_working_day(date(2026, 2, day))
    assert CAL.is_working_day(date(2026, 2, 13))
    assert CAL.is_working_day(date(2026, 2, 23))


def test_weekend_make_up_day_2026_works_and_its_substitute_is_off():
    assert CAL.is_working_day(date(2026, 8, 22))  # Saturday, made a working day
    assert not CAL.is_working_day(date(2026, 8, 31))  # Monday, the day off in exchange
    assert not CAL.is_working_day(date(2026, 8, 29))  # an ordinary Saturday


def test_make_up_days_in_a_year_never_looked_up_before():
    # A fresh calendar: its first lookup must populate the year before reading
    # the make-up days, including ones that cross a year boundary.
    cal = WorkingCalendar()
    assert cal.is_working_day(date(2019, 1, 5))  # Saturday, worked for 2018-12-31
    assert not cal.is_working_day(date(2018, 12, 31))
    assert cal.is_working_day(date(2014, 12, 27))  # Saturday, worked for 2015-01-02
    assert not cal.is_working_day(date(2015, 1, 2))


def test_working_periods_are_utc_half_open_shifts():
    assert CAL.working_periods(date(2026, 3, 6)) == [
        (datetime(2026, 3, 6, 0, 30, tzinfo=UTC), datetime(2026, 3, 6, 4, 30, tzinfo=UTC)),
        (datetime(2026, 3, 6, 6, 0, tzinfo=UTC), datetime(2026, 3, 6, 10, 0, tzinfo=UTC)),
    ]
    assert CAL.working_periods(date(2026, 3, 7)) == []
    assert CAL.working_periods(date(2026, 2, 17)) == []


def test_day_length_and_working_days():
    assert CAL.day_length == 8 * H
    assert CAL.working_days(5) == 40 * H
    assert CAL.working_days(0) == timedelta(0)


# --- add_working_time --------------------------------------------------------------


def test_friday_afternoon_rolls_into_monday():
    assert due(local(2026, 3, 6, 15, 0), 4 * H) == local(2026, 3, 9, 9, 30)


def test_lunch_break_is_skipped():
    assert due(local(2026, 3, 5, 11, 0), 1 * H) == local(2026, 3, 5, 13, 30)


def test_due_time_may_be_a_shift_end():
    assert due(local(2026, 3, 5, 7, 30), 4 * H) == local(2026, 3, 5, 11, 30)
    assert due(local(2026, 3, 5, 13, 0), 4 * H) == local(2026, 3, 5, 17, 0)


def test_start_outside_working_time_counts_from_next_period():
    assert due(local(2026, 3, 5, 6, 0), 1 * H) == local(2026, 3, 5, 8, 30)
    assert due(local(2026, 3, 5, 12, 0), 1 * H) == local(2026, 3, 5, 14, 0)
    assert due(local(2026, 3, 7, 10, 0), 1 * H) == local(2026, 3, 9, 8, 30)


def test_tet_2026_pushes_due_time_past_the_holiday():
    assert due(local(2026, 2, 13, 15, 0), 4 * H) == local(2026, 2, 23, 9, 30)


def test_make_up_saturday_counts_and_its_monday_off_does_not():
    assert due(local(2026, 8, 21, 16, 0), 2 * H) == local(2026, 8, 22, 8, 30)
    # Saturday 29 and Sunday 30 are weekend, 31 is the substituted day off,
    # 1–2 September are National Day.
    assert due(local(2026, 8, 28, 16, 0), 2 * H) == local(2026, 9, 3, 8, 30)


def test_ten_working_days():
    # 2026-04-27 (Hùng Kings, observed), 04-30 and 05-01 are off.
    assert due(local(2026, 4, 20, 7, 30), CAL.working_days(10)) == local(2026, 5, 6, 17, 0)


def test_result_is_utc_whatever_the_input_zone():
    start = datetime(2026, 3, 5, 1, 0, tzinfo=timezone(timedelta(hours=-6)))  # 14:00 in Hà Nội
    result = CAL.add_working_time(start, 1 * H)
    assert result.tzinfo is UTC
    assert result == local(2026, 3, 5, 15, 0)


def test_zero_duration_returns_start_in_utc():
    start = local(2026, 3, 7, 10, 0)  # a Saturday
    result = CAL.add_working_time(start, timedelta(0))
    assert result == start
    assert result.tzinfo is UTC


def test_naive_datetime_is_rejected():
    with pytest.raises(ValueError):
        CAL.add_working_time(datetime(2026, 3, 5, 8, 0), H)
    with pytest.raises(ValueError):
        CAL.working_time_between(datetime(2026, 3, 5, 8, 0), local(2026, 3, 6, 8, 0))
    with pytest.raises(ValueError):
        CAL.is_working_instant(datetime(2026, 3, 5, 8, 0))


def test_negative_duration_is_rejected():
    with pytest.raises(ValueError):
        CAL.add_working_time(local(2026, 3, 5, 8, 0), -H)


def test_calendar_without_working_days_raises_instead_of_looping():
    days_off = [date(2030, 1, 1) + timedelta(days=i) for i in range(5 * 366)]
    cal = WorkingCalendar(extra_days_off=days_off)
    with pytest.raises(CalendarError):
        cal.add_working_time(local(2030, 1, 2, 8, 0), H)


# --- administrator overrides ------------------------------------------------------------


def test_extra_day_off_pushes_the_due_time():
    cal = WorkingCalendar(extra_days_off=[date(2026, 3, 9)])
    assert not cal.is_working_day(date(2026, 3, 9))
    assert due(local(2026, 3, 6, 15, 0), 4 * H, cal) == local(2026, 3, 10, 9, 30)


def test_extra_working_sunday_pulls_the_due_time_in():
    cal = WorkingCalendar(extra_working_days=[date(2026, 3, 8)])
    assert cal.is_working_day(date(2026, 3, 8))
    assert due(local(2026, 3, 6, 15, 0), 4 * H, cal) == local(2026, 3, 8, 9, 30)


def test_overrides_win_over_holidays_and_make_up_days():
    cal = WorkingCalendar(
        extra_working_days=[date(2026, 2, 16)], extra_days_off=[date(2026, 8, 22)]
    )
    assert cal.is_working_day(date(2026, 2, 16))
    assert not cal.is_working_day(date(2026, 8, 22))


def test_a_day_cannot_be_both_off_and_working():
    with pytest.raises(ValidationError):
        WorkingCalendar(extra_days_off=[date(2026, 3, 9)], extra_working_days=[date(2026, 3, 9)])


# --- configuration ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "shifts",
    [
        [],
        [(time(11, 30), time(7, 30))],
        [(time(8, 0), time(8, 0))],
        [(time(13, 0), time(17, 0)), (time(7, 30), time(11, 30))],
        [(time(7, 30), time(12, 0)), (time(11, 30), time(17, 0))],
        [("07:30", "11:30")],
        [(time(7, 30),)],
    ],
)
def test_invalid_shifts_are_rejected(shifts):
    with pytest.raises(ValidationError):
        WorkingCalendar(shifts=shifts)


def test_unknown_time_zone_is_rejected():
    with pytest.raises(ValidationError):
        WorkingCalendar(tz="Asia/Sai_Gon")


def test_custom_shifts():
    cal = WorkingCalendar(shifts=[(time(8, 0), time(12, 0))])
    assert cal.day_length == 4 * H
    assert due(local(2026, 3, 5, 11, 0), 2 * H, cal) == local(2026, 3, 6, 9, 0)

    three = WorkingCalendar(
        shifts=[(time(6, 0), time(10, 0)), (time(10, 0), time(14, 0)), (time(18, 0), time(22, 0))]
    )
    assert three.day_length == 12 * H
    assert due(local(2026, 3, 5, 13, 0), 2 * H, three) == local(2026, 3, 5, 19, 0)
    assert not three.is_working_instant(local(2026, 3, 5, 16, 0))


def test_custom_time_zone():
    cal = WorkingCalendar(tz="UTC")
    assert cal.working_periods(date(2026, 3, 5))[0][0] == datetime(2026, 3, 5, 7, 30, tzinfo=UTC)


# --- instants and between ------------------------------------------------------------------


def test_working_instants():
    assert CAL.is_working_instant(local(2026, 3, 5, 7, 30))
    assert not CAL.is_working_instant(local(2026, 3, 5, 11, 30))
    assert not CAL.is_working_instant(local(2026, 3, 7, 9, 0))


def test_next_working_instant():
    assert CAL.next_working_instant(local(2026, 3, 5, 9, 0)) == local(2026, 3, 5, 9, 0)
    assert CAL.next_working_instant(local(2026, 3, 5, 11, 30)) == local(2026, 3, 5, 13, 0)
    assert CAL.next_working_instant(local(2026, 3, 6, 17, 0)) == local(2026, 3, 9, 7, 30)
    assert CAL.next_working_instant(local(2026, 2, 14, 9, 0)) == local(2026, 2, 23, 7, 30)


def test_working_time_between():
    assert CAL.working_time_between(local(2026, 3, 6, 15, 0), local(2026, 3, 9, 9, 30)) == 4 * H
    assert CAL.working_time_between(local(2026, 3, 9, 9, 30), local(2026, 3, 6, 15, 0)) == -4 * H
    weekend = CAL.working_time_between(local(2026, 3, 7, 0, 0), local(2026, 3, 8, 23, 0))
    assert weekend == timedelta(0)
    assert CAL.working_time_between(local(2026, 2, 13, 0, 0), local(2026, 2, 24, 0, 0)) == 16 * H


def test_working_time_between_across_years():
    # 2025-12-31 (Wednesday) afternoon, then 2026-01-01 is New Year's Day.
    assert CAL.working_time_between(local(2025, 12, 31, 13, 0), local(2026, 1, 2, 9, 0)) == (
        4 * H + 90 * timedelta(minutes=1)
    )
    assert due(local(2025, 12, 31, 16, 0), 2 * H) == local(2026, 1, 2, 8, 30)


def test_subtract_working_time_inverts_add():
    end = local(2026, 3, 9, 9, 30)
    assert CAL.subtract_working_time(end, 4 * H) == local(2026, 3, 6, 15, 0)
    assert CAL.subtract_working_time(end, 2 * H) == local(2026, 3, 6, 17, 0)
    assert CAL.subtract_working_time(local(2026, 1, 2, 8, 30), 2 * H) == local(2025, 12, 31, 16, 0)


# --- properties ------------------------------------------------------------------------------

instants = st.datetimes(
    min_value=datetime(2024, 1, 1), max_value=datetime(2028, 12, 31), timezones=st.just(UTC)
)
durations = st.one_of(
    st.integers(0, 30 * 8 * 60).map(lambda m: timedelta(minutes=m)),
    st.integers(0, 30 * 8 * 3600).map(lambda s: timedelta(seconds=s)),
)


@settings(max_examples=200, deadline=None)
@given(start=instants, duration=durations.filter(bool))
def test_due_time_is_never_inside_non_working_time(start, duration):
    result = CAL.add_working_time(start, duration)
    assert result > start
    assert CAL.is_working_instant(result - timedelta(microseconds=1))


@settings(max_examples=200, deadline=None)
@given(s1=instants, s2=instants, duration=durations)
def test_monotonic_in_start(s1, s2, duration):
    s1, s2 = sorted((s1, s2))
    assert CAL.add_working_time(s1, duration) <= CAL.add_working_time(s2, duration)


@settings(max_examples=200, deadline=None)
@given(start=instants, d1=durations, d2=durations)
def test_monotonic_in_duration(start, d1, d2):
    d1, d2 = sorted((d1, d2))
    assert CAL.add_working_time(start, d1) <= CAL.add_working_time(start, d2)


@settings(max_examples=200, deadline=None)
@given(start=instants, duration=durations)
def test_round_trip_with_working_time_between(start, duration):
    assert CAL.working_time_between(start, CAL.add_working_time(start, duration)) == duration


@settings(max_examples=200, deadline=None)
@given(a=instants, b=instants, c=instants)
def test_working_time_between_is_additive(a, b, c):
    between = CAL.working_time_between
    assert between(a, c) == between(a, b) + between(b, c)
    assert between(a, b) == -between(b, a)


@settings(max_examples=200, deadline=None)
@given(start=instants, duration=durations.filter(bool), back=durations.filter(bool))
def test_subtract_matches_add(start, duration, back):
    if back >= duration:
        duration, back = duration + back, duration
    end = CAL.add_working_time(start, duration)
    assert CAL.subtract_working_time(end, back) == CAL.add_working_time(start, duration - back)
