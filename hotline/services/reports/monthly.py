"""The monthly report a Sở TT&TT sends to the province leaders:
"Báo cáo kết quả tiếp nhận, xử lý phản ánh, kiến nghị tháng MM/YYYY".

It gathers what the other reports compute — headline figures against the
previous month and targets, volumes by channel/field/area, operators' direct
answers, the unit ranking, and units with overdue tickets at the time it is
drawn up — into one object the printable page renders.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from hotline.models import utcnow
from hotline.services.reports import overdue
from hotline.services.reports.dashboard import Dashboard, dashboard, totals
from hotline.services.reports.periods import Period
from hotline.services.reports.ranking import Ranking, unit_ranking
from hotline.services.reports.scope import Scope
from hotline.services.reports.workdays import work_clock


@dataclass
class MonthlyReport:
    period: Period
    generated_at: datetime
    board: Dashboard
    counts: dict            # raw daily sums of the month (received, answered_directly, …)
    previous_counts: dict
    ranking: Ranking
    overdue: overdue.SlaReport
    late_units: list  # ranking rows below their on-time target or with overdue tickets

    @property
    def title(self) -> str:
        return ("Báo cáo kết quả tiếp nhận, xử lý phản ánh, kiến nghị "
                f"tháng {self.period.first:%m/%Y}")

    def kpi(self, key: str):
        return next((c for c in self.board.kpis if c.key == key), None)


def monthly_report(scope: Scope, period: Period, now: datetime | None = None) -> MonthlyReport:
    """Every figure of the month (``period`` must be a calendar month)."""
    now = now or utcnow()
    clock = work_clock()
    board = dashboard(scope, period, now=now)
    counts = totals(period, scope)
    previous_counts = totals(period.previous(), scope)
    ranking = unit_ranking(scope, period, sort="on_time_rate", descending=True, now=now,
                           clock=clock)
    late = overdue.sla_report(scope, "overdue", "agency", now=now, clock=clock)
    late_units = [r for r in ranking.rows
                  if (r.value("overdue_now") or 0) > 0 or r.cells["on_time_rate"].met is False]
    return MonthlyReport(period, now, board, counts, previous_counts, ranking, late, late_units)
