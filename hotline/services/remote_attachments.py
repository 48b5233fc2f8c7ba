"""Attachments that arrived as a reference (a Telegram file_id, a Zalo/Facebook URL) and
the job that later stores their bytes through ``services.attachments``."""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from hotline.domain.messages import IncomingAttachment
from hotline.extensions import db
from hotline.models import Attachment, Ticket
from hotline.services import attachments


@dataclass(frozen=True)
class PendingFile:
    attachment_id: int
    remote_ref: str
    filename: str
    content_type: str


def unfetched_ids(ticket_id: int) -> list[int]:
    """Attachments of a ticket that still have only a remote reference."""
    return list(db.session.scalars(
        select(Attachment.id).where(Attachment.ticket_id == ticket_id,
                                    Attachment.remote_ref.is_not(None),
                                    Attachment.storage_key.is_(None))
        .order_by(Attachment.id)))


def pending(attachment_id: int) -> PendingFile | None:
    """What to fetch for this attachment, or ``None`` when it is stored already (or gone)."""
    row = db.session.get(Attachment, attachment_id)
    if row is None or row.storage_key or not row.remote_ref:
        return None
    return PendingFile(row.id, row.remote_ref, row.filename, row.content_type)


def store_fetched(attachment_id: int, data: bytes, content_type: str | None = None, *,
                  filename: str | None = None) -> Attachment:
    """Store the downloaded bytes for the attachment (size-checked like every upload); flush."""
    row = db.session.get(Attachment, attachment_id)
    ticket = db.session.get(Ticket, row.ticket_id)
    stored = attachments.save(ticket, IncomingAttachment(
        filename=filename or row.filename, content_type=content_type or row.content_type,
        data=data))
    row.sha256, row.size, row.storage_key = stored.sha256, stored.size, stored.storage_key
    row.fetch_error = None
    if content_type:
        row.content_type = stored.content_type
    if filename:
        row.filename = stored.filename
    db.session.flush()
    return row


def record_failure(attachment_id: int, reason: str) -> None:
    """Say why the file could not be fetched (shown to staff on the ticket); flush."""
    row = db.session.get(Attachment, attachment_id)
    if row is not None:
        row.fetch_error = reason[:300]
        db.session.flush()
