"""What staff do to a ticket: operators route, answer, merge and reject; agencies accept,
return, ask the citizen, note, request more time, resolve; leads approve; co-handling
agencies add their part.

Every action checks the actor's role and agency (``PermissionDenied``), moves
the status only through ``lifecycle.check_transition`` (``TransitionError``
with a Vietnamese message), writes one timeline event with actor and time
(two when a result is resolved and approved in one step), queues the
citizen's message in the outbox when the step concerns them, and flushes.
The caller commits.
"""
from __future__ import annotations

from datetime import datetime

from flask import current_app
from sqlalchemy import select

from hotline.domain import lifecycle, text
from hotline.domain import sla as sla_domain
from hotline.domain.errors import NotFound, PermissionDenied, TransitionError, ValidationError
from hotline.domain.lifecycle import LABELS_VI, Kind, Status
from hotline.domain.messages import IncomingAttachment
from hotline.domain.routing import RoutingDecision
from hotline.extensions import db
from hotline.models import (AGENCY_ROLES, Agency, Area, Field, KbArticle, Role, Ticket,
                            TicketCohandler, TicketEvent, User, utcnow)
from hotline.services import attachments as attachment_store
from hotline.services import events, intake, lead_fallback, outbox, routing, sla
from hotline.services.tickets import get_ticket_for

# Statuses in which an agency is working on the ticket (co-handlers may add their part).
ACTIVE = frozenset({Status.ASSIGNED, Status.IN_PROGRESS, Status.WAITING_CITIZEN, Status.REOPENED})
REJECT_REASONS = {
    "spam": "Tin rác, quấy rối hoặc không có nội dung",
    "out_of_scope": "Không thuộc phạm vi tiếp nhận của Tổng đài 1022",
    "other": "Lý do khác",
}
# What an operator tells a citizen whose complaint or denunciation goes its own legal way.
OUT_OF_SCOPE_DEFAULT = (
    "Nội dung khiếu nại, tố cáo được giải quyết theo Luật Khiếu nại và Luật Tố cáo, không qua "
    "Tổng đài 1022. Đề nghị ông/bà gửi đơn đến Ban Tiếp công dân tỉnh hoặc cơ quan có thẩm quyền "
    "giải quyết.")
FORWARDABLE = (Status.NEW, Status.RETURNED, Status.ASSIGNED, Status.REOPENED)
MAX_FILES = 10
_NOTE = 4000


def _now(now: datetime | None) -> datetime:
    return now or utcnow()


def _clean(value: str | None, field: str, *, required: bool = True, max_length: int = _NOTE,
           multiline: bool = True) -> str | None:
    return text.clean_text(value, max_length=max_length, field=field, required=required,
                           multiline=multiline)


def _long_text(value: str | None, field: str) -> str:
    return text.clean_text(value, max_length=current_app.config["MAX_TEXT_LENGTH"], field=field,
                           required=True)


def _move(ticket: Ticket, target: Status, type_: str, *, actor: User, now: datetime,
          note: str | None = None, public: bool = False, data: dict | None = None) -> TicketEvent:
    previous = ticket.status
    ticket.status = lifecycle.check_transition(previous, target).value
    return events.record(ticket, type_, actor=actor, from_status=previous, to_status=ticket.status,
                         note=note, public=public, data=data, at=now)


def _status_is(ticket: Ticket, allowed, action: str) -> None:
    if Status(ticket.status) not in allowed:
        raise TransitionError(
            f"Không thể {action} khi phiếu đang ở trạng thái «{LABELS_VI[Status(ticket.status)]}».",
            current=ticket.status)


# --- who may do what ---------------------------------------------------------------------


def _require_operator(actor: User) -> None:
    if actor.role != Role.OPERATOR:
        raise PermissionDenied("Chỉ điện thoại viên được thực hiện thao tác này.")


def _is_lead_agency_staff(actor: User, ticket: Ticket) -> bool:
    return (actor.role in AGENCY_ROLES and actor.agency_id is not None
            and actor.agency_id == ticket.agency_id)


def _require_lead_agency(actor: User, ticket: Ticket) -> None:
    if not _is_lead_agency_staff(actor, ticket):
        raise PermissionDenied(
            "Chỉ cán bộ của cơ quan chủ trì xử lý phiếu được thực hiện thao tác này.")


