"""The worker entry point: rq workers whose jobs run inside the Flask app context.

``flask --app hotline worker [QUEUES…]`` runs an rq worker on the named queues
(default: notifications, maintenance), with rq's scheduler for retries that
wait. Each job gets a fresh app context and a fresh database session; a forked
work-horse drops the connections it inherited from its parent (never share a
socket across ``fork``).
"""
from __future__ import annotations

import logging
import os
import signal
import time

import click
import redis
from flask import Flask, current_app
from flask.cli import with_appcontext
from redis import Redis
from rq import SimpleWorker, Worker

from hotline.extensions import db
from workers.queue import QUEUES

log = logging.getLogger(__name__)


class _AppContextMixin:
    """Wrap ``perform_job`` in ``app.app_context()`` (rq#538, Flask-RQ2#119)."""

    def __init__(self, *args, app: Flask, **kwargs):
        self.app = app
        self._parent_pid = os.getpid()
        super().__init__(*args, **kwargs)

    def perform_job(self, job, queue, *args, **kwargs):
        with self.app.app_context():
            if os.getpid() != self._parent_pid:
                # A forked horse: forget the parent's pooled connections without closing them.
                db.engine.dispose(close=False)
            try:
                return super().perform_job(job, queue, *args, **kwargs)
            finally:
                db.session.remove()


class AppContextWorker(_AppContextMixin, Worker):
    """rq's forking worker: each job runs in a child process (killed alone on timeout)."""


class AppContextSimpleWorker(_AppContextMixin, SimpleWorker):
    """Runs jobs in the worker process itself (tests, debugging, platforms without fork)."""


def worker_connection(app: Flask) -> Redis:
    """A connection of the worker's own: rq raises its socket timeout for blocking pops."""
    return Redis.from_url(app.config["REDIS_URL"])


@click.command("worker")
@click.argument("queues", nargs=-1)
@click.option("--burst", is_flag=True, help="Stop when the queues are empty.")
@click.option("--simple", is_flag=True, help="Run jobs in this process (no fork).")
@click.option("--name", help="Worker name (default: random).")
@with_appcontext
def worker_command(queues: tuple[str, ...], burst: bool, simple: bool, name: str | None) -> None:
    """Run an rq worker on QUEUES (default: intake, notifications, maintenance)."""
    app = current_app._get_current_object()
    if not app.config.get("REDIS_URL"):
        raise click.ClickException(
            "REDIS_URL is not set: jobs run in-process after each commit; no worker is needed.")
    unknown = [q for q in queues if q not in QUEUES]
    if unknown:
        raise click.ClickException(f"Unknown queue(s): {', '.join(unknown)}. "
                                   f"Known: {', '.join(QUEUES)}.")
    worker_class = AppContextSimpleWorker if simple else AppContextWorker
    logging.getLogger("workers").setLevel(logging.INFO)
    run_until_stopped(lambda: worker_class(list(queues or QUEUES),
                                           connection=worker_connection(app), app=app, name=name),
                      burst=burst)


def run_until_stopped(make_worker, *, burst: bool = False, max_wait: float = 30.0) -> None:
    """Run rq workers until asked to stop, starting a new one when one dies of a Redis error.

    rq's work loop quits on a Redis error outside its blocking pop (e.g. Redis
    restarted while a job finished); a hotline worker outlives that itself
    instead of depending on a supervisor. Jobs lost with Redis are found again
    by the cron relay (outbox rows) or the next periodic run.
    """
    wait = 1.0
    while True:
        worker = None
        started = time.monotonic()
        try:
            worker = make_worker()
            worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
        except (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError) as exc:
            log.warning("worker: Redis unavailable (%s)", exc)
        if burst or (worker is not None and worker._shutdown_requested_date is not None):
            return
        if time.monotonic() - started > 60:
            wait = 1.0
        log.warning("worker stopped unexpectedly; starting a new one in %.0fs", wait)
        _sleep_interruptibly(wait)
        wait = min(wait * 2, max_wait)


def _sleep_interruptibly(seconds: float) -> None:
    """Sleep; SIGTERM/SIGINT now mean "stop" (rq's handlers belong to the dead worker)."""
    def stop(signum, frame):
        raise SystemExit(0)
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    time.sleep(seconds)
