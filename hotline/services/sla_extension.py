"""Deadline extensions: the agency asks, a manager approves or refuses, with reasons.

Both steps are events on the ticket's timeline. An approval moves the due time
(``hotline.domain.sla.extend_deadlines``: the due-soon instant keeps the
policy's margin, the first-response deadline stays), resets the SLA state and
the escalation mark, tells the requester by e-mail and the citizen through
the outbox. A refusal changes no deadline and tells the requester.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select

from hotline.domain import sla as sla_domain
from hotline.domain import text
from hotline.domain.errors import PermissionDenied, ValidationError
from hotline.domain.lifecycle import OPEN_STATUSES
from hotline.extensions import db
from hotline.models import AGENCY_ROLES, Role, SlaPolicy, Ticket, TicketEvent, User, utcnow
from hotline.services import events, outbox
from hotline.services.calendar import get_calendar
from hotline.services.sla import active_policies, policy_for, to_domain

REQUESTED = "extension_requested"
APPROVED = "extension_approved"
REFUSED = "extension_rejected"


@dataclass(frozen=True)
class PendingExtension:
    """The open request on a ticket."""

    event_id: int
    requested_by_id: int | None
    new_due: datetime
    reason: str


def pending_extension(ticket: Ticket) -> PendingExtension | None:
    """The request still waiting for a decision, if any (one per ticket at a time)."""
    last = db.session.execute(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                  TicketEvent.type.in_((REQUESTED, APPROVED, REFUSED)))
        .order_by(TicketEvent.id.desc()).limit(1)).scalar_one_or_none()
    if last is None or last.type != REQUESTED:
        return None
    data = last.data or {}
    return PendingExtension(event_id=last.id, requested_by_id=last.actor_id,
                            new_due=datetime.fromisoformat(data["new_due_at"]),
                            reason=last.note or "")


def request_extension(ticket: Ticket, actor: User, new_due_at: datetime, reason: str, *,
                      now: datetime | None = None) -> TicketEvent:
    """The agency's handler or lead asks for a later due time; managers are told."""
    now = now or utcnow()
    if actor.role not in {r.value for r in AGENCY_ROLES} or not actor.active:
        raise PermissionDenied("Chỉ cán bộ xử lý hoặc lãnh đạo đơn vị được đề nghị gia hạn.")
    if ticket.agency_id is None or actor.agency_id != ticket.agency_id:
        raise PermissionDenied("Phiếu không thuộc đơn vị của bạn.")
    reason = text.clean_text(reason, max_length=2000, field="lý do gia hạn", required=True)
    _check_clock(ticket)
    new_due = _check_new_due(ticket, new_due_at, now)
    if pending_extension(ticket) is not None:
        raise ValidationError("Phiếu đã có đề nghị gia hạn đang chờ duyệt.",
                              code="extension_pending")
    event = events.record(
        ticket, REQUESTED, actor=actor, note=reason, at=now,
        data={"new_due_at": new_due.isoformat(), "due_at": ticket.due_at.isoformat()})
    db.session.flush()
    managers = db.session.execute(
        select(User.id, User.email).where(User.role == Role.MANAGER.value, User.active.is_(True),
                                          User.email.is_not(None))).all()
    outbox.queue_staff_messages(
        outbox.StaffMessage(
            key=f"ext:{event.id}:request:{uid}", purpose="extension_request", recipient=email,
            subject=f"[{ticket.code}] Đề nghị gia hạn xử lý",
            text=(f"{actor.full_name} ({ticket.agency.name if ticket.agency else ''}) đề nghị "
                  f"gia hạn phiếu {ticket.code} «{ticket.title}» từ "
                  f"{outbox.local_time(ticket.due_at)} đến {outbox.local_time(new_due)}.\n"
                  f"Lý do: {reason}"),
            ticket_id=ticket.id, ticket_code=ticket.code)
        for uid, email in managers)
    return event


