"""Which tickets a staff member may see, and the lists they read all day.

Scoping is a service rule, not a template ``if``: every read for a handler or
an agency lead goes through :func:`visible_tickets`, which keeps only tickets
of their own agency — as the lead agency or as a co-handling one. Operators
and managers see every ticket; administrators configure and see none. A
ticket outside the actor's scope is :class:`NotFound`, exactly like a code
that does not exist, so guessing codes tells nothing.

Lists are built for ten million tickets: keyset pagination on an indexed
order, filters that match the indexes (``ix_tickets_agency_inbox``,
``ix_tickets_status_received``, ``ix_tickets_received``, the pg_trgm index on
``search_text``), and a fixed number of queries per page whatever its size.
"""
from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal

from sqlalchemy import Select, and_, false, func, or_, select, true, tuple_, union
from sqlalchemy.orm import defer, joinedload

from hotline.domain import codes, text
from hotline.domain.calendar import WorkingCalendar
from hotline.domain.errors import NotFound, PermissionDenied, ValidationError
from hotline.domain.lifecycle import Status
from hotline.domain.sla import remaining_working_time
from hotline.extensions import db
from hotline.models import (AGENCY_ROLES, Area, Attachment, Contact, Role, Ticket,
                            TicketCohandler, TicketEvent, User, utcnow)

# Roles that see every ticket (read); handlers and leads see their agency's.
ALL_TICKET_ROLES = frozenset({Role.OPERATOR, Role.MANAGER})
# Statuses an agency still has work on: its inbox.
AGENCY_OPEN = (Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING_CITIZEN, Status.RESOLVED,
               Status.REOPENED)
# The operators' triage queue: unrouted tickets and tickets agencies returned.
TRIAGE = (Status.NEW, Status.RETURNED)
PAGE_SIZE = 50
MAX_PAGE_SIZE = 200
_MAX_SEARCH_WORDS = 8


# --- scope -----------------------------------------------------------------------------------


def sees_all(actor: User) -> bool:
    return actor.role in ALL_TICKET_ROLES


def is_agency_staff(actor: User) -> bool:
    return actor.role in AGENCY_ROLES and actor.agency_id is not None


def cohandled_ticket_ids(agency_id: int) -> Select:
    """Ids of the tickets ``agency_id`` co-handles (a subquery)."""
    return select(TicketCohandler.ticket_id).where(TicketCohandler.agency_id == agency_id)


def scope_condition(actor: User):
    """The WHERE clause that limits tickets to what ``actor`` may see."""
    if sees_all(actor):
        return true()
    if is_agency_staff(actor):
        return or_(Ticket.agency_id == actor.agency_id,
                   Ticket.id.in_(cohandled_ticket_ids(actor.agency_id)))
    return false()


def visible_tickets(actor: User) -> Select:
    """``SELECT tickets`` limited to the actor's scope; add filters and an order to it."""
    return select(Ticket).where(scope_condition(actor))


def get_ticket_for(actor: User, code: str, *, for_update: bool = False) -> Ticket:
    """The ticket with this code if ``actor`` may see it; ``NotFound`` otherwise.

    ``for_update`` locks the row (PostgreSQL) so two people acting on one
    ticket at once are serialised and the second sees the first one's status.
    """
    normalised = codes.parse_code(code)
    if normalised is None:
        raise NotFound("Không tìm thấy phiếu.")
    query = visible_tickets(actor).where(Ticket.code == normalised)
    if for_update:
        query = query.with_for_update(of=Ticket)
    else:
        query = query.options(*_row_loads())
    ticket = db.session.scalar(query)
    if ticket is None:
        raise NotFound("Không tìm thấy phiếu.")
    return ticket


def require_reader(actor: User) -> None:
    """Operators' lists (triage, all tickets) are for operators and managers."""
    if not sees_all(actor):
        raise PermissionDenied("Chỉ điện thoại viên và lãnh đạo được xem danh sách này.")


