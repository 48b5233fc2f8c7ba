"""The queue facade: rq on Redis when ``REDIS_URL`` is set, in-process otherwise.

In-process mode runs a job after the caller's commit (``hotline.tx.commit``),
so the embedded default works on one laptop with no Redis. Jobs are importable
module-level functions taking ids, never ORM objects.
"""
from __future__ import annotations

import logging
from collections.abc import Callable

from flask import Flask, current_app, g, has_app_context
from redis import Redis

log = logging.getLogger(__name__)

QUEUES = ("notifications", "maintenance")


def init_app(app: Flask) -> None:
    mode = "rq" if app.config.get("REDIS_URL") else "in-process"
    app.config.setdefault("QUEUE_MODE", mode)
    app.logger.info("jobs run %s", app.config["QUEUE_MODE"])


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
        from rq import Queue, Retry
        Queue(queue, connection=redis_connection()).enqueue(
            func, *args, retry=Retry(max=5, interval=[10, 30, 60, 300, 900]), **kwargs)
        return
    if not has_app_context():
        func(*args, **kwargs)
        return
    g.setdefault("deferred_jobs", []).append((func, args, kwargs))


def run_deferred() -> None:
    """Run the jobs deferred in this app context (in-process mode), in order."""
    if not has_app_context():
        return
    jobs = g.pop("deferred_jobs", [])
    for func, args, kwargs in jobs:
        try:
            func(*args, **kwargs)
        except Exception:  # noqa: BLE001 - a failed send stays pending in the outbox
            log.exception("in-process job %s failed", getattr(func, "__name__", func))
