"""Reports as plain tables (Vietnamese headers, raw values) for CSV and XLSX exports."""
from __future__ import annotations

from collections.abc import Iterable

from hotline.domain.lifecycle import LABELS_VI, Status
from hotline.domain.messages import CHANNEL_LABELS_VI, Channel
from hotline.services.reports.dashboard import Dashboard
from hotline.services.reports.exports import Table
from hotline.services.reports.indicators import INDICATORS, MET_LABELS, RANKING_KEYS, TREND_LABELS
from hotline.services.reports.overdue import KINDS, SlaReport
from hotline.services.reports.ranking import Ranking
from hotline.services.reports.tickets import TicketRow

SLA_LABELS = {"on_track": "Trong hạn", "due_soon": "Sắp đến hạn", "overdue": "Quá hạn",
              "paused": "Tạm dừng (chờ người dân)"}


def _label(table: dict, enum_cls, value) -> str:
    try:
        return table[enum_cls(value)]
    except (ValueError, KeyError):
        return value or ""


def _r(value, digits: int = 1):
    return None if value is None else round(value, digits)


def sla_table(report: SlaReport, group_label: str) -> Table:
    overdue = report.kind == "overdue"
    hours = ["Giờ LV quá hạn nhiều nhất", "Tổng giờ LV quá hạn"] if overdue \
        else ["Giờ LV còn lại ít nhất"]
    headers = [group_label, "Số phiếu", "Hạn sớm nhất", "Phiếu có hạn sớm nhất", *hours]
    rows = []
    for row in [*report.rows, report.total]:
        values = [_r(row.max_hours), _r(row.total_hours)] if overdue else [_r(row.min_hours)]
        rows.append([row.label, row.count, row.first_due, row.first_code, *values])
    return Table(f"{KINDS[report.kind]} – {group_label}", headers, rows)


TICKET_HEADERS = ["Mã phiếu", "Tiêu đề", "Trạng thái", "Tình trạng hạn", "Kênh", "Tiếp nhận",
                  "Hạn xử lý", "Giải quyết", "Đơn vị", "Lĩnh vực", "Địa bàn", "Địa chỉ"]


def ticket_table(rows: Iterable[TicketRow], sla: str | None) -> Table:
    headers = list(TICKET_HEADERS)
    if sla:
        headers.append("Giờ LV quá hạn" if sla == "overdue" else "Giờ LV còn lại")

    def gen():
        for r in rows:
            values = [r.code, r.title, _label(LABELS_VI, Status, r.status),
                      SLA_LABELS.get(r.sla_state or "", ""), _label(CHANNEL_LABELS_VI, Channel,
                                                                     r.channel),
                      r.received_at, r.due_at, r.resolved_at, r.agency, r.field, r.area, r.address]
            if sla:
                values.append(_r(r.hours))
            yield values
    return Table("Danh sách phiếu", headers, gen())


def ranking_table(ranking: Ranking) -> Table:
    headers = ["Hạng", "Đơn vị"]
    for key in RANKING_KEYS:
        ind = INDICATORS[key]
        name = ind.label + (f" ({ind.unit})" if ind.unit else "")
        headers.append(name)
        if ind.comparable:
            headers += [f"{ind.label}: kỳ trước", f"{ind.label}: so với kỳ trước"]
        if ind.targetable:
            headers += [f"{ind.label}: chỉ tiêu", f"{ind.label}: đánh giá"]
    rows = []
    # The province row; an agency lead's "total" is their own unit, already listed.
    extra = [ranking.total] if ranking.total.agency_id is None else []
    for row in [*ranking.rows, *extra]:
        values = [row.rank if row is not ranking.total else "", row.name]
        for key in RANKING_KEYS:
            cell, ind = row.cells[key], INDICATORS[key]
            values.append(_r(cell.value, max(ind.digits, 1)))
            if ind.comparable:
                values += [_r(cell.previous, max(ind.digits, 1)), TREND_LABELS.get(cell.trend, "")]
            if ind.targetable:
                values += [cell.target, MET_LABELS.get(cell.met, "")]
        rows.append(values)
    return Table(f"Xếp hạng đơn vị {ranking.period.label}", headers, rows)


def dashboard_tables(board: Dashboard) -> list[Table]:
    kpis = Table("Chỉ số chính", ["Chỉ số", "Kỳ này", "Kỳ trước", "So với kỳ trước",
                                  "Chỉ tiêu", "Đánh giá"],
                 [[c.indicator.label, _r(c.value, 2), _r(c.previous, 2),
                   TREND_LABELS.get(c.trend, ""), c.target, MET_LABELS.get(c.met, "")]
                  for c in board.kpis])
    total = sum(b.value for b in board.by_channel) or 1
    channels = Table("Theo kênh", ["Kênh", "Số phiếu", "Tỷ lệ (%)"],
                     [[b.label, b.value, round(100 * b.value / total, 1)] for b in board.by_channel])
    fields = Table("Theo lĩnh vực", ["Lĩnh vực", "Số phiếu"],
                   [[b.label, b.value] for b in board.by_field])
    spots = Table("Điểm nóng theo địa bàn", ["Địa bàn", "Thuộc", "Số phiếu"],
                  [[b.label, b.extra, b.value] for b in board.hot_spots])
    unit = "Ngày" if board.series_unit == "day" else "Tuần bắt đầu"
    series = Table("Theo thời gian", [unit, "Tiếp nhận", "Giải quyết"],
                   [[day, received, resolved] for day, received, resolved in board.series])
    tables = [kpis, channels, fields, spots, series]
    if board.operators:
        tables.append(Table("Trả lời trực tiếp theo tổng đài viên",
                            ["Tổng đài viên", "Phiếu tạo", "Trả lời trực tiếp", "Chuyển đơn vị",
                             "Tỷ lệ trả lời trực tiếp (%)"],
                            [[o["name"], o["received"], o["direct"], o["forwarded"],
                              _r(o["rate"])] for o in board.operators]))
    return tables
