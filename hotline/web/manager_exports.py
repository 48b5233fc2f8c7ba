"""Which tables each report exports, from the same query arguments as its page."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from hotline.domain.errors import ValidationError
from hotline.services.reports import dashboard, monthly, overdue, ranking, tables, tickets
from hotline.services.reports.exports import Table
from hotline.services.reports.periods import parse_month, parse_period
from hotline.services.reports.scope import Scope

REPORTS = ("overdue", "tickets", "ranking", "dashboard", "monthly")


@dataclass
class Built:
    name: str
    tables: list[Table]
    row_count: int | None
    personal_data: bool = False


def _rows(tables_: list[Table]) -> int:
    return sum(len(t.rows) for t in tables_ if isinstance(t.rows, list))


def build(report: str, args, scope: Scope, today: date) -> Built:
    """The tables of ``report`` for these arguments (a ticket list streams its rows)."""
    if report == "overdue":
        kind = overdue.check_kind(args.get("kind", "overdue"))
        group = overdue.check_group(args.get("group", "agency"))
        label = next((g.label for g in overdue.groupings() if g.key == group), group)
        result = [tables.sla_table(overdue.sla_report(scope, kind, group), label)]
        return Built("qua-han" if kind == "overdue" else "sap-den-han", result, _rows(result))
    if report == "tickets":
        flt = tickets.parse_filter(args)
        table = tables.ticket_table(tickets.iter_tickets(scope, flt), flt.sla)
        # Titles and addresses are citizens' words: treated as personal data for the log.
        return Built("danh-sach-phieu", [table], None, personal_data=True)
    if report == "ranking":
        period = parse_period(args, today)
        result = ranking.unit_ranking(scope, period, sort=args.get("sort", "on_time_rate"),
                                      descending=args.get("dir", "desc") != "asc",
                                      only_busy=args.get("all") != "1")
        out = [tables.ranking_table(result)]
        return Built(f"xep-hang-don-vi_{period.first:%Y%m%d}-{period.last:%Y%m%d}", out,
                     _rows(out))
    if report == "dashboard":
        period = parse_period(args, today)
        out = tables.dashboard_tables(dashboard.dashboard(scope, period))
        return Built(f"tong-quan_{period.first:%Y%m%d}-{period.last:%Y%m%d}", out, _rows(out))
    if report == "monthly":
        period = parse_month(args.get("month"), today)
        result = monthly.monthly_report(scope, period)
        out = [*tables.dashboard_tables(result.board), tables.ranking_table(result.ranking),
               tables.sla_table(result.overdue, "Đơn vị")]
        return Built(f"bao-cao-thang_{period.first:%m-%Y}", out, _rows(out))
    raise ValidationError(f"Không có báo cáo «{report[:30]}» để xuất.", code="unknown_report")
