"""A citizen's request to see or erase their data (/personal-data), for the role
responsible for personal data (privacy officer) and administrators.

The officer verifies the person first (ID card at the one-stop desk, a call
back to the number, …) and writes how; the export and the erasure both go to
the audit log with that note, never with the data itself. Operators take the
request and pass it on; they cannot open this page.
"""
from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from hotline.auth import require_role
from hotline.domain.errors import HotlineError
from hotline.extensions import db
from hotline.models import PRIVACY_ROLES, Ticket
from hotline.services import privacy
from hotline.services.admin.audit import Actor
from hotline.tx import commit
from hotline.web import files

bp = Blueprint("privacy", __name__, url_prefix="/personal-data")
bp.before_request(require_role(*PRIVACY_ROLES))


def _actor() -> Actor:
    return Actor(user=current_user._get_current_object(), ip=request.remote_addr)


@bp.get("/", endpoint="home")
def home():
    phone, email = request.args.get("phone", "").strip(), request.args.get("email", "").strip()
    contacts, counts, status = [], {}, 200
    if phone or email:
        try:
            contacts = privacy.find_contacts(phone=phone or None, email=email or None)
        except HotlineError as exc:
            flash(exc.message, "error")
            status = 400
        if contacts:
            counts = dict(db.session.execute(
                select(Ticket.contact_id, func.count()).where(
                    Ticket.contact_id.in_([c.id for c in contacts]))
                .group_by(Ticket.contact_id)).all())
        elif status == 200:
            flash(_("Không có người liên hệ nào với thông tin này."), "info")
    return render_template("privacy/home.html", contacts=contacts, counts=counts, phone=phone,
                           email=email), status


@bp.post("/<int:contact_id>/export")
def export(contact_id: int):
    try:
        filename, body = privacy.export_contact(_actor(), contact_id,
                                                verification=request.form.get("verification"))
    except HotlineError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("privacy.home"))
    commit()
    return files.download(body, filename, mimetype="application/json")


@bp.post("/<int:contact_id>/erase")
def erase(contact_id: int):
    if request.form.get("confirm") != "yes":
        flash(_("Hãy đánh dấu xác nhận trước khi xoá."), "error")
        return redirect(url_for("privacy.home"))
    try:
        count = privacy.erase_contact(_actor(), contact_id,
                                      verification=request.form.get("verification"))
    except HotlineError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("privacy.home"))
    commit()
    flash(_("Đã xoá dữ liệu cá nhân trên %(n)d phiếu.", n=count), "success")
    return redirect(url_for("privacy.home"))
