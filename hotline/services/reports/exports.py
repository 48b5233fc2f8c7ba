"""Exports: every report as CSV (``csv`` module) or XLSX (openpyxl), and the export log.

A report becomes one or more :class:`Table` (title, headers, rows of plain
values); CSV writes them one after another (streamed, so a ticket list of any
length never sits in memory), XLSX puts each on its own sheet. Every export is
recorded in ``export_log`` — who, what, which filters, whether it carried
personal data — before the first byte leaves.
"""
from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from hotline.domain.errors import ValidationError
from hotline.extensions import db
from hotline.models import ExportLog, User

FORMATS = {"csv": "text/csv; charset=utf-8",
           "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}
XLSX_MAX_ROWS = 200_000  # beyond this, CSV (Excel's own limit is 1,048,576)
_FORMULA = re.compile(r"^[=+\-@\t\r]")


@dataclass
class Table:
    title: str
    headers: list[str]
    rows: Iterable[list] = field(default_factory=list)


def check_format(fmt: str) -> str:
    if fmt not in FORMATS:
        raise ValidationError(f"Định dạng xuất không hỗ trợ: «{str(fmt)[:10]}». Chọn CSV hoặc XLSX.",
                              code="invalid_format")
    return fmt


def log_export(actor: User | None, report: str, fmt: str, params: dict | None = None,
               rows: int | None = None, personal_data: bool = False) -> ExportLog:
    """Record one export (flushed; the caller commits before sending the file)."""
    entry = ExportLog(user_id=actor.id if actor else None, report=report[:32], format=fmt,
                      params={k: str(v)[:200] for k, v in (params or {}).items()},
                      row_count=rows, personal_data=personal_data)
    db.session.add(entry)
    db.session.flush()
    return entry


def _cell(value, tz: ZoneInfo):
    """A value as a spreadsheet cell: local naive datetimes, no formulas from user text."""
    if isinstance(value, datetime):
        return value.astimezone(tz).replace(tzinfo=None, microsecond=0)
    if isinstance(value, str) and _FORMULA.match(value):
        return "'" + value  # a citizen's "=HYPERLINK(...)" stays text
    return value


def csv_chunks(tables: list[Table], tz: ZoneInfo) -> Iterator[str]:
    """CSV text, table after table (a title line, headers, rows, a blank line), streamed.

    Starts with a BOM so Excel reads the Vietnamese as UTF-8.
    """
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    yield "\ufeff"
    for index, table in enumerate(tables):
        if len(tables) > 1:
            if index:
                writer.writerow([])
            writer.writerow([table.title])
        writer.writerow(table.headers)
        for n, row in enumerate(table.rows, 1):
            writer.writerow([_cell(v, tz) for v in row])
            if n % 500 == 0:
                yield buffer.getvalue()
                buffer.seek(0)
                buffer.truncate()
        yield buffer.getvalue()
        buffer.seek(0)
        buffer.truncate()


def xlsx_bytes(tables: list[Table], tz: ZoneInfo) -> bytes:
    """An XLSX workbook with one sheet per table (openpyxl's streaming writer)."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    book = Workbook(write_only=True)
    used = set()
    for table in tables:
        name = re.sub(r"[\[\]:*?/\\]", " ", table.title)[:31] or "Bang"
        while name in used:
            name = name[:28] + f"_{len(used)}"
        used.add(name)
        sheet = book.create_sheet(name)
        header = []
        for title in table.headers:
            cell = WriteOnlyCell(sheet, value=title)
            cell.font = Font(bold=True)
            header.append(cell)
        sheet.append(header)
        for n, row in enumerate(table.rows, 1):
            if n > XLSX_MAX_ROWS:
                sheet.append([f"(Đã dừng ở {XLSX_MAX_ROWS:,} dòng; dùng CSV để xuất đầy đủ.)"])
                break
            sheet.append([_cell(v, tz) for v in row])
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def filename(report: str, fmt: str, period_label: str | None = None, on: date | None = None) -> str:
    stem = report if not period_label else f"{report}_{period_label}"
    stem = re.sub(r"[^\w\-]+", "-", stem, flags=re.ASCII).strip("-") or "bao-cao"
    if on:
        stem += f"_{on:%Y%m%d}"
    return f"{stem}.{fmt}"
