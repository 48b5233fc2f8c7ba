"""The dashboard: headline figures against the previous period and targets, volumes
by channel, field, area and day/week, operators' direct-answer rate, hot spots.

Everything reads the daily aggregate (stored days + live recent days) grouped in
the database, the operators' table included (the aggregate keeps who logged a
ticket); only "overdue now" and "due soon now" are counted from the open tickets.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import func, select

from hotline.domain.messages import CHANNEL_LABELS_VI, Channel
from hotline.extensions import db
from hotline.models import Area, Field, User, utcnow
from hotline.services.reports import daily, overdue
from hotline.services.reports.indicators import (
    INDICATORS,
    all_targets,
    effective_target,
    is_good,
    meets,
    trend,
)
from hotline.services.reports.periods import Period
from hotline.services.reports.ranking import Cell
from hotline.services.reports.scope import Scope

TOP = 10
SERIES_DAILY_MAX = 62  # longer periods are shown by week


@dataclass
class Bar:
    label: str
    value: float
    extra: str | None = None
    key: object = None


@dataclass
class Dashboard:
    period: Period
    previous: Period
    kpis: list[Cell]
    by_channel: list[Bar]
    by_field: list[Bar]
    hot_spots: list[Bar]
    series: list[tuple[date, int, int]]    # (day or week start, received, resolved)
    series_unit: str                       # "day" / "week"
    operators: list[dict] = field(default_factory=list)
    refreshed_at: datetime | None = None
    overdue_now: int = 0
    due_soon_now: int = 0


def totals(period: Period, scope: Scope) -> dict:
    """Summed daily counts over the period, in one query."""
    rows = daily.rows_for(period.first, period.last, agency_id=scope.agency_id)
    query = select(*(func.coalesce(func.sum(rows.c[m]), 0).label(m) for m in daily.MEASURES))
    row = db.session.execute(query).one()
    return {m: int(getattr(row, m) or 0) for m in daily.MEASURES}


def headline(counts: dict, overdue_now: int | None = None) -> dict:
    resolved = counts["resolved"]
    decided = counts["answered_directly"] + counts["forwarded"]
    return {
        "received": counts["received"],
        "resolved": resolved,
        "on_time_rate": 100.0 * counts["resolved_on_time"] / resolved if resolved else None,
        "direct_rate": 100.0 * counts["answered_directly"] / decided if decided else None,
        "satisfaction": (counts["rating_sum"] / counts["rating_count"]
                         if counts["rating_count"] else None),
        "overdue_now": overdue_now,
        "reopened": counts["reopened"],
        "returned": counts["returned"],
    }


KPI_KEYS = ("received", "resolved", "on_time_rate", "direct_rate", "satisfaction", "overdue_now",
            "returned")


def kpi_cells(current: dict, previous: dict, scope: Scope) -> list[Cell]:
    targets = all_targets()
    cells = []
    for key in KPI_KEYS:
        if key == "direct_rate" and not scope.whole_province:
            continue  # operators' figure: not a unit's
        ind = INDICATORS[key]
        value = current[key]
        before = previous[key] if ind.comparable else None
        direction = trend(value, before, ind.digits)
        target = effective_target(targets, key, scope.agency_id) if ind.targetable else None
        cells.append(Cell(key, value, before, direction, is_good(ind, direction), target,
                          meets(ind, value, target)))
    return cells


def _grouped(rows, column, measure: str = "received"):
    return db.session.execute(
        select(rows.c[column], func.sum(rows.c[measure]).label("n"))
        .group_by(rows.c[column]).order_by(func.sum(rows.c[measure]).desc())).all()


def by_channel(rows) -> list[Bar]:
    out = []
    for channel, n in _grouped(rows, "channel"):
        if not n:
            continue
        try:
            label = CHANNEL_LABELS_VI[Channel(channel)]
        except ValueError:
            label = channel
        out.append(Bar(label, int(n), key=channel))
    return out


def by_field(rows, limit: int = TOP) -> list[Bar]:
    found = [(k, int(n)) for k, n in _grouped(rows, "field_id") if n]
    names = dict(db.session.execute(select(Field.id, Field.name).where(
        Field.id.in_([k for k, _ in found if k is not None]))).all())
    bars = [Bar(names.get(k, "Chưa phân loại lĩnh vực"), n, key=k) for k, n in found[:limit]]
    rest = sum(n for _, n in found[limit:])
    if rest:
        bars.append(Bar("Lĩnh vực khác", rest))
    return bars


def hot_spots(rows, limit: int = 15) -> list[Bar]:
    """The areas (communes, usually) with most tickets, with the name of their parent."""
    r = rows.c
    found = db.session.execute(
        select(r.area_id, func.sum(r.received).label("n")).where(r.area_id.is_not(None))
        .group_by(r.area_id).order_by(func.sum(r.received).desc()).limit(limit)).all()
    ids = [k for k, _ in found]
    parent = Area.__table__.alias("parent")
    names = {row.id: (row.name, row.parent_name) for row in db.session.execute(
        select(Area.id, Area.name, parent.c.name.label("parent_name"))
        .outerjoin(parent, parent.c.id == Area.parent_id).where(Area.id.in_(ids)))}
    return [Bar(names.get(k, ("?", None))[0], int(n), names.get(k, ("?", None))[1], key=k)
            for k, n in found if n]


def series(rows, period: Period) -> tuple[list[tuple[date, int, int]], str]:
    """Received and resolved per day — rolled up by week (Monday) past two months."""
    r = rows.c
    per_day = {day if isinstance(day, date) else date.fromisoformat(str(day)): (int(a), int(b))
               for day, a, b in db.session.execute(
                   select(r.day, func.sum(r.received), func.sum(r.resolved)).group_by(r.day))}
    weekly = period.days > SERIES_DAILY_MAX
    out: dict[date, list[int]] = {}
    day = period.first
    while day <= period.last:
        bucket = day - timedelta(days=day.weekday()) if weekly else day
        received, resolved = per_day.get(day, (0, 0))
        slot = out.setdefault(bucket, [0, 0])
        slot[0] += received
        slot[1] += resolved
        day += timedelta(days=1)
    return [(k, v[0], v[1]) for k, v in sorted(out.items())], "week" if weekly else "day"


def operators(rows, limit: int = 50) -> list[dict]:
    """Per operator (who logged the ticket): answered directly vs forwarded."""
    r = rows.c
    query = (select(User.id, User.full_name, func.sum(r.received).label("n"),
                    func.sum(r.answered_directly).label("direct"),
                    func.sum(r.forwarded).label("forwarded"))
             .join(User, User.id == r.operator_id).where(User.role == "operator")
             .group_by(User.id, User.full_name).order_by(func.sum(r.received).desc()).limit(limit))
    out = []
    for uid, name, n, direct_n, fwd_n in db.session.execute(query):
        n, direct_n, fwd_n = int(n or 0), int(direct_n or 0), int(fwd_n or 0)  # SUM: Decimal
        if not n:
            continue
        decided = direct_n + fwd_n
        out.append({"id": uid, "name": name, "received": n, "direct": direct_n,
                    "forwarded": fwd_n, "rate": 100.0 * direct_n / decided if decided else None})
    return out


def dashboard(scope: Scope, period: Period, now: datetime | None = None) -> Dashboard:
    """Everything on the managers' home page, for one period."""
    now = now or utcnow()
    previous = period.previous()
    overdue_counts = overdue.count_by_agency(scope, "overdue", now)
    due_soon_counts = overdue.count_by_agency(scope, "due_soon", now)
    overdue_now = sum(overdue_counts.values())
    cur = headline(totals(period, scope), overdue_now)
    prev = headline(totals(previous, scope), None)
    rows = daily.rows_for(period.first, period.last, agency_id=scope.agency_id)
    points, unit = series(rows, period)
    last = daily.latest_refresh()
    return Dashboard(
        period=period, previous=previous, kpis=kpi_cells(cur, prev, scope),
        by_channel=by_channel(rows), by_field=by_field(rows), hot_spots=hot_spots(rows),
        series=points, series_unit=unit,
        operators=operators(rows) if scope.whole_province else [],
        refreshed_at=last.finished_at if last else None,
        overdue_now=overdue_now, due_soon_now=sum(due_soon_counts.values()))
