"""Staff accounts and API keys, as an administrator manages them (all audited).

Passwords and keys never reach the audit log: only that they were set. A
reset password and a new API key are returned once for the administrator to
hand over, and are not stored in clear anywhere.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass

from sqlalchemy import select

from hotline.domain.errors import NotFound, PermissionDenied, ValidationError
from hotline.extensions import db
from hotline.models import AGENCY_ROLES, Agency, ApiKey, Role, User, utcnow
from hotline.services import accounts, sessions
from hotline.services.admin.audit import Actor, changes, record, snapshot

FIELDS = ("username", "full_name", "email", "role", "agency_id", "phone_extension", "active")


def get(user_id: int) -> User:
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("Không tìm thấy tài khoản.")
    return user


def list_users(*, role: str | None = None, agency_id: int | None = None,
               limit: int = 2000) -> list[User]:
    query = select(User).order_by(User.active.desc(), User.username)
    if role:
        query = query.where(User.role == role)
    if agency_id:
        query = query.where(User.agency_id == agency_id)
    return list(db.session.scalars(query.limit(limit)))


def create(actor: Actor, *, username: str, full_name: str, role: str, password: str,
           agency_id: int | None = None, email: str | None = None,
           phone_extension: str | None = None) -> User:
    agency_code = None
    if agency_id:
        agency = db.session.get(Agency, agency_id)
        if agency is None:
            raise ValidationError("Cơ quan không tồn tại.", code="unknown_agency")
        agency_code = agency.code
    user = accounts.create_user(username=username, password=password, role=role,
                                full_name=full_name, agency_code=agency_code, email=email,
                                phone_extension=phone_extension or None)
    record(actor, "create", "user", user.id, after=snapshot(user, FIELDS))
    return user


def update(actor: Actor, user_id: int, *, full_name: str, role: str, agency_id: int | None,
           email: str | None, phone_extension: str | None) -> User:
    """Change name, role, agency or contact; handlers and leads must keep an agency."""
    from hotline.domain import text
    user = get(user_id)
    try:
        role_value = Role(role)
    except ValueError:
        raise ValidationError(f"Vai trò không hợp lệ: {role}", code="invalid_role") from None
    if actor.user is not None and actor.user.id == user.id and role_value != Role.ADMIN:
        raise PermissionDenied("Không thể tự bỏ quyền quản trị của chính mình.")
    if agency_id and db.session.get(Agency, agency_id) is None:
        raise ValidationError("Cơ quan không tồn tại.", code="unknown_agency")
    if role_value in AGENCY_ROLES and not agency_id:
        raise ValidationError("Cán bộ xử lý và lãnh đạo đơn vị phải thuộc một cơ quan.",
                              code="agency_required")
    before = snapshot(user, FIELDS)
    user.full_name = text.clean_text(full_name, max_length=200, field="họ tên", required=True,
                                     multiline=False)
    user.role = role_value.value
    user.agency_id = agency_id or None
    user.email = text.normalize_email(email)
    user.phone_extension = (phone_extension or "").strip()[:16] or None
    db.session.flush()
    b, a = changes(before, snapshot(user, FIELDS))
    if a:
        record(actor, "update", "user", user.id, before=b, after=a)
    return user


def set_active(actor: Actor, user_id: int, active: bool) -> User:
    """Deactivate (sign-in refused, every session ended) or reactivate (starting afresh:
    no session from before the deactivation comes back)."""
    user = get(user_id)
    if actor.user is not None and actor.user.id == user.id and not active:
        raise PermissionDenied("Không thể tự khoá tài khoản của chính mình.")
    if user.active != active:
        user.active = active
        sessions.end_all(user)
        record(actor, "activate" if active else "deactivate", "user", user.id,
               before={"active": not active}, after={"active": active})
    return user


def reset_password(actor: Actor, user_id: int) -> str:
    """Give the account a fresh random password and return it (shown once). Every session of
    the account ends, and the owner must choose their own password at the next sign-in (the
    administrator knows this one)."""
    user = get(user_id)
    password = secrets.token_urlsafe(12)
    accounts.set_password(user, password, must_change=True)
    record(actor, "reset_password", "user", user.id, after={"password": "(đã đặt lại)"})
    return password


# API keys -------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NewKey:
    row: ApiKey
    key: str


def list_keys() -> list[ApiKey]:
    return list(db.session.scalars(select(ApiKey).order_by(ApiKey.revoked_at.is_not(None),
                                                           ApiKey.created_at.desc())))


def create_key(actor: Actor, name: str, scopes) -> NewKey:
    row, key = accounts.create_api_key(name, scopes)
    record(actor, "create", "api_key", row.id,
           after={"name": row.name, "prefix": row.prefix, "scopes": row.scopes})
    return NewKey(row, key)


def revoke_key(actor: Actor, key_id: int) -> ApiKey:
    row = db.session.get(ApiKey, key_id)
    if row is None:
        raise NotFound("Không tìm thấy khoá API.")
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        record(actor, "revoke", "api_key", row.id, before={"revoked_at": None},
               after={"revoked_at": row.revoked_at, "name": row.name, "prefix": row.prefix})
    return row