# --- lists ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class TicketFilter:
    """What a list is narrowed to. Every field is optional."""

    status: str | None = None
    field_id: int | None = None
    area_id: int | None = None
    agency_id: int | None = None
    overdue_only: bool = False
    search: str | None = None


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: the last row's sort key and id."""

    key: datetime
    id: int

    def encode(self) -> str:
        raw = f"{self.key.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str | None) -> Cursor | None:
        """The cursor in ``value``; ``None`` for none; ``ValidationError`` for garbage."""
        if not value:
            return None
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
            key, _, ident = raw.partition("|")
            when = datetime.fromisoformat(key)
            if when.tzinfo is None:
                raise ValueError("naive")
            return cls(when, int(ident))
        except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
            raise ValidationError("Liên kết trang không hợp lệ; hãy tải lại danh sách.",
                                  code="invalid_cursor") from exc


@dataclass
class Page:
    """One page of tickets, the cursor of the next, and the co-handling rows of its tickets."""

    rows: list[Ticket]
    next_cursor: str | None
    cohandlers: dict[int, list[TicketCohandler]] = field(default_factory=dict)


Order = Literal["due", "recent", "oldest"]


def _row_loads():
    # Many-to-one joins in the same SELECT: a page costs one query whatever its size.
    return (joinedload(Ticket.field), joinedload(Ticket.area), joinedload(Ticket.agency),
            joinedload(Ticket.contact), joinedload(Ticket.assignee))


# Long texts no list shows: not fetched for a page of rows (touching one raises, so a
# template that starts to show one fails its tests instead of querying once per row).
_LIST_DEFERRED = (Ticket.description, Ticket.search_text, Ticket.public_search_text,
                  Ticket.public_summary, Ticket.public_result, Ticket.rating_comment)


def _list_loads():
    return (*_row_loads(), *(defer(col, raiseload=True) for col in _LIST_DEFERRED))


def _like_escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_condition(query: str):
    """Match a ticket code, a caller's phone number, or every folded word of the text."""
    raw = query.strip()
    code = codes.parse_code(raw)
    if code:
        return Ticket.code == code
    digits = re.sub(r"\D", "", raw)
    if len(digits) >= 9 and len(digits) >= len(raw.replace(" ", "")) - 2:
        try:
            phone = text.normalize_phone(raw)
        except ValidationError:
            phone = None
        if phone:
            return Ticket.contact_id.in_(select(Contact.id).where(Contact.phone == phone))
    # One-letter words match almost everything; a lone digit ("số 3") still narrows.
    words = [w for w in text.fold(raw).split() if len(w) >= 2 or w.isdigit()][:_MAX_SEARCH_WORDS]
    if not words:
        return true()
    # Each word is its own LIKE: "den duong phu rieng" finds "đường Phú Riềng … đèn".
    return and_(*(Ticket.search_text.like(f"%{_like_escape(w)}%", escape="\\") for w in words))


def overdue_condition(now: datetime):
    """Overdue now: marked by the SLA scan, or past due since its last run."""
    return or_(Ticket.sla_state == "overdue",
               and_(Ticket.sla_state.in_(("on_track", "due_soon")), Ticket.due_at <= now))


def area_subtree_ids(area_id: int) -> Select:
    """Ids of an area and everything under it, by the materialised path (one index range)."""
    path = select(Area.path).where(Area.id == area_id).scalar_subquery()
    return select(Area.id).where(Area.path.like(path + "%"))


def _filtered(query: Select, flt: TicketFilter, now: datetime) -> Select:
    if flt.status:
        query = query.where(Ticket.status == flt.status)
    if flt.field_id:
        query = query.where(Ticket.field_id == flt.field_id)
    if flt.area_id:
        query = query.where(Ticket.area_id.in_(area_subtree_ids(flt.area_id)))
    if flt.agency_id:
        query = query.where(Ticket.agency_id == flt.agency_id)
    if flt.overdue_only:
        query = query.where(overdue_condition(now))
    if flt.search and flt.search.strip():
        query = query.where(search_condition(flt.search))
    return query


