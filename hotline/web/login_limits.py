"""Sign-in throttling that cannot be turned against an account's owner.

Flask-Limiter counts failed sign-ins only (``deduct_when``: the 401 answer), in three
buckets: one address against one account, one account from anywhere, one address
against any account. A browser that has signed in to the account before carries a
signed device cookie naming it (a keyed hash of the username, never the name); its
attempts on that account are counted in buckets of that device alone. So someone
guessing an operator's password — from the same office address or from many — fills
their own buckets, and the operator at their usual machine still signs in with the right
password. A fresh client from another address also passes unless the account is under a
guessing attack from several addresses at once (the account-wide limit).

The limiter is the app's own (``hotline.extensions.limiter``), with its storage and its
fallback when Redis is away.
"""
from __future__ import annotations

import hashlib
import hmac
import secrets

from flask import current_app, request
from flask_limiter.util import get_remote_address
from itsdangerous import BadData, URLSafeTimedSerializer

from hotline.extensions import limiter

DEVICE_COOKIE = "hotline_device"
DEVICE_DAYS = 180
# Accounts one browser remembers (a shared office machine has a few users).
DEVICE_ACCOUNTS = 20
TOO_MANY = "Quá nhiều lần đăng nhập sai. Vui lòng đợi ít phút rồi thử lại."


def typed_username() -> str:
    return (request.form.get("username") or "").strip().lower()[:64]


def _account_tag(username: str) -> str:
    key = str(current_app.secret_key).encode()
    return hmac.new(key, b"login-account:" + username.encode(), hashlib.sha256).hexdigest()[:24]


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.secret_key, salt="login-device")


def _read_device() -> dict | None:
    raw = request.cookies.get(DEVICE_COOKIE)
    if not raw:
        return None
    try:
        data = _serializer().loads(raw, max_age=DEVICE_DAYS * 86400)
    except BadData:
        return None
    if not isinstance(data, dict) or not isinstance(data.get("d"), str) \
            or not isinstance(data.get("a"), list):
        return None
    return data


def known_device() -> str | None:
    """This browser's device id if it signed in to the typed account before."""
    data = _read_device()
    return data["d"] if data and _account_tag(typed_username()) in data["a"] else None


def _key(kind: str):
    def key() -> str:
        device = known_device()
        if device:
            return f"login-{kind}-device:{device}:{_account_tag(typed_username())}"
        if kind == "ip":
            return f"login-ip:{get_remote_address()}"
        if kind == "account":
            return f"login-account:{_account_tag(typed_username())}"
        return f"login-client-account:{get_remote_address()}:{_account_tag(typed_username())}"
    return key


def _failed(response) -> bool:
    return response.status_code == 401


def _config(name: str):
    return lambda: current_app.config[name]


_limits = [
    limiter.limit(_config("LOGIN_LIMIT_PER_IP"), key_func=_key("ip"), methods=["POST"],
                  deduct_when=_failed, error_message=TOO_MANY),
    limiter.limit(_config("LOGIN_LIMIT_PER_ACCOUNT"), key_func=_key("account"), methods=["POST"],
                  deduct_when=_failed, error_message=TOO_MANY),
    limiter.limit(_config("LOGIN_LIMIT_PER_CLIENT_ACCOUNT"), key_func=_key("client"),
                  methods=["POST"], deduct_when=_failed, error_message=TOO_MANY),
]


def throttled(view):
    """The sign-in view's rate limits (failed attempts only)."""
    for decorator in reversed(_limits):
        view = decorator(view)
    return view


def remember_device(response, username: str) -> None:
    """After a successful sign-in: this browser now counts as the account's own."""
    data = _read_device() or {"d": secrets.token_urlsafe(16), "a": []}
    tag = _account_tag(username)
    accounts = [a for a in data["a"] if a != tag][-(DEVICE_ACCOUNTS - 1):] + [tag]
    response.set_cookie(DEVICE_COOKIE, _serializer().dumps({"d": data["d"], "a": accounts}),
                        max_age=DEVICE_DAYS * 86400, path="/login", httponly=True,
                        secure=request.is_secure, samesite="Lax")
