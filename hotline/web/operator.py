"""The operators' console: log a call, triage, find any ticket, act on it.

Operators and managers may read every page here; only operators log calls and
act on tickets (managers get 403). The small JSON endpoints under ``/api/``
feed the new-call form without page reloads: caller history, the area tree,
the router's suggestion, the knowledge base, and the PBX's ringing call.
"""
from __future__ import annotations

import uuid

from flask import Blueprint, abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from markupsafe import Markup, escape

from hotline.auth import require_role
from hotline.domain.errors import TransitionError, ValidationError
from hotline.domain.lifecycle import KIND_LABELS_VI, LABELS_VI, Status
from hotline.extensions import db
from hotline.models import Area
from hotline.services import address_areas, calls, handling, kb, publication_choice, tickets
from hotline.services import triage as triage_service
from hotline.tx import commit
from hotline.web import staff_common as common
from hotline.web import triage_view
from hotline.web.filters import localtime

bp = Blueprint("operator", __name__, url_prefix="/operator")
bp.before_request(require_role("operator", "manager"))

PRIORITIES = (("normal", "Thường"), ("urgent", "Khẩn"), ("complex", "Phức tạp"))


def _operator_only() -> None:
    # Managers read the console; logging calls and acting on tickets is the operators' job.
    if current_user.role != "operator":
        abort(403)


# --- new call -----------------------------------------------------------------------------


def _call_page(values: dict, error: str | None = None, status: int = 200):
    area_id = common.parse_int(values.get("area_id"))
    context = common.choices("fields", "agencies")
    context.update(
        form=common.ActionForm(), values=values, error=error,
        external_id=values.get("external_id") or f"call-{uuid.uuid4()}",
        area_levels=calls.area_picker_levels(area_id), area_id=area_id,
        kinds=list(KIND_LABELS_VI.items()), priorities=PRIORITIES,
        recent=tickets.my_recent_calls(current_user),
        extension=current_user.phone_extension)
    return render_template("operator/home.html", **context), status


@bp.route("/", methods=["GET", "POST"])
def home():
    """The new-call form: phone first, then what, where, and answer or forward."""
    _operator_only()
    if request.method == "GET":
        return _call_page({})
    values = request.form.to_dict()
    if not common.ActionForm().validate_on_submit():
        return _call_page(values, _("Phiên làm việc đã hết hạn; vui lòng gửi lại."), 400)
    call = calls.NewCall(
        external_id=values.get("external_id", ""), description=values.get("description"),
        decision=values.get("decision", ""), phone=values.get("phone"), name=values.get("name"),
        kind=values.get("kind") or None, field_id=common.parse_int(values.get("field_id")),
        area_id=common.parse_int(values.get("area_id")), address=values.get("address"),
        priority=values.get("priority") or None, answer=values.get("answer"),
        kb_article_id=common.parse_int(values.get("kb_article_id")),
        agency_id=common.parse_int(values.get("agency_id")), reason=values.get("reason"),
        refuse_publication=values.get("no_publish") in ("1", "y", "on"))
    try:
        result = calls.log_call(current_user, call)
        commit()
    except (ValidationError, TransitionError) as exc:
        db.session.rollback()
        return _call_page(values, exc.message, 400)
    link = Markup('<a href="{}">{}</a>').format(url_for(".ticket", code=result.code), result.code)
    if result.duplicate:
        flash(Markup(escape(_("Cuộc gọi này đã được ghi nhận trước đó: phiếu "))) + link, "warning")
    else:
        flash(Markup(escape(_("Đã ghi nhận cuộc gọi: phiếu "))) + link, "success")
    return redirect(url_for(".home"), code=303)


# --- JSON for the form -----------------------------------------------------------------------


def _ticket_json(t) -> dict:
    return {"code": t.code, "title": t.title, "status": t.status,
            "status_label": LABELS_VI.get(Status(t.status), t.status),
            "received": localtime(t.received_at),
            "agency": t.agency.name if t.agency else None,
            "url": url_for(".ticket", code=t.code)}


