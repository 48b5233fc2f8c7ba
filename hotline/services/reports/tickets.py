"""The filtered ticket list behind every report: drill-down, browse and export.

One query per page, keyset-paginated — by due time for overdue / due-soon lists
(oldest first), by received time otherwise (newest first) — with the names of
agency, field and area joined in, so a page costs the same on page 1 and on
page 10 000, and an export streams the whole list in batches.
"""
from __future__ import annotations

import base64
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, or_, select

from hotline.domain.errors import ValidationError
from hotline.extensions import db
from hotline.models import Agency, Area, Field, Ticket, utcnow
from hotline.services.reports import overdue
from hotline.services.reports.scope import Scope
from hotline.services.reports.sqlx import dialect
from hotline.services.reports.workdays import WorkClock, work_clock

PAGE_SIZE = 50
MAX_PAGE = 5000


@dataclass(frozen=True)
class TicketFilter:
    """What to list. ``group``/``key`` select one row of an overdue report."""

    sla: str | None = None              # overdue / due_soon / None
    group: str | None = None            # agency / agency_level / area:<level>
    key: object = None                  # the group's key (None: the "none" group)
    has_key: bool = False
    agency_id: int | None = None
    field_id: int | None = None
    area_id: int | None = None          # the area and everything under it
    channel: str | None = None
    status: str | None = None
    received_from: date | None = None
    received_to: date | None = None

    def as_args(self) -> dict[str, str]:
        """URL arguments that give this filter back through :func:`parse_filter`."""
        out = {}
        for name in ("sla", "group", "agency_id", "field_id", "area_id", "channel", "status"):
            value = getattr(self, name)
            if value is not None:
                out[name] = str(value)
        if self.has_key:
            out["key"] = "none" if self.key is None else str(self.key)
        if self.received_from:
            out["from"] = self.received_from.isoformat()
        if self.received_to:
            out["to"] = self.received_to.isoformat()
        return out


