"""Staff accounts and API keys: creation, password checks, key verification."""
from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable, MutableMapping
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from hotline.domain import text
from hotline.domain.errors import ValidationError
from hotline.extensions import db
from hotline.models import AGENCY_ROLES, Agency, ApiKey, ApiScope, Role, User, utcnow
from hotline.services import lookups, sessions

_hasher = PasswordHasher()
MIN_PASSWORD = 10
# zxcvbn's score 0–4: 3 is "safely unguessable" (about 10^10 guesses), enough behind argon2.
MIN_STRENGTH = 3
MAX_PASSWORD = 200


def hash_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise ValidationError(f"Mật khẩu cần ít nhất {MIN_PASSWORD} ký tự.",
                              code="password_too_short")
    return _hasher.hash(password)


def check_strength(password: str, *, user_inputs: Iterable[str] = ()) -> None:
    """Refuse a guessable password: too short, mostly the user's own names, or weak by
    zxcvbn (repeats, sequences, common passwords, dates, keyboard walks, names)."""
    from zxcvbn import zxcvbn  # its dictionaries take 25 ms to load: only when needed
    if len(password or "") < MIN_PASSWORD:
        raise ValidationError(f"Mật khẩu cần ít nhất {MIN_PASSWORD} ký tự.",
                              code="password_too_short")
    inputs = list(user_inputs)
    # zxcvbn misses names joined by separators ("soxd-lan-nguyen"): take them out and see
    # whether what is left would pass on its own length.
    plain = rest = "".join(_ALNUM.findall(text.fold(password)))
    for word in sorted((w for w in inputs if len(w) >= 3), key=len, reverse=True):
        rest = rest.replace(word, "")
    mostly_names = rest != plain and len(rest) < MIN_PASSWORD
    # zxcvbn's cost grows with the length; nothing past MAX_PASSWORD is accepted anyway.
    if mostly_names or zxcvbn(password[:MAX_PASSWORD], user_inputs=inputs)["score"] < MIN_STRENGTH:
        raise ValidationError("Mật khẩu quá dễ đoán (dãy lặp, dãy số, mật khẩu phổ biến hoặc "
                              "chứa tên, tên đăng nhập). Hãy dùng một cụm vài từ không liên quan "
                              "đến nhau.", code="weak_password")


_ALNUM = re.compile(r"[0-9a-z]+")


def personal_words(*, username: str | None, full_name: str | None,
                   email: str | None) -> list[str]:
    """What a password must not be built from: the username, the name and the e-mail
    address, whole, joined up and word by word, folded (no accents, lower case)."""
    words: set[str] = set()
    for value in (username, full_name, email):
        parts = _ALNUM.findall(text.fold(value or ""))
        if parts:
            words.update(parts)
            words.add("".join(parts))
    return sorted(words)


def user_words(user: User) -> list[str]:
    return personal_words(username=user.username, full_name=user.full_name, email=user.email)


def check_password(user: User, password: str) -> bool:
    return check_password_hash(user.password_hash, password)


# Verified when the username is unknown, so that the answer takes as long as for a known one.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


def authenticate(username: str, password: str) -> tuple[User | None, str]:
    """Check a sign-in. Returns ``(user, "ok")`` or ``(user or None, reason)`` where reason is
    ``unknown_user``, ``inactive`` or ``wrong_password``.

    One argon2 verification whatever the case, so the time taken tells nothing about whether
    the account exists or is active.
    """
    user = db.session.scalar(select(User).where(User.username == username))
    if user is None:
        check_password_hash(_DUMMY_HASH, password)
        return None, "unknown_user"
    ok = check_password(user, password)
    if not user.active:
        return user, "inactive"
    return user, "ok" if ok else "wrong_password"


