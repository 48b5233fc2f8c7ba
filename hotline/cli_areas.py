"""``flask areas …``: official area trees, boundaries, reorganisations, address lookups."""
from __future__ import annotations

import click
from flask import Flask
from flask.cli import AppGroup

from hotline.domain.errors import HotlineError
from hotline.services.admin.audit import Actor
from hotline.tx import commit

areas_cli = AppGroup("areas", help="Administrative units: official trees, reorganisations.")
CLI = Actor(user=None, label="cli")


def init_app(app: Flask) -> None:
    app.cli.add_command(areas_cli)
    app.cli.add_command(export_history)
    app.cli.add_command(import_history)


class _Bar:
    """A click progress bar fed by (done, total) callbacks."""

    def __init__(self, label: str):
        self.label, self.bar, self.shown = label, None, 0

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            self.bar = click.progressbar(length=total, label=self.label)
            self.bar.__enter__()
        self.bar.update(done - self.shown)
        self.shown = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)


@areas_cli.command("import-official")
@click.option("--province", required=True, help='Current province, e.g. "Đồng Nai" or 75.')
@click.option("--legacy/--no-legacy", default=True, show_default=True,
              help="Also load the former (pre-1 July 2025) units merged into it, as history.")
@click.option("--legacy-province", "legacy_provinces", multiple=True,
              help='Only these former provinces, e.g. "Bình Phước" (repeatable).')
def import_official(province: str, legacy: bool, legacy_provinces: tuple[str, ...]) -> None:
    """Load a province's official two-level tree (codes, names, types, centroids)."""
    from hotline.services import area_trees
    bar = _Bar("Areas")
    try:
        result = area_trees.import_official(CLI, province, legacy=legacy,
                                            legacy_provinces=list(legacy_provinces),
                                            progress=bar)
    except HotlineError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        bar.close()
    commit()
    click.echo(result.describe())


@areas_cli.command("reorganise")
@click.option("--official", "province", help='Apply the 2025 reform to a live pre-2025 tree of '
              'this province, e.g. "Đồng Nai".')
@click.option("--csv", "csv_file", type=click.File("rb"), help="old_code,new_code rows.")
@click.option("--effective", type=click.DateTime(["%Y-%m-%d"]),
              help="The day the CSV's reorganisation took effect (default: today).")
@click.option("--apply", "do_apply", is_flag=True, help="Write it (default: a dry run).")
def reorganise_cmd(province, csv_file, effective, do_apply) -> None:
    """Merge, split or rename units: a dry run with counts, then --apply (all or nothing)."""
    from hotline.models import utcnow
    from hotline.services import reorganise
    if bool(province) == bool(csv_file):
        raise click.UsageError("Give either --official PROVINCE or --csv FILE.")
    try:
        if province:
            plan = reorganise.migrate_to_2025(CLI, province, dry_run=not do_apply)
        else:
            day = effective.date() if effective else utcnow().date()
            plan = reorganise.plan_csv(csv_file.read(), effective=day)
            if do_apply:
                plan = reorganise.apply(CLI, plan)
    except HotlineError as exc:
        raise click.ClickException(exc.message) from None
    if do_apply:
        commit()
    click.echo(plan.describe())
    click.echo("Applied." if do_apply else "Dry run: nothing written (add --apply).")


@click.command("export-history")
@click.argument("out", type=click.File("w", encoding="utf-8"), default="-")
def export_history(out) -> None:
    """Write every ticket with its timeline as JSON Lines (docs/history-format.md)."""
    from flask import current_app

    from hotline.services import history
    for n, line in enumerate(history.export_lines(
            source=current_app.config.get("PROVINCE_NAME") or ""), start=0):
        out.write(line + "\n")
    click.echo(f"Exported {n} tickets.", err=True)


@click.command("import-history")
@click.argument("source", type=click.Path(exists=True, dir_okay=False))
def import_history(source: str) -> None:
    """Import another 1022's export: every bad line listed, nothing partial, idempotent."""
    from hotline.services import history
    with open(source, encoding="utf-8") as f:
        lines = f.readlines()
    bar = _Bar("Tickets")
    try:
        result = history.import_lines(CLI, lines, progress=bar)
    except HotlineError as exc:
        raise click.ClickException(exc.message) from None
    finally:
        bar.close()
    commit()
    click.echo(result.describe())
