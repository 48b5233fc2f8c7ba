"""The outbox's delivery state machine, over the database.

Rows move ``pending → queued → sending → sent | failed``:

- the relay (``workers.jobs.relay_outbox``) takes due rows — pending ones whose
  ``next_attempt_at`` passed, queued ones whose job never ran, sending ones
  whose lease ran out because their worker died — enqueues one ``deliver`` job
  each and marks them ``queued`` for ``OUTBOX_REQUEUE_SECONDS``;
- ``claim`` turns one row into ``sending`` with a lease (``next_attempt_at``
  becomes the lease's end) and counts the attempt; the job commits that
  *before* calling the channel, so a worker killed mid-send leaves a row the
  next attempt recognises as interrupted;
- ``record_sent`` / ``record_failure`` close the attempt: sent with the
  provider's id, or back to pending with exponential backoff, or failed after
  ``OUTBOX_MAX_ATTEMPTS`` or a permanent error — and then the ticket's
  timeline says the citizen's message could not be delivered.

The claim is one conditional UPDATE, so two workers given the same row (a
relay running twice, a retried job) never both send it. The functions flush;
the job commits.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from sqlalchemy import and_, func, or_, select, update

from hotline.extensions import db
from hotline.models import OutboxMessage, Ticket
from hotline.services import events
from hotline.services.settings import setting_int

#: Statuses the relay looks at (with ``next_attempt_at <= now``), all on ``ix_outbox_due``.
RELAYABLE = ("pending", "queued", "sending")
INTERRUPTED = "Lần gửi trước bị gián đoạn (tiến trình gửi dừng giữa chừng); gửi lại cùng mã."
NOT_CONFIGURED = "Kênh {channel} chưa được cấu hình; tin nhắn chờ đến khi kênh hoạt động."
# A message for a channel that is not configured is looked at again this much later.
UNCONFIGURED_DELAY = timedelta(hours=1)


class ClaimState(StrEnum):
    CLAIMED = "claimed"
    BUSY = "busy"          # another attempt holds a live lease
    WAITING = "waiting"    # pending, backing off until next_attempt_at
    FINISHED = "finished"  # already sent or failed
    MISSING = "missing"


@dataclass(frozen=True)
class Claim:
    """One attempt at one outbox row, as the job needs it to call the channel."""

    outbox_id: int
    key: str
    channel: str
    recipient: str
    text: str
    subject: str | None
    ticket_code: str | None
    attempt: int
    interrupted: bool  # an earlier attempt started and never reported back


def backoff(attempt: int) -> timedelta:
    """Wait before retry number ``attempt`` + 1: base × 2^(attempt−1), at most 6 hours."""
    base = setting_int("OUTBOX_BACKOFF_SECONDS")
    return timedelta(seconds=min(base * 2 ** max(attempt - 1, 0), 6 * 3600))


def due_for_relay(now: datetime, *, limit: int = 1000) -> list[int]:
    """Ids of rows the relay should hand to a job now, oldest due first."""
    return list(db.session.scalars(
        select(OutboxMessage.id)
        .where(OutboxMessage.status.in_(RELAYABLE), OutboxMessage.next_attempt_at <= now)
        .order_by(OutboxMessage.next_attempt_at, OutboxMessage.id).limit(limit)))


def mark_queued(ids: list[int], now: datetime) -> None:
    """Record that jobs were enqueued for ``ids``; re-relayed if none ran in the requeue window."""
    if not ids:
        return
    until = now + timedelta(seconds=setting_int("OUTBOX_REQUEUE_SECONDS"))
    # A lease that ran out means a worker died mid-send: say so on the row.
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status == "sending",
               OutboxMessage.next_attempt_at <= now)
        .values(status="queued", next_attempt_at=until, last_error=INTERRUPTED)
        .execution_options(synchronize_session=False))
    db.session.execute(
        update(OutboxMessage)
        .where(OutboxMessage.id.in_(ids), OutboxMessage.status.in_(("pending", "queued")))
        .values(status="queued", next_attempt_at=until)
        .execution_options(synchronize_session=False))
    db.session.flush()


def claim(outbox_id: int, now: datetime) -> tuple[ClaimState, Claim | None]:
    """Take row ``outbox_id`` for one send attempt, if nobody else holds it.

    Claimable: ``queued`` rows; ``pending`` rows never tried or whose backoff
    ended; ``sending`` rows whose lease expired (their worker died). The caller
    must commit before it calls the channel.
    """
    before = db.session.execute(
        select(OutboxMessage.status, OutboxMessage.last_error)
        .where(OutboxMessage.id == outbox_id)).one_or_none()
    if before is None:
        return ClaimState.MISSING, None
    lease_end = now + timedelta(seconds=setting_int("OUTBOX_LEASE_SECONDS"))
    claimable = or_(
        OutboxMessage.status == "queued",
        and_(OutboxMessage.status == "pending",
             or_(OutboxMessage.attempts == 0, OutboxMessage.next_attempt_at <= now)),
        and_(OutboxMessage.status == "sending", OutboxMessage.next_attempt_at <= now),
    )
    result = db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id == outbox_id, claimable)
        .values(status="sending", attempts=OutboxMessage.attempts + 1, next_attempt_at=lease_end)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        status = db.session.scalar(select(OutboxMessage.status)
                                   .where(OutboxMessage.id == outbox_id))
        if status in ("sent", "failed"):
            return ClaimState.FINISHED, None
        return (ClaimState.BUSY if status == "sending" else ClaimState.WAITING), None
    row = db.session.execute(select(OutboxMessage).where(OutboxMessage.id == outbox_id)
                             .execution_options(populate_existing=True)).scalar_one()
    payload = row.payload or {}
    interrupted = before.status == "sending" or before.last_error == INTERRUPTED
    return ClaimState.CLAIMED, Claim(
        outbox_id=row.id, key=row.key, channel=row.channel, recipient=row.recipient,
        text=str(payload.get("text") or ""), subject=payload.get("subject"),
        ticket_code=payload.get("code"), attempt=row.attempts, interrupted=interrupted)


def record_sent(claim_: Claim, provider_id: str | None, now: datetime) -> None:
    """The channel accepted the message."""
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id == claim_.outbox_id)
        .values(status="sent", sent_at=now, provider_id=provider_id, last_error=None)
        .execution_options(synchronize_session=False))
    db.session.flush()


def record_failure(claim_: Claim, error: str, *, transient: bool, now: datetime) -> str:
    """The attempt failed: back off and retry, or give up. Returns the row's new status."""
    row = db.session.execute(select(OutboxMessage).where(OutboxMessage.id == claim_.outbox_id)
                             .execution_options(populate_existing=True)).scalar_one()
    if row.status == "sent":  # a slower duplicate attempt lost the race; nothing to undo
        return row.status
    error = (error or "lỗi không rõ")[:2000]
    row.last_error = error
    if transient and row.attempts < setting_int("OUTBOX_MAX_ATTEMPTS"):
        row.status = "pending"
        row.next_attempt_at = now + backoff(row.attempts)
    else:
        row.status = "failed"
        row.next_attempt_at = now
        _report_failure(row, error, now)
    db.session.flush()
    return row.status


