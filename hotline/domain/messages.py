"""What a channel hands to intake: one inbound message, framework-free.

Every channel adapter (phone console, web form, e-mail, Telegram, Zalo,
Facebook, Open311) turns its payload into an ``IncomingMessage`` and calls
``hotline.services.intake.receive``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class Channel(StrEnum):
    PHONE = "phone"
    WEB = "web"
    EMAIL = "email"
    TELEGRAM = "telegram"
    ZALO = "zalo"
    FACEBOOK = "facebook"
    OPEN311 = "open311"


CHANNEL_LABELS_VI = {
    Channel.PHONE: "Điện thoại", Channel.WEB: "Cổng thông tin", Channel.EMAIL: "E-mail",
    Channel.TELEGRAM: "Telegram", Channel.ZALO: "Zalo", Channel.FACEBOOK: "Facebook",
    Channel.OPEN311: "Ứng dụng (Open311)",
}


@dataclass(frozen=True)
class ContactHandle:
    """Who wrote, as the channel knows them. Any field may be missing."""

    name: str | None = None
    phone: str | None = None
    email: str | None = None
    telegram_chat_id: str | None = None
    zalo_user_id: str | None = None
    facebook_psid: str | None = None

    @property
    def is_empty(self) -> bool:
        return not any((self.phone, self.email, self.telegram_chat_id,
                        self.zalo_user_id, self.facebook_psid))


@dataclass(frozen=True)
class IncomingAttachment:
    """A file that came with the message: its bytes now, or a reference to fetch later."""

    filename: str
    content_type: str
    data: bytes | None = None
    remote_ref: str | None = None   # e.g. a Telegram file_id or a Zalo image URL


@dataclass(frozen=True)
class IncomingMessage:
    """One inbound message. ``(channel, external_id)`` is its idempotency key."""

    channel: Channel | str
    external_id: str
    received_at: datetime
    text: str | None = None
    contact: ContactHandle = field(default_factory=ContactHandle)
    title: str | None = None
    kind: str | None = None          # phan_anh / kien_nghi / hoi_dap; None = guess (phan_anh)
    field_code: str | None = None
    area_code: str | None = None
    address: str | None = None
    lat: float | None = None
    lon: float | None = None
    priority: str | None = None
    attachments: tuple[IncomingAttachment, ...] = ()
    thread_code: str | None = None   # a ticket code the citizen referred to (e-mail subject)
    consent_publish: bool = False
    privacy_requested: bool = False
    location_only: bool = False      # a shared location that belongs to the open ticket
    created_by_id: int | None = None  # the operator who logged a call
    force_new: bool = False          # an operator logging a new call never threads
    route: bool = True               # False: the operator decides (answer directly / forward)


@dataclass(frozen=True)
class IntakeResult:
    """What intake did with a message."""

    ticket_id: int
    code: str
    created: bool        # a new ticket was opened
    duplicate: bool      # the same (channel, external_id) had been received before
    threaded: bool       # added to an already open ticket