@bp.get("/api/caller")
def api_caller():
    """The caller's contact and recent tickets, for the phone number being typed."""
    def body():
        info = tickets.caller_lookup(current_user, request.args.get("phone", ""))
        return {"phone": info.phone,
                "name": info.contact.name if info.contact else None,
                "area_chain": calls.area_chain_ids(info.last_area),
                "area_name": info.last_area.name if info.last_area else None,
                "address": info.last_address,
                "tickets": [_ticket_json(t) for t in info.tickets]}
    return common.json_or_400(body)


@bp.get("/api/areas")
def api_areas():
    """Children of an area (roots without ``parent``), for the tree picker."""
    parent = common.parse_int(request.args.get("parent"))
    return {"areas": [{"id": a.id, "name": a.name, "level": a.level, "has_children": more}
                      for a, more in calls.area_children(parent)]}


@bp.get("/api/locate")
def api_locate():
    """Today's ward proposed for a typed address (old or new form), for the call form."""
    match = address_areas.ward_for_address(request.args.get("address"))
    if match is None:
        return {"match": None}
    area = db.session.get(Area, match.area_id)
    return {"match": {"id": match.area_id, "code": match.code, "name": match.name,
                      "method": match.method, "explanation": match.explanation,
                      "area_chain": calls.area_chain_ids(area)}}


@bp.get("/api/route")
def api_route():
    """The router's suggested agency for this field, area and kind, with its reason."""
    agency, reason = calls.suggest_agency(
        field_id=common.parse_int(request.args.get("field")),
        area_id=common.parse_int(request.args.get("area")),
        kind=request.args.get("kind") or None)
    return {"agency_id": agency.id if agency else None,
            "agency_name": agency.name if agency else None, "reason": reason}


@bp.get("/api/kb")
def api_kb():
    """Knowledge-base articles for the words typed (accent-insensitive)."""
    rows = kb.search(request.args.get("q", "")[:200],
                     field_id=common.parse_int(request.args.get("field")))
    return {"articles": [{"id": a.id, "title": a.title, "body": a.body,
                          "snippet": a.body[:220], "source_url": a.source_url} for a in rows]}


@bp.post("/api/triage")
def api_triage():
    """Field, scope and KB suggestions for the text being typed (POSTed: the citizen's words
    stay out of URLs and access logs)."""
    body = request.get_json(silent=True)
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str):
        return {"error": _("Thiếu nội dung cần gợi ý.")}, 400
    return triage_view.as_json(triage_service.suggest(text[:triage_view.MAX_TEXT]))


@bp.get("/api/calls/latest")
def api_latest_call():
    """The call ringing at this operator's extension (the PBX told us), if any."""
    row = calls.latest_call_for(current_user, after_id=common.parse_int(request.args.get("after")))
    if row is None:
        return {"call": None}
    return {"call": {"id": row.id, "phone": row.caller_phone, "raw": row.caller_raw,
                     "at": localtime(row.received_at)}}


# --- lists ---------------------------------------------------------------------------------


@bp.get("/triage")
def triage():
    """Tickets no agency holds: unrouted and returned, oldest first."""
    q = (request.args.get("q") or "").strip()[:200] or None
    try:
        page = tickets.triage_queue(current_user, cursor=common.read_cursor(), search=q)
    except ValidationError as exc:
        flash(exc.message, "error")
        page = tickets.triage_queue(current_user, search=q)
    returned = tickets.last_event_notes([t.id for t in page.rows if t.status == "returned"],
                                        "returned")
    return render_template("operator/triage.html", page=page, q=q, returned=returned,
                           hints=triage_view.for_rows(page.rows),
                           slas=common.sla_map(page.rows),
                           next_url=common.page_url(".triage", page.next_cursor),
                           first_url=common.first_page_url(".triage"))


@bp.get("/tickets", endpoint="tickets")
def tickets_list():
    """Every ticket, newest first: search by code, phone or words; filter; page on."""
    flt = common.read_filter()
    try:
        page = tickets.all_tickets(current_user, flt, cursor=common.read_cursor())
    except ValidationError as exc:
        flash(exc.message, "error")
        page = tickets.all_tickets(current_user, flt)
    return render_template("operator/tickets.html", page=page, flt=flt,
                           statuses=list(LABELS_VI.items()),
                           slas=common.sla_map(page.rows),
                           next_url=common.page_url(".tickets", page.next_cursor),
                           first_url=common.first_page_url(".tickets"),
                           **common.choices())


