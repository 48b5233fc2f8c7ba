"""One schedule, three runners: rq's cron, a thread inside the web process, the system cron.

The schedule is ``workers.cron.schedule``. Whichever runner starts a job takes it through
the ``periodic_jobs`` table (``hotline.services.periodic``): one run at a time across every
process and machine, and its last run is shown on /admin/system.

- With Redis, ``flask --app hotline scheduler`` enqueues ``run_scheduled(name)`` on rq.
- On the embedded default (no Redis), each web process starts a daemon thread on its first
  request (never in the factory: ``flask db upgrade`` and other commands build the app
  too, and a thread started before gunicorn forks would not survive the fork). Every
  ``PERIODIC_TICK_SECONDS`` it runs the jobs that are due; the table decides which process
  runs each one. With Redis configured the thread only pings it, and runs the jobs itself
  while Redis is unreachable (the rq scheduler cannot then), so the SLA clock keeps moving.
- ``flask --app hotline periodic-jobs`` runs what is due once, for a system crontab.

``PERIODIC_JOBS`` (``HOTLINE_PERIODIC_JOBS``): ``auto`` (the default; ``off`` under
TESTING), ``in-process`` (the thread runs the jobs even while Redis answers: a deployment
with Redis but no scheduler) or ``off`` (the system cron or rq's scheduler only).
"""
from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from collections.abc import Mapping
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from hotline.extensions import db
from hotline.models import utcnow
from hotline.services import periodic as table

log = logging.getLogger(__name__)

RUNNER_RQ, RUNNER_THREAD, RUNNER_CRON = "rq", "in-process", "cron"
MODES = ("auto", "in-process", "off")
THREAD_KEY = "hotline_periodic_thread"
_start_lock = threading.Lock()


def schedule_by_name(app: Flask) -> dict[str, dict]:
    from workers.cron import schedule
    return {entry["name"]: entry for entry in schedule(app)}


def mode(config: Mapping[str, Any]) -> str:
    """``auto``, ``in-process`` or ``off`` (an unknown value counts as ``auto``)."""
    value = str(config.get("PERIODIC_JOBS") or ("off" if config.get("TESTING") else "auto"))
    return value if value in MODES else "auto"


def _owner() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def run_job(name: str, *, runner: str, due_only: bool) -> str:
    """Run one job of the schedule under its lease: ``ran``, ``failed``, or ``skipped``
    (another runner holds it, or — ``due_only`` — it is not due yet)."""
    entry = schedule_by_name(current_app)[name]
    owner = _owner()
    if not table.claim(name, owner, utcnow(), lease_seconds=entry["job_timeout"],
                       every_seconds=entry["interval"] if due_only else None):
        return "skipped"
    started = time.monotonic()
    try:
        result = entry["func"]()
    except Exception as exc:  # recorded and shown; the next run tries again
        db.session.rollback()
        log.exception("periodic job %s failed", name)
        table.finish(name, owner, utcnow(), seconds=time.monotonic() - started, ok=False,
                     runner=runner, error=f"{type(exc).__name__}: {exc}")
        return "failed"
    db.session.rollback()  # SQLite: a job's last read must not hold the write lock
    table.finish(name, owner, utcnow(), seconds=time.monotonic() - started, ok=True,
                 runner=runner, result=None if result is None else str(result))
    return "ran"


def run_scheduled(name: str) -> str:
    """The job rq's cron scheduler enqueues for ``name`` (``workers.cron``)."""
    outcome = run_job(name, runner=RUNNER_RQ, due_only=False)
    if outcome == "failed":
        raise RuntimeError(f"periodic job {name} failed (see the log and /admin/system)")
    return outcome


def run_due(runner: str, stopping: threading.Event | None = None) -> dict[str, str]:
    """Run, one after the other, every job of the schedule that is due; outcome by name.
    Stops between jobs once ``stopping`` is set."""
    outcomes = {}
    for name in schedule_by_name(current_app):
        if stopping is not None and stopping.is_set():
            break
        outcomes[name] = run_job(name, runner=runner, due_only=True)
    return outcomes


