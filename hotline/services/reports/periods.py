"""Report periods: a week, a month, a quarter or custom days, and the period before it.

A period is a span of local days (inclusive at both ends); its UTC bounds are
local midnights, so "November" means what a Vietnamese reader means. Bad input
raises ``ValidationError`` with a Vietnamese message (the view shows it, never a 500).
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hotline.domain.errors import ValidationError

KINDS = ("week", "month", "quarter", "custom")
KIND_LABELS_VI = {"week": "Tuần", "month": "Tháng", "quarter": "Quý", "custom": "Tùy chọn"}
MAX_DAYS = 3 * 366  # a longer custom span is almost certainly a typo (e.g. year 2062)
_DMY = re.compile(r"^\s*(\d{1,2})/(\d{1,2})/(\d{4})\s*$")


@dataclass(frozen=True)
class Period:
    """Local days ``first``..``last`` (inclusive)."""

    kind: str
    first: date
    last: date

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    def bounds(self, tz: ZoneInfo) -> tuple[datetime, datetime]:
        """UTC ``[start, end)``: local midnight of the first day to that after the last."""
        start = datetime.combine(self.first, time(0), tzinfo=tz)
        end = datetime.combine(self.last + timedelta(days=1), time(0), tzinfo=tz)
        return start.astimezone(ZoneInfo("UTC")), end.astimezone(ZoneInfo("UTC"))

    def previous(self) -> Period:
        """The period before: the previous week/month/quarter, or as many days just before."""
        if self.kind == "month":
            last = self.first - timedelta(days=1)
            return Period("month", last.replace(day=1), last)
        if self.kind == "quarter":
            last = self.first - timedelta(days=1)
            return Period("quarter", _quarter_start(last), last)
        return Period(self.kind, self.first - timedelta(days=self.days),
                      self.first - timedelta(days=1))

    @property
    def label(self) -> str:
        """How the period reads in a Vietnamese report heading."""
        if self.kind == "month":
            return f"tháng {self.first:%m/%Y}"
        if self.kind == "quarter":
            return f"quý {(self.first.month - 1) // 3 + 1}/{self.first.year}"
        if self.kind == "week":
            return f"tuần {self.first:%d/%m} – {self.last:%d/%m/%Y}"
        return f"{self.first:%d/%m/%Y} – {self.last:%d/%m/%Y}"

    def as_args(self) -> dict[str, str]:
        """Query-string arguments that give this period back through :func:`parse_period`."""
        if self.kind == "custom":
            return {"period": "custom", "from": self.first.isoformat(), "to": self.last.isoformat()}
        return {"period": self.kind, "on": self.first.isoformat()}


def parse_date(value: str, what: str = "ngày") -> date:
    """``2026-11-23`` or ``23/11/2026`` → a date; anything else is a clear error."""
    raw = (value or "").strip()
    if not raw:
        raise ValidationError(f"Thiếu {what}.", code="invalid_date")
    try:
        match = _DMY.match(raw)
        if match:
            day, month, year = (int(x) for x in match.groups())
            return date(year, month, day)
        return date.fromisoformat(raw)
    except ValueError as exc:
        raise ValidationError(
            f"{what.capitalize()} không hợp lệ: «{raw[:20]}». Dùng dạng dd/mm/yyyy.",
            code="invalid_date") from exc


def _quarter_start(d: date) -> date:
    return date(d.year, 3 * ((d.month - 1) // 3) + 1, 1)


def _month_end(d: date) -> date:
    nxt = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
    return nxt - timedelta(days=1)


def period_containing(kind: str, on: date) -> Period:
    """The week (Monday–Sunday), month or quarter that contains ``on``."""
    if kind == "week":
        first = on - timedelta(days=on.weekday())
        return Period("week", first, first + timedelta(days=6))
    if kind == "month":
        return Period("month", on.replace(day=1), _month_end(on))
    if kind == "quarter":
        first = _quarter_start(on)
        return Period("quarter", first, _month_end(date(first.year, first.month + 2, 1)))
    raise ValidationError(f"Loại kỳ báo cáo không hợp lệ: «{kind}».", code="invalid_period")


def parse_period(args, today: date, default: str = "month") -> Period:
    """A period from query arguments: ``period`` (week/month/quarter/custom), ``on`` (a day
    inside it, default today) or ``from``/``to`` for custom, or ``month=MM/YYYY``."""
    kind = (args.get("period") or default).strip()
    if kind not in KINDS:
        raise ValidationError(f"Loại kỳ báo cáo không hợp lệ: «{kind[:20]}».",
                              code="invalid_period")
    if kind == "custom":
        first = parse_date(args.get("from", ""), "ngày bắt đầu")
        last = parse_date(args.get("to", ""), "ngày kết thúc")
        if first > last:
            raise ValidationError("Ngày bắt đầu phải trước hoặc bằng ngày kết thúc.",
                                  code="invalid_period")
        if (last - first).days + 1 > MAX_DAYS:
            raise ValidationError(f"Kỳ báo cáo dài tối đa {MAX_DAYS} ngày.", code="invalid_period")
        return Period("custom", first, last)
    on = args.get("on")
    return period_containing(kind, parse_date(on, "ngày trong kỳ") if on else today)


def parse_month(value: str | None, today: date) -> Period:
    """``11/2026`` or ``2026-11`` (default: the previous month) → that month."""
    raw = (value or "").strip()
    if not raw:
        last = today.replace(day=1) - timedelta(days=1)
        return period_containing("month", last)
    match = re.match(r"^(\d{1,2})/(\d{4})$", raw) or re.match(r"^(\d{4})-(\d{1,2})$", raw)
    if not match:
        raise ValidationError(f"Tháng không hợp lệ: «{raw[:20]}». Dùng dạng mm/yyyy.",
                              code="invalid_month")
    a, b = (int(x) for x in match.groups())
    year, month = (b, a) if "/" in raw else (a, b)
    if not 1 <= month <= 12 or not 2000 <= year <= 2100:
        raise ValidationError(f"Tháng không hợp lệ: «{raw[:20]}».", code="invalid_month")
    return period_containing("month", date(year, month, 1))
