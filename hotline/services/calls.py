"""The operator's phone console: a call becomes a ticket, and the PBX says who is calling.

``log_call`` runs one call through ``intake.receive`` (channel ``phone``, a
fresh ``external_id`` made when the form was first shown, so a form sent twice
makes one ticket) and then does what the operator chose: answer directly, or
forward — to the router's suggestion or, with a reason, elsewhere — or just save
it for triage. Everything happens in the caller's one transaction.

``record_call_event`` stores what the PBX reports (caller number, operator
extension) in ``call_events`` so every web process can show it on that
operator's console; ``latest_call_for`` is what the console polls.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import delete, exists, select
from sqlalchemy.orm import aliased
from sqlalchemy.exc import IntegrityError

from hotline.domain import text
from hotline.domain.errors import PermissionDenied, TransitionError, ValidationError
from hotline.domain.lifecycle import Status
from hotline.domain.messages import Channel, ContactHandle, IncomingMessage
from hotline.extensions import db
from hotline.models import (Agency, Area, CallEvent, Field, OutboxMessage, Role, Ticket, User,
                            utcnow)
from hotline.services import handling, intake, outbox

DECISIONS = ("answer", "forward", "save")
CALL_EVENT_TTL = timedelta(days=2)
CALL_EVENT_WINDOW = timedelta(minutes=10)


@dataclass(frozen=True)
class NewCall:
    """The new-call form as the operator sent it."""

    external_id: str
    description: str | None
    decision: str
    phone: str | None = None
    name: str | None = None
    kind: str | None = None
    field_id: int | None = None
    area_id: int | None = None
    address: str | None = None
    priority: str | None = None
    answer: str | None = None
    kb_article_id: int | None = None
    agency_id: int | None = None
    reason: str | None = None
    # The one click the script asks for: published (redacted) unless the caller refuses.
    refuse_publication: bool = False


@dataclass(frozen=True)
class CallResult:
    ticket_id: int
    code: str
    duplicate: bool   # this form had already been sent: nothing new was done


def log_call(actor: User, call: NewCall, *, now: datetime | None = None) -> CallResult:
    """Turn a call into a ticket and carry out the operator's decision."""
    if actor.role != Role.OPERATOR:
        raise PermissionDenied("Chỉ điện thoại viên được ghi nhận cuộc gọi.")
    if call.decision not in DECISIONS:
        raise ValidationError("Vui lòng chọn trả lời trực tiếp hoặc chuyển xử lý.",
                              code="invalid_decision")
    if not (call.external_id or "").startswith("call-"):
        raise ValidationError("Biểu mẫu đã cũ; vui lòng tải lại trang.", code="invalid_form")
    field = _get(Field, call.field_id, "Lĩnh vực không tồn tại.")
    area = _get(Area, call.area_id, "Địa bàn không tồn tại.")
    if call.decision == "answer":
        # Checked before anything is stored, so a missing answer leaves no ticket behind.
        text.clean_text(call.answer, max_length=10_000, field="nội dung trả lời", required=True)
    answering = call.decision == "answer"
    msg = IncomingMessage(
        channel=Channel.PHONE, external_id=call.external_id, received_at=now or utcnow(),
        text=call.description, contact=ContactHandle(name=call.name, phone=call.phone),
        kind=call.kind, priority=call.priority, address=call.address,
        field_code=field.code if field else None, area_code=area.code if area else None,
        # A call the operator answers must not go to an agency, whatever the rules say.
        route=not answering, created_by_id=actor.id, force_new=True,
        consent_publish=not call.refuse_publication)
    result = intake.receive(msg)
    if result.duplicate:
        return CallResult(result.ticket_id, result.code, duplicate=True)
    ticket = db.session.get(Ticket, result.ticket_id)
    if answering:
        if ticket.status != Status.NEW:
            raise TransitionError(
                f"Phiếu đã được tự động chuyển đến {ticket.agency.name} theo quy tắc chung; "
                "không thể trả lời trực tiếp. Hãy chọn «Chuyển xử lý».", current=ticket.status)
        handling.apply_classification(ticket, field_id=call.field_id, area_id=call.area_id)
        handling.answer_directly(actor, ticket, answer=call.answer,
                                 kb_article_id=call.kb_article_id, now=now)
    elif call.decision == "forward":
        routed_as_chosen = (ticket.status == Status.ASSIGNED
                            and call.agency_id in (None, ticket.agency_id))
        if not routed_as_chosen:
            handling.forward(actor, ticket, agency_id=call.agency_id, reason=call.reason,
                             notify=False, now=now)
    _refresh_acknowledgement(ticket)
    return CallResult(ticket.id, ticket.code, duplicate=False)


def _get(model, ident, message: str):
    if not ident:
        return None
    row = db.session.get(model, int(ident))
    if row is None or not row.active:
        raise ValidationError(message, code="unknown_" + model.__tablename__)
    return row


