"""The citizen's say on publication, on every channel.

The default (Decision 31/2021/QĐ-TTg Art. 46, the province's practice) is that a
ticket's content and result are published once redacted and moderated; the
citizen's identity never is. A citizen refuses:

* on the phone: the operator ticks «Người dân không đồng ý công khai» (one click);
* on the web form: the box «Tôi không đồng ý công khai»;
* in a chat (Telegram, Zalo, Facebook) or by e-mail: by sending ``KHONG CONG KHAI``
  (accents and case ignored, optionally followed by the ticket code) — intake turns
  that message into a refusal of their ticket instead of a report;
* anywhere, from their private status page.

A refusal takes down at once whatever was published (:func:`publication.take_down`),
and the ticket leaves the moderation queue and every public list.
"""
from __future__ import annotations

import re
from datetime import datetime

from sqlalchemy import select

from hotline.domain import codes, text
from hotline.domain.messages import Channel
from hotline.domain.publication_notice import REPLY_CHANNELS
from hotline.extensions import db
from hotline.models import Contact, Ticket, utcnow
from hotline.services import events, outbox
from hotline.services.publication import take_down

_COMMAND_RE = re.compile(r"^\W*khong\W+cong\W+khai\W*(?:((?:pa|kn|hd)\W*\d{2}\W*\w{6})\W*)?$")


def parse_command(message: str | None) -> str | None:
    """``""`` or the ticket code when ``message`` is the refusal command, else ``None``."""
    if not message or len(message) > 80:
        return None
    match = _COMMAND_RE.match(text.fold(message).strip())
    if match is None:
        return None
    return (codes.parse_code(match.group(1)) or "") if match.group(1) else ""


def mentions_refusal(*texts: str | None) -> bool:
    """Whether a report says, on a line of its own (or as its subject), not to publish it."""
    return any(parse_command(line) is not None
               for value in texts if value for line in value.splitlines())


def refuse(ticket: Ticket, *, via: str, now: datetime | None = None) -> bool:
    """Record the citizen's refusal and take down what was published; ``False`` if it was
    already recorded (nothing changes)."""
    if not ticket.consent_publish:
        return False
    was_published = ticket.published_at is not None
    ticket.consent_publish = False
    take_down(ticket)
    events.record(ticket, "publication_refused", actor_label="citizen", public=True,
                  at=now or utcnow(), note="Người dân đề nghị không công khai phiếu.",
                  data={"via": via, "was_published": was_published})
    return True


def ticket_to_refuse(contact: Contact, channel: str, code: str | None) -> Ticket | None:
    """The ticket a refusal from ``contact`` on ``channel`` is about: the one it names (only
    if it is theirs), else their latest ticket on that channel."""
    if code:
        return db.session.scalar(select(Ticket).where(Ticket.code == code,
                                                      Ticket.contact_id == contact.id))
    return db.session.scalar(
        select(Ticket).where(Ticket.contact_id == contact.id, Ticket.channel == channel)
        .order_by(Ticket.received_at.desc(), Ticket.id.desc()).limit(1))


def refusal_message(contact: Contact, channel: Channel, message: str | None, *,
                    thread_code: str | None, key: str, at: datetime) -> Ticket | None:
    """Intake's check of a chat or e-mail message: when it is the command about one of the
    contact's tickets, record the refusal there, confirm it, and return that ticket (the
    message is then no report); ``None`` otherwise — with no ticket of theirs to refuse,
    the message stays a report (and ``mentions_refusal`` keeps it unpublished)."""
    if channel not in REPLY_CHANNELS:
        return None
    code = parse_command(message)
    if code is None:
        return None
    ticket = ticket_to_refuse(contact, channel.value, code or thread_code)
    if ticket is None:
        return None
    refuse(ticket, via=channel.value, now=at)
    confirm(ticket, key=key)
    return ticket


def confirm(ticket: Ticket, *, key: str) -> None:
    """Tell the citizen their refusal is recorded (through the outbox)."""
    outbox.queue_message(ticket, "publication_refused",
                         f"Đã ghi nhận: phiếu {ticket.code} sẽ không được công khai trên cổng "
                         "thông tin. Phiếu vẫn được xử lý bình thường.", key=key)
