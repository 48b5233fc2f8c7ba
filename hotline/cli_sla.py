"""``flask --app hotline …`` commands of the SLA engine and the workers.

``sla-recompute``, ``send-digests``, ``outbox-relay`` and ``intake-drain`` are thin wrappers over
services (usable from the system cron when there is no Redis); ``worker``,
``scheduler`` and ``periodic-jobs`` live in ``workers.runner``, ``workers.cron`` and
``workers.periodic``. ``sla-scan`` is
in ``hotline.cli``.
"""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from hotline.models import utcnow
from hotline.tx import commit


def init_app(app: Flask) -> None:
    from workers.cron import scheduler_command
    from workers.periodic import periodic_jobs_command
    from workers.runner import worker_command
    for command in (sla_recompute, send_digests, outbox_relay, intake_drain, worker_command,
                    scheduler_command, periodic_jobs_command):
        app.cli.add_command(command)


@click.command("sla-recompute")
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@click.option("--batch", default=1000, show_default=True, help="Tickets per transaction.")
@click.option("--show", default=200, show_default=True, help="Changed tickets to list.")
@with_appcontext
def sla_recompute(dry_run: bool, batch: int, show: int) -> None:
    """Recompute open tickets' deadlines after an SLA policy or calendar change."""
    from hotline.services import sla_recompute as service
    total = service.count_open()
    click.echo(f"Recomputing deadlines of {total} open ticket(s)"
               f"{' (dry run: nothing is written)' if dry_run else ''}…")

    def progress(examined: int, changed: int) -> None:
        if not dry_run:
            commit()  # one transaction per batch: a long run holds no lock for long
        click.echo(f"  {examined}/{total} examined, {changed} changed")

    report = service.recompute(utcnow(), dry_run=dry_run, batch=batch, progress=progress,
                               keep_changes=show)
    if dry_run:
        from hotline.extensions import db
        db.session.rollback()
    else:
        commit()
    for change in report.changes:
        click.echo("  " + change.describe())
    if report.changed > len(report.changes):
        click.echo(f"  … and {report.changed - len(report.changes)} more.")
    verb = "would change" if dry_run else "changed"
    click.echo(f"{report.examined} ticket(s) examined, {report.changed} {verb}; "
               f"{report.kept_extension} kept their approved extension's due time.")


@click.command("send-digests")
@with_appcontext
def send_digests() -> None:
    """Queue today's SLA digests (working days, from DIGEST_LOCAL_TIME, once a day)."""
    from hotline.services import sla_digest
    report = sla_digest.send_digests(utcnow())
    commit()
    if report.skipped:
        click.echo(f"No digest for {report.day:%d/%m/%Y}: {report.skipped}.")
    else:
        click.echo(f"Queued {report.sent} digest e-mail(s) for {report.day:%d/%m/%Y}.")


@click.command("outbox-relay")
@with_appcontext
def outbox_relay() -> None:
    """Relay due outbox messages once (to rq, or sent here when there is no Redis)."""
    from workers.jobs import relay_outbox
    n = relay_outbox()
    click.echo(f"Relayed {n} outbox message(s).")


@click.command("intake-drain")
@with_appcontext
def intake_drain() -> None:
    """Turn every due staged inbound message into a ticket (retries of failed ones included)."""
    from workers.jobs import drain_intake
    n = drain_intake(until_empty=True)
    click.echo(f"Processed {n} staged message(s).")
