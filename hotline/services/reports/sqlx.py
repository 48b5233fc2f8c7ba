"""SQL pieces the reports share, written once per dialect: local days and times of UTC
instants, percentiles, constants the planner can see.

A zone with a fixed UTC offset over the years the reports cover (Asia/Ho_Chi_Minh has
had UTC+7 since 1975) is handled with plain arithmetic on the epoch — a few
nanoseconds per row, which matters when a report measures 300 000 overdue tickets.
A zone with daylight saving goes through ``AT TIME ZONE`` on PostgreSQL; SQLite has no
time zones and always shifts by the offset of today.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import (
    Date,
    Float,
    Integer,
    bindparam,
    case,
    cast,
    func,
    literal,
    literal_column,
    select,
    type_coerce,
)
from sqlalchemy.sql.elements import ColumnElement

from hotline.extensions import db

DAY = 86400


def fixed_offset(tz: ZoneInfo, first_year: int = 2000, last_year: int | None = None) -> int | None:
    """The zone's UTC offset in seconds if it is the same all through the years, else None."""
    last_year = last_year or datetime.now(UTC).year + 3
    offsets = {datetime(y, m, 1, 12, tzinfo=tz).utcoffset() for y in range(first_year, last_year + 1)
               for m in (1, 4, 7, 10)}
    return int(offsets.pop().total_seconds()) if len(offsets) == 1 else None


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
    def offset(self) -> int | None:
        return fixed_offset(self.tz)

    @property
    def _sqlite_offset(self) -> str:
        offset = datetime.now(UTC).astimezone(self.tz).utcoffset()
        return f"{int(offset.total_seconds() // 60):+d} minutes"

    def local_date(self, col) -> ColumnElement:
        """The local calendar day of a UTC instant column, typed as a date."""
        if self.is_postgres:
            return cast(func.timezone(self.tz_name, col), Date)
        return type_coerce(func.date(col, self._sqlite_offset), Date)

    def local_epoch(self, col) -> ColumnElement:
        """Local wall-clock time of a UTC instant column, as seconds since 1970-01-01 00:00."""
        if self.is_postgres:
            offset = self.offset
            # date_part() is double precision; EXTRACT() is numeric since PostgreSQL 14,
            # several times slower in arithmetic.
            if offset is None:
                return func.date_part("epoch", func.timezone(self.tz_name, col))
            return func.date_part("epoch", col) + float(offset)
        return (func.julianday(col, self._sqlite_offset) - 2440587.5) * float(DAY)

    def local_daynum(self, col) -> ColumnElement:
        """The local day of a UTC instant column as a day number (days since 1970-01-01)."""
        if self.is_postgres:
            return cast(func.floor(self.local_epoch(col) / DAY), Integer)
        # Instants after 1970 are positive: truncation is the floor.
        return cast(self.local_epoch(col) / DAY, Integer)

    def local_seconds(self, col) -> ColumnElement:
        """Seconds since local midnight of a UTC instant column (float)."""
        epoch = self.local_epoch(col)
        if self.is_postgres:
            return epoch - func.floor(epoch / DAY) * DAY
        return epoch - cast(epoch / DAY, Integer) * DAY

    def local_day(self, col) -> ColumnElement:
        """The local calendar day as a DATE, cheaply: on PostgreSQL with a fixed offset it
        is ``DATE '1970-01-01' + day number`` (no time-zone lookup per row). Joined with a
        plain DATE column, the planner also estimates the join right."""
        if self.is_postgres and self.offset is not None:
            return type_coerce(literal_column("DATE '1970-01-01'") + self.local_daynum(col), Date)
        return self.local_date(col)

    def daynum(self, date_col) -> ColumnElement:
        """A DATE column as a day number (for joining with :meth:`local_daynum`)."""
        if self.is_postgres:
            return date_col - literal_column("DATE '1970-01-01'")
        return cast(func.julianday(date_col) - 2440587.5, Integer)

    def clamp(self, expr, low: float, high: float) -> ColumnElement:
        """``min(max(expr, low), high)`` without repeating ``expr``."""
        if self.is_postgres:
            return func.least(func.greatest(expr, low), high)
        return func.min(func.max(expr, low), high)

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


def const(value) -> ColumnElement:
    """A constant rendered into the SQL text, not sent as a parameter: PostgreSQL can then
    match it against a partial index's predicate (e.g. ``sla_state = 'on_track'``) even
    when the driver prepares the statement and the planner switches to a generic plan."""
    return literal(value, literal_execute=True)


def in_consts(col, values) -> ColumnElement:
    """``col IN (…)`` with the values rendered inline (see :func:`const`)."""
    return col.in_(bindparam(None, list(values), expanding=True, literal_execute=True))