def _paged(query: Select, order: Order, cursor: Cursor | None, limit: int) -> Page:
    limit = max(1, min(int(limit), MAX_PAGE_SIZE))
    if order == "due":
        col, desc = Ticket.due_at, False
    elif order == "oldest":
        col, desc = Ticket.received_at, False
    else:
        col, desc = Ticket.received_at, True
    if cursor is not None:
        here, there = tuple_(col, Ticket.id), (cursor.key, cursor.id)
        query = query.where(here < there if desc else here > there)
    order = (col.desc() if desc else col, Ticket.id.desc() if desc else Ticket.id)
    # Two steps: the keyset walk picks the page's ids (a plain index walk), then one query
    # loads those rows with their joins. Planning the walk and the joins as one statement
    # costs PostgreSQL ~10 ms on every request (a read-only request ends with ROLLBACK,
    # which drops psycopg's prepared statements, so nothing is planned only once).
    ids = list(db.session.scalars(query.with_only_columns(Ticket.id).order_by(*order)
                                  .limit(limit + 1)))
    rows = list(db.session.scalars(select(Ticket).options(*_list_loads())
                                   .where(Ticket.id.in_(ids)).order_by(*order)).unique()) \
        if ids else []
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        key = getattr(last, col.key)
        if key is not None:
            next_cursor = Cursor(key, last.id).encode()
    return Page(rows=rows, next_cursor=next_cursor, cohandlers=cohandlers_of(rows))


def cohandlers_of(tickets: list[Ticket]) -> dict[int, list[TicketCohandler]]:
    """Co-handling rows of these tickets, by ticket id, in one query (none for an empty list)."""
    if not tickets:
        return {}
    out: dict[int, list[TicketCohandler]] = {}
    rows = db.session.scalars(
        select(TicketCohandler).options(joinedload(TicketCohandler.agency))
        .where(TicketCohandler.ticket_id.in_([t.id for t in tickets]))
        .order_by(TicketCohandler.id))
    for row in rows:
        out.setdefault(row.ticket_id, []).append(row)
    return out


def agency_inbox(actor: User, flt: TicketFilter = TicketFilter(), *, cursor: Cursor | None = None,
                 limit: int = PAGE_SIZE, now: datetime | None = None) -> Page:
    """Open tickets of the actor's agency (lead or co-handling), by due time.

    The lead agency's tickets and the co-handled ones are two keyset walks,
    each stopping after one page (``ix_tickets_agency_open_due`` and the
    co-handlers index); the page is the first rows of their union. One OR over
    both would make PostgreSQL read every open ticket of a busy agency.
    """
    if not is_agency_staff(actor):
        raise PermissionDenied("Chỉ cán bộ của cơ quan xử lý có hộp phiếu.")
    now = now or utcnow()
    statuses = [s.value for s in AGENCY_OPEN]
    if flt.status and flt.status not in statuses:
        raise ValidationError("Trạng thái lọc không hợp lệ.", code="invalid_filter")
    limit = max(1, min(int(limit), MAX_PAGE_SIZE))

    def walk(query: Select):
        query = _filtered(query.where(Ticket.status.in_(statuses)), flt, now)
        if cursor is not None:
            query = query.where(tuple_(Ticket.due_at, Ticket.id) > (cursor.key, cursor.id))
        return query.order_by(Ticket.due_at, Ticket.id).limit(limit + 1).subquery()

    lead = walk(select(Ticket.id).where(Ticket.agency_id == actor.agency_id))
    shared = walk(select(Ticket.id)
                  .join(TicketCohandler, TicketCohandler.ticket_id == Ticket.id)
                  .where(TicketCohandler.agency_id == actor.agency_id))
    ids = union(select(lead.c.id), select(shared.c.id))
    return _paged(select(Ticket).where(Ticket.id.in_(ids)), "due", None, limit)


def approvals_queue(actor: User, *, cursor: Cursor | None = None, limit: int = PAGE_SIZE) -> Page:
    """Results of the lead's agency waiting for approval, oldest due first."""
    if actor.role != Role.AGENCY_LEAD or actor.agency_id is None:
        raise PermissionDenied("Chỉ lãnh đạo đơn vị duyệt kết quả.")
    query = select(Ticket).where(Ticket.agency_id == actor.agency_id,
                                 Ticket.status == Status.RESOLVED.value)
    return _paged(query, "due", cursor, limit)


