"""The indicators units are ranked on, how they compare, and their targets.

The provincial reports put two columns beside every figure: "So với báo cáo
trước: Tăng/Giảm/Bằng" and "So với chỉ tiêu: Đạt/Không đạt". :func:`trend` and
:func:`meets` compute those; targets live in ``report_targets`` — one
province-wide value per indicator, optionally overridden for one agency —
and managers edit them.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from sqlalchemy import select

from hotline.domain.errors import ValidationError
from hotline.extensions import db
from hotline.models import Agency, ReportTarget, User, utcnow
from hotline.services.reports.scope import require_manager


@dataclass(frozen=True)
class Indicator:
    key: str
    label: str
    unit: str = ""
    better: str | None = "higher"  # higher / lower / None (volume: neither is better)
    targetable: bool = False
    lo: float = 0.0
    hi: float | None = None
    digits: int = 0
    comparable: bool = True  # has a value for the previous period

    def fmt(self, value: float | None) -> str:
        """Vietnamese number format: 1.234 and 85,3."""
        if value is None:
            return "—"
        text = f"{value:,.{self.digits}f}"
        return text.replace(",", "\u202f").replace(".", ",").replace("\u202f", ".")


INDICATORS: dict[str, Indicator] = {i.key: i for i in (
    Indicator("received", "Tiếp nhận", better=None),
    Indicator("resolved", "Đã giải quyết"),
    Indicator("resolved_on_time", "Giải quyết đúng hạn"),
    Indicator("on_time_rate", "Tỷ lệ đúng hạn", "%", targetable=True, hi=100, digits=1),
    Indicator("overdue_now", "Đang quá hạn", better="lower", targetable=True, comparable=False),
    Indicator("reopened", "Bị mở lại", better="lower", targetable=True),
    Indicator("returned", "Trả lại do sai thẩm quyền", better="lower", targetable=True),
    Indicator("median_hours", "Thời gian giải quyết (trung vị)", "giờ LV", better="lower",
              targetable=True, digits=1),
    Indicator("p90_hours", "Thời gian giải quyết (90%)", "giờ LV", better="lower",
              targetable=True, digits=1),
    Indicator("satisfaction", "Mức hài lòng", "/5", targetable=True, lo=1, hi=5, digits=2),
    Indicator("direct_rate", "Tỷ lệ trả lời trực tiếp", "%", targetable=True, hi=100, digits=1),
)}
RANKING_KEYS = ("received", "resolved", "resolved_on_time", "on_time_rate", "overdue_now",
                "reopened", "returned", "median_hours", "p90_hours", "satisfaction")
TREND_LABELS = {"up": "Tăng", "down": "Giảm", "same": "Bằng"}
MET_LABELS = {True: "Đạt", False: "Không đạt"}


def trend(current: float | None, previous: float | None, digits: int = 1) -> str | None:
    """"up"/"down"/"same" against the previous period (compared at display precision)."""
    if current is None or previous is None:
        return None
    a, b = round(current, digits), round(previous, digits)
    return "up" if a > b else "down" if a < b else "same"


def is_good(indicator: Indicator, direction: str | None) -> bool | None:
    """Whether a move in ``direction`` is an improvement for this indicator."""
    if direction in (None, "same") or indicator.better is None:
        return None
    return (direction == "up") == (indicator.better == "higher")


def meets(indicator: Indicator, value: float | None, target: float | None) -> bool | None:
    """Đạt (True) / Không đạt (False) / no target or no value (None)."""
    if value is None or target is None:
        return None
    return value >= target if indicator.better != "lower" else value <= target


# --- targets -------------------------------------------------------------------------------


def all_targets() -> dict[tuple[str, int | None], float]:
    """Every target: ``(indicator, agency_id or None) → value``."""
    return {(r.indicator, r.agency_id): r.value
            for r in db.session.scalars(select(ReportTarget))}


def effective_target(targets: dict, indicator: str, agency_id: int | None) -> float | None:
    """The agency's own target for the indicator, else the province-wide one."""
    if agency_id is not None and (indicator, agency_id) in targets:
        return targets[(indicator, agency_id)]
    return targets.get((indicator, None))


def parse_value(indicator_key: str, raw: str | float | None) -> float | None:
    """A target as typed (``85``, ``85,5``); empty means "no target"."""
    indicator = INDICATORS.get(indicator_key)
    if indicator is None or not indicator.targetable:
        raise ValidationError(f"Chỉ tiêu không hợp lệ: «{indicator_key}».", code="invalid_indicator")
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return None
    try:
        value = float(str(raw).strip().replace(",", "."))
    except ValueError as exc:
        raise ValidationError(f"{indicator.label}: «{str(raw)[:20]}» không phải là số.",
                              code="invalid_target") from exc
    if math.isnan(value) or value < indicator.lo or (indicator.hi is not None and value > indicator.hi):
        bound = f"từ {indicator.lo:g}" + (
            f" đến {indicator.hi:g}" if indicator.hi is not None else " trở lên")
        raise ValidationError(f"{indicator.label}: chỉ tiêu phải {bound}.", code="invalid_target")
    return value


def set_target(actor: User, indicator_key: str, raw, agency_id: int | None = None) -> float | None:
    """Set (or with an empty value remove) a target; managers only. Flushes."""
    require_manager(actor)
    value = parse_value(indicator_key, raw)
    if agency_id is not None and db.session.get(Agency, agency_id) is None:
        raise ValidationError("Đơn vị không tồn tại.", code="unknown_agency")
    cond = ReportTarget.agency_id.is_(None) if agency_id is None \
        else ReportTarget.agency_id == agency_id
    row = db.session.scalar(select(ReportTarget).where(ReportTarget.indicator == indicator_key,
                                                       cond))
    if value is None:
        if row is not None:
            db.session.delete(row)
    elif row is None:
        db.session.add(ReportTarget(indicator=indicator_key, agency_id=agency_id, value=value,
                                    updated_by_id=actor.id))
    else:
        row.value, row.updated_by_id, row.updated_at = value, actor.id, utcnow()
    db.session.flush()
    return value
