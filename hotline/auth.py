"""Who is signed in, and the role guard every staff blueprint installs.

Roles are checked per blueprint (``bp.before_request(require_role(...))``) so a
new view is protected by default; agency scoping is a service rule on top.
"""
from __future__ import annotations

from collections.abc import Callable

from flask import abort, redirect, request, url_for
from flask_babel import gettext
from flask_login import current_user

from hotline.extensions import db, login_manager
from hotline.models import User


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    user = db.session.get(User, int(user_id)) if user_id.isdigit() else None
    return user if user is not None and user.active else None


login_manager.login_view = "auth.login"
login_manager.login_message = "Vui lòng đăng nhập để tiếp tục."
login_manager.localize_callback = gettext  # the msgid is marked in hotline.web.labels_i18n
login_manager.login_message_category = "warning"
login_manager.session_protection = "strong"


def require_role(*roles: str) -> Callable[[], object]:
    """A ``before_request`` hook: signed-in users with one of ``roles`` pass; others get 403."""
    allowed = frozenset(roles)

    def guard():
        if not current_user.is_authenticated:
            return redirect(url_for("auth.login", next=request.full_path))
        if current_user.role not in allowed:
            abort(403)
        return None

    return guard


HOME_BY_ROLE = {
    "operator": "operator.home",
    "handler": "agency.inbox",
    "agency_lead": "agency.inbox",
    "manager": "manager.home",
    "admin": "admin.home",
    "privacy_officer": "privacy.home",
}


def home_endpoint(user: User) -> str:
    """Where a user lands after signing in (falls back to the staff index)."""
    return HOME_BY_ROLE.get(user.role, "auth.index")
