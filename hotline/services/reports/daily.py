"""The daily aggregate: counts per local day × agency × field × area × channel.

One SELECT (:func:`live_rows`) computes these counts for any UTC range straight
from ``tickets`` and ``ticket_events`` with GROUP BY; ``refresh`` stores its
result for past days in ``ticket_daily_stats``; :func:`rows_for` gives readers
the stored rows for the days the table covers plus the live rows for the days
after (today, or days a late job has not reached), so a figure is the same
whether or not the job ran — only faster when it did.

``operator_id`` is the staff member who logged the ticket (NULL for citizens' own
channels), so the operators' direct-answer table reads the aggregate too.

Definitions (the issue was silent; chosen with the provincial reports in mind):

- received: tickets by the day they were received, except duplicates merged
  into another ticket;
- answered directly: received tickets the operator answered without forwarding
  (never assigned to an agency, status answered/published/closed); forwarded:
  tickets that were assigned to an agency;
- resolved / resolved on time / ratings: by the day of ``resolved_at``; on time
  means ``resolved_at <= due_at`` (``due_at`` already includes pauses and
  approved extensions, so resolving exactly at the due instant is on time);
- reopened / returned: events moving a ticket to ``reopened`` / ``returned``, by
  the day they happened, counted for the agency the ticket was with then.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import (
    Integer,
    and_,
    case,
    cast,
    delete,
    func,
    insert,
    literal,
    select,
    text,
    union_all,
)

from hotline.extensions import db
from hotline.models import StatsRefresh, Ticket, TicketDailyStats, TicketEvent, utcnow
from hotline.services.reports.sqlx import Dialect, dialect, in_consts

DIMS = ("day", "agency_id", "field_id", "area_id", "channel", "operator_id")
MEASURES = ("received", "answered_directly", "forwarded", "resolved", "resolved_on_time",
            "reopened", "returned", "rating_sum", "rating_count")
DIRECT_STATUSES = ("answered", "published", "closed")
_REFRESH_LOCK = 1022_0007


def _one(cond):
    return case((cond, 1), else_=0)


def _measures(**given):
    """All measure columns, zero except those given, for one branch of the union."""
    return [cast(given.get(m, literal(0)), Integer).label(m) for m in MEASURES]


def live_rows(d: Dialect, start: datetime, end: datetime, *, agency_id: int | None = None):
    """Daily counts for UTC ``[start, end)`` computed from the ticket tables (a Select).

    Three indexed range scans — tickets by ``received_at``, by ``resolved_at``, and
    reopen/return events by time — each grouped in the database, then merged.
    """
    t = Ticket.__table__.c
    op = t.created_by_id.label("operator_id")  # who logged it (operators' direct answers)
    day = d.local_date(t.received_at).label("day")
    received = (
        select(day, t.agency_id, t.field_id, t.area_id, t.channel, op, *_measures(
            received=func.count(),
            answered_directly=func.sum(_one(and_(t.assigned_at.is_(None),
                                                 t.status.in_(DIRECT_STATUSES)))),
            forwarded=func.sum(_one(t.assigned_at.is_not(None)))))
        .where(t.received_at >= start, t.received_at < end, t.merged_into_id.is_(None))
        .group_by(day, t.agency_id, t.field_id, t.area_id, t.channel, t.created_by_id))
    rday = d.local_date(t.resolved_at).label("day")
    resolved = (
        select(rday, t.agency_id, t.field_id, t.area_id, t.channel, op, *_measures(
            resolved=func.count(),
            resolved_on_time=func.sum(_one(and_(t.due_at.is_not(None), t.resolved_at <= t.due_at))),
            rating_sum=func.coalesce(func.sum(t.rating), 0),
            rating_count=func.count(t.rating)))
        .where(t.resolved_at >= start, t.resolved_at < end, t.merged_into_id.is_(None))
        .group_by(rday, t.agency_id, t.field_id, t.area_id, t.channel, t.created_by_id))
    e = TicketEvent.__table__.c
    eday = d.local_date(e.at).label("day")
    moved = (
        select(eday, e.agency_id, t.field_id, t.area_id, t.channel, op, *_measures(
            reopened=func.sum(_one(e.to_status == "reopened")),
            returned=func.sum(_one(e.to_status == "returned"))))
        .select_from(TicketEvent.__table__.join(Ticket.__table__, t.id == e.ticket_id))
        .where(in_consts(e.to_status, ("reopened", "returned")), e.at >= start, e.at < end)
        .group_by(eday, e.agency_id, t.field_id, t.area_id, t.channel, t.created_by_id))
    if agency_id is not None:
        received = received.where(t.agency_id == agency_id)
        resolved = resolved.where(t.agency_id == agency_id)
        moved = moved.where(e.agency_id == agency_id)
    parts = union_all(received, resolved, moved).subquery("parts")
    c = parts.c
    return (select(*(c[k] for k in DIMS), *(func.sum(c[m]).label(m) for m in MEASURES))
            .group_by(*(c[k] for k in DIMS)))


# --- the stored table ----------------------------------------------------------------------


def latest_refresh() -> StatsRefresh | None:
    """The last completed run of ``refresh-stats`` (what the pages show as "last refreshed")."""
    return db.session.scalar(select(StatsRefresh).order_by(StatsRefresh.id.desc()).limit(1))


@dataclass(frozen=True)
class RefreshResult:
    day_from: date
    day_to: date
    rows: int
    seconds: float


def refresh(days: int | None = 35, *, today: date | None = None, chunk_days: int = 31,
            progress=None) -> RefreshResult:
    """Rewrite the stored counts of the last ``days`` complete local days (``None``: all).

    The table stays contiguous: if it ends before the requested range, or was never
    built, the gap is filled from the earliest ticket. Each chunk of days is
    deleted and re-inserted from :func:`live_rows` in the caller's transaction,
    so a re-run gives the same rows (idempotent). Today is never stored: it is
    not over, and readers count it live.
    """
    import time as _time
    started_clock = _time.perf_counter()
    started = utcnow()
    d = dialect()
    if d.is_postgres:
        # Two refreshes at once would each delete the other's uncommitted rows' old
        # versions and insert their own: serialise them (released at commit).
        db.session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _REFRESH_LOCK})
    today = today or started.astimezone(d.tz).date()
    day_to = today - timedelta(days=1)
    previous = latest_refresh()
    earliest = _earliest_day(d)
    if days is None or previous is None:
        day_from = earliest or day_to
    else:
        day_from = today - timedelta(days=max(1, days))
        if previous.covered_to < day_from - timedelta(days=1):
            day_from = previous.covered_to + timedelta(days=1)
        if earliest is not None and previous.covered_from > earliest:
            day_from = min(day_from, earliest)
    day_from = min(day_from, day_to)
    rows = 0
    chunk_start = day_from
    while chunk_start <= day_to:
        chunk_end = min(day_to, chunk_start + timedelta(days=chunk_days - 1))
        start = datetime.combine(chunk_start, time(0), tzinfo=d.tz)
        end = datetime.combine(chunk_end + timedelta(days=1), time(0), tzinfo=d.tz)
        db.session.execute(delete(TicketDailyStats).where(TicketDailyStats.day >= chunk_start,
                                                          TicketDailyStats.day <= chunk_end))
        source = live_rows(d, start, end).subquery("src")
        stmt = insert(TicketDailyStats).from_select(
            list(DIMS) + list(MEASURES), select(*(source.c[k] for k in DIMS + MEASURES)))
        db.session.execute(stmt)
        # psycopg reports -1 for INSERT … SELECT: count what the chunk holds now.
        rows += db.session.scalar(select(func.count()).select_from(TicketDailyStats).where(
            TicketDailyStats.day >= chunk_start, TicketDailyStats.day <= chunk_end)) or 0
        if progress:
            progress(chunk_start, chunk_end)
        chunk_start = chunk_end + timedelta(days=1)
    covered_from = day_from if previous is None or days is None else min(previous.covered_from,
                                                                         day_from)
    db.session.add(StatsRefresh(started_at=started, finished_at=utcnow(), day_from=day_from,
                                day_to=day_to, covered_from=covered_from, covered_to=day_to,
                                rows_written=rows))
    db.session.flush()
    return RefreshResult(day_from, day_to, rows, _time.perf_counter() - started_clock)


def _earliest_day(d: Dialect) -> date | None:
    first = db.session.scalar(select(func.min(Ticket.received_at)))
    return first.astimezone(d.tz).date() if first else None


def rows_for(first: date, last: date, *, agency_id: int | None = None):
    """Daily rows for local days ``first``..``last``: stored where the table is complete,
    live for the rest. A subquery with the :data:`DIMS` and :data:`MEASURES` columns."""
    d = dialect()
    cover = latest_refresh()
    parts = []
    live_from = first
    if cover is not None and cover.covered_to >= first and cover.covered_from <= first:
        stored_to = min(last, cover.covered_to)
        s = TicketDailyStats.__table__.c
        stored = select(*(s[k] for k in DIMS), *(s[m] for m in MEASURES)).where(
            s.day >= first, s.day <= stored_to)
        if agency_id is not None:
            stored = stored.where(s.agency_id == agency_id)
        parts.append(stored)
        live_from = stored_to + timedelta(days=1)
    if live_from <= last:
        start = datetime.combine(live_from, time(0), tzinfo=d.tz)
        end = datetime.combine(last + timedelta(days=1), time(0), tzinfo=d.tz)
        parts.append(live_rows(d, start, end, agency_id=agency_id))
    if len(parts) == 1:
        return parts[0].subquery("daily")
    return union_all(*parts).subquery("daily")


__all__ = ["DIMS", "MEASURES", "RefreshResult", "latest_refresh", "live_rows", "refresh", "rows_for"]
