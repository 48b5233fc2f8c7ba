"""The queue facade: rq on Redis when ``REDIS_URL`` is set, in-process otherwise.

In-process mode runs a job after the caller's commit (``hotline.tx.commit``),
so the embedded default works on one laptop with no Redis. Jobs are importable
module-level functions taking ids, never ORM objects.

A Redis outage degrades a process to in-process mode: the first failed call marks
Redis as away for ``REDIS_RETRY_SECONDS`` (so each request does not pay a connection
attempt), jobs that could not be enqueued run here after the commit, and the next call
after that window tries Redis again. What needs no job at once stays in the database
(staged messages, outbox rows) for the workers when Redis is back.
"""
from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone

from flask import Flask, current_app, g, has_app_context
from redis import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

# "intake" first: a worker listening on several queues takes staged messages before sends.
QUEUES = ("intake", "notifications", "maintenance")
# Set while a drain job is queued, so a burst of staged messages enqueues one job, not one
# each; it expires in case that job is lost (the cron drain covers the gap).
DRAIN_WAKE_KEY = "hotline:intake:drain-queued"
DRAIN_WAKE_TTL = 60
# app.extensions key: when this process last made sure a drain job was queued (monotonic
# seconds). A drain job keeps polling until the queue has been empty for
# INTAKE_DRAIN_LINGER_SECONDS, so a message staged within a quarter of that after such a
# wake is seen by that job without asking Redis again: a burst costs a few Redis calls a
# second instead of one a message.
LAST_WAKE = "hotline_drain_woken"
# app.extensions key: the Redis outage this process is living through, if any.
OUTAGE = "hotline_redis_outage"


@dataclass
class RedisOutage:
    """Redis could not be reached by this process: since when, why, and when to try again."""

    since: datetime
    error: str
    retry_at: float  # monotonic seconds
    failures: int = 1


def init_app(app: Flask) -> None:
    mode = "rq" if app.config.get("REDIS_URL") else "in-process"
    app.config.setdefault("QUEUE_MODE", mode)
    app.logger.info("jobs run %s", app.config["QUEUE_MODE"])
    # New outbox rows are relayed right after the commit that wrote them, and staged
    # messages drained right after the commit that stored them.
    from hotline.services.outbox import outbox_written
    from hotline.services.staging import message_staged
    outbox_written.connect(_relay_after_commit, sender=app)
    message_staged.connect(_drain_after_commit, sender=app)


def _relay_after_commit(app: Flask) -> None:
    if not has_app_context() or g.get("outbox_relay_scheduled"):
        return
    g.outbox_relay_scheduled = True
    from workers.jobs import relay_outbox
    after_commit(relay_outbox, queue="notifications")


def _drain_after_commit(app: Flask) -> None:
    if not has_app_context() or g.get("drain_scheduled"):
        return
    g.drain_scheduled = True
    g.setdefault("deferred_jobs", []).append((wake_drainer, (), {}, None))


def wake_drainer() -> None:
    """After a commit that staged messages: drain here (in-process, or Redis away) or make
    sure a drain job is queued (rq)."""
    from workers.jobs import drain_intake
    if not is_async():
        drain_intake()
        return
    now = time.monotonic()
    if now - current_app.extensions.get(LAST_WAKE, float("-inf")) < wake_coalesce_seconds():
        return  # the job this process woke moments ago has not stopped polling yet
    if queue_drain():
        # Queued now or already: that job has not started (it clears the key as it starts),
        # so it polls for at least the linger time from now.
        current_app.extensions[LAST_WAKE] = now
    else:
        drain_intake()  # Redis is away: one pass here, as on the embedded default


def queue_drain() -> bool:
    """Make sure one drain job is queued (rq); False if Redis could not be asked."""
    from workers.jobs import drain_intake
    try:
        if redis_connection().set(DRAIN_WAKE_KEY, "1", nx=True, ex=DRAIN_WAKE_TTL):
            from rq import Queue
            Queue("intake", connection=redis_connection()).enqueue(
                drain_intake, retry=retry_policy())
    except RedisError as exc:  # the staged rows are committed; they wait in the table
        note_redis_down(exc)
        return False
    note_redis_up()
    return True


def wake_coalesce_seconds() -> float:
    """How long after a wake this process skips the next one: well inside the linger."""
    return float(current_app.config.get("INTAKE_DRAIN_LINGER_SECONDS") or 0) / 4


def drain_started() -> None:
    """Called by a drain job as it starts: later stagings must queue another job."""
    if not is_async():
        return
    try:
        redis_connection().delete(DRAIN_WAKE_KEY)
    except Exception:  # noqa: BLE001 - the key expires by itself; draining goes on
        log.warning("could not clear the drain wake key", exc_info=True)


