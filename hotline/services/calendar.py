"""The working calendar as configured: the agency shifts plus the administrator's overrides."""
from __future__ import annotations

from datetime import time

from flask import current_app
from sqlalchemy import func, select

from hotline.domain.calendar import WorkingCalendar
from hotline.domain.errors import ValidationError
from hotline.extensions import db
from hotline.models import CalendarOverride
from hotline.services import memo


def parse_shifts(spec: str) -> tuple[tuple[time, time], ...]:
    """``"07:30-11:30,13:00-17:00"`` → shifts. Raises ``ValidationError`` on a bad spec."""
    shifts = []
    try:
        for part in spec.split(","):
            start, end = part.strip().split("-")
            shifts.append((time.fromisoformat(start.strip()), time.fromisoformat(end.strip())))
    except ValueError as exc:
        raise ValidationError(f"Giờ làm việc không hợp lệ: {spec}", code="invalid_shifts") from exc
    return tuple(shifts)


def get_calendar() -> WorkingCalendar:
    """The calendar in force, rebuilt only when the overrides change (checked once inside a
    ``memo.batch``)."""
    return memo.remember("calendar", _calendar)


def _calendar() -> WorkingCalendar:
    stamp = db.session.execute(
        select(func.count(CalendarOverride.id), func.max(CalendarOverride.id))).one()
    cache = current_app.extensions.setdefault("hotline_calendar", {})
    key = (tuple(stamp), current_app.config["WORK_SHIFTS"], current_app.config["HOTLINE_TIMEZONE"])
    if cache.get("key") != key:
        rows = db.session.scalars(select(CalendarOverride)).all()
        cache["calendar"] = WorkingCalendar(
            tz=current_app.config["HOTLINE_TIMEZONE"],
            shifts=parse_shifts(current_app.config["WORK_SHIFTS"]),
            extra_days_off=[r.day for r in rows if not r.is_working],
            extra_working_days=[r.day for r in rows if r.is_working],
        )
        cache["key"] = key
    return cache["calendar"]
