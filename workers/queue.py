"""The queue facade: rq on Redis when ``REDIS_URL`` is set, in-process otherwise.

In-process mode runs a job after the caller's commit (``hotline.tx.commit``),
so the embedded default works on one laptop with no Redis. Jobs are importable
module-level functions taking ids, never ORM objects.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable

from flask import Flask, current_app, g, has_app_context
from redis import Redis

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
    """After a commit that staged messages: drain here (in-process) or make sure a drain
    job is queued (rq). If Redis is down the messages wait for the cron drain."""
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


def queue_drain() -> bool:
    """Make sure one drain job is queued (rq); False if Redis could not be asked."""
    from workers.jobs import drain_intake
    try:
        if redis_connection().set(DRAIN_WAKE_KEY, "1", nx=True, ex=DRAIN_WAKE_TTL):
            enqueue(drain_intake, queue="intake")
        return True
    except Exception:  # noqa: BLE001 - the staged rows are committed; cron drains them
        log.warning("could not wake the intake drainer; the cron drain will catch up",
                    exc_info=True)
        return False


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
    return bool(current_app.config.get("REDIS_URL")) and current_app.config["QUEUE_MODE"] == "rq"


def redis_connection() -> Redis:
    """One Redis client per app (connection pools are thread-safe)."""
    conn = current_app.extensions.get("hotline_redis")
    if conn is None:
        conn = Redis.from_url(current_app.config["REDIS_URL"], socket_timeout=5,
                              socket_connect_timeout=2)
        current_app.extensions["hotline_redis"] = conn
    return conn


def enqueue(func: Callable, *args, queue: str = "notifications", **kwargs) -> None:
    """Run ``func(*args)`` in the background: on rq, or in this process after the commit."""
    if is_async():
        from rq import Queue
        Queue(queue, connection=redis_connection()).enqueue(
            func, *args, retry=retry_policy(), **kwargs)
        return
    if not has_app_context():
        func(*args, **kwargs)
        return
    g.setdefault("deferred_jobs", []).append((func, args, kwargs, None))


def after_commit(func: Callable, *args, queue: str = "notifications", **kwargs) -> None:
    """Run ``func(*args)`` once the caller's transaction is committed (``hotline.tx.commit``).

    With rq it is enqueued then; if Redis is down the error is logged and
    swallowed — the caller's data is committed and the cron relay picks the work
    up when Redis is back. In-process it simply runs after the commit.
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
        if queue is not None and is_async():
            try:
                enqueue(func, *args, queue=queue, **kwargs)
            except Exception:  # committed work waits for the cron relay
                log.warning("could not enqueue %s after commit; the relay will catch up",
                            getattr(func, "__name__", func), exc_info=True)
            continue
        try:
            func(*args, **kwargs)
        except Exception:  # noqa: BLE001 - a failed send stays pending in the outbox
            log.exception("in-process job %s failed", getattr(func, "__name__", func))