def release(claim_: Claim, now: datetime, *, reason: str, delay: timedelta = UNCONFIGURED_DELAY,
            ) -> None:
    """Give the row back without counting the attempt (e.g. the channel is not configured)."""
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id == claim_.outbox_id)
        .values(status="pending", attempts=OutboxMessage.attempts - 1,
                next_attempt_at=now + delay, last_error=reason)
        .execution_options(synchronize_session=False))
    db.session.flush()


def retry_failed(outbox_id: int, now: datetime) -> bool:
    """Put a failed message back in line (an administrator fixed the cause)."""
    result = db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id == outbox_id, OutboxMessage.status == "failed")
        .values(status="pending", attempts=0, next_attempt_at=now)
        .execution_options(synchronize_session=False))
    db.session.flush()
    return result.rowcount == 1


def _report_failure(row: OutboxMessage, error: str, now: datetime) -> None:
    """A citizen's message is lost for good: put it on the ticket's timeline for staff."""
    payload = row.payload or {}
    if row.ticket_id is None or payload.get("audience") == "staff":
        return
    ticket = db.session.get(Ticket, row.ticket_id)
    if ticket is None:
        return
    events.record(
        ticket, "delivery_failed", actor_label="system", at=now,
        note=(f"Không gửi được tin nhắn cho người dân qua kênh {row.channel} "
              f"sau {row.attempts} lần thử: {error}"),
        data={"outbox_id": row.id, "key": row.key, "purpose": row.purpose,
              "channel": row.channel, "attempts": row.attempts})


def outbox_counts(now: datetime) -> dict[str, object]:
    """Rows waiting, in flight and failed, and how late the oldest due one is.

    Sent rows are never counted (they are most of the table); the grouped
    count reads only the other statuses through ``ix_outbox_due``.
    """
    rows = db.session.execute(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.status.in_(RELAYABLE + ("failed",)))
        .group_by(OutboxMessage.status)).all()
    counts = {status: 0 for status in RELAYABLE + ("failed",)}
    counts.update({status: n for status, n in rows})
    oldest = db.session.scalar(
        select(func.min(OutboxMessage.next_attempt_at))
        .where(OutboxMessage.status == "pending", OutboxMessage.next_attempt_at <= now))
    counts["oldest_due_seconds"] = int((now - oldest).total_seconds()) if oldest else 0
    return counts
