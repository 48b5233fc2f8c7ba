"""Job functions: importable, taking ids, calling services, committing once per step.

Run by an rq worker (``flask --app hotline worker``) inside an app context
(``workers.runner.AppContextWorker``), by the cron schedule
(``workers.cron``), or in-process after a commit when no Redis is configured.
"""
from __future__ import annotations

import logging
from time import monotonic, sleep

from flask import current_app
from redis.exceptions import RedisError
from rq import get_current_job

from channels.base import DeliveryError, OutboundMessage, get_adapter
from hotline.extensions import db
from hotline.models import utcnow
from hotline.services import delivery
from hotline.services.delivery import ClaimState
from hotline.tx import commit
from workers import queue as job_queue

log = logging.getLogger(__name__)

#: Rows one relay run hands out at most (the next run continues).
RELAY_MAX_PER_RUN = 20_000
RELAY_BATCH = 500
# In-process mode sends inside the committing request: keep that bounded.
IN_PROCESS_MAX = 50


class OutboxBusy(RuntimeError):
    """Another attempt holds this row's lease; rq retries the job after its interval."""


def deliver(outbox_id: int) -> str:
    """Send one outbox row through its channel, exactly once per key.

    1. claim the row (status ``sending``, attempt counted, lease set) and
       commit, so a worker killed during the HTTP call leaves a trace;
    2. call the channel adapter with the row's idempotency key;
    3. record sent (with the provider's id) or the failure (retry with backoff,
       or failed for good — then the ticket's timeline shows it) and commit.

    A row already sent, failed or waiting out its backoff is left alone. A row
    whose lease is still held raises ``OutboxBusy`` under rq (the job is
    retried later; once the lease runs out the retry sends with the same key).
    """
    state, claim = delivery.claim(outbox_id, utcnow())
    if state is not ClaimState.CLAIMED:
        db.session.rollback()
        if state is ClaimState.BUSY and get_current_job() is not None:
            raise OutboxBusy(f"outbox row {outbox_id} is being sent by another attempt")
        return state.value
    commit()
    if claim.interrupted:
        log.warning("outbox %s (%s): attempt %s after an interrupted one, same key",
                    claim.outbox_id, claim.key, claim.attempt)
    adapter = get_adapter(claim.channel, current_app.config)
    if adapter is None:
        delivery.release(claim, utcnow(),
                         reason=delivery.NOT_CONFIGURED.format(channel=claim.channel))
        commit()
        return "unconfigured"
    message = OutboundMessage(key=claim.key, channel=claim.channel, recipient=claim.recipient,
                              text=claim.text, subject=claim.subject,
                              ticket_code=claim.ticket_code)
    try:
        result = adapter.send(message)
    except DeliveryError as exc:
        status = delivery.record_failure(claim, str(exc), transient=exc.transient, now=utcnow())
        commit()
        log.info("outbox %s attempt %s failed (%s): %s", outbox_id, claim.attempt, status, exc)
        return status
    except Exception as exc:  # an adapter bug must not lose the message
        log.exception("outbox %s: channel %s raised", outbox_id, claim.channel)
        status = delivery.record_failure(claim, f"{type(exc).__name__}: {exc}", transient=True,
                                         now=utcnow())
        commit()
        return status
    delivery.record_sent(claim, result.provider_id, utcnow())
    commit()
    return "sent"


def relay_outbox() -> int:
    """Hand every due outbox row to a ``deliver`` job; returns how many.

    With rq: enqueue the jobs (one pipeline per batch), then mark the rows
    queued and commit. In-process — or when Redis stops answering — deliver a
    bounded number right here; the rest waits in the table for the next run.
    """
    if job_queue.is_async():
        try:
            return _relay_to_rq()
        except RedisError as exc:  # rows not marked queued yet stay due
            db.session.rollback()
            job_queue.note_redis_down(exc)
    ids = delivery.due_for_relay(utcnow(), limit=IN_PROCESS_MAX)
    db.session.rollback()
    for outbox_id in ids:
        deliver(outbox_id)
    return len(ids)