def decide_extension(ticket: Ticket, actor: User, approve: bool, reason: str | None, *,
                     now: datetime | None = None) -> TicketEvent:
    """A manager approves (the due time moves) or refuses the pending request."""
    now = now or utcnow()
    if actor.role != Role.MANAGER.value or not actor.active:
        raise PermissionDenied("Chỉ lãnh đạo (quản lý) được duyệt đề nghị gia hạn.")
    pending = pending_extension(ticket)
    if pending is None:
        raise ValidationError("Phiếu không có đề nghị gia hạn nào đang chờ duyệt.",
                              code="no_pending_extension")
    reason = text.clean_text(reason, max_length=2000, field="lý do", required=not approve)
    previous_due = ticket.due_at
    if not approve:
        event = events.record(
            ticket, REFUSED, actor=actor, note=reason, at=now,
            data={"request_event_id": pending.event_id,
                  "new_due_at": pending.new_due.isoformat()})
        _tell_requester(ticket, pending, approved=False, reason=reason)
        return event
    _check_clock(ticket)
    if pending.new_due <= ticket.due_at:
        raise ValidationError("Thời hạn đề nghị không còn sau thời hạn hiện tại.",
                              code="invalid_extension")
    calendar = get_calendar()
    deadlines = sla_domain.extend_deadlines(
        calendar,
        sla_domain.Deadlines(first_response_due=ticket.first_response_due or ticket.due_at,
                             due_at=ticket.due_at, due_soon_at=ticket.due_soon_at or ticket.due_at),
        pending.new_due, _policy_of(ticket))
    ticket.due_at = deadlines.due_at
    ticket.due_soon_at = deadlines.due_soon_at
    ticket.escalated_at = None
    if ticket.sla_state != "paused":
        # Going back to on track or due soon: the scan tells people again for the new deadline.
        ticket.sla_state = sla_domain.sla_state(
            now=now, due_at=deadlines.due_at, due_soon_at=deadlines.due_soon_at).value
    event = events.record(
        ticket, APPROVED, actor=actor, note=reason or "Đồng ý gia hạn.", at=now, public=True,
        data={"request_event_id": pending.event_id, "previous_due_at": previous_due.isoformat(),
              "new_due_at": deadlines.due_at.isoformat()})
    _tell_requester(ticket, pending, approved=True, reason=reason)
    outbox.queue_message(
        ticket, "extension",
        f"Phiếu {ticket.code} của bạn được gia hạn thời gian xử lý đến "
        f"{outbox.local_time(deadlines.due_at)}. Tra cứu: {outbox.status_link(ticket)}",
        key=f"ext:{pending.event_id}:citizen")
    return event


def _check_clock(ticket: Ticket) -> None:
    if ticket.status not in {s.value for s in OPEN_STATUSES} or ticket.sla_state is None \
            or ticket.due_at is None:
        raise ValidationError("Phiếu không còn tính thời hạn xử lý; không thể gia hạn.",
                              code="clock_stopped")


def _check_new_due(ticket: Ticket, new_due: datetime, now: datetime) -> datetime:
    if not isinstance(new_due, datetime) or new_due.tzinfo is None:
        raise ValidationError("Thời hạn mới phải là thời điểm có múi giờ.", code="invalid_time")
    new_due = new_due.astimezone(UTC)
    if new_due <= ticket.due_at or new_due <= now:
        raise ValidationError("Thời hạn mới phải sau thời hạn hiện tại "
                              f"({outbox.local_time(ticket.due_at)}).", code="invalid_extension")
    return new_due


def _policy_of(ticket: Ticket) -> sla_domain.SlaPolicy:
    row = db.session.get(SlaPolicy, ticket.sla_policy_id) if ticket.sla_policy_id else None
    if row is not None:
        return to_domain(row, ticket.field.code if row.field_id and ticket.field else None)
    return policy_for(ticket.field, ticket.kind, ticket.priority, active_policies())


def _tell_requester(ticket: Ticket, pending: PendingExtension, *, approved: bool,
                    reason: str | None) -> None:
    requester = db.session.get(User, pending.requested_by_id) if pending.requested_by_id else None
    if requester is None:
        return
    verdict = "được đồng ý" if approved else "không được đồng ý"
    body = (f"Đề nghị gia hạn phiếu {ticket.code} «{ticket.title}» đến "
            f"{outbox.local_time(pending.new_due)} {verdict}.")
    if reason:
        body += f"\nLý do: {reason}"
    outbox.queue_staff_message(
        requester.email, "extension_decision", f"[{ticket.code}] Kết quả đề nghị gia hạn", body,
        key=f"ext:{pending.event_id}:decision:{requester.id}", ticket=ticket)
