"""Working time of Vietnamese state agencies.

A :class:`WorkingCalendar` knows which local days are working days (Monday to
Friday, minus public holidays including Tết, plus the weekend make-up working
days the government announces, with administrator overrides on top) and the
shifts of a working day. It adds working time to an instant and measures the
working time between two instants; SLA deadlines are built on these two.

Instants go in as timezone-aware datetimes in any zone and come out in UTC.
Internally every computation is on integer microseconds, so adding and then
measuring gives back exactly the same duration.
"""

from __future__ import annotations

import threading
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from itertools import pairwise
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays

from hotline.domain.errors import CalendarError, ValidationError

__all__ = ["DEFAULT_SHIFTS", "DEFAULT_TZ", "WorkingCalendar"]

DEFAULT_TZ = "Asia/Ho_Chi_Minh"
DEFAULT_SHIFTS: tuple[tuple[time, time], ...] = (
    (time(7, 30), time(11, 30)),
    (time(13, 0), time(17, 0)),
)

_US = timedelta(microseconds=1)
# A calendar without a single working day this long is misconfigured; stop
# searching instead of looping until datetime overflows.
_MAX_EMPTY_YEARS = 3


# --- Vietnamese public holidays (shared by all calendars) -------------------


class _VietnamHolidays:
    """Per-year snapshot of the `holidays` package's VN days off and make-up days.

    One ``holidays`` object is shared and expanded year by year under a lock
    (the package mutates itself on lookup, which is not thread-safe). Each
    year is read once into frozensets, which are then safe to share.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._source: holidays.HolidayBase | None = None
        self._years: dict[int, tuple[frozenset[date], frozenset[date]]] = {}

    def year(self, year: int) -> tuple[frozenset[date], frozenset[date]]:
        """(days off, weekend make-up working days) of one calendar year."""
        cached = self._years.get(year)
        if cached is not None:
            return cached
        with self._lock:
            cached = self._years.get(year)
            if cached is None:
                if self._source is None:
                    self._source = holidays.country_holidays("VN")
                source = self._source
                # `weekend_workdays` only grows when a year is populated, and
                # a plain `in` on that set never triggers it; a lookup does.
                # Cross-year make-up days (e.g. 2014-12-27 for 2015-01-02) are
                # put there by the constructor already.
                source.get(date(year, 1, 1))
                days_off = frozenset(d for d in source if d.year == year)
                workdays = frozenset(d for d in source.weekend_workdays if d.year == year)
                cached = self._years[year] = (days_off, workdays)
            return cached


_VN_HOLIDAYS = _VietnamHolidays()


# --- the calendar ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class _Year:
    """Working periods of every local day of one year, with prefix sums."""

    first_ordinal: int
    # periods[i]: ((start_utc, end_utc, length_us), ...) of day first_ordinal + i
    periods: tuple[tuple[tuple[datetime, datetime, int], ...], ...]
    # cumulative[i]: working microseconds in days before day i (len = days + 1)
    cumulative: tuple[int, ...]

    @property
    def total(self) -> int:
        return self.cumulative[-1]


class WorkingCalendar:
    """Working days and shifts of a state agency, and arithmetic in working time.

    ``extra_days_off`` and ``extra_working_days`` are the administrator's
    overrides; they win over weekends, public holidays and make-up days. A
    calendar is immutable once built and safe to share between threads.
    """

    def __init__(
        self,
        tz: str = DEFAULT_TZ,
        shifts: Sequence[tuple[time, time]] = DEFAULT_SHIFTS,
        extra_days_off: Iterable[date] = (),
        extra_working_days: Iterable[date] = (),
    ) -> None:
        try:
            self._zone = ZoneInfo(tz)
        except (ZoneInfoNotFoundError, ValueError, TypeError) as exc:
            raise ValidationError(
                f"Múi giờ không hợp lệ: {tz!r}.", code="invalid_timezone"
            ) from exc
        self._tz_name = tz
        self._shifts = _validate_shifts(shifts)
        self._extra_days_off = _validate_dates(extra_days_off, "ngày nghỉ bổ sung")
        self._extra_working_days = _validate_dates(extra_working_days, "ngày làm việc bổ sung")
        both = self._extra_days_off & self._extra_working_days
        if both:
            listed = ", ".join(d.strftime("%d/%m/%Y") for d in sorted(both))
            raise ValidationError(
                f"Một ngày không thể vừa là ngày nghỉ vừa là ngày làm việc: {listed}.",
                code="conflicting_days",
            )
        self._day_length = sum(
            (_time_delta(start, end) for start, end in self._shifts), timedelta()
        )
        self._lock = threading.Lock()
        self._years: dict[int, _Year] = {}

    def __repr__(self) -> str:
        shifts = ", ".join(f"{s:%H:%M}-{e:%H:%M}" for s, e in self._shifts)
        return f"WorkingCalendar(tz={self._tz_name!r}, shifts=[{shifts}])"

    # --- configuration -----------------------------------------------------------

    @property
    def tz(self) -> ZoneInfo:
        """The agency's time zone; working days are local days in it."""
        return self._zone

    @property
    def shifts(self) -> tuple[tuple[time, time], ...]:
        """Local shifts of a working day, sorted."""
        return self._shifts

    @property
    def day_length(self) -> timedelta:
        """Working time of one full working day (8 hours with the default shifts)."""
        return self._day_length

    def working_days(self, n: float) -> timedelta:
        """``n`` working days expressed as working time (``n * day_length``)."""
        if n < 0:
            raise ValueError("n must be >= 0")
        return self._day_length * n

    # --- days ---------------------------------------------------------------------

    def is_working_day(self, d: date) -> bool:
        """Whether the local day ``d`` is a working day."""
        if isinstance(d, datetime):
            raise TypeError("is_working_day() takes a date, not a datetime")
        if d in self._extra_days_off:
            return False
        if d in self._extra_working_days:
            return True
        days_off, weekend_workdays = _VN_HOLIDAYS.year(d.year)
        if d.weekday() >= 5:
            return d in weekend_workdays
        return d not in days_off

    def working_periods(self, day: date) -> list[tuple[datetime, datetime]]:
        """UTC half-open intervals ``[start, end)`` of the shifts of local day ``day``.

        Empty on a day that is not a working day.
        """
        if isinstance(day, datetime):
            raise TypeError("working_periods() takes a date, not a datetime")
        year = self._year(day.year)
        return [(s, e) for s, e, _ in year.periods[day.toordinal() - year.first_ordinal]]

    # --- instants -----------------------------------------------------------------

    def is_working_instant(self, dt: datetime) -> bool:
        """Whether ``dt`` lies inside a working period (start included, end excluded)."""
        dt = _to_utc(dt)
        local_day = self._local_date(dt)
        return any(s <= dt < e for s, e in self.working_periods(local_day))

    def next_working_instant(self, dt: datetime) -> datetime:
        """``dt`` (in UTC) if it is a working instant, else the start of the next period.

        This is where a clock that is started at ``dt`` actually starts ticking.
        """
        dt = _to_utc(dt)
        # Adding one microsecond lands at most one microsecond after the first
        # working instant at or after dt, and reuses the fast search.
        return self.add_working_time(dt, _US) - _US

    def add_working_time(self, start: datetime, duration: timedelta) -> datetime:
        """The instant ``duration`` of working time after ``start``, in UTC.

        A zero duration returns ``start`` itself (in UTC). For a positive one the
        result is the earliest such instant, so it lies in ``(period_start,
        period_end]`` of a working period: never inside non-working time, but
        possibly exactly at a shift's end (e.g. 11:30).
        """
        start = _to_utc(start)
        micros = _micros(duration, "duration")
        if micros == 0:
            return start
        year_number = self._local_date(start).year
        target = self._elapsed_in_year(start) + micros
        empty_years = 0
        while True:
            year = self._year(year_number)
            if target <= year.total:
                return self._instant_at(year, target)
            empty_years = empty_years + 1 if year.total == 0 else 0
            if empty_years >= _MAX_EMPTY_YEARS:
                raise _no_working_days()
            target -= year.total
            year_number += 1

    def subtract_working_time(self, end: datetime, duration: timedelta) -> datetime:
        """The earliest instant with ``duration`` of working time left before ``end``, in UTC.

        The inverse of :meth:`add_working_time`: for ``0 < d2 < d``,
        ``subtract_working_time(add_working_time(s, d), d2) == add_working_time(s, d - d2)``.
        A zero duration returns ``end`` itself (in UTC).
        """
        end = _to_utc(end)
        micros = _micros(duration, "duration")
        if micros == 0:
            return end
        year_number = self._local_date(end).year
        target = self._elapsed_in_year(end) - micros
        empty_years = 0
        while target <= 0:
            year_number -= 1
            year = self._year(year_number)
            empty_years = empty_years + 1 if year.total == 0 else 0
            if empty_years >= _MAX_EMPTY_YEARS:
                raise _no_working_days()
            target += year.total
        return self._instant_at(self._year(year_number), target)

    def working_time_between(self, a: datetime, b: datetime) -> timedelta:
        """Working time in ``[a, b)``; negative (``-(b..a)``) when ``b`` is before ``a``."""
        a, b = _to_utc(a), _to_utc(b)
        if b < a:
            return -self.working_time_between(b, a)
        year_a, year_b = self._local_date(a).year, self._local_date(b).year
        if year_a == year_b:
            micros = self._elapsed_in_year(b) - self._elapsed_in_year(a)
        else:
            micros = self._year(year_a).total - self._elapsed_in_year(a)
            for year_number in range(year_a + 1, year_b):
                micros += self._year(year_number).total
            micros += self._elapsed_in_year(b)
        return micros * _US

    # --- internals ----------------------------------------------------------------

    def _local_date(self, dt: datetime) -> date:
        try:
            return dt.astimezone(self._zone).date()
        except OverflowError as exc:
            raise CalendarError("Thời điểm nằm ngoài phạm vi lịch làm việc.") from exc

    def _elapsed_in_year(self, dt: datetime) -> int:
        """Working microseconds from the start of dt's local year up to dt (UTC)."""
        local_day = self._local_date(dt)
        year = self._year(local_day.year)
        index = local_day.toordinal() - year.first_ordinal
        elapsed = year.cumulative[index]
        for start, end, length in year.periods[index]:
            if dt >= end:
                elapsed += length
            elif dt > start:
                elapsed += (dt - start) // _US
        return elapsed

    @staticmethod
    def _instant_at(year: _Year, target: int) -> datetime:
        """Earliest instant of ``year`` with ``target`` (> 0) working microseconds before it."""
        index = bisect_left(year.cumulative, target) - 1
        remaining = target - year.cumulative[index]
        for start, _end, length in year.periods[index]:
            if remaining <= length:
                return start + remaining * _US
            remaining -= length
        raise AssertionError("prefix sums out of step with the periods")  # pragma: no cover

    def _year(self, year_number: int) -> _Year:
        year = self._years.get(year_number)
        if year is None:
            if not 1 <= year_number <= 9998:
                raise CalendarError("Thời điểm nằm ngoài phạm vi lịch làm việc.")
            with self._lock:
                year = self._years.get(year_number)
                if year is None:
                    year = self._years[year_number] = self._build_year(year_number)
        return year

    def _build_year(self, year_number: int) -> _Year:
        first = date(year_number, 1, 1).toordinal()
        last = date(year_number, 12, 31).toordinal()
        periods = []
        cumulative = [0]
        for ordinal in range(first, last + 1):
            day = date.fromordinal(ordinal)
            day_periods = self._day_periods(day) if self.is_working_day(day) else ()
            periods.append(day_periods)
            cumulative.append(cumulative[-1] + sum(length for _, _, length in day_periods))
        return _Year(first, tuple(periods), tuple(cumulative))

    def _day_periods(self, day: date) -> tuple[tuple[datetime, datetime, int], ...]:
        result = []
        for shift_start, shift_end in self._shifts:
            start = datetime.combine(day, shift_start, tzinfo=self._zone).astimezone(UTC)
            end = datetime.combine(day, shift_end, tzinfo=self._zone).astimezone(UTC)
            # Only a DST jump could squeeze a shift to nothing or reorder it.
            if end > start and (not result or start >= result[-1][1]):
                result.append((start, end, (end - start) // _US))
        return tuple(result)


# --- helpers --------------------------------------------------------------------


def _to_utc(dt: datetime) -> datetime:
    if not isinstance(dt, datetime):
        raise TypeError(f"expected a datetime, got {type(dt).__name__}")
    if dt.tzinfo is None or dt.utcoffset() is None:
        raise ValueError("naive datetime: a timezone-aware datetime is required")
    return dt.astimezone(UTC)


def _micros(duration: timedelta, name: str) -> int:
    if not isinstance(duration, timedelta):
        raise TypeError(f"{name} must be a timedelta")
    if duration < timedelta(0):
        raise ValueError(f"{name} must not be negative")
    return duration // _US


def _time_delta(start: time, end: time) -> timedelta:
    anchor = date(2000, 1, 3)
    return datetime.combine(anchor, end) - datetime.combine(anchor, start)


def _no_working_days() -> CalendarError:
    return CalendarError(
        f"Lịch làm việc không có ngày làm việc nào trong {_MAX_EMPTY_YEARS} năm liên tiếp.",
        code="no_working_days",
    )


def _validate_shifts(shifts: Sequence[tuple[time, time]]) -> tuple[tuple[time, time], ...]:
    try:
        result = tuple((start, end) for start, end in shifts)
    except (TypeError, ValueError) as exc:
        raise ValidationError(
            "Ca làm việc phải là danh sách các cặp (giờ bắt đầu, giờ kết thúc).",
            code="invalid_shifts",
        ) from exc
    if not result:
        raise ValidationError("Phải có ít nhất một ca làm việc.", code="invalid_shifts")
    for start, end in result:
        if not (isinstance(start, time) and isinstance(end, time)):
            raise ValidationError(
                "Giờ bắt đầu và kết thúc ca phải là giờ trong ngày.", code="invalid_shifts"
            )
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValidationError(
                "Giờ ca làm việc là giờ địa phương, không kèm múi giờ.", code="invalid_shifts"
            )
        if not start < end:
            raise ValidationError(
                f"Ca làm việc {start:%H:%M}–{end:%H:%M}: giờ bắt đầu phải trước giờ kết thúc.",
                code="invalid_shifts",
            )
    for (prev_start, prev_end), (start, end) in pairwise(result):
        if start < prev_start:
            raise ValidationError(
                "Các ca làm việc phải được sắp xếp theo thứ tự thời gian.", code="invalid_shifts"
            )
        if start < prev_end:
            raise ValidationError(
                f"Ca {prev_start:%H:%M}–{prev_end:%H:%M} và ca {start:%H:%M}–{end:%H:%M} "
                "chồng lên nhau.",
                code="invalid_shifts",
            )
    return result


def _validate_dates(days: Iterable[date], what: str) -> frozenset[date]:
    result = frozenset(days)
    for d in result:
        if isinstance(d, datetime) or not isinstance(d, date):
            raise ValidationError(f"Danh sách {what} chỉ được chứa ngày (không kèm giờ).")
    return result
