"""Staff accounts and API keys: creation, password checks, key verification."""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select

from hotline.domain import text
from hotline.domain.errors import ValidationError
from hotline.extensions import db
from hotline.models import AGENCY_ROLES, Agency, ApiKey, ApiScope, Role, User, utcnow
from hotline.services import lookups

_hasher = PasswordHasher()
MIN_PASSWORD = 10


def hash_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise ValidationError(f"Mật khẩu cần ít nhất {MIN_PASSWORD} ký tự.", code="weak_password")
    return _hasher.hash(password)


def check_password(user: User, password: str) -> bool:
    try:
        return _hasher.verify(user.password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def create_user(*, username: str, password: str, role: str, full_name: str,
                agency_code: str | None = None, email: str | None = None,
                phone_extension: str | None = None) -> User:
    """Create a staff account; handlers and agency leads must belong to an agency."""
    username = text.clean_text(username, max_length=64, field="tên đăng nhập", required=True,
                               multiline=False).lower()
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
                agency=agency, email=text.normalize_email(email), phone_extension=phone_extension)
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


def set_password(user: User, password: str) -> None:
    """Replace a user's password (length rules as for new accounts)."""
    user.password_hash = hash_password(password)
