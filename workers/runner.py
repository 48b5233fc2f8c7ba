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

import click
from flask import Flask, current_app
from flask.cli import with_appcontext
from redis import Redis
from rq import SimpleWorker, Worker

from hotline.extensions import db
from workers.queue import QUEUES


class _AppContextMixin:
    """Wrap ``perform_job`` in ``app.app_context()`` (rq#538, Flask-RQ2#119)."""

    def __init__(self, *args, app: Flask, **kwargs):
        self.app = app
        self._parent_pid = os.getpid()
        super().__init__(*args, **kwargs)

    def perform_job(self, job, queue):
        with self.app.app_context():
            if os.getpid() != self._parent_pid:
                # A forked horse: forget the parent's pooled connections without closing them.
                db.engine.dispose(close=False)
            try:
                return super().perform_job(job, queue)
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
    """Run an rq worker on QUEUES (default: notifications, maintenance)."""
    app = current_app._get_current_object()
    if not app.config.get("REDIS_URL"):
        raise click.ClickException(
            "REDIS_URL is not set: jobs run in-process after each commit; no worker is needed.")
    unknown = [q for q in queues if q not in QUEUES]
    if unknown:
        raise click.ClickException(f"Unknown queue(s): {', '.join(unknown)}. "
                                   f"Known: {', '.join(QUEUES)}.")
    worker_class = AppContextSimpleWorker if simple else AppContextWorker
    worker = worker_class(list(queues or QUEUES), connection=worker_connection(app), app=app,
                          name=name)
    logging.getLogger("workers").setLevel(logging.INFO)
    worker.work(burst=burst, with_scheduler=True, logging_level="INFO")
