"""What the operator and agency screens share: list filters from the query string, SLA
text, the ticket page's data, file uploads and downloads, and running one action."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import NamedTuple

from flask import flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user
from sqlalchemy import select

from hotline.config import local_zone
from hotline.domain.calendar import WorkingCalendar
from hotline.domain.errors import PermissionDenied, TransitionError, ValidationError
from hotline.domain.messages import CHANNEL_LABELS_VI, IncomingAttachment
from hotline.extensions import db
from hotline.models import Agency, Area, Field, Ticket, utcnow
from hotline.services import handling, lookups, tickets
from hotline.services.calendar import get_calendar
from hotline.tx import commit
from hotline.web import files
from hotline.web.forms import Form
from hotline.web.hygiene import bigint


class ActionForm(Form):
    """CSRF for every ticket action; the services validate the content."""


# Who did it, when it was not a staff member.
ACTOR_LABELS = {"router": _l("Định tuyến tự động"), "system": _l("Hệ thống"),
                "citizen": _l("Người dân"),
                **{channel: _l(label) for channel, label in CHANNEL_LABELS_VI.items()}}

# Timeline event types as the staff read them.
EVENT_LABELS = {
    "received": _l("Tiếp nhận"), "triage": _l("Chờ phân loại"), "assigned": _l("Chuyển xử lý"),
    "classified": _l("Phân loại"), "accepted": _l("Cơ quan tiếp nhận"),
    "returned": _l("Trả lại tổng đài"), "asked_citizen": _l("Đề nghị người dân bổ sung"),
    "citizen_message": _l("Tin nhắn của người dân"), "citizen_replied": _l("Người dân bổ sung"),
    "location": _l("Vị trí"), "note": _l("Ghi chú nội bộ"), "progress": _l("Cập nhật tiến độ"),
    "extension_requested": _l("Xin gia hạn"), "extension_approved": _l("Duyệt gia hạn"),
    "extension_rejected": _l("Không duyệt gia hạn"), "resolved": _l("Báo kết quả"),
    "approved": _l("Kết quả được duyệt"), "sent_back": _l("Trả lại kết quả"),
    "answered": _l("Trả lời trực tiếp"), "merged": _l("Gộp phiếu trùng"),
    "duplicate_linked": _l("Phiếu trùng được gộp vào"), "rejected": _l("Từ chối"),
    "cohandler_added": _l("Mời phối hợp"), "cohandler_part": _l("Phần phối hợp"),
    "cohandler_done": _l("Hoàn thành phối hợp"), "sla_due_soon": _l("Sắp đến hạn"),
    "sla_overdue": _l("Quá hạn"), "sla_escalated": _l("Báo lãnh đạo (quá hạn lâu)"),
    "sla_first_response_overdue": _l("Chậm tiếp nhận"), "published": _l("Công khai kết quả"),
    "unpublished": _l("Gỡ công khai"), "photo_location": _l("Vị trí từ ảnh"),
    "quality_review": _l("Đánh giá chất lượng"), "privacy_erased": _l("Xóa dữ liệu cá nhân"),
    "extension_decided": _l("Quyết định gia hạn"),
    "reopened": _l("Mở lại"), "closed": _l("Đóng phiếu"), "rated": _l("Người dân đánh giá"),
}


# --- SLA as text ---------------------------------------------------------------------------


def _span(td: timedelta, day: timedelta) -> str:
    minutes = int(abs(td).total_seconds() // 60)
    day_minutes = max(1, int(day.total_seconds() // 60))
    days, rest = divmod(minutes, day_minutes)
    hours, mins = divmod(rest, 60)
    if days:
        return _("%(d)s ngày %(h)s giờ", d=days, h=hours) if hours else _("%(d)s ngày", d=days)
    if hours:
        return _("%(h)s giờ %(m)s phút", h=hours, m=mins) if mins else _("%(h)s giờ", h=hours)
    return _("%(m)s phút", m=mins)


def sla_info(ticket: Ticket, calendar: WorkingCalendar, now: datetime) -> dict | None:
    """The badge state and "còn 2 ngày 3 giờ" / "quá hạn 4 giờ" in working time."""
    left = tickets.working_time_left(ticket, calendar, now)
    if left is None:
        return None
    state = ticket.sla_state
    if left <= timedelta(0) and state in ("on_track", "due_soon"):
        state = "overdue"  # the SLA scan has not run since it crossed
    if left > timedelta(0):
        label = _("còn %(t)s", t=_span(left, calendar.day_length))
    else:
        label = _("quá hạn %(t)s", t=_span(left, calendar.day_length))
    return {"state": state, "text": label, "paused": ticket.sla_paused_at is not None}


def sla_map(rows: list[Ticket]) -> dict[int, dict | None]:
    if not rows:
        return {}
    calendar, now = get_calendar(), utcnow()
    return {t.id: sla_info(t, calendar, now) for t in rows}


# --- query-string filters ------------------------------------------------------------------


def parse_int(value) -> int | None:
    try:
        number = bigint(str(value).strip())
    except (TypeError, ValueError):
        return None
    return number if number > 0 else None


def read_filter() -> tickets.TicketFilter:
    args = request.args
    search = (args.get("q") or "").strip()[:200] or None
    return tickets.TicketFilter(
        status=(args.get("status") or None), field_id=parse_int(args.get("field")),
        area_id=parse_int(args.get("area")), agency_id=parse_int(args.get("agency")),
        overdue_only=args.get("overdue") == "1", search=search)


def read_cursor() -> tickets.Cursor | None:
    return tickets.Cursor.decode(request.args.get("after"))


def page_url(endpoint: str, cursor: str | None, **kw) -> str | None:
    """The next page's link: same filters, new cursor."""
    if cursor is None:
        return None
    args = {k: v for k, v in request.args.items() if k != "after" and v}
    args.update(kw)
    return url_for(endpoint, after=cursor, **args)