def _require_agency_lead(actor: User, ticket: Ticket) -> None:
    if actor.role == Role.AGENCY_LEAD and actor.agency_id == ticket.agency_id:
        return
    # An agency without an active lead would stall: its approvals fall to the managers.
    if lead_fallback.may_approve_as_manager(actor, ticket):
        return
    raise PermissionDenied("Chỉ lãnh đạo cơ quan chủ trì được duyệt kết quả.")


def _own_cohandler_row(actor: User, ticket: Ticket) -> TicketCohandler | None:
    if actor.role not in AGENCY_ROLES or actor.agency_id is None:
        return None
    return db.session.scalar(select(TicketCohandler).where(
        TicketCohandler.ticket_id == ticket.id, TicketCohandler.agency_id == actor.agency_id))


def available_actions(actor: User, ticket: Ticket,
                      cohandlers: list[TicketCohandler] | None = None) -> frozenset[str]:
    """The actions the ticket page offers ``actor`` now (the services check again)."""
    status = Status(ticket.status)
    out: set[str] = set()
    if actor.role == Role.OPERATOR:
        out.add("note")
        if ticket.consent_publish:
            out.add("no_publish")  # the citizen calls to refuse publication
        if status in (Status.NEW, Status.RETURNED):
            out |= {"classify", "answer", "merge", "reject", "forward"}
        elif status in (Status.ASSIGNED, Status.REOPENED):
            out.add("forward")
        if status in ACTIVE and ticket.agency_id:
            out.add("cohandler_add")
    elif _is_lead_agency_staff(actor, ticket):
        out.add("note")
        if status in (Status.ASSIGNED, Status.REOPENED):
            out.add("accept")
        if status in (Status.ASSIGNED, Status.IN_PROGRESS):
            out.add("return")
        if status == Status.IN_PROGRESS:
            out |= {"ask", "resolve"}
        if status == Status.WAITING_CITIZEN:
            out.add("citizen_reply")
        if status in ACTIVE and ticket.due_at is not None:
            out.add("extension")
        if status in ACTIVE:
            out.add("cohandler_add")
        if actor.role == Role.AGENCY_LEAD and status == Status.RESOLVED:
            out |= {"approve", "send_back"}
    elif actor.role in AGENCY_ROLES and actor.agency_id is not None:
        rows = cohandlers if cohandlers is not None else []
        if any(r.agency_id == actor.agency_id for r in rows):
            out.add("note")
            if status in ACTIVE:
                out.add("cohandler_part")
    return frozenset(out)


# --- citizen-facing messages ---------------------------------------------------------------


def _notify(ticket: Ticket, purpose: str, body: str, key: str) -> None:
    outbox.queue_message(ticket, purpose, f"{body}\nTra cứu: {outbox.status_link(ticket)}", key=key)


def _notify_result(ticket: Ticket) -> None:
    body = f"Tổng đài 1022: Phiếu {ticket.code} đã có kết quả xử lý:\n{ticket.result}"
    _notify(ticket, "result", body, key=f"result:{ticket.code}:{ticket.reopened_count}")
    # Citizens whose duplicate reports were merged into this ticket hear the result too.
    for dup in db.session.scalars(select(Ticket).where(Ticket.merged_into_id == ticket.id)):
        outbox.queue_message(
            dup, "result",
            f"Tổng đài 1022: Phản ánh {dup.code} của ông/bà (gộp vào phiếu {ticket.code}) "
            f"đã có kết quả xử lý:\n{ticket.result}\nTra cứu: {outbox.status_link(ticket)}",
            key=f"result:{ticket.code}:{ticket.reopened_count}:{dup.code}")


# --- operator ------------------------------------------------------------------------------


