"""Who is signed in, and the role guard every staff blueprint installs.

Roles are checked per blueprint (``bp.before_request(require_role(...))``) so a
new view is protected by default; agency scoping is a service rule on top. The same
guard sends a user whose password is known to others (demo, administrator's reset) to
the password change first.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import abort, current_app, flash, g, redirect, request, session, url_for
from flask_babel import gettext
from flask_login import current_user

from hotline.extensions import login_manager
from hotline.models import User
from hotline.services import sessions


@login_manager.user_loader
def load_user(user_id: str) -> User | None:
    """The active user of a live server-side session (``services.sessions``), else nobody."""
    if not user_id.isdigit():
        return None
    config = current_app.config
    user = sessions.load(int(user_id), session,
                         idle=timedelta(minutes=config["SESSION_IDLE_MINUTES"]),
                         max_age=timedelta(hours=config["SESSION_MAX_HOURS"]))
    if user is None and sessions.TOKEN_KEY in session:
        # Ended elsewhere, idle or too old: say so on the sign-in page it leads to.
        session.pop(sessions.TOKEN_KEY, None)
        flash(gettext("Phiên làm việc đã kết thúc. Vui lòng đăng nhập lại."), "warning")
    return user


def session_lifetime() -> timedelta:
    return timedelta(hours=current_app.config["SESSION_MAX_HOURS"])


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
        if current_user.must_change_password:
            return redirect(url_for("auth.change_password"))
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


def init_app(app) -> None:
    @app.before_request
    def _who_is_signed_in_is_per_request() -> None:
        # Each request decides from its own cookie. Served requests each have their own
        # ``g``; an app context serving several (the test client inside one) must not carry
        # one request's user into the next.
        g.pop("_login_user", None)
