"""Sign-in, sign-out, the account page and password change for staff."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import (Blueprint, current_app, flash, redirect, render_template, request, session,
                   url_for)
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from werkzeug.routing import BuildError
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from hotline import auth
from hotline.domain.errors import ValidationError
from hotline.models import User, utcnow
from hotline.services import accounts, sessions
from hotline.services.admin.audit import Actor, record
from hotline.tx import commit
from hotline.web import login_limits
from hotline.web.forms import Form

bp = Blueprint("auth", __name__)


class LoginForm(Form):
    username = StringField(_l("Tên đăng nhập"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Mật khẩu"), validators=[DataRequired(), Length(max=200)])


class PasswordForm(Form):
    current = PasswordField(_l("Mật khẩu hiện tại"), validators=[DataRequired()])
    new = PasswordField(_l("Mật khẩu mới"), validators=[
        DataRequired(), Length(min=10, max=200, message=_l("Mật khẩu cần ít nhất 10 ký tự."))])
    confirm = PasswordField(_l("Nhập lại mật khẩu mới"), validators=[
        DataRequired(), EqualTo("new", message=_l("Hai mật khẩu không khớp."))])


def _safe_next(target: str | None) -> str | None:
    if not target:
        return None
    parts = urlsplit(target)
    # Only same-site paths: never bounce a signed-in user to another host.
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return None
    return target


def _landing(user: User) -> str:
    try:
        return url_for(auth.home_endpoint(user))
    except BuildError:
        return url_for("auth.index")


@bp.route("/login", methods=["GET", "POST"])
@login_limits.throttled
def login():
    if current_user.is_authenticated:
        return redirect(_landing(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        username = form.username.data.strip().lower()
        user, outcome = accounts.authenticate(username, form.password.data)
        if outcome == "ok":
            login_user(user)
            sessions.start(user, session, max_age=auth.session_lifetime())
            user.last_login_at = utcnow()
            commit()
            if user.must_change_password:
                flash(_("Mật khẩu này đã được người khác biết (mật khẩu mẫu hoặc do quản trị "
                        "đặt lại). Vui lòng đổi mật khẩu trước khi làm việc."), "warning")
                target = url_for("auth.change_password")
            else:
                target = _safe_next(request.args.get("next")) or _landing(user)
            response = redirect(target)
            login_limits.remember_device(response, username)
            return response
        accounts.audit_failed_sign_in(username, user, outcome, request.remote_addr)
        commit()
        # One message whether the user exists or not.
        flash(_("Sai tên đăng nhập hoặc mật khẩu."), "error")
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    sessions.end(session)
    logout_user()
    commit()
    flash(_("Đã đăng xuất."), "info")
    return redirect(url_for("auth.login"))


@bp.post("/account/sign-out-everywhere")
@login_required
def sign_out_everywhere():
    """End every session of the signed-in user, this browser's included."""
    user = current_user._get_current_object()
    ended = sessions.end_all(user)
    record(Actor(user, request.remote_addr), "logout_everywhere", "user", user.id,
           after={"sessions": ended})
    session.pop(sessions.TOKEN_KEY, None)
    logout_user()
    commit()
    flash(_("Đã đăng xuất khỏi mọi thiết bị."), "info")
    return redirect(url_for("auth.login"))


# Messages of the password rules, by the service's error code (translated at render).
PASSWORD_ERRORS = {
    "password_too_short": _l("Mật khẩu cần ít nhất 10 ký tự."),
    "weak_password": _l("Mật khẩu quá dễ đoán (dãy lặp, dãy số, mật khẩu phổ biến hoặc chứa "
                        "tên, tên đăng nhập). Hãy dùng một cụm vài từ không liên quan đến nhau."),
}


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordForm()
    if form.validate_on_submit():
        if not accounts.check_password(current_user, form.current.data):
            form.current.errors.append(_("Mật khẩu hiện tại không đúng."))
        elif form.new.data == form.current.data:
            form.new.errors.append(_("Mật khẩu mới phải khác mật khẩu hiện tại."))
        else:
            user = current_user._get_current_object()
            try:
                # Every other session of the user ends; this browser stays signed in.
                accounts.set_password(user, form.new.data, keep_session=session)
            except ValidationError as exc:
                form.new.errors.append(PASSWORD_ERRORS.get(exc.code, exc.message))
            else:
                record(Actor(user, request.remote_addr), "change_password", "user", user.id)
                commit()
                flash(_("Đã đổi mật khẩu."), "success")
                return redirect(_landing(user))
    return render_template("auth/password.html", form=form,
                           forced=current_user.must_change_password)


@bp.get("/account")
@login_required
def account():
    """The signed-in user's account: password, and signing out of every device."""
    if current_user.must_change_password:
        return redirect(url_for("auth.change_password"))
    open_sessions = sessions.count(current_user, since=utcnow() - auth.session_lifetime())
    return render_template("auth/account.html", open_sessions=open_sessions,
                           idle_minutes=current_app.config["SESSION_IDLE_MINUTES"],
                           max_hours=current_app.config["SESSION_MAX_HOURS"])


@bp.get("/staff")
@login_required
def index():
    """The staff start page when a role has no screen of its own yet."""
    if current_user.must_change_password:
        return redirect(url_for("auth.change_password"))
    return render_template("auth/index.html", app_name=current_app.config.get("PROVINCE_NAME"))