def classify(actor: User, ticket: Ticket, *, field_id: int | None, area_id: int | None,
             kind: str | None = None, priority: str | None = None,
             now: datetime | None = None) -> bool:
    """Set the field, area, kind and priority of an unrouted ticket. Returns whether it changed.

    The SLA deadlines are recomputed from the receipt time when the policy inputs change.
    """
    _require_operator(actor)
    _status_is(ticket, (Status.NEW, Status.RETURNED), "phân loại lại")
    changes = apply_classification(ticket, field_id=field_id, area_id=area_id, kind=kind,
                                   priority=priority)
    if changes:
        events.record(ticket, "classified", actor=actor, at=_now(now), data=changes,
                      note="Phân loại: " + ", ".join(_describe_changes(ticket, changes)) + ".")
    return bool(changes)


def apply_classification(ticket: Ticket, *, field_id=None, area_id=None, kind=None,
                         priority=None) -> dict:
    """Set what is given and differs; returns the changes (no event: the caller records one)."""
    field = None
    if field_id:
        field = db.session.get(Field, int(field_id))
        if field is None or not field.active:
            raise ValidationError("Lĩnh vực không tồn tại.", code="unknown_field")
    area = None
    if area_id:
        area = db.session.get(Area, int(area_id))
        if area is None or not area.active:
            raise ValidationError("Địa bàn không tồn tại.", code="unknown_area")
    if kind is not None:
        try:
            kind = Kind(kind).value
        except ValueError as exc:
            raise ValidationError("Loại phiếu không hợp lệ.", code="invalid_kind") from exc
    if priority is not None:
        try:
            priority = sla_domain.Priority(priority).value
        except ValueError as exc:
            raise ValidationError("Mức độ ưu tiên không hợp lệ.", code="invalid_priority") from exc
    changes: dict = {}
    if field is not None and field.id != ticket.field_id:
        changes["field_id"] = [ticket.field_id, field.id]
        ticket.field, ticket.field_id = field, field.id
    if area is not None and area.id != ticket.area_id:
        changes["area_id"] = [ticket.area_id, area.id]
        ticket.area, ticket.area_id = area, area.id
    if kind is not None and kind != ticket.kind:
        changes["kind"] = [ticket.kind, kind]
        ticket.kind = kind
    if priority is not None and priority != ticket.priority:
        changes["priority"] = [ticket.priority, priority]
        ticket.priority = priority
    policy_inputs = changes.keys() & {"field_id", "kind", "priority"}
    if policy_inputs and ticket.sla_state not in (None, "paused"):
        sla.start_clock(ticket, ticket.received_at)
    return changes


def _describe_changes(ticket: Ticket, changes: dict) -> list[str]:
    out = []
    if "field_id" in changes:
        out.append(f"lĩnh vực «{ticket.field.name}»")
    if "area_id" in changes:
        out.append(f"địa bàn «{ticket.area.name}»")
    if "kind" in changes:
        out.append(f"loại «{lifecycle.KIND_LABELS_VI[Kind(ticket.kind)]}»")
    if "priority" in changes:
        out.append(f"mức độ «{ticket.priority}»")
    return out


def suggestion_for(ticket: Ticket) -> RoutingDecision:
    """The router's choice for this ticket now (never an agency that returned it)."""
    return routing.suggest(field=ticket.field, area=ticket.current_area or ticket.area,
                           kind=ticket.kind, exclude_agency_ids=ticket.excluded_agency_ids or [])


