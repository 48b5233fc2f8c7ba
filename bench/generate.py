"""How long ``generate-tickets`` takes to load N tickets into a fresh database.

``python -m bench.generate [--tickets 1000000] [--repeat 1]``

Each run: a dedicated PostgreSQL database (``hotline_bench_generate``, created and
dropped), the schema and the demo organisation, then ``generate(N)`` as the CLI calls it,
timed step by step from its status line (tickets, timelines, index builds, foreign keys).
Prints the steps and writes bench/results/generate.json (cores, git commit).
"""
from __future__ import annotations

import argparse
import statistics
import time

from bench.common import Measurement, print_table, progress, scratch_database, write_results
from bench.run import _app, prepare


def one_run(n: int) -> dict:
    """Load ``n`` tickets into a fresh database; the seconds each step took."""
    from tqdm import tqdm

    from hotline.extensions import db
    from hotline.services import generate
    with scratch_database("hotline_bench_generate") as url:
        prepare(url)
        app = _app(url)
        with app.app_context():
            steps: dict[str, float] = {}
            current = ["tickets", time.perf_counter()]
            started = current[1]

            def status(text: str) -> None:
                # "timelines 40%" is one step however often it reports.
                name = text.split(" ", 1)[0] if text.startswith("timelines") else text
                bar.set_postfix_str(text)
                if name != current[0]:
                    now = time.perf_counter()
                    steps[current[0]] = steps.get(current[0], 0.0) + now - current[1]
                    current[:] = [name, now]

            with tqdm(total=n, unit="phiếu", desc=f"generate {n:,}") as bar:
                report = generate.generate(n, years=3, seed=n, batch=50_000,
                                           progress=bar.update, status=status)
                db.session.commit()
            now = time.perf_counter()
            steps[current[0]] = steps.get(current[0], 0.0) + now - current[1]
            return {"seconds": round(now - started, 1), "events": report.events,
                    "steps": {k: round(v, 1) for k, v in steps.items()}}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tickets", type=int, default=1_000_000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    runs = []
    for i in range(args.repeat):
        progress(f"run {i + 1} of {args.repeat}: {args.tickets:,} tickets into a fresh database")
        runs.append(one_run(args.tickets))
        progress(f"{runs[-1]['seconds']} s: {runs[-1]['steps']}")
    seconds = [r["seconds"] for r in runs]
    m = Measurement(f"generate-tickets {args.tickets:,}, fresh database", args.tickets, len(runs),
                    extra={"seconds": seconds, "median_s": statistics.median(seconds),
                           "tickets_per_s": round(args.tickets / statistics.median(seconds)),
                           "runs": runs})
    print_table([m])
    print(f"written: {write_results('generate', [m])}")


if __name__ == "__main__":
    main()
