"""The transactional outbox: messages to send, written in the business transaction."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.extensions import db
from hotline.models.base import BigId, UTCDateTime, utcnow


class OutboxMessage(db.Model):
    """One message to one recipient. ``key`` makes the send idempotent."""

    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key: Mapped[str] = mapped_column(String(200), unique=True)
    purpose: Mapped[str] = mapped_column(String(32))     # ack, assigned, result, ...
    channel: Mapped[str] = mapped_column(String(16))     # where it goes out
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(254))  # chat id, phone, e-mail
    payload: Mapped[dict] = mapped_column(JSON)
    # pending → queued (a job is on its way) → sending (claimed; next_attempt_at is the
    # lease's end) → sent | failed; a transient failure goes back to pending with backoff.
    status: Mapped[str] = mapped_column(String(12), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    provider_id: Mapped[str | None] = mapped_column(String(200))  # the platform's message id

    __table_args__ = (Index("ix_outbox_due", "status", "next_attempt_at"),)