def forward(actor: User, ticket: Ticket, *, agency_id: int | None = None,
            reason: str | None = None, notify: bool = True, now: datetime | None = None) -> Agency:
    """Send the ticket to an agency: the router's suggestion, or another one with a reason.

    ``notify=False`` when the caller tells the citizen itself (a call logged just now,
    whose acknowledgement already names the agency).
    """
    _require_operator(actor)
    _status_is(ticket, FORWARDABLE, "chuyển phiếu đến cơ quan xử lý")
    decision = suggestion_for(ticket)
    chosen_id = int(agency_id) if agency_id else decision.agency_id
    if chosen_id is None:
        raise ValidationError("Không có gợi ý cơ quan xử lý; vui lòng chọn cơ quan.",
                              code="agency_required")
    agency = db.session.get(Agency, chosen_id)
    if agency is None or not agency.active:
        raise ValidationError("Cơ quan xử lý không tồn tại.", code="unknown_agency")
    if ticket.status == Status.ASSIGNED and ticket.agency_id == agency.id:
        raise ValidationError(f"Phiếu đang ở {agency.name}; không cần chuyển lại.",
                              code="already_assigned")
    reason = _clean(reason, "lý do", required=False, max_length=400, multiline=False)
    if decision.agency_id is not None and agency.id != decision.agency_id:
        if not reason:
            raise ValidationError("Vui lòng ghi lý do chọn cơ quan khác với gợi ý.",
                                  code="reason_required", field="reason")
        suggested = db.session.get(Agency, decision.agency_id)
        why = f"Tổng đài viên chọn khác gợi ý ({suggested.name}): {reason}"
        rule_id = None
    elif decision.agency_id is None:
        why = reason or "Tổng đài viên chọn cơ quan xử lý (không có quy tắc phù hợp)."
        rule_id = None
    else:
        why = decision.reason + (f" Ghi chú: {reason}" if reason else "")
        rule_id = decision.rule_id
    intake.assign(ticket, agency, reason=why[:400], rule_id=rule_id, actor=actor)
    if not notify:
        return agency
    due = f" Hạn xử lý: {outbox.local_time(ticket.due_at)}." if ticket.due_at else ""
    _notify(ticket, "assigned",
            f"Tổng đài 1022: Phiếu {ticket.code} đã được chuyển đến {agency.name} xử lý.{due}",
            key=f"assigned:{ticket.code}:{agency.id}:{ticket.returned_count}:{ticket.reopened_count}")
    return agency


def answer_directly(actor: User, ticket: Ticket, *, answer: str, kb_article_id: int | None = None,
                    now: datetime | None = None) -> None:
    """The operator answered the citizen: the ticket closes as answered and the clock stops."""
    _require_operator(actor)
    answer = _long_text(answer, "nội dung trả lời")
    article = None
    if kb_article_id:
        article = db.session.get(KbArticle, int(kb_article_id))
        if article is None or not article.active:
            raise ValidationError("Bài viết hướng dẫn không tồn tại.", code="unknown_article")
    now = _now(now)
    lifecycle.check_transition(ticket.status, Status.ANSWERED)
    ticket.result = answer
    ticket.resolved_at = now
    sla.stop_clock(ticket)
    _move(ticket, Status.ANSWERED, "answered", actor=actor, now=now, note=answer, public=True,
          data={"kb_article_id": article.id if article else None})
    _notify_result(ticket)


def merge_duplicate(actor: User, ticket: Ticket, *, into_code: str, note: str | None = None,
                    now: datetime | None = None) -> Ticket:
    """Close ``ticket`` as a duplicate of another; its citizen is linked and hears the result."""
    _require_operator(actor)
    note = _clean(note, "ghi chú", required=False)
    if not (into_code or "").strip():
        raise ValidationError("Vui lòng nhập mã phiếu được giữ lại.", code="required",
                              field="into_code")
    try:
        kept = get_ticket_for(actor, into_code)
    except NotFound as exc:
        raise ValidationError(f"Không tìm thấy phiếu {into_code.strip()}.",
                              code="unknown_ticket", field="into_code") from exc
    if kept.id == ticket.id:
        raise ValidationError("Không thể gộp phiếu vào chính nó.", code="self_merge")
    if kept.status == Status.REJECTED:
        raise ValidationError(f"Phiếu {kept.code} đã bị từ chối hoặc gộp; hãy chọn phiếu khác.",
                              code="kept_rejected")
    now = _now(now)
    lifecycle.check_transition(ticket.status, Status.REJECTED)
    ticket.merged_into_id = kept.id
    ticket.closed_at = now
    sla.stop_clock(ticket)
    _move(ticket, Status.REJECTED, "merged", actor=actor, now=now, public=True,
          note=f"Trùng nội dung với phiếu {kept.code}; gộp vào phiếu đó."
               + (f" {note}" if note else ""),
          data={"reason": "duplicate", "merged_into_id": kept.id, "merged_into_code": kept.code})
    who = ticket.contact.name if ticket.contact and ticket.contact.name else "người dân"
    events.record(kept, "duplicate_linked", actor=actor, at=now,
                  note=f"Phiếu {ticket.code} ({who}) trùng nội dung, đã gộp vào phiếu này.",
                  data={"ticket_id": ticket.id, "code": ticket.code,
                        "contact_id": ticket.contact_id})
    _notify(ticket, "merged",
            f"Tổng đài 1022: Phản ánh {ticket.code} của ông/bà trùng nội dung với phiếu "
            f"{kept.code} "
            f"đang được xử lý. Kết quả sẽ được gửi đến ông/bà.", key=f"merged:{ticket.code}")
    return kept


