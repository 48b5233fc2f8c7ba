"""Staff accounts and API keys."""
from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from flask_login import UserMixin
from sqlalchemy import Boolean, ForeignKey, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.extensions import db
from hotline.models.base import UTCDateTime, utcnow
from hotline.models.org import Agency


class Role(StrEnum):
    OPERATOR = "operator"
    HANDLER = "handler"
    AGENCY_LEAD = "agency_lead"
    MANAGER = "manager"
    ADMIN = "admin"
    # Answers citizens' requests to see or erase their personal data (the data
    # protection role Law 91/2025/QH15 and Decree 356/2025/NĐ-CP ask for).
    PRIVACY_OFFICER = "privacy_officer"


ROLE_LABELS_VI = {
    Role.OPERATOR: "Điện thoại viên", Role.HANDLER: "Cán bộ xử lý",
    Role.AGENCY_LEAD: "Lãnh đạo đơn vị", Role.MANAGER: "Lãnh đạo / IOC",
    Role.ADMIN: "Quản trị hệ thống",
    Role.PRIVACY_OFFICER: "Cán bộ bảo vệ dữ liệu cá nhân",
}
# Who may export or erase a citizen's personal data.
PRIVACY_ROLES = frozenset({Role.PRIVACY_OFFICER, Role.ADMIN})
AGENCY_ROLES = frozenset({Role.HANDLER, Role.AGENCY_LEAD})


class User(UserMixin, db.Model):
    __tablename__ = "users"
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    full_name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(254))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(16))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    phone_extension: Mapped[str | None] = mapped_column(String(16))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # A known password (the demo's, or one an administrator reset and handed over): every
    # staff page leads to the password change until the owner picks their own.
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=False,
                                                       server_default=false())

    agency: Mapped[Agency | None] = relationship()

    @property
    def is_active(self) -> bool:  # Flask-Login refuses inactive accounts
        return self.active


class ApiScope(StrEnum):
    """What an API key may do."""

    OPEN311_WRITE = "open311:write"   # file reports through Open311 POST
    IOC_READ = "ioc:read"             # read the IOC wall's summary figures


API_SCOPE_LABELS_VI = {
    ApiScope.OPEN311_WRITE: "Open311: gửi phản ánh",
    ApiScope.IOC_READ: "IOC: đọc số liệu tổng hợp",
}


class StaffSession(db.Model):
    """One signed-in browser of a staff user. Deleting the row signs that browser out.

    The cookie holds a random token; only its SHA-256 is stored, so a copy of the table
    cannot be turned into sessions.
    """

    __tablename__ = "staff_sessions"
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ApiKey(db.Model):
    """A key for the Open311 API or the IOC feed. Only its SHA-256 is stored; the key is
    shown once. ``scopes`` is a space-separated list of ``ApiScope`` values."""

    __tablename__ = "api_keys"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    prefix: Mapped[str] = mapped_column(String(12))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    scopes: Mapped[str] = mapped_column(String(200), default=ApiScope.OPEN311_WRITE.value,
                                        server_default=ApiScope.OPEN311_WRITE.value)

    @property
    def scope_list(self) -> list[str]:
        return self.scopes.split()