def check_password_hash(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(*, username: str, password: str, role: str, full_name: str,
                agency_code: str | None = None, email: str | None = None,
                phone_extension: str | None = None, enforce_strength: bool = True,
                must_change_password: bool = False) -> User:
    """Create a staff account; handlers and agency leads must belong to an agency.

    ``enforce_strength=False`` is for the demo's documented passwords only, which are
    created with ``must_change_password`` so they are replaced at first sign-in.
    """
    username = text.clean_text(username, max_length=64, field="tên đăng nhập", required=True,
                               multiline=False).lower()
    if enforce_strength:
        check_strength(password, user_inputs=personal_words(
            username=username, full_name=full_name, email=email))
    try:
        role_value = Role(role)
    except ValueError as exc:
        raise ValidationError(f"Vai trò không hợp lệ: {role}", code="invalid_role") from exc
    if db.session.scalar(select(User.id).where(User.username == username)):
        raise ValidationError(f"Tên đăng nhập đã tồn tại: {username}", code="duplicate")
    agency = None
    if agency_code:
        agency = db.session.scalar(select(Agency).where(Agency.code == agency_code))
        if agency is None:
            raise ValidationError(f"Cơ quan không tồn tại: {agency_code}", code="unknown_agency")
    if role_value in AGENCY_ROLES and agency is None:
        raise ValidationError("Cán bộ xử lý và lãnh đạo đơn vị phải thuộc một cơ quan.",
                              code="agency_required")
    user = User(username=username, password_hash=hash_password(password), role=role_value.value,
                full_name=text.clean_text(full_name, max_length=200, field="họ tên", required=True,
                                          multiline=False),
                agency=agency, email=text.normalize_email(email), phone_extension=phone_extension,
                must_change_password=must_change_password)
    db.session.add(user)
    db.session.flush()
    return user


def _digest(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def clean_scopes(scopes) -> str:
    """The scopes asked for, checked and space-separated; at least one is needed."""
    if isinstance(scopes, str):
        scopes = scopes.replace(",", " ").split()
    wanted = []
    for scope in scopes or ():
        value = str(scope).strip()
        if value not in {s.value for s in ApiScope}:
            raise ValidationError(f"Phạm vi khóa không hợp lệ: {value[:40]}.", code="invalid_scope",
                                  field="scopes")
        if value not in wanted:
            wanted.append(value)
    if not wanted:
        raise ValidationError("Chọn ít nhất một phạm vi cho khóa.", code="required",
                              field="scopes")
    return " ".join(sorted(wanted))


def create_api_key(name: str, scopes=(ApiScope.OPEN311_WRITE.value,)) -> tuple[ApiKey, str]:
    """Make a key; returns the row and the key itself, which is shown once and never stored."""
    name = text.clean_text(name, max_length=200, field="tên khóa", required=True, multiline=False)
    scopes = clean_scopes(scopes)
    key = "h1022_" + secrets.token_urlsafe(32)
    row = ApiKey(name=name, prefix=key[:12], key_hash=_digest(key), scopes=scopes)
    db.session.add(row)
    db.session.flush()
    return row, key


# "Last used" is kept to the minute: writing it on every request would make every
# request of a busy client wait for the one row's lock.
API_KEY_USE_RESOLUTION = timedelta(minutes=1)


@dataclass(frozen=True)
class ApiClient:
    """Who an API key belongs to (what a request needs of it)."""

    id: int
    name: str
    scopes: frozenset[str] = frozenset()

    def may(self, scope: ApiScope) -> bool:
        return scope.value in self.scopes


def verify_api_key(key: str | None) -> ApiClient | None:
    """The client of an active key, ``None`` if unknown or revoked (kept a few seconds per
    process, see ``services.lookups``; revoking through the admin pages drops it at once)."""
    if not key:
        return None
    digest = _digest(key)
    return lookups.cached("api_keys", digest, lambda: _load_api_key(digest))


def _load_api_key(digest: str) -> ApiClient | None:
    row = db.session.scalar(select(ApiKey).where(ApiKey.key_hash == digest,
                                                 ApiKey.revoked_at.is_(None)))
    if row is None:
        return None
    now = utcnow()
    if row.last_used_at is None or now - row.last_used_at >= API_KEY_USE_RESOLUTION:
        row.last_used_at = now
    return ApiClient(row.id, row.name, frozenset(row.scope_list))


def set_password(user: User, password: str, *, must_change: bool = False,
                 keep_session: MutableMapping | None = None) -> None:
    """Replace a user's password (strength rules as for new accounts) and end every session
    of the user but ``keep_session`` (the browser of the owner who just changed it).

    ``must_change`` marks a password someone else knows (an administrator's reset): the
    owner is led to change it at the next sign-in.
    """
    if not must_change:
        check_strength(password, user_inputs=user_words(user))
    user.password_hash = hash_password(password)
    user.must_change_password = must_change
    sessions.end_all(user, keep=keep_session)


def audit_failed_sign_in(username: str, user: User | None, reason: str, ip: str | None) -> None:
    """One audit row per failed sign-in that reached the password check: the username typed,
    the account if it exists, from where and why — never the password. (Successful sign-ins
    are the user's ``last_login_at``.)"""
    from hotline.services.admin.audit import Actor, record
    record(Actor(None, ip, label=username or "?"), "login_failed", "user",
           user.id if user is not None else None, after={"username": username, "reason": reason})