def reject(actor: User, ticket: Ticket, *, reason: str, note: str | None = None,
           where: str | None = None, now: datetime | None = None) -> None:
    """Refuse the ticket: spam, out of scope (tell the citizen where to go), or another reason."""
    _require_operator(actor)
    if reason not in REJECT_REASONS:
        raise ValidationError("Vui lòng chọn lý do từ chối.", code="reason_required",
                              field="reason")
    note = _clean(note, "ghi chú", required=reason == "other")
    where = _clean(where, "nơi người dân cần liên hệ", required=reason == "out_of_scope")
    now = _now(now)
    lifecycle.check_transition(ticket.status, Status.REJECTED)
    ticket.closed_at = now
    sla.stop_clock(ticket)
    # What the citizen is told: where to go (out of scope) or the operator's explanation.
    told = where if reason == "out_of_scope" else note if reason == "other" else None
    ticket.result = told
    parts = [REJECT_REASONS[reason] + "."] + [p for p in (note, where) if p]
    _move(ticket, Status.REJECTED, "rejected", actor=actor, now=now, note=" ".join(parts),
          public=reason != "spam", data={"reason": reason})
    if told:
        _notify(ticket, "rejected",
                f"Tổng đài 1022: Phiếu {ticket.code} không được tiếp nhận xử lý. {told}",
                key=f"rejected:{ticket.code}")


# --- lead agency ---------------------------------------------------------------------------


def accept(actor: User, ticket: Ticket, *, now: datetime | None = None) -> None:
    """The agency takes the ticket on: in progress, with the handler as assignee."""
    _require_lead_agency(actor, ticket)
    now = _now(now)
    _status_is(ticket, (Status.ASSIGNED, Status.REOPENED), "tiếp nhận phiếu")
    ticket.accepted_at = ticket.accepted_at or now
    ticket.assignee_id = actor.id
    _move(ticket, Status.IN_PROGRESS, "accepted", actor=actor, now=now, public=True,
          note=f"{ticket.agency.name} đã tiếp nhận, đang xử lý.")


def return_to_triage(actor: User, ticket: Ticket, *, reason: str,
                     now: datetime | None = None) -> None:
    """Misrouted: back to the operators' triage; this agency is never chosen for it again."""
    _require_lead_agency(actor, ticket)
    reason = _clean(reason, "lý do trả lại")
    now = _now(now)
    agency = ticket.agency
    _move(ticket, Status.RETURNED, "returned", actor=actor, now=now,
          note=f"{agency.name} trả lại (không đúng thẩm quyền): {reason}",
          data={"agency_id": agency.id, "reason": reason})
    ticket.excluded_agency_ids = sorted(set(ticket.excluded_agency_ids or []) | {agency.id})
    ticket.returned_count = (ticket.returned_count or 0) + 1
    ticket.agency = None
    ticket.agency_id = None
    ticket.assignee_id = None
    ticket.accepted_at = None


def ask_citizen(actor: User, ticket: Ticket, *, question: str, now: datetime | None = None) -> None:
    """Ask the citizen for more: the SLA clock pauses until they answer."""
    _require_lead_agency(actor, ticket)
    question = _clean(question, "nội dung cần bổ sung")
    if outbox.reply_route(ticket, ticket.contact) is None:
        raise ValidationError("Phiếu không có kênh liên lạc với người dân (ẩn danh); "
                              "không thể đề nghị bổ sung.", code="unreachable")
    now = _now(now)
    event = _move(ticket, Status.WAITING_CITIZEN, "asked_citizen", actor=actor, now=now,
                  note=question, public=True)
    sla.pause_clock(ticket, now)
    db.session.flush()
    _notify(ticket, "ask",
            f"Tổng đài 1022: Để xử lý phiếu {ticket.code}, {ticket.agency.name} đề nghị ông/bà "
            f"bổ sung: {question}\nÔng/bà trả lời qua kênh đã gửi phản ánh hoặc gọi 1022 "
            f"và đọc mã phiếu.", key=f"ask:{ticket.code}:{event.id}")


