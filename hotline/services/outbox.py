"""Writing outgoing messages to the outbox, inside the business transaction.

A relay (workers) sends them later; the key makes a retried send a no-op. Here
we only decide who hears what on which channel, in Vietnamese.
"""
from __future__ import annotations

from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import select

from hotline.domain.lifecycle import LABELS_VI, Status
from hotline.domain.messages import Channel
from hotline.extensions import db
from hotline.models import Contact, OutboxMessage, Ticket


def reply_route(ticket: Ticket, contact: Contact | None) -> tuple[str, str] | None:
    """(channel, recipient) to answer the citizen on: their own channel first."""
    if contact is None:
        return None
    by_channel = {
        Channel.TELEGRAM: contact.telegram_chat_id,
        Channel.ZALO: contact.zalo_user_id,
        Channel.FACEBOOK: contact.facebook_psid,
        Channel.EMAIL: contact.email,
    }
    own = by_channel.get(Channel(ticket.channel)) if ticket.channel in Channel._value2member_map_ else None
    if own:
        return ticket.channel, own
    # Phone, web and Open311 citizens hear back by SMS, else by e-mail.
    if contact.phone:
        return "sms", contact.phone
    if contact.email:
        return Channel.EMAIL.value, contact.email
    return None


def local_time(value) -> str:
    """A UTC instant as the citizen reads it: "16:30 25/11/2026"."""
    tz = ZoneInfo(current_app.config["HOTLINE_TIMEZONE"])
    return value.astimezone(tz).strftime("%H:%M %d/%m/%Y")


def status_link(ticket: Ticket) -> str:
    return f"{current_app.config['PUBLIC_URL'].rstrip('/')}/status/{ticket.code}/{ticket.status_token}"


def queue_message(ticket: Ticket, purpose: str, text: str, *, key: str,
                  subject: str | None = None, contact: Contact | None = None) -> OutboxMessage | None:
    """Add one message for the ticket's citizen; ``None`` when they cannot be reached.

    The same ``key`` twice writes one row (the second call returns the first row).
    """
    route = reply_route(ticket, contact if contact is not None else ticket.contact)
    if route is None:
        return None
    existing = db.session.scalar(select(OutboxMessage).where(OutboxMessage.key == key))
    if existing is not None:
        return existing
    channel, recipient = route
    msg = OutboxMessage(
        key=key, purpose=purpose, channel=channel, ticket_id=ticket.id, recipient=recipient,
        payload={"text": text, "subject": subject or f"[{ticket.code}] Tổng đài 1022",
                 "code": ticket.code},
    )
    db.session.add(msg)
    return msg


def acknowledgement_text(ticket: Ticket) -> str:
    """The first reply: the code, how to follow it, and what happens next."""
    lines = [
        f"Tổng đài 1022 đã tiếp nhận phản ánh của bạn. Mã phiếu: {ticket.code}.",
        f"Tra cứu: {status_link(ticket)}",
    ]
    if ticket.agency is not None and ticket.due_at is not None:
        lines.append(f"Phiếu đã được chuyển đến {ticket.agency.name}, "
                     f"hạn xử lý: {local_time(ticket.due_at)}.")
    elif ticket.status == Status.NEW:
        lines.append("Tổng đài viên sẽ phân loại và chuyển đến cơ quan có thẩm quyền trong giờ hành chính.")
    else:
        lines.append(f"Trạng thái: {LABELS_VI[Status(ticket.status)]}.")
    return "\n".join(lines)