def retry_policy():
    """rq's retries for jobs that crash (worker killed, database away): ``JOB_RETRY_INTERVALS``."""
    from rq import Retry
    raw = str(current_app.config.get("JOB_RETRY_INTERVALS") or "10,30,60,300,900")
    intervals = [int(part) for part in raw.split(",") if part.strip()]
    return Retry(max=len(intervals), interval=intervals)


def is_async() -> bool:
    """Whether jobs go to rq now: Redis configured, rq mode, and not known to be away."""
    if not current_app.config.get("REDIS_URL") or current_app.config["QUEUE_MODE"] != "rq":
        return False
    outage = current_app.extensions.get(OUTAGE)
    return outage is None or time.monotonic() >= outage.retry_at


_outage_lock = threading.Lock()


def redis_outage() -> RedisOutage | None:
    """The Redis outage this process has seen and not yet seen end (None: none known)."""
    return current_app.extensions.get(OUTAGE)


def note_redis_down(exc: BaseException) -> None:
    """A Redis call failed: run jobs in-process for ``REDIS_RETRY_SECONDS``, then try again."""
    retry = float(current_app.config.get("REDIS_RETRY_SECONDS") or 5)
    with _outage_lock:
        outage = current_app.extensions.get(OUTAGE)
        if outage is None:
            log.warning("Redis unreachable (%s: %s): jobs run in this process until it is back",
                        type(exc).__name__, exc)
            current_app.extensions[OUTAGE] = RedisOutage(
                since=datetime.now(timezone.utc), error=f"{type(exc).__name__}: {exc}"[:300],
                retry_at=time.monotonic() + retry)
        else:
            outage.failures += 1
            outage.error = f"{type(exc).__name__}: {exc}"[:300]
            outage.retry_at = time.monotonic() + retry


def note_redis_up() -> None:
    """A Redis call succeeded: end the outage, if this process saw one."""
    if current_app.extensions.get(OUTAGE) is None:
        return
    with _outage_lock:
        outage = current_app.extensions.pop(OUTAGE, None)
    if outage is not None:
        seconds = (datetime.now(timezone.utc) - outage.since).total_seconds()
        log.warning("Redis is back after %.0fs: jobs go to rq again", seconds)


def redis_connection() -> Redis:
    """One Redis client per app (connection pools are thread-safe)."""
    conn = current_app.extensions.get("hotline_redis")
    if conn is None:
        conn = Redis.from_url(current_app.config["REDIS_URL"], socket_timeout=5,
                              socket_connect_timeout=2)
        current_app.extensions["hotline_redis"] = conn
    return conn


def enqueue(func: Callable, *args, queue: str = "notifications", **kwargs) -> None:
    """Run ``func(*args)`` in the background: on rq, or in this process after the commit
    (also when Redis cannot take it)."""
    if is_async() and _enqueue_rq(func, args, kwargs, queue):
        return
    if not has_app_context():
        func(*args, **kwargs)
        return
    g.setdefault("deferred_jobs", []).append((func, args, kwargs, None))


def _enqueue_rq(func: Callable, args: tuple, kwargs: dict, queue: str) -> bool:
    """Put the job on rq; False (Redis noted as away) if Redis would not take it."""
    from rq import Queue
    try:
        Queue(queue, connection=redis_connection()).enqueue(
            func, *args, retry=retry_policy(), **kwargs)
    except RedisError as exc:
        note_redis_down(exc)
        return False
    note_redis_up()
    return True


def after_commit(func: Callable, *args, queue: str = "notifications", **kwargs) -> None:
    """Run ``func(*args)`` once the caller's transaction is committed (``hotline.tx.commit``).

    With rq it is enqueued then; if Redis cannot take it, it runs in this process
    instead (the caller's data is committed either way). In-process it simply runs
    after the commit.
    """
    if not has_app_context():
        enqueue(func, *args, queue=queue, **kwargs)
        return
    g.setdefault("deferred_jobs", []).append((func, args, kwargs, queue))


def run_deferred() -> None:
    """Run (or, with rq, enqueue) the jobs deferred in this app context, in order."""
    if not has_app_context():
        return
    jobs = g.pop("deferred_jobs", [])
    g.pop("outbox_relay_scheduled", None)
    g.pop("drain_scheduled", None)
    for job in jobs:
        func, args, kwargs = job[:3]
        queue = job[3] if len(job) > 3 else None
        if queue is not None and is_async() and _enqueue_rq(func, args, kwargs, queue):
            continue
        try:
            func(*args, **kwargs)
        except Exception:  # noqa: BLE001 - a failed send stays pending in the outbox
            log.exception("in-process job %s failed", getattr(func, "__name__", func))
