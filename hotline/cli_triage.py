"""``flask --app hotline triage train|suggest|evaluate``: the triage model from the shell."""
from __future__ import annotations

import json
import sys

import click
from flask import Flask
from flask.cli import AppGroup
from tqdm import tqdm

triage_cli = AppGroup("triage", help="Field, scope and KB suggestions from the text.")


def init_app(app: Flask) -> None:
    app.cli.add_command(triage_cli)


@triage_cli.command("train")
def train_command() -> None:
    """Train on the corpus, field keywords and handled tickets; replace the model file."""
    from hotline.services import triage
    bar = tqdm(total=1, unit="ex", desc="triage", file=sys.stderr)

    def progress(done: int, total: int) -> None:
        bar.total = total
        bar.n = done
        bar.refresh()

    model = triage.train(progress)
    bar.close()
    click.echo(f"trained on {model.examples} examples {model.sources} in {model.seconds:.1f}s "
               f"→ {triage.model_path()}")


@triage_cli.command("suggest")
@click.option("--json", "as_json", is_flag=True, help="One JSON object on stdout.")
@click.argument("text")
def suggest_command(as_json: bool, text: str) -> None:
    """Fields, scope and KB articles for TEXT (trains first when there is no model)."""
    from hotline.services import triage
    if triage.current_model() is None:
        triage.train()
    result = triage.suggest(text)
    if as_json:
        click.echo(json.dumps(result.as_json(), ensure_ascii=False))
        return
    for f in result.fields:
        click.echo(f"{f['score']:.2f}  {f['code']:<7} {f['name']}  ({', '.join(f['words'])})")
    click.echo(f"scope: {result.scope}" + (f" — {result.notice}" if result.notice else ""))
    for a in result.kb:
        click.echo(f"KB {a['score']:.2f}  {a['title']}")


@triage_cli.command("evaluate")
def evaluate_command() -> None:
    """Held-out figures of the current model (the bench's, without timing)."""
    from hotline.services import triage
    from hotline.triage import evaluate
    model = triage.current_model() or triage.train()
    click.echo(json.dumps(evaluate.heldout(model), ensure_ascii=False, indent=2))
