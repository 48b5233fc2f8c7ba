"""Intake: the one door every channel's message comes through.

``receive`` is idempotent on (channel, external_id), matches the contact,
threads a follow-up into that contact's open ticket on the same channel,
otherwise opens a ticket, routes it, starts its SLA clock and queues the
acknowledgement — all inside the caller's transaction, flushed, not committed.
``process_staged`` does the same for a message ``services.staging`` stored earlier.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, replace
from datetime import datetime
from functools import lru_cache

from flask import current_app
from sqlalchemy import bindparam, or_, select
from sqlalchemy.exc import IntegrityError

from hotline.config import local_zone
from hotline.domain import codes, lifecycle, text
from hotline.domain.errors import ValidationError
from hotline.domain.lifecycle import OPEN_STATUSES, Kind, Status
from hotline.domain.messages import (
    CHANNEL_LABELS_VI,
    Channel,
    ContactHandle,
    IncomingMessage,
    IntakeResult,
    storable,
)
from hotline.domain.sla import Priority
from hotline.extensions import db
from hotline.models import Agency, Area, Contact, Field, InboundMessage, Ticket, utcnow
from hotline.services import attachments as attachment_store
from hotline.services import (area_trees, events, outbox, publication_choice, routing, sla,
                              triage_intake)

MAX_ATTACHMENTS = 10
# Statuses a citizen's new message on the same channel joins instead of opening a ticket.
THREADABLE = OPEN_STATUSES - {Status.RESOLVED}


@dataclass(frozen=True)
class _Clean:
    """A message after validation: nothing is written until all of this succeeded."""

    channel: Channel
    external_id: str
    received_at: datetime
    description: str | None
    title: str | None
    address: str | None
    kind: Kind
    priority: Priority
    field: Field | None
    area: Area | None
    handle: ContactHandle


def receive(msg: IncomingMessage) -> IntakeResult:
    """Store one inbound message exactly once and say what became of it."""
    msg = storable(msg)
    clean = validate(msg)
    found = already_received(clean.channel.value, clean.external_id)
    if found:
        return found
    return _store_retrying(msg, clean, None)


def process_staged(row: InboundMessage, msg: IncomingMessage) -> IntakeResult:
    """Run intake on a staged message: its ledger ``row`` gets the ticket instead of a new row.

    A field or area that disappeared since the message was accepted is dropped (the
    ticket goes to the operators' triage) rather than refusing what was acknowledged.
    """
    msg = storable(msg)  # heals a row staged before the edges scrubbed their input
    try:
        clean = validate(msg)
    except ValidationError as exc:
        if exc.code not in ("unknown_field", "unknown_area"):
            raise
        msg = replace(msg, field_code=None if exc.code == "unknown_field" else msg.field_code,
                      area_code=None if exc.code == "unknown_area" else msg.area_code)
        return process_staged(row, msg)
    return _store_retrying(msg, clean, row)


def _store_retrying(msg: IncomingMessage, clean: _Clean,
                    ledger: InboundMessage | None) -> IntakeResult:
    for attempt in range(3):
        try:
            with db.session.begin_nested():
                return _store(msg, clean, ledger)
        except IntegrityError:
            # Another transaction stored this message (or created this contact) first.
            found = already_received(clean.channel.value, clean.external_id) \
                if ledger is None else None
            if found:
                return found
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def already_received(channel: str, external_id: str) -> IntakeResult | None:
    """What became of an earlier delivery of this message, or ``None`` for a new one."""
    row = db.session.execute(
        _received_statement(), {"channel": channel, "external_id": external_id}).first()
    return redelivery(row.ticket_id, row.ticket_code, row.status_token, row.code) \
        if row is not None else None


@lru_cache(maxsize=1)
def _received_statement():
    # Built once: a redelivery burst (chat platforms resend what they think was missed)
    # must not pay for building an ORM select on every call.
    inbound, tickets = InboundMessage.__table__, Ticket.__table__
    return (select(inbound.c.ticket_id, inbound.c.ticket_code, inbound.c.status_token,
                   tickets.c.code)
            .select_from(inbound.outerjoin(tickets, tickets.c.id == inbound.c.ticket_id))
            .where(inbound.c.channel == bindparam("channel"),
                   inbound.c.external_id == bindparam("external_id")))


def redelivery(ticket_id: int | None, staged_code: str | None, status_token: str | None,
               ticket_code: str | None) -> IntakeResult:
    """The answer to a message received before, from its ledger row (and its ticket's code)."""
    if ticket_id is None:  # staged, not processed yet
        return IntakeResult(ticket_id=None, code=staged_code, created=False, duplicate=True,
                            threaded=False, pending=True, status_token=status_token)
    return IntakeResult(ticket_id=ticket_id, code=ticket_code, created=False, duplicate=True,
                        threaded=False)


def validate(msg: IncomingMessage) -> _Clean:
    """Everything intake checks before writing: a Vietnamese ``ValidationError`` or clean values."""
    clean = check(msg)
    field = None
    if msg.field_code:
        field = db.session.scalar(select(Field).where(Field.code == msg.field_code,
                                                      Field.active.is_(True)))
        if field is None:
            raise ValidationError(f"Lĩnh vực không tồn tại: {msg.field_code}", code="unknown_field")
    area = None
    if msg.area_code:
        area = db.session.scalar(select(Area).where(Area.code == msg.area_code))
        if area is None:
            raise ValidationError(f"Địa bàn không tồn tại: {msg.area_code}", code="unknown_area")
    return replace(clean, field=field, area=area)


def check(msg: IncomingMessage) -> _Clean:
    """The checks that need no database (all but the field and area, left ``None``)."""
    try:
        channel = Channel(msg.channel)
    except ValueError as exc:
        raise ValidationError(f"Kênh tiếp nhận không hợp lệ: {msg.channel}", code="invalid_channel") from exc
    external_id = text.clean_text(msg.external_id, max_length=200, field="mã tin nhắn",
                                  required=True, multiline=False)
    if msg.received_at is None or msg.received_at.tzinfo is None:
        raise ValidationError("Thiếu thời điểm tiếp nhận (có múi giờ).", code="invalid_time")
    max_len = current_app.config["MAX_TEXT_LENGTH"]
    has_other = bool(msg.attachments) or msg.location_only or msg.lat is not None
    description = text.clean_text(msg.text, max_length=max_len, field="nội dung",
                                  required=not has_other)
    title = text.clean_text(msg.title, max_length=300, field="tiêu đề", multiline=False)
    address = text.clean_text(msg.address, max_length=400, field="địa chỉ", multiline=False)
    try:
        kind = Kind(msg.kind or Kind.PHAN_ANH)
    except ValueError as exc:
        raise ValidationError(f"Loại phiếu không hợp lệ: {msg.kind}", code="invalid_kind") from exc
    try:
        priority = Priority(msg.priority or Priority.NORMAL)
    except ValueError as exc:
        raise ValidationError(f"Mức độ ưu tiên không hợp lệ: {msg.priority}",
                              code="invalid_priority") from exc
    if len(msg.attachments) > MAX_ATTACHMENTS:
        raise ValidationError(f"Tối đa {MAX_ATTACHMENTS} tệp đính kèm.", code="too_many_files")
    _check_location(msg.lat, msg.lon)
    c = msg.contact
    handle = ContactHandle(
        name=text.clean_text(c.name, max_length=200, field="họ tên", multiline=False),
        phone=text.normalize_phone(c.phone),
        email=text.normalize_email(c.email),
        telegram_chat_id=_handle(c.telegram_chat_id),
        zalo_user_id=_handle(c.zalo_user_id),
        facebook_psid=_handle(c.facebook_psid),
    )
    return _Clean(channel, external_id, msg.received_at, description, title, address, kind,
                  priority, None, None, handle)


def _handle(value) -> str | None:
    return text.clean_text(str(value), max_length=64, field="định danh", multiline=False) \
        if value not in (None, "") else None


def _check_location(lat, lon) -> None:
    if lat is None and lon is None:
        return
    if lat is None or lon is None:
        raise ValidationError("Vị trí cần đủ vĩ độ và kinh độ.", code="invalid_location")
    if not (-90 <= float(lat) <= 90 and -180 <= float(lon) <= 180):
        raise ValidationError("Toạ độ không hợp lệ.", code="invalid_location")


_HANDLE_COLUMNS = ("telegram_chat_id", "zalo_user_id", "facebook_psid", "phone", "email")


def match_contact(handle: ContactHandle) -> Contact | None:
    """The contact any of these handles belongs to (creating one), or ``None`` if anonymous."""
    if handle.is_empty:
        return None
    conds = [getattr(Contact, col) == getattr(handle, col)
             for col in _HANDLE_COLUMNS if getattr(handle, col)]
    found = db.session.scalars(select(Contact).where(or_(*conds))).all()
    contact = None
    for col in _HANDLE_COLUMNS:  # the chat handle of the channel is the strongest match
        value = getattr(handle, col)
        contact = next((c for c in found if value and getattr(c, col) == value), None)
        if contact:
            break
    if contact is None:
        contact = Contact()
        db.session.add(contact)
    taken = {(col, getattr(c, col)) for c in found if c is not contact for col in _HANDLE_COLUMNS}
    for col in _HANDLE_COLUMNS:
        value = getattr(handle, col)
        if value and not getattr(contact, col) and (col, value) not in taken:
            setattr(contact, col, value)
    if handle.name and not contact.name:
        contact.name = handle.name
    db.session.flush()
    return contact


def _open_ticket_for(contact: Contact | None, channel: Channel, msg: IncomingMessage
                     ) -> Ticket | None:
    if msg.reply_to_code:
        ticket = db.session.scalar(select(Ticket).where(Ticket.code == msg.reply_to_code))
        if ticket is not None:
            return ticket
    if contact is None:
        return None
    if msg.thread_code:
        ticket = db.session.scalar(select(Ticket).where(Ticket.code == msg.thread_code))
        # A code only threads for its own citizen: a stranger's mail opens its own ticket.
        if ticket is not None and ticket.contact_id == contact.id:
            return ticket
    if channel == Channel.EMAIL:
        # A From: header proves nothing: mail joins a ticket only by its code or a reply to
        # our own mail, never by the sender's address alone (staff merge what belongs together).
        return None
    return db.session.scalar(
        select(Ticket).where(Ticket.contact_id == contact.id, Ticket.channel == channel.value,
                             Ticket.status.in_([s.value for s in THREADABLE]))
        .order_by(Ticket.received_at.desc(), Ticket.id.desc()).limit(1))


def _store(msg: IncomingMessage, clean: _Clean, ledger: InboundMessage | None) -> IntakeResult:
    contact = match_contact(clean.handle)
    refused = _refusal(msg, clean, contact)
    if refused is not None:
        _ledger(clean, ledger, refused)
        return IntakeResult(ticket_id=refused.id, code=refused.code, created=False,
                            duplicate=False, threaded=True)
    ticket = None if msg.force_new else _open_ticket_for(contact, clean.channel, msg)
    if ticket is not None:
        _add_to_ticket(ticket, msg, clean)
        created = False
    else:
        ticket = _open_ticket(msg, clean, contact)
        created = True
    _ledger(clean, ledger, ticket)
    return IntakeResult(ticket_id=ticket.id, code=ticket.code, created=created, duplicate=False,
                        threaded=not created)


def _ledger(clean: _Clean, ledger: InboundMessage | None, ticket: Ticket) -> None:
    if ledger is None:
        db.session.add(InboundMessage(channel=clean.channel.value, external_id=clean.external_id,
                                      ticket_id=ticket.id, received_at=clean.received_at))
    else:
        ledger.ticket_id = ticket.id
    db.session.flush()


def _refusal(msg: IncomingMessage, clean: _Clean, contact: Contact | None) -> Ticket | None:
    """A chat or e-mail «KHONG CONG KHAI» about one of the contact's tickets, recorded there."""
    if contact is None:
        return None
    return publication_choice.refusal_message(
        contact, clean.channel, clean.description or clean.title, thread_code=msg.thread_code,
        key=f"refusal:{clean.channel.value}:{clean.external_id}", at=clean.received_at)


def new_code(kind: Kind, received_at: datetime) -> str:
    """A fresh random code whose year is the province's year at ``received_at`` (a report
    made at 00:30 on 1 January, local time, is of the new year although UTC is not yet)."""
    local = received_at.astimezone(local_zone())
    return codes.new_code(kind.value, local)


def reserve_code(kind: Kind, when: datetime) -> str:
    """A ticket code no ticket holds and no staged message has been promised."""
    for _ in range(10):
        code = new_code(kind, when)
        taken = select(Ticket.id).where(Ticket.code == code).union_all(
            select(InboundMessage.id).where(InboundMessage.ticket_code == code))
        if db.session.execute(taken.limit(1)).first() is None:
            return code
    raise RuntimeError("could not find a free ticket code")  # ~impossible: 10⁹ codes a year


def _open_ticket(msg: IncomingMessage, clean: _Clean, contact: Contact | None) -> Ticket:
    description = clean.description or _placeholder(msg)
    title = clean.title or title_from(description)
    area, current_area = area_trees.filed_under(clean.area, clean.received_at)
    clean = replace(clean, area=area)
    ticket = Ticket(
        code=msg.code or reserve_code(clean.kind, clean.received_at), kind=clean.kind.value,
        channel=clean.channel.value, external_id=clean.external_id, contact=contact,
        title=title, description=description,
        search_text=text.fold(" ".join(filter(None, [title, description, clean.address]))),
        field=clean.field, area=clean.area, current_area=current_area, address=clean.address,
        lat=msg.lat, lon=msg.lon, status=Status.NEW.value, priority=clean.priority.value, received_at=clean.received_at,
        consent_publish=msg.consent_publish and not publication_choice.mentions_refusal(
            clean.title, clean.description),
        privacy_requested=msg.privacy_requested,
        created_by_id=msg.created_by_id,
        status_token=msg.status_token or secrets.token_urlsafe(16),
    )
    db.session.add(ticket)
    db.session.flush()
    events.record(ticket, "received", actor_label=clean.channel.value, public=True,
                  to_status=Status.NEW.value, at=clean.received_at,
                  note=f"Tiếp nhận qua kênh {CHANNEL_LABELS_VI[clean.channel]}.",
                  data={"external_id": clean.external_id})
    _store_attachments(ticket, msg)
    sla.start_clock(ticket, clean.received_at)
    if not msg.route:
        # The operator on the line decides; the router is only asked on their screen.
        outbox.queue_message(ticket, "ack", outbox.acknowledgement_text(ticket),
                             key=f"ack:{ticket.code}", contact=contact)
        return ticket
    # Rules name today's units: a ticket on a former unit is routed by its ward of today.
    decision = routing.suggest(field=clean.field, area=current_area or clean.area,
                               kind=clean.kind.value)
    if decision.agency_id is not None:
        assign(ticket, db.session.get(Agency, decision.agency_id), reason=decision.reason,
               rule_id=decision.rule_id, actor_label="router", at=clean.received_at)
    else:
        ticket.routing_reason = decision.reason
        events.record(ticket, "triage", actor_label="router", note=decision.reason,
                      at=clean.received_at)
    # After routing: a suggested field is for the operator to confirm, never a route.
    scope_notice = triage_intake.at_intake(ticket, had_field=clean.field is not None)
    ack = outbox.acknowledgement_text(ticket)
    outbox.queue_message(ticket, "ack", f"{ack}\n{scope_notice}" if scope_notice else ack,
                         key=f"ack:{ticket.code}", contact=contact)
    return ticket


def assign(ticket: Ticket, agency: Agency, *, reason: str, rule_id: int | None = None,
           actor=None, actor_label: str | None = None, at: datetime | None = None) -> None:
    """Hand the ticket to ``agency`` (router's choice or an operator's), with an event.

    ``at`` is when it happened (a late-delivered message is assigned as of its receipt).
    """
    at = at or utcnow()
    previous = ticket.status
    ticket.status = lifecycle.check_transition(ticket.status, Status.ASSIGNED).value
    ticket.agency = agency
    ticket.agency_id = agency.id
    ticket.assignee_id = None
    ticket.assigned_at = at
    ticket.routing_rule_id = rule_id
    ticket.routing_reason = reason
    events.record(ticket, "assigned", actor=actor, actor_label=actor_label, public=True,
                  from_status=previous, to_status=ticket.status, at=at,
                  note=f"Chuyển {agency.name} xử lý.", data={"reason": reason, "rule_id": rule_id})


def _add_to_ticket(ticket: Ticket, msg: IncomingMessage, clean: _Clean) -> None:
    data = {"channel": clean.channel.value, "external_id": clean.external_id}
    if msg.lat is not None:
        ticket.lat, ticket.lon = msg.lat, msg.lon
        events.record(ticket, "location", actor_label="citizen", at=clean.received_at,
                      note=f"Người dân gửi vị trí: {msg.lat}, {msg.lon}.", data=data)
    if clean.description:
        events.record(ticket, "citizen_message", actor_label="citizen", at=clean.received_at,
                      note=clean.description, data=data)
    _store_attachments(ticket, msg)
    if ticket.status == Status.WAITING_CITIZEN:
        ticket.status = lifecycle.check_transition(ticket.status, Status.IN_PROGRESS).value
        sla.resume_clock(ticket, clean.received_at)
        events.record(ticket, "citizen_replied", actor_label="citizen", public=True,
                      from_status=Status.WAITING_CITIZEN.value, to_status=ticket.status,
                      note="Người dân đã bổ sung thông tin; tiếp tục xử lý.")
    outbox.queue_message(ticket, "followup_ack",
                         f"Đã bổ sung thông tin vào phiếu {ticket.code}. Cảm ơn bạn.",
                         key=f"followup:{clean.channel.value}:{clean.external_id}")


def _store_attachments(ticket: Ticket, msg: IncomingMessage) -> None:
    for item in msg.attachments:
        db.session.add(attachment_store.save(ticket, item))


def _placeholder(msg: IncomingMessage) -> str:
    if msg.attachments:
        return "(Người dân gửi hình ảnh, chưa có nội dung.)"
    return "(Người dân gửi vị trí, chưa có nội dung.)"


def title_from(description: str) -> str:
    """A ticket's title when the citizen gave none: the first line, cut at a word."""
    first = description.strip().splitlines()[0]
    return first if len(first) <= 120 else first[:117].rsplit(" ", 1)[0] + "…"
