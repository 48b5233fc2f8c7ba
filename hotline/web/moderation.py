"""The manager's publication queue: redacted text to check and edit, then publish or withhold.

``/manager/publication`` lists results of every channel waiting for a decision and
the latest publications; each ticket's page shows the original (internal) beside the
automatically redacted proposal, what the detector still finds in it (marked in a
preview of the text about to be published, with what merely looks suspicious), and
the photos to publish as EXIF-free copies. Manager role only.
"""
from __future__ import annotations

from flask import (
    Blueprint,
    abort,
    flash,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from hotline.auth import require_role
from hotline.domain.errors import ValidationError
from hotline.domain.redact import LABELS, mark_segments
from hotline.extensions import db
from hotline.models import Attachment
from hotline.services import publication
from hotline.tx import commit
from hotline.web import files
from hotline.web.hygiene import bigint
from hotline.web.public_forms import ModerationForm, UnpublishForm

bp = Blueprint("moderation", __name__, url_prefix="/manager/publication")
bp.before_request(require_role("manager"))


@bp.get("/")
def queue():
    after = request.args.get("after", type=bigint)
    page = publication.publication_queue(current_user, after_id=after)
    recent = publication.recently_published(current_user)
    return render_template("moderation/queue.html", page=page, recent=recent)


def _render_ticket(ticket, form, status=200):
    draft = publication.prepare_publication(ticket)
    if not form.is_submitted():
        form.summary.data = draft.summary
        form.result.data = draft.result
    summary_left = publication.residual_findings(ticket, form.summary.data)
    result_left = publication.residual_findings(ticket, form.result.data)
    previews = [(field.label.text, mark_segments(field.data or "",
                                                 publication.review_marks(ticket, field.data)))
                for field in (form.summary, form.result)]
    return render_template("moderation/ticket.html", ticket=ticket, form=form, draft=draft,
                           leftovers=summary_left + result_left, labels=LABELS,
                           previews=previews, unpublish_form=UnpublishForm()), status


@bp.route("/<code>", methods=["GET", "POST"])
def ticket(code):
    ticket = publication.get_for_moderation(current_user, code)
    form = ModerationForm()
    if request.method == "POST" and request.form.get("action") == "check":
        return _render_ticket(ticket, form)  # mark the edited text again; nothing is saved
    if request.method == "GET" or not form.validate_on_submit():
        return _render_ticket(ticket, form, 200 if request.method == "GET" else 400)
    photo_ids = [int(v) for v in request.form.getlist("photo") if v.isdigit()]
    try:
        publication.approve_publication(current_user, ticket, form.summary.data, form.result.data,
                                        photo_ids=photo_ids, ip=request.remote_addr)
    except ValidationError as exc:
        flash(exc.message, "error")
        return _render_ticket(ticket, form, 400)
    commit()
    flash(_("Đã công khai phiếu %(code)s.", code=ticket.code), "success")
    return redirect(url_for("moderation.queue"))


@bp.post("/<code>/unpublish")
def unpublish(code):
    """Withhold a ticket from publication, or take its publication down, with a reason."""
    ticket = publication.get_for_moderation(current_user, code)
    form = UnpublishForm()
    if not form.validate_on_submit():
        flash(_("Nhập lý do không công khai."), "error")
        return redirect(url_for("moderation.ticket", code=ticket.code))
    was_published = ticket.published_at is not None
    try:
        publication.withhold_publication(current_user, ticket, form.reason.data,
                                         ip=request.remote_addr)
    except ValidationError as exc:
        flash(exc.message, "error")
        return redirect(url_for("moderation.ticket", code=ticket.code))
    commit()
    flash(_("Đã gỡ công khai phiếu %(code)s.", code=ticket.code) if was_published
          else _("Đã quyết định không công khai phiếu %(code)s.", code=ticket.code), "success")
    return redirect(url_for("moderation.queue"))


@bp.get("/<code>/photos/<int:attachment_id>")
def photo(code, attachment_id):
    """An original photo, for the moderator's eyes only, re-encoded by the server."""
    ticket = publication.get_for_moderation(current_user, code)
    row = db.session.scalar(select(Attachment).where(Attachment.id == attachment_id,
                                                     Attachment.ticket_id == ticket.id,
                                                     Attachment.storage_key.is_not(None)))
    if row is None:
        abort(404)
    # Re-encoded for display: an original is whatever the citizen sent, under the type
    # they declared; what does not decode as an image is a download.
    return files.reencoded_image(row.storage_key, row.filename)
