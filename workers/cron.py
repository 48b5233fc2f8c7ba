"""The cron schedule, on rq's ``CronScheduler`` (rq ≥ 2.4; beta in rq).

``flask --app hotline scheduler`` enqueues, on interval:

- ``workers.jobs.drain_intake`` on *intake* every ``CRON_INTAKE_SECONDS`` (30) — staged
  messages are drained right after they are stored; this run catches what a Redis outage
  or a crashed worker left, and retries failed ones when their backoff ends;
- ``workers.jobs.sla_scan`` on *maintenance* every ``CRON_SLA_SCAN_SECONDS`` (60);
- ``workers.jobs.relay_outbox`` on *notifications* every ``CRON_RELAY_SECONDS`` (60);
- ``workers.jobs.send_digests`` on *maintenance* every ``CRON_DIGEST_SECONDS`` (300) —
  the service itself sends only on working days from ``DIGEST_LOCAL_TIME``, once a day.
- ``workers.jobs.refresh_stats`` on *maintenance* every ``CRON_STATS_SECONDS`` (3600) — the
  reports' daily aggregate for the last 35 days (the first run fills every day before);
- ``workers.retention.anonymise_expired`` on *maintenance* every ``CRON_RETENTION_SECONDS``
  (86400) — personal-data retention, batched and resumable.
- ``workers.jobs.train_triage`` on *maintenance* every ``CRON_TRIAGE_SECONDS`` (86400) — the
  triage model retrained on the fields people set or kept.

Each run takes the job's lease in the ``periodic_jobs`` table and records how it ended
(``workers.periodic``): the same schedule runs in-process on the embedded default and
from the system cron (``flask --app hotline periodic-jobs``).

Intervals, not cron strings: rq evaluates cron strings in the machine's local
time zone (often UTC on servers), while our deadlines live in
Asia/Ho_Chi_Minh working time; the services decide what is due. Every job is
idempotent, so a second scheduler or a late run only repeats no-ops — still,
run one scheduler per deployment.

rq's own ``CronScheduler.start`` stops at the first Redis error; ours keeps
trying with backoff, so a Redis restart delays the schedule and loses nothing
(the outbox rows are in the database).
"""
from __future__ import annotations

import logging
import time

import click
import redis
from flask import Flask, current_app
from flask.cli import with_appcontext
from redis import Redis
from rq.cron import CronScheduler
from rq.exceptions import StopRequested

from hotline.services.settings import setting_int
from workers import jobs, periodic, retention, satisfaction

log = logging.getLogger(__name__)

_REDIS_ERRORS = (redis.exceptions.ConnectionError, redis.exceptions.TimeoutError)


class ResilientCronScheduler(CronScheduler):
    """A CronScheduler whose loop outlives Redis outages."""

    max_backoff = 30.0

    def start(self) -> None:
        self.log.info("CronScheduler %s: starting…", self.name)
        self._install_signal_handlers()
        wait = 1.0
        registered = False
        try:
            while True:
                try:
                    if not registered:
                        self.register_birth()
                        registered = True
                    if self.enqueue_jobs():
                        self.save()
                    self.heartbeat()
                    wait = 1.0
                except _REDIS_ERRORS as exc:
                    self.log.warning("CronScheduler %s: Redis unavailable (%s); retrying in %.0fs",
                                     self.name, exc, wait)
                    registered = False
                    time.sleep(wait)
                    wait = min(wait * 2, self.max_backoff)
                    continue
                sleep_time = self.calculate_sleep_interval()
                if sleep_time > 0:
                    time.sleep(sleep_time)
        except (KeyboardInterrupt, StopRequested):
            self.log.info("CronScheduler %s: stop requested", self.name)
        finally:
            try:
                self.register_death()
            except _REDIS_ERRORS:
                pass
            self.log.info("CronScheduler %s: shutdown complete", self.name)


def schedule(app: Flask) -> list[dict]:
    """The jobs and intervals of this deployment (also shown by ``scheduler --list``): the
    one schedule of every runner (rq here, ``workers.periodic`` in-process or from cron).
    Each entry is named after its function."""
    cfg = app.config
    entries = [
        {"func": jobs.drain_intake, "queue_name": "intake",
         "interval": setting_int("CRON_INTAKE_SECONDS", cfg), "job_timeout": 600},
        {"func": jobs.sla_scan, "queue_name": "maintenance",
         "interval": setting_int("CRON_SLA_SCAN_SECONDS", cfg), "job_timeout": 600},
        {"func": jobs.relay_outbox, "queue_name": "notifications",
         "interval": setting_int("CRON_RELAY_SECONDS", cfg), "job_timeout": 300},
        {"func": jobs.send_digests, "queue_name": "maintenance",
         "interval": setting_int("CRON_DIGEST_SECONDS", cfg), "job_timeout": 900},
        {"func": jobs.refresh_stats, "queue_name": "maintenance",
         "interval": setting_int("CRON_STATS_SECONDS", cfg), "job_timeout": 7200},
        # Personal-data retention: daily, batched, resumable.
        {"func": retention.anonymise_expired, "queue_name": "maintenance",
         "interval": setting_int("CRON_RETENTION_SECONDS", cfg), "job_timeout": 3600},
        # "Has it been fixed?" questions to citizens, idempotent per ticket.
        {"func": satisfaction.satisfaction_followup, "queue_name": "notifications",
         "interval": setting_int("CRON_SATISFACTION_SECONDS", cfg), "job_timeout": 900},
        # The triage model relearns from the fields people set or kept (daily).
        {"func": jobs.train_triage, "queue_name": "maintenance",
         "interval": setting_int("CRON_TRIAGE_SECONDS", cfg), "job_timeout": 3600},
    ]
    return [{**entry, "name": entry["func"].__name__} for entry in entries]


def build_scheduler(app: Flask, connection: Redis) -> ResilientCronScheduler:
    """A scheduler with our jobs registered; queued runs expire after three intervals.

    Each run goes through ``workers.periodic.run_scheduled``: it takes the job's lease in
    the database (a web process standing in during a Redis outage, or a second scheduler,
    never runs it at the same time) and records the run for /admin/system.
    """
    scheduler = ResilientCronScheduler(connection=connection)
    for entry in schedule(app):
        scheduler.register(periodic.run_scheduled, entry["queue_name"], args=(entry["name"],),
                           interval=entry["interval"], job_timeout=entry["job_timeout"],
                           ttl=3 * entry["interval"], result_ttl=3600, failure_ttl=7 * 86400,
                           name=entry["name"])
    return scheduler


@click.command("scheduler")
@click.option("--list", "list_only", is_flag=True, help="Print the schedule and exit.")
@with_appcontext
def scheduler_command(list_only: bool) -> None:
    """Run rq's cron scheduler: intake drain, SLA scan, outbox relay and daily digests."""
    app = current_app._get_current_object()
    for entry in schedule(app):
        click.echo(f"{entry['func'].__module__}.{entry['func'].__name__:<14} "
                   f"queue={entry['queue_name']:<13} every {entry['interval']}s")
    if list_only:
        return
    if not app.config.get("REDIS_URL"):
        raise click.ClickException(
            "REDIS_URL is not set: the web processes run these jobs themselves "
            "(HOTLINE_PERIODIC_JOBS=auto), or run `flask --app hotline periodic-jobs` from the "
            "system's cron every minute (README, Commands).")
    build_scheduler(app, Redis.from_url(app.config["REDIS_URL"])).start()
