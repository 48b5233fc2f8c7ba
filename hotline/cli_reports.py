"""``flask --app hotline refresh-stats``: rebuild the reports' daily aggregate.

Run it nightly (cron or the worker's schedule); reports stay correct without
it — days it has not reached are counted live — only slower.
"""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext

from hotline.tx import commit


def init_app(app: Flask) -> None:
    app.cli.add_command(refresh_stats)


@click.command("refresh-stats")
@click.option("--days", type=click.IntRange(min=0), default=35, show_default=True,
              help="Rewrite the last N complete days (0: every day since the first ticket).")
@with_appcontext
def refresh_stats(days: int) -> None:
    """Rebuild ticket_daily_stats for the last N days (idempotent)."""
    from hotline.services.reports import daily

    def progress(first, last):
        click.echo(f"  {first:%d/%m/%Y} – {last:%d/%m/%Y}")

    result = daily.refresh(days or None, progress=progress)
    commit()
    click.echo(f"refresh-stats: {result.day_from:%d/%m/%Y} – {result.day_to:%d/%m/%Y}, "
               f"{result.rows} rows in {result.seconds:.1f}s.")
