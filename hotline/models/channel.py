"""State a citizen channel keeps between sends: OAuth token pairs that the platform rotates."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.extensions import db
from hotline.models.base import UTCDateTime, utcnow


class ChannelToken(db.Model):
    """The current access/refresh pair of one channel (Zalo OA rotates both on every refresh).

    The environment only seeds the pair: a refresh token is single-use, so the rotated
    pair must live in the database or the channel dies at the next restart.
    ``seed_fingerprint`` remembers which environment pair the row grew from, so an
    administrator who re-authorises and sets new variables takes over again.
    """

    __tablename__ = "channel_tokens"
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    access_token: Mapped[str] = mapped_column(Text)
    refresh_token: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    seed_fingerprint: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
