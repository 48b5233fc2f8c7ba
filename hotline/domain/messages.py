"""What a channel hands to intake: one inbound message, framework-free.

Every channel adapter (phone console, web form, e-mail, Telegram, Zalo,
Facebook, Open311) turns its payload into an ``IncomingMessage`` and calls
``hotline.services.intake.receive`` — or ``hotline.services.staging.stage``,
which stores the message as a JSON payload (``to_payload``/``from_payload``)
and lets a job run intake on it.
"""
from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import datetime
from enum import StrEnum
from typing import Any


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
    # The ticket whose mail this one answers, proven by a Message-ID only we could have made
    # (In-Reply-To/References): it joins that ticket whoever the sender claims to be.
    reply_to_code: str | None = None
    # The citizen's say on publication: published (redacted) unless they refuse.
    consent_publish: bool = True
    privacy_requested: bool = False
    location_only: bool = False      # a shared location that belongs to the open ticket
    created_by_id: int | None = None  # the operator who logged a call
    force_new: bool = False          # an operator logging a new call never threads
    route: bool = True               # False: the operator decides (answer directly / forward)
    # Reserved when the message was staged: the ticket it opens gets this code and
    # status-link token, which the citizen was already given.
    code: str | None = None
    status_token: str | None = None


@dataclass(frozen=True)
class IntakeResult:
    """What intake did with a message.

    A staged message is stored but not yet processed (``pending``): it has no ticket
    id yet, and a code only when one was reserved for it (a new report).
    """

    ticket_id: int | None
    code: str | None
    created: bool        # a new ticket was opened
    duplicate: bool      # the same (channel, external_id) had been received before
    threaded: bool       # added to an already open ticket
    pending: bool = False
    status_token: str | None = None


def carries_files(msg: IncomingMessage) -> bool:
    """Whether the message holds file bytes (those go to the attachment store, not a payload)."""
    return any(a.data is not None for a in msg.attachments)


def to_payload(msg: IncomingMessage) -> dict[str, Any]:
    """The message as JSON-able data (times in ISO 8601); files only as remote references."""
    if carries_files(msg):
        raise ValueError("a message with file bytes cannot be turned into a payload")
    # Field by field, not asdict(): that deep-copies every value (a hot path under load).
    data = {f.name: getattr(msg, f.name) for f in fields(IncomingMessage)}
    data["channel"] = str(msg.channel)
    data["received_at"] = msg.received_at.isoformat()
    data["contact"] = {f.name: getattr(msg.contact, f.name) for f in fields(ContactHandle)}
    data["attachments"] = [{"filename": a.filename, "content_type": a.content_type,
                            "remote_ref": a.remote_ref} for a in msg.attachments]
    return data


def from_payload(data: dict[str, Any]) -> IncomingMessage:
    """The message ``to_payload`` wrote (unknown keys, from a newer version, are ignored)."""
    known = {f.name for f in fields(IncomingMessage)}
    values = {k: v for k, v in data.items() if k in known}
    values["received_at"] = datetime.fromisoformat(data["received_at"])
    values["contact"] = ContactHandle(**data.get("contact") or {})
    values["attachments"] = tuple(
        IncomingAttachment(filename=a["filename"], content_type=a["content_type"],
                           remote_ref=a.get("remote_ref"))
        for a in data.get("attachments") or ())
    return IncomingMessage(**values)


def storable(msg: IncomingMessage) -> IncomingMessage:
    """``msg`` with every string scrubbed of NUL and lone surrogates (``text.scrub``).

    Intake and staging call it first, so no channel can stage a message that a database
    cannot hold (it would fail on every retry of the drain).
    """
    from hotline.domain.text import has_unstorable, scrub

    def bad(obj) -> bool:
        return any(isinstance(v, str) and has_unstorable(v)
                   for v in (getattr(obj, f.name) for f in fields(obj)))

    def clean(obj):
        return replace(obj, **{f.name: scrub(v) for f in fields(obj)
                               if isinstance(v := getattr(obj, f.name), str)})

    if not (bad(msg) or bad(msg.contact) or any(bad(a) for a in msg.attachments)):
        return msg
    return replace(clean(msg), contact=clean(msg.contact),
                   attachments=tuple(clean(a) for a in msg.attachments))
