"""OAuth token pairs of the channels that rotate them (Zalo OA), kept in ``channel_tokens``.

The environment seeds the pair; every refresh writes the new pair here, because the
platform invalidates the old refresh token as soon as it hands out a new one. Writes
go into the caller's transaction and are flushed: the relay job that called the
adapter commits them with the outbox row it updates, whatever the send's outcome.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from hotline.extensions import db
from hotline.models import ChannelToken, utcnow


@dataclass(frozen=True)
class TokenPair:
    access_token: str
    refresh_token: str | None
    expires_at: datetime | None = None

    def expiring(self, now: datetime, margin: timedelta = timedelta(minutes=1)) -> bool:
        return self.expires_at is not None and self.expires_at <= now + margin


def _fingerprint(seed: TokenPair) -> str:
    return hashlib.sha256(f"{seed.access_token}\0{seed.refresh_token or ''}".encode()).hexdigest()


def current(channel: str, seed: TokenPair, *, lock: bool = False) -> TokenPair:
    """The pair to use now: the stored one, unless the environment's seed changed since."""
    row = _row(channel, seed, lock=lock)
    return TokenPair(row.access_token, row.refresh_token, row.expires_at)


def _row(channel: str, seed: TokenPair, *, lock: bool) -> ChannelToken:
    fingerprint = _fingerprint(seed)
    query = select(ChannelToken).where(ChannelToken.channel == channel)
    if lock:
        query = query.with_for_update()
    row = db.session.scalar(query)
    if row is None:
        try:
            with db.session.begin_nested():
                row = ChannelToken(channel=channel, access_token=seed.access_token,
                                   refresh_token=seed.refresh_token, expires_at=seed.expires_at,
                                   seed_fingerprint=fingerprint)
                db.session.add(row)
        except IntegrityError:  # another worker seeded it first
            row = db.session.scalar(query)
    elif row.seed_fingerprint != fingerprint:
        # An administrator re-authorised the app and set new variables: they win.
        row.access_token, row.refresh_token = seed.access_token, seed.refresh_token
        row.expires_at, row.seed_fingerprint = seed.expires_at, fingerprint
        db.session.flush()
    return row


def refresh(channel: str, seed: TokenPair, stale_access_token: str,
            exchange: Callable[[str], tuple[str, str | None, int | None]]) -> TokenPair:
    """Replace ``stale_access_token`` through ``exchange(refresh_token)``, which returns
    ``(access_token, refresh_token, expires_in)``.

    The row is locked first; if another worker already rotated the pair, its result is
    used instead of spending the (single-use) refresh token a second time.
    """
    row = _row(channel, seed, lock=True)
    if row.access_token != stale_access_token:
        return TokenPair(row.access_token, row.refresh_token, row.expires_at)
    access, new_refresh, expires_in = exchange(row.refresh_token or "")
    row.access_token = access
    row.refresh_token = new_refresh or row.refresh_token
    row.expires_at = utcnow() + timedelta(seconds=expires_in) if expires_in else None
    db.session.flush()
    return TokenPair(row.access_token, row.refresh_token, row.expires_at)