def first_page_url(endpoint: str) -> str | None:
    """Back to the first page with the same filters (``None`` when already there)."""
    if not request.args.get("after"):
        return None
    return url_for(endpoint, **{k: v for k, v in request.args.items() if k != "after" and v})


class Option(NamedTuple):
    """A row of a select: what the staff pages' filters and forms list."""

    id: int
    name: str


def choices(*wanted: str) -> dict:
    """Fields, areas (with their depth) and agencies for the selects a page shows.

    Ask only for what the page uses: a province has a few thousand areas. The lists are
    kept a few seconds per process (``services.lookups``) as plain ``Option`` rows.
    """
    wanted = wanted or ("fields", "areas", "agencies")
    out: dict = {"fields": [], "areas": [], "agencies": []}
    for name in wanted:
        out[name] = lookups.cached(f"staff_{name}", None, _LOADERS[name])
    return out


def _fields() -> list[Option]:
    return [Option(*r) for r in db.session.execute(
        select(Field.id, Field.name).where(Field.active.is_(True)).order_by(Field.name))]


def _areas() -> list[tuple[Option, int]]:
    return [(Option(r.id, r.name), r.path.count("/") - 2) for r in db.session.execute(
        select(Area.id, Area.name, Area.path).where(Area.active.is_(True)).order_by(Area.path))]


def _agencies() -> list[Option]:
    return [Option(*r) for r in db.session.execute(
        select(Agency.id, Agency.name).where(Agency.active.is_(True))
        .order_by(Agency.level, Agency.name))]


_LOADERS = {"fields": _fields, "areas": _areas, "agencies": _agencies}


# --- the ticket page -------------------------------------------------------------------------


def ticket_context(code: str) -> dict:
    """Data for the ticket page of ``current_user`` (404 outside their scope)."""
    detail = tickets.ticket_detail(current_user, code)
    ticket = detail.ticket
    actions = handling.available_actions(current_user, ticket, detail.cohandlers)
    calendar = get_calendar()
    return {
        "detail": detail, "ticket": ticket, "actions": actions,
        "sla": sla_info(ticket, calendar, utcnow()),
        "own_cohandler": next((c for c in detail.cohandlers
                               if c.agency_id == current_user.agency_id), None),
        "form": ActionForm(), "errors": {}, "values": {}, "event_labels": EVENT_LABELS,
        "actor_labels": ACTOR_LABELS,
    }


def run_action(action: str, code: str, handler: Callable[[Ticket, dict], str | None],
               page: Callable[[dict, int], object], success_endpoint: str):
    """Lock the ticket, run ``handler``, commit and redirect; on bad input re-render with the error.

    ``handler(ticket, form_values)`` returns the success message. Nothing is
    committed when it raises: the page shows the Vietnamese message and the
    values typed, with 400 (bad input), 409 (not allowed in this status) or 403
    (not this actor's to do, with the service's reason).
    """
    form = ActionForm()
    values = request.form.to_dict()
    if not form.validate_on_submit():
        return page({action: _("Phiên làm việc đã hết hạn; vui lòng tải lại trang và thử lại.")},
                    values, 400)
    ticket = tickets.get_ticket_for(current_user, code, for_update=True)
    try:
        message = handler(ticket, values)
        commit()
    except (ValidationError, TransitionError, PermissionDenied) as exc:
        db.session.rollback()
        status = {TransitionError: 409, PermissionDenied: 403}.get(type(exc), 400)
        return page({action: exc.message}, values, status)
    if message:
        flash(message, "success")
    target = request.form.get("return_to")
    if target == "approvals" and current_user.role == "agency_lead":
        return redirect(url_for("agency.approvals"), code=303)
    return redirect(url_for(success_endpoint, code=ticket.code), code=303)


def render_ticket(template: str, code: str, errors: dict, values: dict, status: int, **extra):
    context = ticket_context(code)
    context.update(errors=errors, values=values, **extra)
    return render_template(template, **context), status


# --- files ---------------------------------------------------------------------------------


def uploaded_files(field: str = "files") -> tuple[IncomingAttachment, ...]:
    out = []
    for item in request.files.getlist(field):
        if item and item.filename:
            out.append(IncomingAttachment(filename=item.filename,
                                          content_type=item.mimetype or "application/octet-stream",
                                          data=item.read()))
    return tuple(out)


def send_attachment(code: str, attachment_id: int):
    """A ticket's file, always as a download with a generic type (never run in our origin)."""
    row = tickets.attachment_for(current_user, code, attachment_id)
    return files.download_stored(row.storage_key, row.filename)


def parse_local_datetime(value: str | None) -> datetime | None:
    """``2026-12-03T17:00`` typed in local time → aware UTC; ``ValidationError`` if garbled."""
    if not value or not value.strip():
        return None
    try:
        naive = datetime.fromisoformat(value.strip())
    except ValueError as exc:
        raise ValidationError(_("Thời điểm không hợp lệ: %(v)s", v=value[:40]),
                              code="invalid_time") from exc
    if naive.tzinfo is not None:
        return naive
    return naive.replace(tzinfo=local_zone())


def json_or_400(fn: Callable[[], object]):
    """Run a JSON endpoint body, turning bad input into a 400 with its Vietnamese message."""
    try:
        return fn()
    except ValidationError as exc:
        return {"error": exc.message}, 400
