"""Status answers for citizens who ask from a chat (``/status CODE`` on Telegram).

A chat only learns about tickets of its own contact: a code alone never reveals a
ticket, and "no such code" and "not yours" read the same.
"""
from __future__ import annotations

from sqlalchemy import select

from hotline.domain import codes
from hotline.domain.lifecycle import DONE_STATUSES, LABELS_VI, Status
from hotline.domain.messages import Channel
from hotline.extensions import db
from hotline.models import Contact, Ticket
from hotline.services import outbox

NOT_FOUND_TEXT = ("Không tìm thấy phiếu với mã này trong các phản ánh bạn đã gửi qua kênh này. "
                  "Vui lòng kiểm tra lại mã phiếu (ví dụ PA-26-7K3M9Q).")

_HANDLE_COLUMN = {
    Channel.TELEGRAM: Contact.telegram_chat_id,
    Channel.ZALO: Contact.zalo_user_id,
    Channel.FACEBOOK: Contact.facebook_psid,
    Channel.EMAIL: Contact.email,
}


def ticket_for_chat(code: str | None, channel: str, chat_handle: str) -> Ticket | None:
    """Ticket ``code`` if its contact is the one writing from ``chat_handle``, else ``None``."""
    normalised = codes.parse_code(code)
    try:
        column = _HANDLE_COLUMN.get(Channel(channel))
    except ValueError:  # not a channel at all
        column = None
    if normalised is None or column is None or not chat_handle:
        return None
    return db.session.scalar(
        select(Ticket).join(Contact, Contact.id == Ticket.contact_id)
        .where(Ticket.code == normalised, column == str(chat_handle)))


def status_text_for_chat(code: str | None, channel: str, chat_handle: str) -> str:
    """The status of ticket ``code`` for the citizen writing from ``chat_handle`` on ``channel``."""
    ticket = ticket_for_chat(code, channel, chat_handle)
    if ticket is None:
        return NOT_FOUND_TEXT
    status = Status(ticket.status)
    lines = [f"Phiếu {ticket.code}: {LABELS_VI[status]}."]
    if ticket.agency is not None:
        lines.append(f"Cơ quan xử lý: {ticket.agency.name}.")
    if ticket.due_at is not None and status not in DONE_STATUSES and status != Status.REJECTED:
        lines.append(f"Hạn xử lý: {outbox.local_time(ticket.due_at)}.")
    lines.append(f"Chi tiết: {outbox.status_link(ticket)}")
    return "\n".join(lines)