def triage_queue(actor: User, *, cursor: Cursor | None = None, limit: int = PAGE_SIZE,
                 search: str | None = None) -> Page:
    """Tickets no agency holds: unrouted new ones and returned ones, first come first served."""
    require_reader(actor)
    query = select(Ticket).where(Ticket.status.in_([s.value for s in TRIAGE]))
    if search and search.strip():
        query = query.where(search_condition(search))
    return _paged(query, "oldest", cursor, limit)


def all_tickets(actor: User, flt: TicketFilter = TicketFilter(), *, cursor: Cursor | None = None,
                limit: int = PAGE_SIZE, now: datetime | None = None) -> Page:
    """Every ticket (operators, managers), newest first, with the same filters as the inbox."""
    require_reader(actor)
    return _paged(_filtered(visible_tickets(actor), flt, now or utcnow()), "recent", cursor, limit)


# --- one ticket ------------------------------------------------------------------------------


@dataclass
class TicketDetail:
    """Everything the ticket page shows, read in a fixed number of queries."""

    ticket: Ticket
    events: list[TicketEvent]
    attachments: list[Attachment]
    cohandlers: list[TicketCohandler]
    area_chain: list[Area]
    duplicates: list[Ticket]
    merged_into: Ticket | None
    created_by: User | None  # the operator who logged the call


def ticket_detail(actor: User, code: str) -> TicketDetail:
    """The ticket page's data for ``actor`` (``NotFound`` outside their scope)."""
    ticket = get_ticket_for(actor, code)
    events = list(db.session.scalars(
        select(TicketEvent).options(joinedload(TicketEvent.actor))
        .where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.at, TicketEvent.id)))
    attachments = list(db.session.scalars(
        select(Attachment).where(Attachment.ticket_id == ticket.id).order_by(Attachment.id)))
    cohandlers = cohandlers_of([ticket]).get(ticket.id, [])
    chain: list[Area] = []
    if ticket.area is not None:
        ids = [int(x) for x in ticket.area.path.strip("/").split("/") if x]
        by_id = {a.id: a for a in db.session.scalars(select(Area).where(Area.id.in_(ids)))}
        chain = [by_id[i] for i in ids if i in by_id]
    duplicates = list(db.session.scalars(
        select(Ticket).options(joinedload(Ticket.contact))
        .where(Ticket.merged_into_id == ticket.id).order_by(Ticket.id)))
    merged_into = None
    if ticket.merged_into_id:
        merged_into = db.session.scalar(
            visible_tickets(actor).where(Ticket.id == ticket.merged_into_id))
    created_by = db.session.get(User, ticket.created_by_id) if ticket.created_by_id else None
    return TicketDetail(ticket, events, attachments, cohandlers, chain, duplicates, merged_into,
                        created_by)


def attachment_for(actor: User, code: str, attachment_id: int) -> Attachment:
    """An attachment of a ticket the actor may see (``NotFound`` otherwise)."""
    ticket = get_ticket_for(actor, code)
    row = db.session.scalar(select(Attachment).where(Attachment.id == attachment_id,
                                                     Attachment.ticket_id == ticket.id))
    if row is None or row.storage_key is None:
        raise NotFound("Không tìm thấy tệp.")
    return row


# --- the caller ------------------------------------------------------------------------------


@dataclass
class CallerInfo:
    """Who is calling, as far as we know them: contact and recent tickets."""

    phone: str
    contact: Contact | None
    tickets: list[Ticket]
    last_area: Area | None
    last_address: str | None


def caller_lookup(actor: User, phone: str, *, limit: int = 5) -> CallerInfo:
    """The contact with this phone (E.164-normalised) and their most recent tickets."""
    require_reader(actor)
    e164 = text.normalize_phone(phone)
    if e164 is None:
        raise ValidationError("Vui lòng nhập số điện thoại.", code="required")
    contact = db.session.scalar(select(Contact).where(Contact.phone == e164))
    tickets: list[Ticket] = []
    if contact is not None:
        tickets = list(db.session.scalars(
            select(Ticket).options(joinedload(Ticket.area), joinedload(Ticket.agency),
                                   joinedload(Ticket.field))
            .where(Ticket.contact_id == contact.id)
            .order_by(Ticket.received_at.desc(), Ticket.id.desc()).limit(limit)))
    last = next((t for t in tickets if t.area is not None), None)
    return CallerInfo(phone=e164, contact=contact, tickets=tickets,
                      last_area=last.area if last else None,
                      last_address=last.address if last else None)


