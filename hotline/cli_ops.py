"""Operations commands: ``privacy anonymise``, ``backup create`` / ``backup restore``."""
from __future__ import annotations

import click
from flask import current_app
from flask.cli import AppGroup

from hotline.tx import commit

privacy_cli = AppGroup("privacy", help="Personal data: retention and anonymisation.")
backup_cli = AppGroup("backup", help="Consistent backups of the database and attachments.")


@privacy_cli.command("anonymise")
@click.option("--dry-run", is_flag=True, help="Report what would change; change nothing.")
@click.option("--batch", default=500, show_default=True, help="Tickets per transaction.")
def anonymise(dry_run: bool, batch: int) -> None:
    """Anonymise citizens' data on tickets closed more than HOTLINE_RETENTION_DAYS ago."""
    from hotline.models import utcnow
    from hotline.services import privacy
    from hotline.services.admin.audit import Actor, record

    def progress(result, report):
        if not dry_run:
            commit()  # one transaction per batch: nothing long-held, restartable
        click.echo(f"  {report.tickets} phiếu ({result.tickets} trong lô này)…", err=True)

    click.echo(f"Thời hạn lưu trữ: {current_app.config['RETENTION_DAYS']} ngày"
               + (" — chạy thử, không thay đổi gì." if dry_run else "."), err=True)
    report = privacy.anonymise_expired(utcnow(), dry_run=dry_run, batch=batch, on_batch=progress)
    if not dry_run and report.tickets:
        record(Actor(user=None, label="cli"), "anonymise", "ticket", None,
               after={"tickets": report.tickets, "contacts": report.contacts,
                      "cutoff": report.cutoff})
        commit()
    click.echo(report.describe())
    if report.sample_codes:
        click.echo("Ví dụ: " + ", ".join(report.sample_codes))


@backup_cli.command("create")
@click.argument("path", type=click.Path(dir_okay=True, writable=True))
def backup_create(path: str) -> None:
    """Write a backup archive (database + attachments + manifest) to PATH (file or directory)."""
    from hotline import backup
    try:
        report = backup.create(path)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(report.describe())


@backup_cli.command("restore")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--yes", is_flag=True, help="Do not ask: the current database is replaced.")
def backup_restore(path: str, yes: bool) -> None:
    """Replace the database and attachments with the backup at PATH (stop the app first)."""
    from hotline import backup
    try:
        manifest = backup.read_manifest(path)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo(f"Backup of {manifest['created_at']}: {manifest['tickets']} tickets, "
               f"{manifest['files']} files, {manifest['backend']}.")
    if not yes:
        click.confirm("The current database will be REPLACED. Continue?", abort=True)
    try:
        report = backup.restore(path)
    except backup.BackupError as exc:
        raise click.ClickException(str(exc)) from None
    click.echo("Restored " + report.describe())


def init_app(app) -> None:
    app.cli.add_command(privacy_cli)
    app.cli.add_command(backup_cli)
