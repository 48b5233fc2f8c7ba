"""Bulk actions on tickets (/bulk): a page to paste codes, and a POST any ticket list can use.

A ticket list adds checkboxes named ``codes`` and posts them to
``url_for('bulk.apply')`` with ``action`` (reassign / change_field / merge /
spam), the action's parameter (``agency_id``, ``field_id``, ``into``), a
``reason`` and ``next`` (where to come back to).
"""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from hotline.auth import require_role
from hotline.domain.errors import HotlineError
from hotline.extensions import db
from hotline.services import bulk
from hotline.services.admin import org
from hotline.tx import commit
from hotline.web.hygiene import bigint

bp = Blueprint("bulk", __name__, url_prefix="/bulk")
bp.before_request(require_role(*bulk.ROLES))

ACTIONS = {"reassign": _l("Chuyển cơ quan xử lý"), "change_field": _l("Đổi lĩnh vực"),
           "merge": _l("Gộp phiếu trùng"), "spam": _l("Đóng: tin rác / ngoài phạm vi")}


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _codes() -> list[str]:
    listed = request.form.getlist("codes")
    if len(listed) == 1:
        return bulk.parse_codes(listed[0])
    return bulk.parse_codes(listed)


@bp.get("/", endpoint="page")
def page():
    return render_template("bulk/page.html", actions=ACTIONS,
                           agencies=org.list_agencies(include_inactive=False),
                           fields=[f for f in org.list_fields() if f.active],
                           codes=request.args.get("codes", ""))


@bp.post("/", endpoint="apply")
def apply():
    user = current_user._get_current_object()
    action = request.form.get("action")
    codes = _codes()
    reason = request.form.get("reason")
    try:
        if action == "reassign":
            result = bulk.reassign(user, codes, request.form.get("agency_id", type=bigint),
                                   reason=reason)
        elif action == "change_field":
            result = bulk.change_field(user, codes, request.form.get("field_id", type=bigint),
                                       note=reason)
        elif action == "merge":
            result = bulk.merge(user, codes, request.form.get("into", ""))
        elif action == "spam":
            result = bulk.close_as_spam(user, codes, note=reason)
        else:
            flash(_("Chọn thao tác."), "error")
            return _back(400)
    except HotlineError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return _back(400)
    commit()
    flash(_("%(action)s: ", action=ACTIONS[action]) + result.describe(), "success")
    return redirect(_safe_next(request.form.get("next")) or url_for("bulk.page"))


def _back(status: int):
    target = _safe_next(request.form.get("next"))
    if target:
        return redirect(target)
    return render_template("bulk/page.html", actions=ACTIONS,
                           agencies=org.list_agencies(include_inactive=False),
                           fields=[f for f in org.list_fields() if f.active],
                           codes=" ".join(_codes())), status