def _refresh_acknowledgement(ticket: Ticket) -> None:
    """Rewrite the not-yet-sent acknowledgement so the citizen gets one message, saying
    what actually happened on the call (forwarded where, or answered)."""
    ack = db.session.scalar(select(OutboxMessage).where(OutboxMessage.key == f"ack:{ticket.code}",
                                                        OutboxMessage.status == "pending"))
    if ack is not None:
        ack.payload = {**ack.payload, "text": outbox.acknowledgement_text(ticket)}


# --- PBX call events -------------------------------------------------------------------------


def record_call_event(*, caller: str | None, extension: str | None, call_id: str | None = None,
                      now: datetime | None = None) -> tuple[CallEvent, bool]:
    """Store a ringing call for an extension; ``(row, created)``.

    A repeated ``call_id`` is a no-op (the PBX may retry).
    """
    extension = text.clean_text(extension, max_length=16, field="số máy lẻ", required=True,
                                multiline=False)
    caller = text.clean_text(caller, max_length=64, field="số gọi đến", required=True,
                             multiline=False)
    call_id = text.clean_text(call_id, max_length=128, field="mã cuộc gọi", multiline=False)
    try:
        phone = text.normalize_phone(caller)
    except ValidationError:
        phone = None  # withheld or odd numbers still ring; the operator types the number
    now = now or utcnow()
    if call_id:
        found = db.session.scalar(select(CallEvent).where(CallEvent.call_id == call_id))
        if found is not None:
            return found, False
    db.session.execute(delete(CallEvent).where(CallEvent.received_at < now - CALL_EVENT_TTL))
    row = CallEvent(extension=extension, caller_raw=caller, caller_phone=phone, call_id=call_id,
                    received_at=now)
    try:
        with db.session.begin_nested():
            db.session.add(row)
    except IntegrityError:
        found = db.session.scalar(select(CallEvent).where(CallEvent.call_id == call_id))
        if found is None:
            raise
        return found, False
    return row, True


def latest_call_for(actor: User, *, after_id: int | None = None,
                    now: datetime | None = None) -> CallEvent | None:
    """The newest call ringing at the operator's extension in the last minutes, if any."""
    if actor.role != Role.OPERATOR or not actor.phone_extension:
        return None
    query = (select(CallEvent)
             .where(CallEvent.extension == actor.phone_extension,
                    CallEvent.received_at >= (now or utcnow()) - CALL_EVENT_WINDOW)
             .order_by(CallEvent.id.desc()).limit(1))
    if after_id:
        query = query.where(CallEvent.id > after_id)
    return db.session.scalar(query)


# --- what the console's pickers read ------------------------------------------------------


def area_children(parent_id: int | None) -> list[tuple[Area, bool]]:
    """Active areas under ``parent_id`` (roots for ``None``), each with whether it has children."""
    child = aliased(Area)
    has_children = exists().where(child.parent_id == Area.id, child.active.is_(True))
    cond = Area.parent_id.is_(None) if parent_id is None else Area.parent_id == parent_id
    rows = db.session.execute(select(Area, has_children).where(cond, Area.active.is_(True))
                              .order_by(Area.name)).all()
    return [(area, bool(flag)) for area, flag in rows]


def area_chain_ids(area: Area | None) -> list[int]:
    """Ids from the root down to ``area`` (from its materialised path)."""
    if area is None:
        return []
    return [int(x) for x in area.path.strip("/").split("/") if x]


def area_picker_levels(area_id: int | None) -> list[tuple[list[Area], int | None]]:
    """The selects of the area picker: roots, then the children of each chosen level.

    Two queries whatever the depth: the chosen area, then every level's options.
    """
    area = db.session.get(Area, area_id) if area_id else None
    chain = area_chain_ids(area)
    parents = [None, *chain]
    cond = Area.parent_id.is_(None)
    if chain:
        cond = cond | Area.parent_id.in_(chain)
    by_parent: dict[int | None, list[Area]] = {}
    for row in db.session.scalars(select(Area).where(cond, Area.active.is_(True))
                                  .order_by(Area.name)):
        by_parent.setdefault(row.parent_id, []).append(row)
    levels = []
    for depth, parent in enumerate(parents):
        options = by_parent.get(parent, [])
        if not options:
            break
        levels.append((options, chain[depth] if depth < len(chain) else None))
    return levels


def suggest_agency(*, field_id: int | None, area_id: int | None, kind: str | None):
    """The router's suggestion for a call being typed: ``(agency or None, reason)``."""
    from hotline.services import routing
    field = db.session.get(Field, field_id) if field_id else None
    area = db.session.get(Area, area_id) if area_id else None
    decision = routing.suggest(field=field, area=area, kind=kind)
    agency = db.session.get(Agency, decision.agency_id) if decision.agency_id else None
    return agency, decision.reason