def jobs_run_here(app: Flask) -> bool:
    """Whether this process's thread should run the jobs now: always in ``in-process``
    mode; in ``auto`` without Redis, or while Redis does not answer."""
    chosen = mode(app.config)
    if chosen != "auto" or not app.config.get("REDIS_URL"):
        return chosen != "off"
    from workers import queue
    try:
        queue.redis_connection().ping()
    except Exception as exc:  # noqa: BLE001 - any failure: rq's scheduler cannot run either
        queue.note_redis_down(exc)
        return True
    queue.note_redis_up()
    return False


class PeriodicThread(threading.Thread):
    """Runs due jobs every ``tick`` seconds until stopped; never dies of a job's error."""

    def __init__(self, app: Flask, tick: float):
        super().__init__(name="hotline-periodic", daemon=True)
        self.app = app
        self.tick = tick
        self.pid = os.getpid()
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.wait(self.tick):
            self.run_once()

    def run_once(self) -> dict[str, str]:
        with self.app.app_context():
            try:
                if not jobs_run_here(self.app):
                    return {}
                return run_due(RUNNER_THREAD, self.stopping)
            except Exception:  # e.g. the database away: try at the next tick
                log.exception("periodic jobs: this tick failed")
                return {}
            finally:
                db.session.remove()

    def stop(self, timeout: float = 30) -> None:
        self.stopping.set()
        if self is not threading.current_thread():
            self.join(timeout)


def start(app: Flask) -> PeriodicThread | None:
    """Start this process's periodic thread unless it runs already (or mode is ``off``)."""
    if mode(app.config) == "off":
        return None
    with _start_lock:
        thread = app.extensions.get(THREAD_KEY)
        if thread is not None and thread.pid == os.getpid() and thread.is_alive():
            return thread
        thread = PeriodicThread(app, float(app.config.get("PERIODIC_TICK_SECONDS") or 5))
        app.extensions[THREAD_KEY] = thread
        thread.start()
    log.info("periodic jobs: in-process runner started (pid %s)", os.getpid())
    return thread


def stop(app: Flask) -> None:
    thread = app.extensions.pop(THREAD_KEY, None)
    if thread is not None:
        thread.stop()


def init_app(app: Flask) -> None:
    """Start the thread with the first request this process serves (see the module doc);
    the mode is read then, so settings applied after the factory count."""
    pid_started: list[int] = []

    @app.before_request
    def _start_periodic_thread() -> None:
        if pid_started and pid_started[0] == os.getpid():
            return
        start(app)
        pid_started[:] = [os.getpid()]


@click.command("periodic-jobs")
@click.option("--list", "list_only", is_flag=True, help="Print the schedule and last runs.")
@click.option("--job", "names", multiple=True, help="Run this job now, due or not.")
@with_appcontext
def periodic_jobs_command(list_only: bool, names: tuple[str, ...]) -> None:
    """Run every periodic job that is due, once (for the system crontab, every minute)."""
    app = current_app._get_current_object()
    entries = schedule_by_name(app)
    if list_only:
        runs = table.last_runs(utcnow())
        for name, entry in entries.items():
            run = runs.get(name)
            last = (f"last {run.started_at:%Y-%m-%d %H:%M:%S}Z "
                    f"{'ok' if run.ok else 'FAILED' if run.ok is False else 'running'}"
                    if run and run.started_at else "never run")
            click.echo(f"{name:<22} every {entry['interval']:>6}s  {last}")
        return
    unknown = [n for n in names if n not in entries]
    if unknown:
        raise click.ClickException(f"Unknown job(s): {', '.join(unknown)}. "
                                   f"Known: {', '.join(entries)}.")
    if names:
        outcomes = {n: run_job(n, runner=RUNNER_CRON, due_only=False) for n in names}
    else:
        outcomes = run_due(RUNNER_CRON)
    for name, outcome in outcomes.items():
        click.echo(f"{name:<22} {outcome}")
    if "failed" in outcomes.values():
        raise SystemExit(1)
