"""Staff sessions kept on the server, so that signing out really ends them.

A sign-in makes a ``StaffSession`` row and gives the browser its random token (in the
signed Flask session cookie). Every request that asks who is signed in finds the row
again: sign-out deletes it, and a password change, an administrator's reset,
deactivation, reactivation or "sign out everywhere" delete all of a user's rows. A
cookie copied before any of these is worthless after it.

The idle timeout is counted from the last request, which the cookie carries (signed,
refreshed at most once a minute) so that reading a page never writes to the database;
the absolute lifetime is counted from the row's ``created_at``.
"""
from __future__ import annotations

import hashlib
import secrets
from collections.abc import MutableMapping
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select

from hotline.extensions import db
from hotline.models import StaffSession, User, utcnow

TOKEN_KEY = "_staff_session"
SEEN_KEY = "_seen"
# The cookie's "last seen" moves in steps of this much: one new cookie a minute at most.
SEEN_RESOLUTION = 60


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def start(user: User, cookie: MutableMapping, *, max_age: timedelta) -> StaffSession:
    """Open a session for ``user`` and put its token in ``cookie`` (flushed, not committed).

    The user's own sessions past their lifetime are dropped here, so the table holds only
    live sessions and those abandoned within the last ``max_age``.
    """
    now = utcnow()
    db.session.execute(delete(StaffSession).where(StaffSession.user_id == user.id,
                                                  StaffSession.created_at < now - max_age))
    token = secrets.token_urlsafe(32)
    row = StaffSession(id=_digest(token), user_id=user.id, created_at=now)
    db.session.add(row)
    db.session.flush()
    cookie[TOKEN_KEY] = token
    cookie[SEEN_KEY] = int(now.timestamp())
    return row


def end(cookie: MutableMapping) -> None:
    """End the session ``cookie`` belongs to (flushed, not committed)."""
    token = cookie.pop(TOKEN_KEY, None)
    cookie.pop(SEEN_KEY, None)
    if isinstance(token, str):
        db.session.execute(delete(StaffSession).where(StaffSession.id == _digest(token)))


def end_all(user: User, *, keep: MutableMapping | None = None) -> int:
    """End every session of ``user`` except, if given, the one of ``keep`` (the browser that
    just changed its own password). Returns how many ended (flushed, not committed)."""
    query = delete(StaffSession).where(StaffSession.user_id == user.id)
    token = keep.get(TOKEN_KEY) if keep is not None else None
    if isinstance(token, str):
        query = query.where(StaffSession.id != _digest(token))
    return db.session.execute(query).rowcount or 0


def load(user_id: int, cookie: MutableMapping, *, idle: timedelta,
         max_age: timedelta) -> User | None:
    """The active user whose live session ``cookie`` holds, else ``None``.

    One query: the user row joined to the session row. Refreshes the cookie's "last seen".
    """
    token = cookie.get(TOKEN_KEY)
    seen = cookie.get(SEEN_KEY)
    if not isinstance(token, str) or not isinstance(seen, int):
        return None
    now = utcnow()
    now_ts = int(now.timestamp())
    if now_ts - seen > idle.total_seconds():
        return None
    row = db.session.execute(
        select(User, StaffSession.created_at)
        .join(StaffSession, StaffSession.user_id == User.id)
        .where(StaffSession.id == _digest(token), User.id == user_id)).first()
    if row is None:
        return None
    user, created_at = row
    if not user.active or now - created_at > max_age:
        return None
    if now_ts - seen >= SEEN_RESOLUTION:
        cookie[SEEN_KEY] = now_ts
    return user


def count(user: User, *, since: datetime) -> int:
    """How many sessions of ``user`` were opened since ``since`` (for the account page)."""
    return db.session.scalar(select(func.count()).select_from(StaffSession).where(
        StaffSession.user_id == user.id, StaffSession.created_at >= since)) or 0
