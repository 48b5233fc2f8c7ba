"""``flask --app hotline …`` commands: thin wrappers over services."""
from __future__ import annotations

import click
from flask import Flask, current_app
from flask.cli import with_appcontext

from hotline.domain.errors import HotlineError
from hotline.models import Role, utcnow
from hotline.tx import commit


def init_app(app: Flask) -> None:
    for command in (seed_demo, create_user, create_api_key, sla_scan, config_show,
                    generate_tickets):
        app.cli.add_command(command)
    from hotline import cli_ops
    cli_ops.init_app(app)
    from channels.cli import channels_cli
    app.cli.add_command(channels_cli)
    from hotline import cli_sla
    cli_sla.init_app(app)
    from hotline import cli_reports
    cli_reports.init_app(app)
    from hotline import cli_public
    cli_public.init_app(app)
    from hotline import cli_areas
    cli_areas.init_app(app)
    from hotline import cli_triage
    cli_triage.init_app(app)


def _fail(exc: HotlineError) -> None:
    raise click.ClickException(exc.message)


@click.command("seed-demo")
@click.option("--tickets", default=500, show_default=True, help="How many demo tickets.")
@click.option("--seed", default=1022, show_default=True, help="Random seed (same seed, same data).")
@with_appcontext
def seed_demo(tickets: int, seed: int) -> None:
    """Load a realistic demo province: agencies, areas, fields, rules, users, tickets."""
    from hotline.services import demo
    try:
        demo.refuse_in_production()  # before anything is read or written
    except HotlineError as exc:
        _fail(exc)
    if demo.already_seeded():
        click.echo("Demo data is already loaded; nothing to do.")
        return
    summary = demo.seed(tickets=tickets, seed=seed, progress=click.echo)
    commit()
    click.echo(summary.describe())


@click.command("create-user")
@click.argument("username")
@click.option("--role", type=click.Choice([r.value for r in Role]), required=True)
@click.option("--name", "full_name", required=True, help="Full name shown in the timeline.")
@click.option("--agency", "agency_code", help="Agency code (handlers and agency leads).")
@click.option("--email")
@click.password_option()
@with_appcontext
def create_user(username, role, full_name, agency_code, email, password) -> None:
    """Create a staff account."""
    from hotline.services import accounts
    try:
        user = accounts.create_user(username=username, password=password, role=role,
                                    full_name=full_name, agency_code=agency_code, email=email)
    except HotlineError as exc:
        _fail(exc)
    commit()
    click.echo(f"Created {user.role} account '{user.username}'.")


@click.command("create-api-key")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, default=("open311:write",), show_default=True,
              type=click.Choice(["open311:write", "ioc:read"]),
              help="What the key may do; repeat for several.")
@with_appcontext
def create_api_key(name: str, scopes: tuple[str, ...]) -> None:
    """Create an API key (Open311 write, IOC read) and print it (shown only this once)."""
    from hotline.services import accounts
    try:
        row, key = accounts.create_api_key(name, scopes)
    except HotlineError as exc:
        _fail(exc)
    commit()
    click.echo(f"API key #{row.id} for '{row.name}' ({row.scopes}):\n{key}")


@click.command("sla-scan")
@with_appcontext
def sla_scan() -> None:
    """Move tickets between on track, due soon and overdue; print what changed."""
    from hotline.services import sla
    report = sla.scan(utcnow())
    commit()
    click.echo(report.describe())


@click.command("config-show")
@with_appcontext
def config_show() -> None:
    """Print the settings in force (secrets hidden)."""
    from sqlalchemy.engine import make_url
    cfg = current_app.config
    click.echo(f"HOTLINE_ENV      {cfg['HOTLINE_ENV']}")
    click.echo(f"DATABASE_URL     {make_url(cfg['SQLALCHEMY_DATABASE_URI']).render_as_string(hide_password=True)}")
    click.echo(f"REDIS_URL        {cfg.get('REDIS_URL') or '(unset: jobs run in-process)'}")
    click.echo(f"HOTLINE_TIMEZONE {cfg['HOTLINE_TIMEZONE']}")
    click.echo(f"SECRET_KEY       {'(development default)' if cfg['SECRET_KEY'].startswith('dev-') else '(set)'}")


@click.command("generate-tickets")
@click.argument("count", type=click.IntRange(1, 50_000_000))
@click.option("--years", default=3.0, show_default=True, help="Spread over this many past years.")
@click.option("--seed", default=1022, show_default=True)
@click.option("--batch", default=20_000, show_default=True, help="Rows per COPY / INSERT batch.")
@with_appcontext
def generate_tickets(count: int, years: float, seed: int, batch: int) -> None:
    """Bulk-load COUNT realistic tickets with timelines (benchmarks). Needs the demo organisation."""
    from tqdm import tqdm

    from hotline.services import generate
    with tqdm(total=count, unit="phiếu", desc="generate-tickets") as bar:
        report = generate.generate(count, years=years, seed=seed, batch=batch, progress=bar.update,
                                   status=bar.set_postfix_str)
        commit()
    click.echo(f"{report.tickets} tickets, {report.events} events, {report.contacts} contacts "
               f"in {report.seconds:.1f} s ({report.tickets / report.seconds:,.0f} tickets/s).")
