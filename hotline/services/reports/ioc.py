"""Headline figures for a province's intelligent operations centre (IOC) dashboard.

A plain JSON-ready dict: today's and this month's volumes and rates, what is
overdue or due soon now and where, top fields and hot spots. Every number is
one of the aggregates the managers' pages show, so the IOC wall and the
manager's screen never disagree.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import func, select

from hotline.domain.lifecycle import OPEN_STATUSES
from hotline.extensions import db
from hotline.models import Ticket, utcnow
from hotline.services.reports import daily, overdue
from hotline.services.reports.dashboard import by_channel, by_field, headline, hot_spots, totals
from hotline.services.reports.periods import Period, period_containing
from hotline.services.reports.scope import SYSTEM
from hotline.services.reports.sqlx import dialect
from hotline.services.reports.workdays import work_clock


def _iso(value: datetime | date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _round(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits)


def summary(now: datetime | None = None, top: int = 5) -> dict:
    """The IOC feed (see ``GET /api/ioc/summary``)."""
    now = now or utcnow()
    d = dialect()
    today = now.astimezone(d.tz).date()
    month = period_containing("month", today)
    day = Period("custom", today, today)
    month_counts = totals(month, SYSTEM)
    month_figures = headline(month_counts)
    today_counts = totals(day, SYSTEM)
    clock = work_clock()
    late = overdue.sla_report(SYSTEM, "overdue", "agency", now=now, clock=clock)
    soon = overdue.count_by_agency(SYSTEM, "due_soon", now)
    rows = daily.rows_for(month.first, month.last)
    open_count = db.session.scalar(select(func.count()).select_from(Ticket).where(
        Ticket.status.in_([s.value for s in OPEN_STATUSES])))
    last = daily.latest_refresh()
    return {
        "generated_at": _iso(now),
        "timezone": d.tz_name,
        "stats_refreshed_at": _iso(last.finished_at) if last else None,
        "today": {"date": _iso(today), "received": today_counts["received"],
                  "resolved": today_counts["resolved"],
                  "answered_directly": today_counts["answered_directly"]},
        "month": {
            "from": _iso(month.first), "to": _iso(month.last),
            "received": month_counts["received"], "resolved": month_counts["resolved"],
            "resolved_on_time": month_counts["resolved_on_time"],
            "on_time_rate": _round(month_figures["on_time_rate"]),
            "answered_directly": month_counts["answered_directly"],
            "forwarded": month_counts["forwarded"],
            "direct_answer_rate": _round(month_figures["direct_rate"]),
            "satisfaction": _round(month_figures["satisfaction"], 2),
            "reopened": month_counts["reopened"], "returned": month_counts["returned"],
            "by_channel": {b.key: b.value for b in by_channel(rows)},
            "top_fields": [{"field": b.label, "count": b.value} for b in by_field(rows, top)
                           if b.key is not None][:top],
            "hot_spots": [{"area": b.label, "parent": b.extra, "count": b.value}
                          for b in hot_spots(rows, top)],
        },
        "open": open_count or 0,
        "overdue_now": late.total.count,
        "overdue_working_hours": _round(late.total.total_hours),
        "due_soon_now": sum(soon.values()),
        "overdue_by_agency": [
            {"agency_id": r.key, "agency": r.label, "count": r.count,
             "oldest_due_at": _iso(r.first_due), "oldest_code": r.first_code,
             "working_hours_overdue": _round(r.total_hours)}
            for r in late.rows[:10]],
    }
