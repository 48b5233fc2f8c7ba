"""Unit ranking for a period, compared with the period before and with targets.

Counts come from the daily aggregate (stored days + live recent days) in one
GROUP BY per period; the median and 90th percentile of working hours to
resolve are computed per agency in the database over the tickets resolved in
the period (``percentile_cont`` on PostgreSQL, window functions on SQLite) —
a distribution cannot be summed from daily rows. "Overdue now" is a snapshot
and has no previous-period value.

Resolution time is measured from ``received_at`` to ``resolved_at`` in working
hours, as the citizen waited; time paused waiting for the citizen is included
(the issue was silent; subtracting it would need every pause event).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import case, func, select, tuple_

from hotline.domain.errors import ValidationError
from hotline.extensions import db
from hotline.models import Agency, Ticket, utcnow
from hotline.services.reports import daily, overdue
from hotline.services.reports.indicators import (
    INDICATORS,
    RANKING_KEYS,
    all_targets,
    effective_target,
    is_good,
    meets,
    trend,
)
from hotline.services.reports.periods import Period
from hotline.services.reports.scope import Scope
from hotline.services.reports.sqlx import dialect, percentiles
from hotline.services.reports.workdays import WorkClock, work_clock

COUNTS = ("received", "resolved", "resolved_on_time", "reopened", "returned", "rating_sum",
          "rating_count")
TOTAL_KEY = "total"


@dataclass
class Cell:
    """One indicator of one unit: value, previous value, trend and target."""

    key: str
    value: float | None
    previous: float | None = None
    trend: str | None = None
    good: bool | None = None
    target: float | None = None
    met: bool | None = None

    @property
    def indicator(self):
        return INDICATORS[self.key]

    @property
    def text(self) -> str:
        return self.indicator.fmt(self.value)


@dataclass
class UnitRow:
    agency_id: int | None
    name: str
    level: str | None
    cells: dict[str, Cell] = field(default_factory=dict)
    rank: int | None = None

    def value(self, key: str) -> float | None:
        return self.cells[key].value


@dataclass
class Ranking:
    period: Period
    previous: Period
    rows: list[UnitRow]
    total: UnitRow
    sort: str
    descending: bool
    refreshed_at: datetime | None


def _values(counts: dict, p50: float | None, p90: float | None, overdue_now: int | None) -> dict:
    resolved = counts.get("resolved") or 0
    rating_count = counts.get("rating_count") or 0
    return {
        "received": counts.get("received") or 0,
        "resolved": resolved,
        "resolved_on_time": counts.get("resolved_on_time") or 0,
        "on_time_rate": (100.0 * (counts.get("resolved_on_time") or 0) / resolved
                         if resolved else None),
        "overdue_now": overdue_now,
        "reopened": counts.get("reopened") or 0,
        "returned": counts.get("returned") or 0,
        "median_hours": p50,
        "p90_hours": p90,
        "satisfaction": (counts.get("rating_sum") or 0) / rating_count if rating_count else None,
    }


def period_counts(period: Period, scope: Scope) -> dict:
    """``agency_id → {count: value}`` for the period (the ``None`` agency: not forwarded)."""
    rows = daily.rows_for(period.first, period.last, agency_id=scope.agency_id)
    query = select(rows.c.agency_id, *(func.sum(rows.c[m]).label(m) for m in COUNTS)) \
        .group_by(rows.c.agency_id)
    return {r.agency_id: {m: int(getattr(r, m) or 0) for m in COUNTS}
            for r in db.session.execute(query)}


def resolution_percentiles(period: Period, scope: Scope, clock: WorkClock,
                           by_agency: bool = True) -> dict:
    """``agency_id → [median, p90]`` working hours received → resolved, for tickets
    resolved in the period (one key, ``TOTAL_KEY``, when not by agency)."""
    d = dialect()
    start, end = period.bounds(d.tz)
    t = Ticket.__table__
    from_, w_received = clock.join(t, t.c.received_at, "recv")
    from_, w_resolved = clock.join(from_, t.c.resolved_at, "res")
    cols = [t.c.agency_id.label("g")] if by_agency else []
    rows = (select(*cols, ((w_resolved - w_received) / 3600.0).label("v"))
            .select_from(from_)
            .where(t.c.resolved_at >= start, t.c.resolved_at < end, t.c.merged_into_id.is_(None),
                   overdue.scope_condition(scope))
            .subquery("res_rows"))
    found = percentiles(d, rows, ["g"] if by_agency else [], (0.5, 0.9))
    if not by_agency:
        return {TOTAL_KEY: found.get((), [None, None])}
    return {key[0]: value for key, value in found.items()}


def both_periods_percentiles(period: Period, previous: Period, scope: Scope,
                             clock: WorkClock) -> tuple[dict, dict]:
    """Median and p90 per agency and in total (``TOTAL_KEY``), for the period and the one
    before. PostgreSQL does it in one scan (GROUPING SETS over the two adjacent periods);
    elsewhere it is four queries."""
    d = dialect()
    if not d.is_postgres or previous.last + timedelta(days=1) != period.first:
        cur = resolution_percentiles(period, scope, clock)
        prev = resolution_percentiles(previous, scope, clock)
        cur.update(resolution_percentiles(period, scope, clock, by_agency=False))
        prev.update(resolution_percentiles(previous, scope, clock, by_agency=False))
        return cur, prev
    start, _ = previous.bounds(d.tz)
    boundary, end = period.bounds(d.tz)
    t = Ticket.__table__
    from_, w_received = clock.join(t, t.c.received_at, "recv")
    from_, w_resolved = clock.join(from_, t.c.resolved_at, "res")
    is_current = case((t.c.resolved_at >= boundary, 1), else_=0)
    value = (w_resolved - w_received) / 3600.0
    query = (select(is_current.label("cur"), t.c.agency_id, func.grouping(t.c.agency_id),
                    func.percentile_cont(0.5).within_group(value),
                    func.percentile_cont(0.9).within_group(value))
             .select_from(from_)
             .where(t.c.resolved_at >= start, t.c.resolved_at < end,
                    t.c.merged_into_id.is_(None), overdue.scope_condition(scope),
                    value.is_not(None))
             .group_by(func.grouping_sets(tuple_(is_current, t.c.agency_id),
                                          tuple_(is_current))))
    out: tuple[dict, dict] = ({}, {})
    for cur, agency_id, total, p50, p90 in db.session.execute(query):
        key = TOTAL_KEY if total else agency_id
        out[0 if cur else 1][key] = [float(p50), float(p90)]
    return out


def unit_ranking(scope: Scope, period: Period, *, sort: str = "on_time_rate",
                 descending: bool = True, now: datetime | None = None,
                 clock: WorkClock | None = None, only_busy: bool = False) -> Ranking:
    """Every active agency in scope (a lead: their own) with the period's indicators;
    ``only_busy`` leaves out units with nothing in either period and nothing overdue."""
    if sort not in RANKING_KEYS and sort != "name":
        raise ValidationError(f"Không sắp xếp được theo «{sort[:30]}».", code="invalid_sort")
    now = now or utcnow()
    clock = clock or work_clock()
    previous = period.previous()
    cur_counts, prev_counts = period_counts(period, scope), period_counts(previous, scope)
    cur_pct, prev_pct = both_periods_percentiles(period, previous, scope, clock)
    overdue_now = overdue.count_by_agency(scope, "overdue", now)
    targets = all_targets()

    query = select(Agency.id, Agency.name, Agency.level).where(Agency.active.is_(True))
    if scope.agency_id is not None:
        query = query.where(Agency.id == scope.agency_id)
    rows = []
    for agency_id, name, level in db.session.execute(query.order_by(Agency.name)):
        rows.append(_row(agency_id, name, level, cur_counts.get(agency_id, {}),
                         prev_counts.get(agency_id, {}), cur_pct.get(agency_id, [None, None]),
                         prev_pct.get(agency_id, [None, None]), overdue_now.get(agency_id, 0),
                         targets))
    # The province row counts everything, tickets not forwarded to any agency included.
    if scope.agency_id is None:
        cur_tot, prev_tot = cur_pct.get(TOTAL_KEY), prev_pct.get(TOTAL_KEY)
        total = _row(None, "Toàn tỉnh", None, _sum(cur_counts), _sum(prev_counts),
                     cur_tot or [None, None], prev_tot or [None, None],
                     sum(overdue_now.values()), targets)
    else:
        total = rows[0] if rows else _row(scope.agency_id, "", None, {}, {}, [None, None],
                                          [None, None], 0, targets)
    if only_busy and scope.whole_province:
        rows = [r for r in rows if _busy(r)]
    _sort(rows, sort, descending)
    return Ranking(period, previous, rows, total, sort, descending, _refreshed_at())


def _busy(row: UnitRow) -> bool:
    return any(row.cells[k].value or row.cells[k].previous
               for k in ("received", "resolved", "overdue_now", "reopened", "returned"))


def _sum(counts: dict) -> dict:
    out = dict.fromkeys(COUNTS, 0)
    for values in counts.values():
        for key in COUNTS:
            out[key] += values.get(key, 0)
    return out


def _row(agency_id, name, level, cur, prev, cur_pct, prev_pct, overdue_now, targets) -> UnitRow:
    now_values = _values(cur, cur_pct[0], cur_pct[1], overdue_now)
    prev_values = _values(prev, prev_pct[0], prev_pct[1], None)
    row = UnitRow(agency_id, name, level)
    for key in RANKING_KEYS:
        ind = INDICATORS[key]
        value = now_values[key]
        before = prev_values[key] if ind.comparable else None
        direction = trend(value, before, ind.digits)
        target = effective_target(targets, key, agency_id) if ind.targetable else None
        row.cells[key] = Cell(key, value, before, direction, is_good(ind, direction), target,
                              meets(ind, value, target))
    return row


def _sort(rows: list[UnitRow], key: str, descending: bool) -> None:
    """Sort in place; units without a value go last whichever the direction; ranks follow."""
    if key == "name":
        rows.sort(key=lambda r: r.name, reverse=descending)
    else:
        with_value = [r for r in rows if r.value(key) is not None]
        without = [r for r in rows if r.value(key) is None]
        with_value.sort(key=lambda r: (r.value(key), r.name), reverse=descending)
        rows[:] = with_value + sorted(without, key=lambda r: r.name)
    for i, row in enumerate(rows, 1):
        row.rank = i


def _refreshed_at() -> datetime | None:
    last = daily.latest_refresh()
    return last.finished_at if last else None
