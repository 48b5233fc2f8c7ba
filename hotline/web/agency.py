"""The agency's screens: the inbox of its open tickets, the ticket page, the lead's approvals.

Handlers and agency leads only; what they see is scoped to their agency by
the services (a ticket of another agency is a 404, like a code that does not
exist).
"""
from __future__ import annotations

from flask import Blueprint, abort, flash, render_template
from flask_babel import gettext as _
from flask_login import current_user

from hotline.auth import require_role
from hotline.domain.errors import ValidationError
from hotline.domain.lifecycle import LABELS_VI
from hotline.services import handling, tickets
from hotline.web import staff_common as common

bp = Blueprint("agency", __name__, url_prefix="/agency")
bp.before_request(require_role("handler", "agency_lead"))


@bp.get("/")
def inbox():
    """Open tickets of the agency (lead or co-handling), most urgent due time first."""
    flt = common.read_filter()
    flt = tickets.TicketFilter(status=flt.status, field_id=flt.field_id, area_id=flt.area_id,
                               overdue_only=flt.overdue_only, search=flt.search)
    try:
        page = tickets.agency_inbox(current_user, flt, cursor=common.read_cursor())
    except ValidationError as exc:
        flash(exc.message, "error")
        flt = tickets.TicketFilter()
        page = tickets.agency_inbox(current_user, flt)
    statuses = [(s.value, LABELS_VI[s]) for s in tickets.AGENCY_OPEN]
    return render_template("agency/inbox.html", page=page, flt=flt, statuses=statuses,
                           counts=tickets.inbox_counts(current_user),
                           slas=common.sla_map(page.rows),
                           next_url=common.page_url(".inbox", page.next_cursor),
                           first_url=common.first_page_url(".inbox"),
                           **common.choices("fields", "areas"))


@bp.get("/approvals")
def approvals():
    """Results of the agency waiting for the lead's approval."""
    if current_user.role != "agency_lead":
        abort(403)
    try:
        page = tickets.approvals_queue(current_user, cursor=common.read_cursor())
    except ValidationError as exc:
        flash(exc.message, "error")
        page = tickets.approvals_queue(current_user)
    return render_template("agency/approvals.html", page=page, slas=common.sla_map(page.rows),
                           form=common.ActionForm(),
                           next_url=common.page_url(".approvals", page.next_cursor))


def _ticket_page(code: str, errors: dict, values: dict, status: int):
    context = common.ticket_context(code)
    context.update(errors=errors, values=values, **common.choices("agencies"))
    return render_template("agency/ticket.html", **context), status


@bp.get("/tickets/<code>")
def ticket(code: str):
    """Timeline, citizen messages and files, notes, and every action the actor may take."""
    return _ticket_page(code, {}, {}, 200)


@bp.get("/tickets/<code>/files/<int:attachment_id>")
def ticket_file(code: str, attachment_id: int):
    return common.send_attachment(code, attachment_id)


def _accept(t, v):
    handling.accept(current_user, t)
    return _("Đã tiếp nhận phiếu; trạng thái: đang xử lý.")


def _return(t, v):
    handling.return_to_triage(current_user, t, reason=v.get("reason"))
    return _("Đã trả phiếu về tổng đài để phân loại lại.")


def _ask(t, v):
    handling.ask_citizen(current_user, t, question=v.get("question"))
    return _("Đã gửi đề nghị bổ sung đến người dân; thời hạn tạm dừng.")


def _citizen_reply(t, v):
    handling.record_citizen_reply(current_user, t, reply=v.get("reply"))
    return _("Đã ghi nhận thông tin bổ sung; thời hạn tiếp tục tính.")


def _note(t, v):
    public = v.get("public") == "1"
    handling.add_note(current_user, t, note=v.get("note"), public=public)
    return _("Đã đăng cập nhật công khai.") if public else _("Đã thêm ghi chú nội bộ.")


def _extension(t, v):
    handling.request_extension(current_user, t,
                               new_due_at=common.parse_local_datetime(v.get("new_due")),
                               reason=v.get("reason"))
    return _("Đã gửi đề nghị gia hạn; chờ lãnh đạo phê duyệt.")


def _resolve(t, v):
    handling.resolve(current_user, t, result=v.get("result"), files=common.uploaded_files(),
                     reason_without_parts=v.get("reason_without_parts"))
    if t.status == "resolved":
        return _("Đã báo kết quả; chờ lãnh đạo đơn vị duyệt.")
    return _("Đã báo kết quả; kết quả đã được gửi đến người dân.")


def _approve(t, v):
    handling.approve(current_user, t)
    return _("Đã duyệt kết quả phiếu %(c)s.", c=t.code)


def _send_back(t, v):
    handling.send_back(current_user, t, reason=v.get("reason"))
    return _("Đã trả kết quả về cán bộ xử lý.")


def _cohandler_add(t, v):
    row = handling.add_cohandler(current_user, t, agency_id=common.parse_int(v.get("agency_id")),
                                 request_note=v.get("request_note"))
    return _("Đã mời %(a)s phối hợp.", a=row.agency.name)


def _cohandler_part(t, v):
    done = v.get("done") == "1"
    handling.submit_cohandler_part(current_user, t, part=v.get("part"), done=done)
    return _("Đã báo hoàn thành phần phối hợp.") if done else _("Đã cập nhật phần phối hợp.")


ACTIONS = {"accept": _accept, "return": _return, "ask": _ask, "citizen_reply": _citizen_reply,
           "note": _note, "extension": _extension, "resolve": _resolve, "approve": _approve,
           "send_back": _send_back, "cohandler_add": _cohandler_add,
           "cohandler_part": _cohandler_part}


@bp.post("/tickets/<code>/<action>")
def ticket_action(code: str, action: str):
    """Run one agency action on the ticket."""
    handler = ACTIONS.get(action)
    if handler is None:
        abort(404)
    return common.run_action(
        action, code, handler,
        lambda errors, values, status: _ticket_page(code, errors, values, status), ".ticket")