def record_citizen_reply(actor: User, ticket: Ticket, *, reply: str,
                         now: datetime | None = None) -> None:
    """The citizen answered outside intake (by phone, in person): note it and resume the clock."""
    _require_lead_agency(actor, ticket)
    reply = _clean(reply, "nội dung người dân bổ sung")
    now = _now(now)
    _move(ticket, Status.IN_PROGRESS, "citizen_replied", actor=actor, now=now, public=True,
          note=f"Người dân đã bổ sung thông tin: {reply}")
    sla.resume_clock(ticket, now)


def add_note(actor: User, ticket: Ticket, *, note: str, public: bool = False,
             now: datetime | None = None) -> TicketEvent:
    """A progress update (public: the citizen sees it) or an internal note."""
    lead = _is_lead_agency_staff(actor, ticket)
    if not (lead or actor.role == Role.OPERATOR or _own_cohandler_row(actor, ticket)):
        raise PermissionDenied("Bạn không được ghi chú vào phiếu này.")
    if public and not lead:
        raise PermissionDenied("Chỉ cơ quan chủ trì được đăng cập nhật công khai.")
    note = _clean(note, "nội dung ghi chú")
    event = events.record(ticket, "progress" if public else "note", actor=actor, note=note,
                          public=public, at=_now(now))
    if actor.agency_id:
        event.agency_id = actor.agency_id
    return event


def request_extension(actor: User, ticket: Ticket, *, new_due_at: datetime | None, reason: str,
                      now: datetime | None = None) -> TicketEvent:
    """Ask a manager for a later due time; the due time moves only when a manager approves.

    The request itself (one pending per ticket, managers told by e-mail) is the
    SLA service's ``request_extension``; the citizen hears about it
    when a manager approves (``sla.decide_extension``).
    """
    _require_lead_agency(actor, ticket)
    _status_is(ticket, ACTIVE, "xin gia hạn")
    if new_due_at is None or new_due_at.tzinfo is None:
        raise ValidationError("Vui lòng nhập thời hạn mới.", code="required", field="new_due")
    return sla.request_extension(ticket, actor, new_due_at, reason, now=now)


def resolve(actor: User, ticket: Ticket, *, result: str, files: tuple[IncomingAttachment, ...] = (),
            reason_without_parts: str | None = None, now: datetime | None = None) -> None:
    """Report the result: it waits for the lead if the agency requires approval, else is final."""
    _require_lead_agency(actor, ticket)
    result = _long_text(result, "kết quả xử lý")
    if len(files) > MAX_FILES:
        raise ValidationError(f"Tối đa {MAX_FILES} tệp đính kèm.", code="too_many_files")
    pending = db.session.scalars(
        select(TicketCohandler).where(TicketCohandler.ticket_id == ticket.id,
                                      TicketCohandler.status == "pending")).all()
    reason_without_parts = _clean(reason_without_parts, "lý do", required=False)
    if pending and not reason_without_parts:
        names = ", ".join(r.agency.name for r in pending)
        raise ValidationError(f"Còn cơ quan phối hợp chưa xong phần việc ({names}); "
                              "vui lòng ghi lý do nếu vẫn báo kết quả.", code="parts_pending",
                              field="reason_without_parts")
    now = _now(now)
    lifecycle.check_transition(ticket.status, Status.RESOLVED)
    ticket.result = result
    ticket.resolved_at = now
    sla.stop_clock(ticket)
    data = {"files": len(files)}
    if pending:
        data["without_parts"] = [r.agency_id for r in pending]
        data["reason_without_parts"] = reason_without_parts
    event = _move(ticket, Status.RESOLVED, "resolved", actor=actor, now=now, note=result, data=data)
    db.session.flush()
    for item in files:
        row = attachment_store.save(ticket, item)
        row.event_id = event.id
        db.session.add(row)
    if not ticket.agency.requires_result_approval:
        _move(ticket, Status.APPROVED, "approved", actor=actor, now=now, public=True, note=result,
              data={"auto": True})
        _notify_result(ticket)


