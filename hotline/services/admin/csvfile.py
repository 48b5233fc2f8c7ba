"""CSV files from administrators: decode, find the columns, report bad lines by number.

An import either takes every line or none: the importers collect every problem
first and raise one ``ValidationError`` whose message lists the line numbers
(``details["errors"]`` has them as ``(line, message)`` pairs for the page).
"""
from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from hotline.domain import text
from hotline.domain.errors import ValidationError

MAX_BYTES = 20 * 1024 * 1024
MAX_ROWS = 100_000


@dataclass(frozen=True)
class Row:
    line: int                 # 1-based line in the file, the header being line 1
    values: Mapping[str, str]

    def get(self, key: str) -> str:
        return (self.values.get(key) or "").strip()


@dataclass
class Problems:
    """Problems found while checking a file, by line."""

    items: list[tuple[int, str]] = field(default_factory=list)

    def add(self, line: int, message: str) -> None:
        self.items.append((line, message))

    def raise_if_any(self, what: str) -> None:
        if not self.items:
            return
        self.items.sort(key=lambda item: item[0])
        shown = "; ".join(f"dòng {line}: {msg}" for line, msg in self.items[:20])
        more = f" (và {len(self.items) - 20} lỗi khác)" if len(self.items) > 20 else ""
        raise ValidationError(
            f"Tệp {what} có {len(self.items)} lỗi, chưa nhập dòng nào — {shown}{more}.",
            code="csv_invalid", errors=list(self.items))


def _decode(data: bytes) -> str:
    # Excel in Vietnam saves "CSV UTF-8" with a BOM, older versions in Windows-1258.
    for encoding in ("utf-8-sig", "cp1258"):
        try:
            return text.nfc(data.decode(encoding))
        except UnicodeDecodeError:
            continue
    raise ValidationError("Không đọc được tệp: hãy lưu dưới dạng CSV UTF-8.", code="csv_encoding")


def _column_key(header: str, aliases: Mapping[str, str]) -> str:
    key = text.fold(header).replace(" ", "_").replace("-", "_")
    return aliases.get(key, key)


def read(data: bytes, *, required: tuple[str, ...], aliases: Mapping[str, str] | None = None,
         what: str = "CSV") -> Iterator[Row]:
    """Rows of a CSV file as dicts keyed by canonical column names.

    Headers are matched accent- and case-insensitively (``Mã`` = ``ma``) and
    through ``aliases``; a missing required column fails before any row is read.
    """
    if not data:
        raise ValidationError(f"Tệp {what} trống.", code="csv_empty")
    if len(data) > MAX_BYTES:
        raise ValidationError(f"Tệp {what} lớn quá {MAX_BYTES // (1024 * 1024)} MB.",
                              code="csv_too_large")
    content = _decode(data)
    try:
        dialect = csv.Sniffer().sniff(content[:4096], delimiters=",;\t")
    except csv.Error:
        dialect = csv.excel
    reader = csv.reader(io.StringIO(content, newline=""), dialect)
    try:
        header = next(reader)
    except StopIteration:
        raise ValidationError(f"Tệp {what} trống.", code="csv_empty") from None
    keys = [_column_key(h, aliases or {}) for h in header]
    missing = [c for c in required if c not in keys]
    if missing:
        raise ValidationError(
            f"Tệp {what} thiếu cột: {', '.join(missing)} (dòng 1 phải là tiêu đề cột: "
            f"{', '.join(required)}).", code="csv_columns", errors=[(1, "thiếu cột")])
    count = 0
    for values in reader:
        line = reader.line_num
        if not any(v.strip() for v in values):
            continue
        count += 1
        if count > MAX_ROWS:
            raise ValidationError(f"Tệp {what} có quá {MAX_ROWS} dòng.", code="csv_too_many")
        yield Row(line, dict(zip(keys, values, strict=False)))


def parse_bool(value: str) -> bool | None:
    """"1/0, có/không, yes/no, true/false" → bool; "" → None; anything else → ValueError."""
    folded = text.fold(value)
    if folded == "":
        return None
    if folded in ("1", "co", "yes", "true", "x", "dung"):
        return True
    if folded in ("0", "khong", "no", "false", "sai"):
        return False
    raise ValueError(value)
