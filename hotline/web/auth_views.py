"""Sign-in, sign-out and password change for staff."""
from __future__ import annotations

from urllib.parse import urlsplit

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user, login_required, login_user, logout_user
from sqlalchemy import select
from werkzeug.routing import BuildError
from wtforms import PasswordField, StringField
from wtforms.validators import DataRequired, EqualTo, Length

from hotline import auth
from hotline.domain.errors import ValidationError
from hotline.extensions import db, limiter
from hotline.models import User, utcnow
from hotline.services import accounts
from hotline.tx import commit
from hotline.web.forms import Form

bp = Blueprint("auth", __name__)


class LoginForm(Form):
    username = StringField(_l("Tên đăng nhập"), validators=[DataRequired(), Length(max=64)])
    password = PasswordField(_l("Mật khẩu"), validators=[DataRequired(), Length(max=200)])


class PasswordForm(Form):
    current = PasswordField(_l("Mật khẩu hiện tại"), validators=[DataRequired()])
    new = PasswordField(_l("Mật khẩu mới"), validators=[DataRequired(), Length(min=10, max=200)])
    confirm = PasswordField(_l("Nhập lại mật khẩu mới"), validators=[
        DataRequired(), EqualTo("new", message=_l("Hai mật khẩu không khớp."))])


def _username_key() -> str:
    return "login-user:" + (request.form.get("username") or "").strip().lower()


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
@limiter.limit("20 per minute", methods=["POST"], error_message="Quá nhiều lần thử. Vui lòng đợi một phút.")
@limiter.limit("5 per minute", methods=["POST"], key_func=_username_key,
               error_message="Quá nhiều lần thử cho tài khoản này. Vui lòng đợi một phút.")
def login():
    if current_user.is_authenticated:
        return redirect(_landing(current_user))
    form = LoginForm()
    if form.validate_on_submit():
        username = form.username.data.strip().lower()
        user = db.session.scalar(select(User).where(User.username == username))
        if user is not None and user.active and accounts.check_password(user, form.password.data):
            login_user(user)
            user.last_login_at = utcnow()
            commit()
            return redirect(_safe_next(request.args.get("next")) or _landing(user))
        # One message whether the user exists or not.
        flash(_("Sai tên đăng nhập hoặc mật khẩu."), "error")
        return render_template("auth/login.html", form=form), 401
    return render_template("auth/login.html", form=form)


@bp.post("/logout")
@login_required
def logout():
    logout_user()
    flash(_("Đã đăng xuất."), "info")
    return redirect(url_for("auth.login"))


@bp.route("/account/password", methods=["GET", "POST"])
@login_required
def change_password():
    form = PasswordForm()
    if form.validate_on_submit():
        if not accounts.check_password(current_user, form.current.data):
            form.current.errors.append(_("Mật khẩu hiện tại không đúng."))
        else:
            try:
                accounts.set_password(current_user, form.new.data)
            except ValidationError as exc:
                form.new.errors.append(exc.message)
            else:
                commit()
                flash(_("Đã đổi mật khẩu."), "success")
                return redirect(_landing(current_user))
    return render_template("auth/password.html", form=form)


@bp.get("/staff")
@login_required
def index():
    """The staff start page when a role has no screen of its own yet."""
    return render_template("auth/index.html", app_name=current_app.config.get("PROVINCE_NAME"))