# --- one ticket ------------------------------------------------------------------------------


def _ticket_page(code: str, errors: dict, values: dict, status: int):
    context = common.ticket_context(code)
    ticket = context["ticket"]
    suggestion = None
    if "forward" in context["actions"]:
        decision = handling.suggestion_for(ticket)
        suggestion = {"agency_id": decision.agency_id, "reason": decision.reason}
    area_id = common.parse_int(values.get("area_id")) or ticket.area_id
    proposal = None
    if ticket.area_id is None and "classify" in context["actions"]:
        # A chat or e-mail ticket without a place: propose today's ward from its address.
        proposal = address_areas.ward_for_address(ticket.address or ticket.description[:400])
        area_id = area_id or (proposal.area_id if proposal else None)
    triage_box = (triage_view.for_ticket(ticket)
                  if ticket.status in ("new", "returned") else None)
    context.update(errors=errors, values=values, suggestion=suggestion, area_proposal=proposal,
                   triage=triage_box,
                   area_levels=calls.area_picker_levels(area_id), area_id=area_id,
                   kinds=list(KIND_LABELS_VI.items()), priorities=PRIORITIES,
                   reject_reasons=handling.REJECT_REASONS,
                   out_of_scope_default=handling.OUT_OF_SCOPE_DEFAULT,
                   **common.choices("fields", "agencies"))
    return render_template("operator/ticket.html", **context), status


@bp.get("/tickets/<code>")
def ticket(code: str):
    """The ticket page for operators and managers, with the operator's actions."""
    return _ticket_page(code, {}, {}, 200)


@bp.get("/tickets/<code>/files/<int:attachment_id>")
def ticket_file(code: str, attachment_id: int):
    return common.send_attachment(code, attachment_id)


def _forward(t, v):
    agency = handling.forward(current_user, t, agency_id=common.parse_int(v.get("agency_id")),
                              reason=v.get("reason"))
    return _("Đã chuyển phiếu đến %(a)s.", a=agency.name)


def _answer(t, v):
    handling.answer_directly(current_user, t, answer=v.get("answer"),
                             kb_article_id=common.parse_int(v.get("kb_article_id")))
    return _("Đã trả lời trực tiếp; phiếu đã đóng.")


def _merge(t, v):
    kept = handling.merge_duplicate(current_user, t, into_code=v.get("into_code"),
                                    note=v.get("note"))
    return _("Đã gộp vào phiếu %(c)s.", c=kept.code)


def _reject(t, v):
    handling.reject(current_user, t, reason=v.get("reason", ""), note=v.get("note"),
                    where=v.get("where"))
    return _("Đã từ chối phiếu.")


def _classify(t, v):
    changed = handling.classify(current_user, t, field_id=common.parse_int(v.get("field_id")),
                                area_id=common.parse_int(v.get("area_id")),
                                kind=v.get("kind") or None, priority=v.get("priority") or None)
    return _("Đã lưu phân loại.") if changed else _("Không có thay đổi.")


def _note(t, v):
    handling.add_note(current_user, t, note=v.get("note"), public=False)
    return _("Đã thêm ghi chú.")


def _cohandler(t, v):
    row = handling.add_cohandler(current_user, t, agency_id=common.parse_int(v.get("agency_id")),
                                 request_note=v.get("request_note"))
    return _("Đã mời %(a)s phối hợp.", a=row.agency.name)


def _no_publish(t, v):
    # A citizen who calls back to refuse publication: recorded on the line, taken down at once.
    if not publication_choice.refuse(t, via="phone"):
        return _("Người dân đã từ chối công khai phiếu này trước đó.")
    return _("Đã ghi nhận: người dân không đồng ý công khai phiếu này.")


ACTIONS = {"forward": _forward, "answer": _answer, "merge": _merge, "reject": _reject,
           "classify": _classify, "note": _note, "cohandler_add": _cohandler,
           "no_publish": _no_publish}


@bp.post("/tickets/<code>/<action>")
def ticket_action(code: str, action: str):
    """Run one operator action on the ticket."""
    _operator_only()
    handler = ACTIONS.get(action)
    if handler is None:
        abort(404)
    return common.run_action(
        action, code, handler,
        lambda errors, values, status: _ticket_page(code, errors, values, status), ".ticket")
