"""Writing outgoing messages to the outbox, inside the business transaction.

A relay (workers) sends them later; the key makes a retried send a no-op. Here
we only decide who hears what on which channel, in Vietnamese.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from blinker import Namespace
from flask import current_app
from sqlalchemy import String, any_, bindparam, select
from sqlalchemy.dialects.postgresql import ARRAY

from hotline.config import local_time
from hotline.database import insert_or_skip
from hotline.domain.lifecycle import LABELS_VI, Status
from hotline.domain.messages import Channel
from hotline.domain.publication_notice import acknowledgement_line
from hotline.extensions import db
from hotline.models import Contact, OutboxMessage, Ticket, utcnow

# Sent (with the app as sender) whenever rows are added, so the workers can relay
# them right after the commit; services never import the workers themselves.
outbox_written = Namespace().signal("outbox-written")


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
    _announce()
    return msg


def _announce() -> None:
    outbox_written.send(current_app._get_current_object())


@dataclass(frozen=True)
class StaffMessage:
    """An e-mail to a staff member (notification, digest) about a ticket or many."""

    key: str
    purpose: str
    recipient: str
    subject: str
    text: str
    ticket_id: int | None = None
    ticket_code: str | None = None


def queue_staff_messages(messages: Iterable[StaffMessage]) -> int:
    """Add e-mails to staff in one INSERT; a key already in the outbox (or repeated) is skipped.

    Returns how many rows were written. Staff messages go out by e-mail; their
    payload says ``audience: staff`` so a failure is not reported on the ticket
    as a citizen's lost reply.
    """
    unique: dict[str, StaffMessage] = {}
    for message in messages:
        if message.recipient:
            unique.setdefault(message.key, message)
    if not unique:
        return 0
    postgres = db.session.get_bind().dialect.name == "postgresql"
    keys = list(unique)
    if postgres:  # one array parameter, not thousands of placeholders
        existing = set(db.session.scalars(select(OutboxMessage.key).where(
            OutboxMessage.key == any_(bindparam("keys", keys, type_=ARRAY(String))))))
    else:  # SQLite caps the number of variables in a statement
        existing = set()
        for start in range(0, len(keys), 500):
            existing.update(db.session.scalars(select(OutboxMessage.key).where(
                OutboxMessage.key.in_(keys[start:start + 500]))))
    now = utcnow()
    rows = [
        {"key": m.key, "purpose": m.purpose, "channel": Channel.EMAIL.value,
         "ticket_id": m.ticket_id, "recipient": m.recipient,
         "payload": {"text": m.text, "subject": m.subject, "code": m.ticket_code,
                     "audience": "staff"},
         "status": "pending", "attempts": 0, "next_attempt_at": now, "created_at": now}
        for key, m in unique.items() if key not in existing
    ]
    if not rows:
        return 0
    # executemany of one short statement (the driver pipelines it); ON CONFLICT DO NOTHING
    # covers a concurrent transaction queuing the same key in between.
    db.session.execute(
        insert_or_skip(OutboxMessage.__table__).on_conflict_do_nothing(index_elements=["key"]),
        rows)
    written = len(rows)
    if written:
        _announce()
    return written


def queue_staff_message(recipient: str | None, purpose: str, subject: str, text: str, *,
                        key: str, ticket: Ticket | None = None) -> bool:
    """Add one e-mail to a staff member; ``False`` when they have no address or the key exists."""
    if not recipient:
        return False
    return queue_staff_messages([StaffMessage(
        key=key, purpose=purpose, recipient=recipient, subject=subject, text=text,
        ticket_id=ticket.id if ticket is not None else None,
        ticket_code=ticket.code if ticket is not None else None)]) == 1


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
    lines.append(acknowledgement_line(ticket.channel, ticket.code, ticket.consent_publish))
    return "\n".join(lines)


def mail_sent_for(code: str) -> list[tuple[str, str | None]]:
    """(outbox key, recorded Message-ID) of every e-mail written for the ticket ``code``:
    what a reply's In-Reply-To/References must name for it to join that ticket."""
    return [tuple(row) for row in db.session.execute(
        select(OutboxMessage.key, OutboxMessage.provider_id)
        .join(Ticket, Ticket.id == OutboxMessage.ticket_id)
        .where(Ticket.code == code, OutboxMessage.channel == Channel.EMAIL.value)
        .limit(500))]