# --- SLA as the screens show it ------------------------------------------------------------


def working_time_left(ticket: Ticket, calendar: WorkingCalendar, now: datetime) -> timedelta | None:
    """Working time until the due time (negative once overdue); ``None`` when no clock runs.

    A paused ticket shows what was left when it was paused: its clock stands still.
    """
    if ticket.due_at is None or ticket.sla_state is None:
        return None
    at = ticket.sla_paused_at or now
    return remaining_working_time(calendar, at, ticket.due_at)


def my_recent_calls(actor: User, *, limit: int = 8, now: datetime | None = None) -> list[Ticket]:
    """Tickets this operator logged today (last 24 h), newest first: the console's short memory."""
    if actor.role != Role.OPERATOR:
        return []
    since = (now or utcnow()) - timedelta(days=1)
    # Bounded by received_at, so the received index is walked for one day at most.
    return list(db.session.scalars(
        select(Ticket).options(joinedload(Ticket.agency))
        .where(Ticket.received_at >= since, Ticket.created_by_id == actor.id)
        .order_by(Ticket.received_at.desc(), Ticket.id.desc()).limit(limit)))


def last_event_notes(ticket_ids: list[int], event_type: str) -> dict[int, TicketEvent]:
    """The latest event of ``event_type`` per ticket, in one query (e.g. why it was returned)."""
    if not ticket_ids:
        return {}
    out: dict[int, TicketEvent] = {}
    for ev in db.session.scalars(
            select(TicketEvent).where(TicketEvent.ticket_id.in_(ticket_ids),
                                      TicketEvent.type == event_type).order_by(TicketEvent.id)):
        out[ev.ticket_id] = ev
    return out


def inbox_counts(actor: User, *, now: datetime | None = None) -> dict[str, int]:
    """How many of the agency's open tickets are overdue, due soon, waiting, not yet accepted.

    Three aggregates that read indexes only (``ix_tickets_agency_inbox`` by status,
    ``ix_tickets_agency_sla`` by SLA state, the co-handlers index), not the tickets.
    """
    if not is_agency_staff(actor):
        return {}
    now = now or utcnow()
    statuses = [s.value for s in AGENCY_OPEN]
    overdue = overdue_condition(now)
    due_soon = and_(Ticket.sla_state == "due_soon", Ticket.due_at > now)
    by_status = dict(db.session.execute(
        select(Ticket.status, func.count())
        .where(Ticket.agency_id == actor.agency_id, Ticket.status.in_(statuses))
        .group_by(Ticket.status)).all())
    # A running or paused clock means an open ticket (the clock stops when the work is done).
    late, soon = db.session.execute(
        select(func.count().filter(overdue), func.count().filter(due_soon))
        .where(Ticket.agency_id == actor.agency_id, Ticket.sla_state.is_not(None))).one()
    co_open, co_late, co_soon = db.session.execute(
        select(func.count(), func.count().filter(overdue), func.count().filter(due_soon))
        .select_from(TicketCohandler).join(Ticket, Ticket.id == TicketCohandler.ticket_id)
        .where(TicketCohandler.agency_id == actor.agency_id, Ticket.status.in_(statuses),
               Ticket.agency_id != actor.agency_id)).one()
    return {
        "open": sum(by_status.values()) + co_open,
        "overdue": late + co_late,
        "due_soon": soon + co_soon,
        "waiting": by_status.get(Status.WAITING_CITIZEN.value, 0),
        "new": by_status.get(Status.ASSIGNED.value, 0) + by_status.get(Status.REOPENED.value, 0),
        "resolved": by_status.get(Status.RESOLVED.value, 0),
        "cohandled": co_open,
    }