def approve(actor: User, ticket: Ticket, *, now: datetime | None = None) -> None:
    """The agency lead approves the result; it goes to the citizen."""
    _require_agency_lead(actor, ticket)
    _move(ticket, Status.APPROVED, "approved", actor=actor, now=_now(now), public=True,
          note=ticket.result)
    _notify_result(ticket)


def send_back(actor: User, ticket: Ticket, *, reason: str, now: datetime | None = None) -> None:
    """The lead does not approve: back to the handler, the clock runs again."""
    _require_agency_lead(actor, ticket)
    reason = _clean(reason, "lý do trả lại kết quả")
    now = _now(now)
    _move(ticket, Status.IN_PROGRESS, "sent_back", actor=actor, now=now,
          note=f"Lãnh đạo chưa duyệt kết quả: {reason}")
    ticket.resolved_at = None
    if ticket.due_at is not None:
        ticket.sla_state = sla_domain.sla_state(
            now=now, due_at=ticket.due_at, due_soon_at=ticket.due_soon_at or ticket.due_at).value


# --- co-handling (phối hợp) ----------------------------------------------------------------


def add_cohandler(actor: User, ticket: Ticket, *, agency_id: int | None,
                  request_note: str | None = None, now: datetime | None = None) -> TicketCohandler:
    """Ask another agency to handle part of the ticket; it sees the ticket in its inbox."""
    if not (actor.role == Role.OPERATOR or _is_lead_agency_staff(actor, ticket)):
        raise PermissionDenied("Chỉ tổng đài viên hoặc cơ quan chủ trì được mời phối hợp.")
    _status_is(ticket, ACTIVE, "mời cơ quan phối hợp")
    agency = db.session.get(Agency, int(agency_id)) if agency_id else None
    if agency is None or not agency.active:
        raise ValidationError("Vui lòng chọn cơ quan phối hợp.", code="unknown_agency",
                              field="agency_id")
    if agency.id == ticket.agency_id:
        raise ValidationError("Cơ quan chủ trì không thể đồng thời là cơ quan phối hợp.",
                              code="lead_agency")
    exists = db.session.scalar(select(TicketCohandler.id).where(
        TicketCohandler.ticket_id == ticket.id, TicketCohandler.agency_id == agency.id))
    if exists:
        raise ValidationError(f"{agency.name} đã là cơ quan phối hợp của phiếu này.",
                              code="duplicate")
    request_note = _clean(request_note, "nội dung đề nghị phối hợp", required=False)
    row = TicketCohandler(ticket_id=ticket.id, agency_id=agency.id, agency=agency,
                          status="pending", request_note=request_note, created_at=_now(now))
    db.session.add(row)
    events.record(ticket, "cohandler_added", actor=actor, at=_now(now),
                  note=f"Mời {agency.name} phối hợp xử lý."
                       + (f" {request_note}" if request_note else ""),
                  data={"agency_id": agency.id})
    db.session.flush()
    return row


def submit_cohandler_part(actor: User, ticket: Ticket, *, part: str, done: bool,
                          now: datetime | None = None) -> TicketCohandler:
    """A co-handling agency reports its part and, when ``done``, marks it finished."""
    row = _own_cohandler_row(actor, ticket)
    if row is None:
        raise PermissionDenied("Cơ quan của bạn không phối hợp xử lý phiếu này.")
    _status_is(ticket, ACTIVE, "cập nhật phần phối hợp")
    if row.status == "done":
        raise TransitionError("Phần phối hợp của cơ quan bạn đã được đánh dấu hoàn thành.",
                              current="done")
    part = _clean(part, "nội dung phần phối hợp", max_length=current_app.config["MAX_TEXT_LENGTH"])
    now = _now(now)
    row.note = f"{row.note}\n\n{part}" if row.note else part
    if done:
        row.status, row.done_at = "done", now
    event = events.record(ticket, "cohandler_done" if done else "cohandler_part", actor=actor,
                          at=now, note=part, data={"agency_id": row.agency_id})
    event.agency_id = row.agency_id
    return row
