"""The managers' queue of deadline-extension requests, and their decision.

A request is an ``extension_requested`` event with no later decision event on
the same ticket (``sla_extension`` writes ``extension_approved`` /
``extension_rejected``). The queue is one query over a partial index of those
events; the decision itself is ``hotline.services.sla.decide_extension``, which
moves the due time, writes the event and tells the people concerned. Deciding
a request that was already decided is refused with a clear message, so a
double click never decides twice.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import exists, func, select

from hotline.domain.errors import NotFound, ValidationError
from hotline.extensions import db
from hotline.models import Agency, Ticket, TicketEvent, User
from hotline.services.reports.scope import require_manager
from hotline.services.reports.sqlx import const, in_consts
from hotline.services.reports.workdays import work_clock

REQUESTED = "extension_requested"
DECIDED = ("extension_approved", "extension_rejected", "extension_decided")
PAGE = 50


@dataclass
class ExtensionRequest:
    event_id: int
    requested_at: datetime
    code: str
    title: str
    agency: str | None
    requested_by: str | None
    due_at: datetime | None
    new_due_at: datetime | None
    reason: str
    extra_hours: float | None     # working hours the extension adds
    sla_state: str | None


def _pending_query():
    e = TicketEvent.__table__.alias("e")
    later = TicketEvent.__table__.alias("later")
    t = Ticket.__table__
    decided = exists().where(later.c.ticket_id == e.c.ticket_id,
                             in_consts(later.c.type, DECIDED), later.c.id > e.c.id)
    newer_request = exists().where(later.c.ticket_id == e.c.ticket_id,
                                   later.c.type == const(REQUESTED), later.c.id > e.c.id)
    query = (select(e.c.id, e.c.at, e.c.note, e.c.data, t.c.code, t.c.title, t.c.due_at,
                    t.c.sla_state, Agency.name, User.full_name)
             .select_from(e.join(t, t.c.id == e.c.ticket_id)
                          .outerjoin(Agency.__table__, Agency.id == t.c.agency_id)
                          .outerjoin(User.__table__, User.id == e.c.actor_id))
             .where(e.c.type == const(REQUESTED), ~decided, ~newer_request,
                    t.c.sla_state.is_not(None)))
    return query, e


def pending_extensions(actor: User, after_id: int | None = None,
                       limit: int = PAGE) -> list[ExtensionRequest]:
    """Open requests, oldest first (keyset on the event id)."""
    require_manager(actor)
    query, e = _pending_query()
    if after_id:
        query = query.where(e.c.id > after_id)
    rows = db.session.execute(query.order_by(e.c.id).limit(limit)).all()
    clock = work_clock() if rows else None
    out = []
    for event_id, at, note, data, code, title, due_at, state, agency, who in rows:
        data = data or {}
        new_due = _parse(data.get("new_due_at"))
        extra = None
        if new_due is not None and due_at is not None:
            extra = round((clock.at(new_due) - clock.at(due_at)) / 3600.0, 1)
        out.append(ExtensionRequest(event_id, at, code, title, agency, who, due_at, new_due,
                                    data.get("reason") or note or "", extra, state))
    return out


def pending_count() -> int:
    query, _e = _pending_query()
    return db.session.scalar(select(func.count()).select_from(query.subquery())) or 0


def _parse(value) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if value else None
    except (TypeError, ValueError):
        return None


def decide(actor: User, event_id: int, approve: bool, reason: str | None,
           now: datetime | None = None):
    """Approve or refuse the request ``event_id`` through the SLA service."""
    require_manager(actor)
    event = db.session.get(TicketEvent, event_id)
    if event is None or event.type != REQUESTED:
        raise NotFound("Không tìm thấy đề nghị gia hạn.")
    ticket = db.session.get(Ticket, event.ticket_id)
    query, e = _pending_query()
    if db.session.execute(query.where(e.c.id == event_id)).first() is None:
        raise ValidationError(f"Đề nghị gia hạn phiếu {ticket.code} đã được xử lý trước đó.",
                              code="already_decided")
    from hotline.services import sla
    return sla.decide_extension(ticket, actor, approve, reason, now=now)
