"""Bulk actions on ticket lists for operators and managers: reassign, change field,
merge duplicates, close as spam.

Each action checks every ticket first and changes none if any one cannot take
it (the error names the codes), then changes them all with one event per
ticket, of the same type and data as the single action in
``services.handling`` — so a bulk action reads in each timeline like the single
one. (``handling``'s actions are for operators only; bulk actions are open to
managers and administrators too, hence the shared pieces rather than calls.)
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from hotline.domain import lifecycle, text
from hotline.domain.errors import NotFound, PermissionDenied, ValidationError
from hotline.domain.lifecycle import FINAL_STATUSES, Status
from hotline.extensions import db
from hotline.models import Agency, Field, Ticket, User, utcnow
from hotline.services import events, handling, intake, outbox, sla

ROLES = frozenset({"operator", "manager", "admin"})
MAX_TICKETS = 200


@dataclass(frozen=True)
class BulkResult:
    action: str
    codes: list[str]

    def describe(self) -> str:
        return f"Đã thực hiện cho {len(self.codes)} phiếu: {', '.join(self.codes[:20])}" + \
            ("…" if len(self.codes) > 20 else "")


def parse_codes(raw: str | list[str] | None) -> list[str]:
    """Ticket codes from a form: a list, or text separated by spaces, commas or new lines."""
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else raw.replace(",", " ").split()
    seen, out = set(), []
    for item in items:
        code = item.strip().upper()
        if code and code not in seen:
            seen.add(code)
            out.append(code)
    return out


def _check_actor(actor: User) -> None:
    if actor is None or actor.role not in ROLES:
        raise PermissionDenied("Chỉ điện thoại viên, lãnh đạo và quản trị được thao tác hàng loạt.")


def _load(actor: User, codes: list[str]) -> list[Ticket]:
    _check_actor(actor)
    codes = parse_codes(codes)
    if not codes:
        raise ValidationError("Chưa chọn phiếu nào.", code="required")
    if len(codes) > MAX_TICKETS:
        raise ValidationError(f"Mỗi lần tối đa {MAX_TICKETS} phiếu.", code="too_many")
    tickets = list(db.session.scalars(select(Ticket).where(Ticket.code.in_(codes))
                                      .order_by(Ticket.id).with_for_update()))
    missing = sorted(set(codes) - {t.code for t in tickets})
    if missing:
        raise NotFound(f"Không tìm thấy phiếu: {', '.join(missing)}.")
    return tickets


def _refuse(tickets: list[Ticket], why: str) -> None:
    if tickets:
        listed = ", ".join(f"{t.code} ({lifecycle.LABELS_VI[Status(t.status)]})" for t in tickets)
        raise ValidationError(f"Không thực hiện được — {why}: {listed}. Chưa phiếu nào bị thay đổi.",
                              code="bulk_refused")


def _note(note: str | None, *, required: bool = False) -> str | None:
    return text.clean_text(note, max_length=1000, field="lý do", required=required)


def reassign(actor: User, codes: list[str], agency_id: int, *, reason: str) -> BulkResult:
    """Hand each ticket to ``agency_id`` (an operator's override of the router, with a reason)."""
    reason = _note(reason, required=True)
    tickets = _load(actor, codes)
    agency = db.session.get(Agency, agency_id) if agency_id else None
    if agency is None or not agency.active:
        raise ValidationError("Chọn một cơ quan đang hoạt động.", code="unknown_agency")
    _refuse([t for t in tickets if Status.ASSIGNED not in lifecycle.TRANSITIONS[Status(t.status)]],
            "phiếu ở trạng thái không chuyển được")
    for ticket in tickets:
        intake.assign(ticket, agency, reason=f"Chuyển hàng loạt: {reason}", actor=actor)
    db.session.flush()
    return BulkResult("reassign", [t.code for t in tickets])


def change_field(actor: User, codes: list[str], field_id: int, *,
                 note: str | None = None) -> BulkResult:
    """Set the field (lĩnh vực) of each ticket; closed or rejected tickets are refused.

    Same change and event as the operator's single "classify" (``handling``): the
    SLA deadlines follow the new field's policy.
    """
    note = _note(note)
    tickets = _load(actor, codes)
    field = db.session.get(Field, field_id) if field_id else None
    if field is None or not field.active:
        raise ValidationError("Chọn một lĩnh vực đang dùng.", code="unknown_field")
    _refuse([t for t in tickets if Status(t.status) in FINAL_STATUSES], "phiếu đã kết thúc")
    changed = []
    for ticket in tickets:
        changes = handling.apply_classification(ticket, field_id=field.id)
        if not changes:
            continue
        events.record(ticket, "classified", actor=actor, data=changes,
                      note=f"Phân loại (hàng loạt): lĩnh vực «{field.name}»."
                      + (f" {note}" if note else ""))
        changed.append(ticket.code)
    db.session.flush()
    return BulkResult("change_field", changed)


def _reject(ticket: Ticket, actor: User, *, type_: str, note: str, data: dict,
            public: bool) -> None:
    previous = ticket.status
    ticket.status = lifecycle.check_transition(ticket.status, Status.REJECTED).value
    sla.stop_clock(ticket)
    ticket.closed_at = utcnow()  # the retention clock starts here
    events.record(ticket, type_, actor=actor, public=public, from_status=previous,
                  to_status=ticket.status, note=note, data=data)


def merge(actor: User, codes: list[str], into_code: str) -> BulkResult:
    """Close each duplicate as merged into ``into_code``; the kept ticket lists them."""
    into_code = (into_code or "").strip().upper()
    codes = [c for c in parse_codes(codes) if c != into_code]
    tickets = _load(actor, codes)
    target = db.session.scalar(select(Ticket).where(Ticket.code == into_code))
    if target is None:
        raise NotFound(f"Không tìm thấy phiếu gốc: {into_code or '(trống)'}.")
    if target.merged_into_id is not None or target.status == Status.REJECTED:
        raise ValidationError(f"Phiếu gốc {target.code} đã bị đóng/gộp; chọn phiếu khác.",
                              code="bad_target")
    _refuse([t for t in tickets if Status.REJECTED not in lifecycle.TRANSITIONS[Status(t.status)]],
            "chỉ gộp được phiếu mới hoặc bị trả lại")
    # The same events, data and citizen message as the operator's single merge (handling).
    for ticket in tickets:
        ticket.merged_into_id = target.id
        _reject(ticket, actor, type_="merged", public=True,
                note=f"Trùng nội dung với phiếu {target.code}; gộp vào phiếu đó.",
                data={"reason": "duplicate", "merged_into_id": target.id,
                      "merged_into_code": target.code})
        who = ticket.contact.name if ticket.contact and ticket.contact.name else "người dân"
        events.record(target, "duplicate_linked", actor=actor,
                      note=f"Phiếu {ticket.code} ({who}) trùng nội dung, đã gộp vào phiếu này.",
                      data={"ticket_id": ticket.id, "code": ticket.code,
                            "contact_id": ticket.contact_id})
        outbox.queue_message(
            ticket, "merged",
            f"Tổng đài 1022: Phản ánh {ticket.code} của ông/bà trùng nội dung với phiếu "
            f"{target.code} đang được xử lý. Kết quả sẽ được gửi đến ông/bà.",
            key=f"merged:{ticket.code}")
    db.session.flush()
    return BulkResult("merge", [t.code for t in tickets])


def close_as_spam(actor: User, codes: list[str], *, note: str | None = None) -> BulkResult:
    """Reject each ticket as spam / out of scope (new or returned tickets only)."""
    note = _note(note)
    tickets = _load(actor, codes)
    _refuse([t for t in tickets if Status.REJECTED not in lifecycle.TRANSITIONS[Status(t.status)]],
            "chỉ đóng được phiếu mới hoặc bị trả lại")
    for ticket in tickets:
        _reject(ticket, actor, type_="rejected", public=False,
                note=handling.REJECT_REASONS["spam"] + "." + (f" {note}" if note else ""),
                data={"reason": "spam"})
    db.session.flush()
    return BulkResult("spam", [t.code for t in tickets])