def _int(args, name: str, label: str) -> int | None:
    raw = (args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return int(raw)
    except ValueError as exc:
        raise ValidationError(f"{label} không hợp lệ: «{raw[:20]}».", code="invalid_filter") from exc


def parse_filter(args) -> TicketFilter:
    """A filter from query arguments; clear Vietnamese errors for bad values."""
    from hotline.services.reports.periods import parse_date
    sla = (args.get("sla") or "").strip() or None
    if sla is not None:
        overdue.check_kind(sla)
    group = (args.get("group") or "").strip() or None
    if group is not None:
        overdue.check_group(group)
    has_key = group is not None and "key" in args
    key = overdue.parse_group_key(group, args.get("key")) if has_key else None
    first = parse_date(args["from"], "ngày bắt đầu") if args.get("from") else None
    last = parse_date(args["to"], "ngày kết thúc") if args.get("to") else None
    if first and last and first > last:
        raise ValidationError("Ngày bắt đầu phải trước hoặc bằng ngày kết thúc.",
                              code="invalid_period")
    return TicketFilter(
        sla=sla, group=group, key=key, has_key=has_key,
        agency_id=_int(args, "agency_id", "Đơn vị"), field_id=_int(args, "field_id", "Lĩnh vực"),
        area_id=_int(args, "area_id", "Địa bàn"),
        channel=(args.get("channel") or "").strip()[:16] or None,
        status=(args.get("status") or "").strip()[:20] or None,
        received_from=first, received_to=last)


@dataclass
class TicketRow:
    id: int
    code: str
    title: str
    status: str
    sla_state: str | None
    channel: str
    received_at: datetime
    due_at: datetime | None
    resolved_at: datetime | None
    agency: str | None
    field: str | None
    area: str | None
    address: str | None
    hours: float | None   # working hours overdue (positive) / left before due


@dataclass
class TicketPage:
    rows: list[TicketRow]
    next_cursor: str | None


def _cursor_encode(value: datetime | None, ident: int) -> str:
    raw = f"{value.isoformat() if value else ''}|{ident}"
    return base64.urlsafe_b64encode(raw.encode()).decode().rstrip("=")


def _cursor_decode(cursor: str) -> tuple[datetime | None, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        value, ident = raw.rsplit("|", 1)
        return (datetime.fromisoformat(value) if value else None), int(ident)
    except (ValueError, UnicodeDecodeError) as exc:
        raise ValidationError("Trang danh sách không hợp lệ; hãy tải lại từ trang đầu.",
                              code="invalid_cursor") from exc


def _query(scope: Scope, flt: TicketFilter, now: datetime):
    t = Ticket.__table__
    a, f, ar = Agency.__table__, Field.__table__, Area.__table__
    from_ = t.outerjoin(a, a.c.id == t.c.agency_id).outerjoin(f, f.c.id == t.c.field_id) \
        .outerjoin(ar, ar.c.id == t.c.area_id)
    conds = [overdue.scope_condition(scope)]
    if flt.sla:
        conds.append(overdue.condition(flt.sla, now))
    if flt.group:
        from_, g = overdue.group_column(flt.group, from_)
        if flt.has_key:
            conds.append(g.is_(None) if flt.key is None else g == flt.key)
    if flt.agency_id is not None:
        conds.append(t.c.agency_id == flt.agency_id)
    if flt.field_id is not None:
        conds.append(t.c.field_id == flt.field_id)
    if flt.area_id is not None:
        path = db.session.scalar(select(Area.path).where(Area.id == flt.area_id))
        sub = select(Area.id).where(Area.path.like((path or "/-/") + "%"))
        conds.append(t.c.area_id.in_(sub))
    if flt.channel:
        conds.append(t.c.channel == flt.channel)
    if flt.status:
        conds.append(t.c.status == flt.status)
    d = dialect()
    if flt.received_from:
        conds.append(t.c.received_at >= datetime.combine(flt.received_from, time(0), tzinfo=d.tz))
    if flt.received_to:
        conds.append(t.c.received_at < datetime.combine(flt.received_to + timedelta(days=1),
                                                        time(0), tzinfo=d.tz))
    cols = [t.c.id, t.c.code, t.c.title, t.c.status, t.c.sla_state, t.c.channel, t.c.received_at,
            t.c.due_at, t.c.resolved_at, a.c.name, f.c.name, ar.c.name, t.c.address,
            t.c.sla_paused_at]
    return select(*cols).select_from(from_).where(*conds)


def _hours(kind: str | None, clock: WorkClock | None, now: datetime, due: datetime | None,
           paused: datetime | None) -> float | None:
    """Working hours overdue (frozen at a pause) or left before due, for one listed ticket."""
    if kind is None or clock is None or due is None:
        return None
    if kind == "due_soon":
        return round((clock.at(due) - clock.at(now)) / 3600.0, 2)
    upto = paused if paused is not None and paused < now else now
    return round((clock.at(upto) - clock.at(due)) / 3600.0, 2)


def ticket_page(scope: Scope, flt: TicketFilter, cursor: str | None = None,
                limit: int = PAGE_SIZE, now: datetime | None = None,
                clock: WorkClock | None = None) -> TicketPage:
    """One page of the list and the cursor of the next (None on the last page)."""
    now = now or utcnow()
    limit = max(1, min(limit, MAX_PAGE))
    query = _query(scope, flt, now)
    if flt.sla and clock is None:
        clock = work_clock()
    t = Ticket.__table__.c
    by_due = flt.sla is not None
    if cursor:
        value, ident = _cursor_decode(cursor)
        if by_due:
            query = query.where(or_(t.due_at > value, and_(t.due_at == value, t.id > ident)))
        else:
            query = query.where(or_(t.received_at < value,
                                    and_(t.received_at == value, t.id < ident)))
    order = (t.due_at, t.id) if by_due else (t.received_at.desc(), t.id.desc())
    result = db.session.execute(query.order_by(*order).limit(limit + 1)).all()
    # Hours for the listed rows only (a page, or an export batch): the calendar in Python
    # costs microseconds per row and keeps the query a plain ordered index scan.
    rows = [TicketRow(*r[:13], hours=_hours(flt.sla, clock, now, r.due_at, r.sla_paused_at))
            for r in result[:limit]]
    next_cursor = None
    if len(result) > limit:
        last = rows[-1]
        next_cursor = _cursor_encode(last.due_at if by_due else last.received_at, last.id)
    return TicketPage(rows, next_cursor)


def iter_tickets(scope: Scope, flt: TicketFilter, batch: int = 2000,
                 now: datetime | None = None) -> Iterator[TicketRow]:
    """Every ticket of the list, fetched page by page (for exports)."""
    now = now or utcnow()
    clock = work_clock() if flt.sla else None
    cursor = None
    while True:
        page = ticket_page(scope, flt, cursor, limit=batch, now=now, clock=clock)
        yield from page.rows
        if page.next_cursor is None:
            return
        cursor = page.next_cursor


__all__ = ["TicketFilter", "TicketPage", "TicketRow", "iter_tickets", "parse_filter", "ticket_page"]