def _relay_to_rq() -> int:
    from rq import Queue
    now = utcnow()
    rq_queue = Queue("notifications", connection=job_queue.redis_connection())
    retry = job_queue.retry_policy()
    total = 0
    while total < RELAY_MAX_PER_RUN:
        ids = delivery.due_for_relay(now, limit=RELAY_BATCH)
        if not ids:
            break
        with rq_queue.connection.pipeline() as pipe:
            rq_queue.enqueue_many(
                [Queue.prepare_data(deliver, args=(outbox_id,), retry=retry,
                                    description=f"deliver outbox {outbox_id}")
                 for outbox_id in ids], pipeline=pipe)
            pipe.execute()
        delivery.mark_queued(ids, now)
        commit()
        total += len(ids)
        if len(ids) < RELAY_BATCH:
            break
    if total:
        log.info("relayed %d outbox row(s)", total)
    return total


def sla_scan() -> dict[str, int]:
    """The SLA scan (cron, every minute): crossings, events, notifications."""
    from hotline.services import sla
    report = sla.scan(utcnow())
    commit()
    log.info(report.describe())
    return {"due_soon": len(report.due_soon), "overdue": len(report.overdue),
            "escalated": len(report.escalated), "first_response": len(report.first_response),
            "notifications": report.notifications}


def send_digests() -> dict[str, object]:
    """The daily digests (cron, every few minutes; they go out once a working day)."""
    from hotline.services import sla_digest
    report = sla_digest.send_digests(utcnow())
    commit()
    if report.sent:
        log.info("digests: %d e-mail(s) queued for %s", report.sent, report.day)
    return {"day": report.day.isoformat() if report.day else None, "sent": report.sent,
            "skipped": report.skipped}


#: Staged messages one drain pass takes (each pass commits); in-process runs one pass only,
#: inside the request that staged the message.
DRAIN_BATCH = 200
# How often a lingering drain job looks for newly staged messages.
DRAIN_POLL_SECONDS = 0.1
# A drain job stops after this long (rq kills a job at 180 s) and queues its successor.
DRAIN_JOB_SECONDS = 60


def drain_intake(until_empty: bool | None = None) -> int:
    """Turn staged messages into tickets, oldest first, until none is due; returns how many.

    Woken after the commit that staged a message, and by cron as a safety net. Files that
    came as references are downloaded by their channel's fetch job after each commit.
    On rq the job keeps polling until the queue has stayed empty for
    ``INTAKE_DRAIN_LINGER_SECONDS`` (a burst's next messages need no new wake; see
    ``workers.queue.wake_drainer``). In-process (no Redis) it makes one pass, inside the
    request that staged the message, unless ``until_empty`` (the ``intake-drain`` command).
    """
    if until_empty is None:
        until_empty = job_queue.is_async()
    from channels.webhooks import fetcher_for
    from hotline.services import staging
    linger = float(current_app.config.get("INTAKE_DRAIN_LINGER_SECONDS") or 0) \
        if job_queue.is_async() else 0.0
    job_queue.drain_started()
    total = 0
    started = idle_since = monotonic()
    while True:
        report = staging.drain(utcnow(), limit=DRAIN_BATCH)
        for channel, attachment_id in report.to_fetch:
            fetch = fetcher_for(channel)
            if fetch is not None:
                job_queue.after_commit(fetch, attachment_id)
        commit()
        total += report.processed
        now = monotonic()
        if linger and now - started >= DRAIN_JOB_SECONDS:
            # Well inside rq's job timeout: hand what is left to a fresh job.
            if report.scanned:
                job_queue.queue_drain()
            break
        if report.scanned >= DRAIN_BATCH and until_empty:
            continue
        if report.scanned:
            idle_since = now
        if not until_empty or now - idle_since >= linger:
            break
        sleep(min(DRAIN_POLL_SECONDS, linger))
    if total:
        log.info("intake: %d staged message(s) processed", total)
    return total


#: Days the hourly refresh rewrites: results, ratings and reopenings land on past days.
STATS_REFRESH_DAYS = 35


def refresh_stats() -> dict[str, object]:
    """The reports' daily aggregate (cron, hourly; idempotent). Reports stay right without
    it — days it has not reached are counted live — but a month's ranking reads ~50 rows a
    day from it instead of every ticket of the month."""
    from hotline.services.reports import daily
    result = daily.refresh(STATS_REFRESH_DAYS)
    commit()
    log.info("daily stats: %s – %s, %d rows in %.1fs", result.day_from, result.day_to,
             result.rows, result.seconds)
    return {"from": result.day_from.isoformat(), "to": result.day_to.isoformat(),
            "rows": result.rows}


def train_triage() -> dict[str, object]:
    """Retrain the triage model on the handled tickets (cron, daily); intake never waits."""
    from hotline.services import triage
    model = triage.train()
    return {"examples": model.examples, "sources": model.sources, "seconds": round(model.seconds, 1)}
