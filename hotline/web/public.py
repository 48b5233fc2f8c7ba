"""The citizen's pages: home, file a report, follow it, read published results, rate.

No account. Lookups are rate-limited per client address, and only failed
lookups count, so neither codes nor the phone's last digits can be enumerated —
and, since ticket codes are public, the limit is never per code: a stranger's
wrong guesses must not lock the owner out. A limit reached shows a page that
says so in words and keeps what was typed. The form takes a honeypot field and
a per-IP limit instead of a CAPTCHA; its ``submission_id`` only counts in the
browser session that was given the form.
"""
from __future__ import annotations

import math
import uuid

from flask import (
    Blueprint,
    abort,
    current_app,
    flash,
    jsonify,
    make_response,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address

from hotline.domain.errors import ValidationError
from hotline.domain.lifecycle import DONE_STATUSES, LABELS_VI, OPEN_STATUSES, Status
from hotline.domain.messages import Channel, ContactHandle, IncomingAttachment, IncomingMessage
from hotline.domain.photos import EXTENSIONS, inspect_photo
from hotline.extensions import db, limiter
from hotline.models import Ticket, utcnow
from hotline.services import events, publication_choice, staging
from hotline.services import public as public_service
from hotline.tx import commit
from hotline.web import files
from hotline.web import public_submit as submission
from hotline.web.filters import localtime
from hotline.web.forms import Form
from hotline.web.public_forms import RatingForm, ResultsFilterForm, StatusForm, SubmitForm, choices

bp = Blueprint("public", __name__)

NOT_FOUND = ("Không tìm thấy phiếu với mã và 4 số cuối điện thoại này. Vui lòng kiểm tra lại, "
             "hoặc dùng đường dẫn tra cứu trong tin nhắn xác nhận.")


def _failed(response) -> bool:
    return response.status_code == 404


def _ip_limit() -> str:
    return current_app.config["STATUS_LIMIT_PER_IP"]


_TOO_MANY = "Bạn đã tra cứu sai quá nhiều lần. Vui lòng thử lại sau ít phút."
# One budget per client for every lookup door (form, secret link, rating).
_lookup_limits = [
    limiter.shared_limit(_ip_limit, scope="status-lookup",
                         key_func=lambda: "status-ip:" + get_remote_address(),
                         deduct_when=_failed, error_message=_TOO_MANY, methods=["GET", "POST"]),
]


@bp.errorhandler(429)
def too_many(exc):
    """A limit reached on a citizen's page: the page again, with what they typed and why."""
    message = _(exc.description or "Bạn thao tác quá nhanh. Vui lòng thử lại sau ít phút.")
    if request.endpoint == "public.submit" and request.method == "POST":
        # Bound from the post: everything typed is kept (photos must be chosen again).
        return _submit_page(SubmitForm(), 429, refused=message)
    if request.endpoint == "public.status" and request.method == "POST":
        form = StatusForm()
        form.phone_last4.data = ""  # never echo the digits back
        return _private(make_response(render_template(
            "public/status_form.html", form=form, not_found=message), 429))
    return _private(make_response(render_template("errors/too_many.html", message=message),
                                  429))


def lookup_limited(view):
    for decorator in reversed(_lookup_limits):
        view = decorator(view)
    return view


def _private(response):
    """Pages about one citizen's ticket: not cached, not leaked in a Referer."""
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["X-Robots-Tag"] = "noindex"
    return response


# --- home -----------------------------------------------------------------------------------

@bp.get("/")
def home():
    latest = public_service.list_published(limit=5).items
    return render_template("public/home.html", latest=latest)


# --- file a report ----------------------------------------------------------------------------

def _indent(depth: int) -> str:
    # No-break spaces: a select shows the tree without dashes a screen reader would read out.
    return "\u00a0\u00a0\u00a0" * depth


def _submit_page(form: SubmitForm, status: int = 200, **context):
    # The selects' choices are only for showing the form: a post is checked by intake
    # (the field and area codes it names must exist), not against the list.
    _fill_choices(form)
    return render_template("public/submit.html", form=form, **context), status


def _fill_choices(form: SubmitForm) -> None:
    form.field_code.choices = choices([("", _("Không rõ — tổng đài sẽ phân loại"))] + [
        (code, _indent(depth) + name) for code, name, depth in public_service.field_options()])
    form.area_code.choices = choices([("", _("Không rõ"))] + [
        (code, _indent(depth) + name) for code, name, depth in public_service.area_options()])


def _photos() -> tuple[list[IncomingAttachment], list[dict]]:
    files = [f for f in request.files.getlist("photos") if f and f.filename]
    limit = int(current_app.config["PUBLIC_MAX_PHOTOS"])
    if len(files) > limit:
        raise ValidationError(_("Chỉ gửi tối đa %(n)d ảnh.", n=limit), code="too_many_files",
                              field="photos")
    max_bytes = int(current_app.config["PUBLIC_PHOTO_MAX_BYTES"])
    out, gps = [], []
    for i, upload in enumerate(files, 1):
        data = upload.read(max_bytes + 1)
        info = inspect_photo(data, filename=upload.filename, max_bytes=max_bytes)
        name = f"anh-{i}.{EXTENSIONS[info.format]}"
        out.append(IncomingAttachment(filename=name, content_type=info.content_type, data=data))
        if info.lat is not None:
            gps.append({"photo": name, "lat": info.lat, "lon": info.lon})
    return out, gps


# Which form field shows a service's refusal (by the error's code).
_ERROR_FIELDS = {"invalid_phone": "phone", "invalid_email": "email", "bad_image": "photos",
                 "file_too_large": "photos", "empty_file": "photos", "too_many_files": "photos",
                 "invalid_location": "lat", "unknown_field": "field_code",
                 "unknown_area": "area_code", "invalid_kind": "kind"}


@bp.route("/submit", methods=["GET", "POST"])
@limiter.limit(lambda: current_app.config["SUBMIT_LIMIT_PER_IP"], methods=["POST"],
               key_func=lambda: "submit-ip:" + get_remote_address(),
               error_message="Bạn đã gửi nhiều phản ánh trong thời gian ngắn. "
                             "Vui lòng thử lại sau ít phút hoặc gọi 1022.")
def submit():
    if request.method == "GET":
        submission.session_nonce(session)  # the id on this page counts in this session only
        return _submit_page(SubmitForm())
    # The post is read without binding SubmitForm (see public_submit); the form is built
    # only to show the page again, with what the citizen typed and what is wrong.
    if submission.is_spam(request.form):
        # A bot filled the hidden field: store nothing, say nothing useful.
        return _submit_page(SubmitForm(), 400,
                            refused=_("Không thể gửi phản ánh. Vui lòng gọi 1022."))
    try:
        post = submission.read(request.form)
        attachments, gps = _photos()
        msg = IncomingMessage(
            channel=Channel.WEB,
            external_id="web:" + submission.bound_id(post.submission_id,
                                                     submission.session_nonce(session)),
            received_at=utcnow(), text=post.description, kind=post.kind,
            field_code=post.field_code, area_code=post.area_code, address=post.address,
            lat=post.lat, lon=post.lon,
            contact=ContactHandle() if post.anonymous else ContactHandle(
                name=post.name, phone=post.phone, email=post.email),
            attachments=tuple(attachments), consent_publish=post.consent_publish,
            privacy_requested=post.privacy_requested, force_new=True)
        # Staged: the citizen gets the code at once, the intake drain routes it (a report
        # with photos is received in this request, its files stored with it).
        result = staging.stage(msg, alone=True)
    except submission.Invalid as exc:
        return _refused(exc.errors)
    except ValidationError as exc:
        return _refused({_ERROR_FIELDS.get(exc.code, "description"): [exc.message]})
    if result.pending:
        code, token = result.code, result.status_token
    else:
        ticket = db.session.get(Ticket, result.ticket_id)
        code, token = ticket.code, ticket.status_token
        if result.created and gps:
            # Where the photos were taken stays with the staff; it is never published.
            events.record(ticket, "photo_location", actor_label="citizen",
                          note="Vị trí chụp ảnh (từ EXIF).", data={"photos": gps})
    commit()
    return redirect(url_for("public.status_link", code=code, token=token, new=1))


def _refused(errors: dict[str, list]):
    """The form again, as the citizen filled it in, with each message under its input."""
    form = SubmitForm()
    refused = None
    if "submission_id" in errors:
        # A stale or tampered page: a fresh id, so the next try can go through.
        form.submission_id.data = uuid.uuid4().hex
        refused = errors.pop("submission_id")[0]
    for name, messages in errors.items():
        getattr(form, name).errors = list(messages)
    return _submit_page(form, 400, refused=refused)


@bp.get("/submit/nearby")
@limiter.limit("60 per minute", key_func=lambda: "nearby-ip:" + get_remote_address())
def nearby():
    """Open tickets of the same field near a point (or in the commune), for the duplicate hint:
    code, status, date, published summary and a distance bucket only (``nearby_hint``)."""
    def number(name):
        try:
            value = float(request.args[name]) if request.args.get(name) else None
        except ValueError:
            return None
        return value if value is not None and math.isfinite(value) else None
    try:
        found = public_service.nearby_open(request.args.get("field") or None,
                                           lat=number("lat"), lon=number("lon"),
                                           area_code=request.args.get("area") or None)
    except ValidationError:
        found = []
    return jsonify(items=[{
        "code": n.code, "status": LABELS_VI[Status(n.status)],
        "received": localtime(n.received_at, "%d/%m/%Y"),
        "summary": n.summary, "distance": n.distance,
        "url": url_for("public.result", code=n.code) if n.published else None,
    } for n in found])


# --- status ---------------------------------------------------------------------------------

def _status_page(view, *, new=False, rating_form=None, code=None):
    tz_done = {s.value for s in DONE_STATUSES}
    resp = make_response(render_template(
        "public/status.html", view=view, new=new, done=view.status in tz_done,
        open_=view.status in {s.value for s in OPEN_STATUSES},
        rating_form=rating_form or RatingForm(),
        link=f"{current_app.config['PUBLIC_URL'].rstrip('/')}"
             f"{url_for('public.status_link', code=view.code, token=view.token)}"))
    return _private(resp)


@bp.route("/status", methods=["GET", "POST"])
@lookup_limited
def status():
    form = StatusForm()
    if request.method == "GET":
        if request.args.get("code"):
            form.code.data = request.args["code"]
        return _private(make_response(render_template("public/status_form.html", form=form)))
    if not form.validate_on_submit():
        return _private(make_response(render_template("public/status_form.html", form=form), 400))
    view = public_service.lookup_status(form.code.data, form.phone_last4.data)
    if view is None:
        form.phone_last4.data = ""  # never echo the digits back
        return _private(make_response(render_template("public/status_form.html", form=form,
                                                      not_found=_(NOT_FOUND)), 404))
    return _status_page(view)


def _link_not_found():
    """A status link that names no ticket: the lookup form, as for a wrong code."""
    return _private(make_response(render_template(
        "public/status_form.html", form=StatusForm(formdata=None), not_found=_(NOT_FOUND)), 404))


@bp.get("/status/<code>/<token>")
@lookup_limited
def status_link(code, token):
    view = public_service.lookup_by_token(code, token)
    if view is None:
        return _link_not_found()
    return _status_page(view, new=request.args.get("new") == "1")


@bp.post("/status/<code>/<token>/rate")
@lookup_limited
def rate(code, token):
    ticket = public_service.ticket_by_token(code, token)
    if ticket is None:
        return _link_not_found()
    form = RatingForm()
    if not form.validate_on_submit():
        return _status_page(public_service.status_view(ticket), rating_form=form), 400
    fixed = {"yes": True, "no": False}.get(form.fixed.data)
    try:
        outcome = public_service.rate(ticket, rating=form.rating.data, comment=form.comment.data,
                                      fixed=fixed)
    except ValidationError as exc:
        form.rating.errors = list(form.rating.errors) + [exc.message]
        return _status_page(public_service.status_view(ticket), rating_form=form), 400
    commit()
    if outcome.reopened:
        message = _("Cảm ơn bạn. Phiếu đã được mở lại và chuyển lại cơ quan xử lý.")
    elif outcome.too_late_to_reopen:
        message = _("Cảm ơn bạn đã đánh giá. Đã quá thời hạn mở lại phiếu; nếu vấn đề vẫn còn, "
                    "vui lòng gửi phản ánh mới.")
    else:
        message = _("Cảm ơn bạn đã đánh giá kết quả giải quyết.")
    flash(message, "success")
    return redirect(url_for("public.status_link", code=ticket.code, token=ticket.status_token))


@bp.post("/status/<code>/<token>/no-publish")
@lookup_limited
def refuse_publication(code, token):
    """The citizen, proven by the secret link, asks not to be published (any channel)."""
    ticket = public_service.ticket_by_token(code, token)
    if ticket is None:
        return _link_not_found()
    if not Form().validate_on_submit():  # the CSRF token only
        flash(_("Phiên làm việc đã hết hạn; vui lòng thử lại."), "error")
    elif publication_choice.refuse(ticket, via="status_page"):
        commit()
        flash(_("Đã ghi nhận: phiếu của bạn sẽ không được công khai."), "success")
    return redirect(url_for("public.status_link", code=ticket.code, token=ticket.status_token))


# --- published results -------------------------------------------------------------------------

@bp.get("/results")
def results():
    form = ResultsFilterForm(request.args)
    form.field.choices = choices([("", _("Tất cả"))] + [
        (c, _indent(d) + n) for c, n, d in public_service.field_options()])
    form.area.choices = choices([("", _("Tất cả"))] + [
        (c, _indent(d) + n) for c, n, d in public_service.area_options()])
    form.agency.choices = choices([("", _("Tất cả")), *public_service.agency_options()])
    form.validate()
    filters = public_service.ResultFilters(
        q=form.q.data or None, field_code=form.field.data or None, area_code=form.area.data or None,
        agency_code=form.agency.data or None,
        date_from=form.date_from.data if not form.date_from.errors else None,
        date_to=form.date_to.data if not form.date_to.errors else None)
    try:
        page = public_service.list_published(filters, cursor=request.args.get("after"))
    except ValidationError:
        abort(400)
    args = {k: v for k, v in request.args.items() if k != "after" and v}
    next_url = url_for("public.results", **args, after=page.next_cursor) if page.next_cursor else None
    return render_template("public/results.html", form=form, page=page, next_url=next_url,
                           first_url=url_for("public.results", **args) if "after" in request.args
                           else None)


@bp.get("/results/<code>")
def result(code):
    item = public_service.get_published(code)
    if item is None:
        abort(404)
    share = f"{current_app.config['PUBLIC_URL'].rstrip('/')}{url_for('public.result', code=item.code)}"
    return render_template("public/result.html", item=item, share_url=share)


@bp.get("/results/<code>/photos/<int:photo_id>")
def result_photo(code, photo_id):
    photo = public_service.public_photo(code, photo_id)
    if photo is None:
        abort(404)
    # Published copies are the server's own re-encoding (publication.public_copy).
    return files.server_image(photo.storage_key, photo.filename, cache="public, max-age=3600")
