"""Working time measured inside SQL, per row, exactly.

The working calendar (shifts, Vietnamese holidays, make-up days, the
administrator's overrides) lives in Python. To measure "working hours overdue"
or "working hours to resolve" over a million rows without a Python loop, the
calendar is laid out once as ``report_work_days``: one row per local day with
the working seconds before it (``cum_seconds``). The working-second "odometer"
of an instant t is then

    W(t) = cum_seconds[local day of t] + Σ_shifts clamp(local seconds of t − shift start, 0, shift length)

(the shift part only on working days), and the working time between two
instants is ``W(b) − W(a)`` — the same figure ``WorkingCalendar.working_time_between``
gives, to the second, because every working day has the same shifts. The table
is rebuilt when the calendar changes (a signature in ``report_meta``) and spans
from the first ticket's year to two years ahead; an instant outside gives NULL.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import case, delete, func, insert, select, text
from sqlalchemy.sql.elements import ColumnElement

from hotline.domain.calendar import WorkingCalendar
from hotline.extensions import db
from hotline.models import CalendarOverride, ReportMeta, ReportWorkDay, Ticket, utcnow
from hotline.services.calendar import get_calendar
from hotline.services.reports.sqlx import Dialect, dialect

META_KEY = "work_days"
_LOCK_ID = 1022_0006  # pg_advisory_xact_lock key: one rebuild at a time


def _seconds(t: time) -> int:
    return t.hour * 3600 + t.minute * 60 + t.second


@dataclass(frozen=True)
class WorkClock:
    """Measures working seconds, in Python for constants and in SQL for columns."""

    calendar: WorkingCalendar
    first_day: date
    last_day: date
    d: Dialect

    @property
    def origin(self) -> datetime:
        return datetime.combine(self.first_day, time(0), tzinfo=self.calendar.tz)

    def at(self, instant: datetime) -> float:
        """W(instant): working seconds from the table's origin to ``instant``."""
        return self.calendar.working_time_between(self.origin, instant).total_seconds()

    def within_day(self, col) -> ColumnElement:
        """Working seconds of ``col``'s local day before ``col``, as if the day were a working
        day: each shift clamped at the local time of day."""
        tod = self.d.local_seconds(col)
        within = None
        for start, end in self.calendar.shifts:
            s, e = _seconds(start), _seconds(end)
            part = self.d.clamp(tod - s, 0.0, float(e - s))
            within = part if within is None else within + part
        return within

    def column(self, col, name: str):
        """``(join target, onclause, W(col))`` to add to a query's FROM with an outer join."""
        wd = ReportWorkDay.__table__.alias(f"wd_{name}")
        onclause = wd.c.day == self.d.local_day(col)
        expr = wd.c.cum_seconds + case((wd.c.working, self.within_day(col)), else_=0.0)
        return wd, onclause, expr

    def join(self, from_, col, name: str) -> tuple[object, ColumnElement]:
        """Outer-join the day table for ``col`` onto ``from_``; returns (from_, W(col))."""
        wd, onclause, expr = self.column(col, name)
        return from_.outerjoin(wd, onclause), expr

    def sum_by_day(self, rows, count_name: str = "n", within_name: str = "within",
                   day_name: str = "day"):
        """Σ W over rows already grouped by local day: ``(from_, Σ W)`` where ``rows``
        holds per (group, day) the row count and the sum of :meth:`within_day`. Joining the
        day table after grouping costs one lookup per (group, day), not one per ticket."""
        wd = ReportWorkDay.__table__.alias("wd_sum")
        from_ = rows.outerjoin(wd, wd.c.day == rows.c[day_name])
        expr = rows.c[count_name] * wd.c.cum_seconds + case(
            (wd.c.working, rows.c[within_name]), else_=0.0)
        return from_, expr


def _signature(calendar: WorkingCalendar, first_year: int, last_year: int) -> str:
    overrides = db.session.execute(
        select(CalendarOverride.day, CalendarOverride.is_working).order_by(CalendarOverride.day)
    ).all()
    digest = hashlib.sha256(repr([(d.isoformat(), w) for d, w in overrides]).encode()).hexdigest()
    shifts = ",".join(f"{s:%H:%M}-{e:%H:%M}" for s, e in calendar.shifts)
    return f"{calendar.tz.key}|{shifts}|{first_year}-{last_year}|{digest[:16]}"


def _year_span(calendar: WorkingCalendar) -> tuple[int, int]:
    this_year = utcnow().astimezone(calendar.tz).year
    earliest = db.session.scalar(select(func.min(Ticket.received_at)))
    first = min(this_year - 1, earliest.astimezone(calendar.tz).year if earliest else this_year)
    return first, this_year + 2


def work_clock() -> WorkClock:
    """The clock for the calendar in force, rebuilding ``report_work_days`` if it is stale.

    The rebuild (a few thousand rows) is flushed in the caller's transaction;
    PostgreSQL serialises concurrent rebuilds with an advisory lock.
    """
    calendar = get_calendar()
    first_year, last_year = _year_span(calendar)
    signature = _signature(calendar, first_year, last_year)
    current = db.session.get(ReportMeta, META_KEY)
    if current is None or current.value != signature:
        d = dialect()
        if d.is_postgres:
            db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _LOCK_ID})
            db.session.expire_all()
            current = db.session.get(ReportMeta, META_KEY)
        if current is None or current.value != signature:
            _rebuild(calendar, first_year, last_year)
            if current is None:
                db.session.add(ReportMeta(key=META_KEY, value=signature))
            else:
                current.value = signature
            db.session.flush()
    return WorkClock(calendar, date(first_year, 1, 1), date(last_year, 12, 31), dialect())


def _rebuild(calendar: WorkingCalendar, first_year: int, last_year: int) -> None:
    day_length = int(calendar.day_length.total_seconds())
    rows, cum = [], 0
    day, last = date(first_year, 1, 1), date(last_year, 12, 31)
    while day <= last:
        working = calendar.is_working_day(day)
        rows.append({"day": day, "working": working, "cum_seconds": cum})
        cum += day_length if working else 0
        day += timedelta(days=1)
    db.session.execute(delete(ReportWorkDay))
    db.session.execute(insert(ReportWorkDay), rows)


def working_hours_between(clock: WorkClock, a_col, b_col, from_):
    """Join the day table twice and return (from_, (W(b) − W(a)) / 3600)."""
    from_, wa = clock.join(from_, a_col, "a")
    from_, wb = clock.join(from_, b_col, "b")
    return from_, (wb - wa) / 3600.0


__all__ = ["WorkClock", "work_clock", "working_hours_between"]
