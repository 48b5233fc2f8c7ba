"""SQL pieces the reports share, written once per dialect: local days, time of day,
percentiles. PostgreSQL converts with ``AT TIME ZONE``; SQLite (which has no time
zones) shifts by the zone's fixed UTC offset — exact for Asia/Ho_Chi_Minh, which
has had no daylight saving since 1975.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import Date, Float, Integer, Time, case, cast, extract, func, select, type_coerce
from sqlalchemy.sql.elements import ColumnElement

from hotline.extensions import db


@dataclass(frozen=True)
class Dialect:
    """The database in use and the province's time zone."""

    name: str
    tz_name: str

    @property
    def tz(self) -> ZoneInfo:
        return ZoneInfo(self.tz_name)

    @property
    def is_postgres(self) -> bool:
        return self.name == "postgresql"

    @property
    def _sqlite_offset(self) -> str:
        offset = datetime.now(UTC).astimezone(self.tz).utcoffset()
        return f"{int(offset.total_seconds() // 60):+d} minutes"

    def local_date(self, col) -> ColumnElement:
        """The local calendar day of a UTC instant column, typed as a date."""
        if self.is_postgres:
            return cast(func.timezone(self.tz_name, col), Date)
        return type_coerce(func.date(col, self._sqlite_offset), Date)

    def local_seconds(self, col) -> ColumnElement:
        """Seconds since local midnight of a UTC instant column (float)."""
        if self.is_postgres:
            return extract("epoch", cast(func.timezone(self.tz_name, col), Time))
        off = self._sqlite_offset
        return (func.julianday(col, off) - func.julianday(func.date(col, off))) * 86400.0

    def to_float(self, expr) -> ColumnElement:
        return cast(expr, Float)


def dialect() -> Dialect:
    return Dialect(db.engine.dialect.name, current_app.config["HOTLINE_TIMEZONE"])


def ratio(num, den) -> ColumnElement:
    """``num / den`` as a float, NULL when the denominator is 0."""
    return case((den == 0, None), else_=cast(num, Float) / cast(den, Float))


def percentiles(d: Dialect, rows, group_names: list[str], fractions: tuple[float, ...],
                value_name: str = "v") -> dict[tuple, list[float | None]]:
    """Per group of ``rows`` (a subquery with the ``group_names`` columns and ``value_name``),
    the ``fractions`` percentiles of the value, interpolated like ``percentile_cont``.

    PostgreSQL runs ``percentile_cont``. SQLite has no ordered-set aggregates, so the
    same interpolation is done with window functions: rank the rows per group, keep
    the two around position ``fraction * (n - 1)`` and weight them. Either way the
    database does the work and returns one row per group and fraction.
    """
    groups = [rows.c[name] for name in group_names]
    value = rows.c[value_name]
    out: dict[tuple, list[float | None]] = {}
    if d.is_postgres:
        aggs = [func.percentile_cont(f).within_group(value).label(f"p{i}")
                for i, f in enumerate(fractions)]
        query = select(*groups, *aggs).where(value.is_not(None))
        if groups:
            query = query.group_by(*groups)
        for row in db.session.execute(query):
            out[tuple(row[:len(groups)])] = [_float(x) for x in row[len(groups):]]
        return out
    ranked = select(*groups, value.label("v"),
                    func.row_number().over(partition_by=groups or None, order_by=value)
                    .label("rn"),
                    func.count().over(partition_by=groups or None).label("n")
                    ).where(value.is_not(None)).subquery("ranked")
    c = ranked.c
    rgroups = [c[name] for name in group_names]
    for i, fraction in enumerate(fractions):
        pos = (c.n - 1) * fraction
        low = cast(pos, Integer)  # floor: pos is never negative
        frac = pos - low
        weight = case((c.rn - 1 == low, 1 - frac), else_=frac)
        query = (select(*rgroups, func.sum(c.v * weight))
                 .where((c.rn - 1 == low) | (c.rn - 1 == low + 1)))
        if rgroups:
            query = query.group_by(*rgroups)
        for row in db.session.execute(query):
            key = tuple(row[:len(rgroups)])
            out.setdefault(key, [None] * len(fractions))[i] = _float(row[-1])
    return out


def _float(value) -> float | None:
    return None if value is None else float(value)
