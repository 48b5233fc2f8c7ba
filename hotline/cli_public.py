"""``flask --app hotline …`` commands of the public side."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import with_appcontext


def init_app(app: Flask) -> None:
    app.cli.add_command(satisfaction_followup)


@click.command("satisfaction-followup")
@with_appcontext
def satisfaction_followup() -> None:
    """Ask citizens "has it been fixed?" a few days after their result (idempotent)."""
    from workers.satisfaction import satisfaction_followup as job
    click.echo(f"Satisfaction follow-up: {job()} message(s) queued.")
