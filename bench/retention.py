"""How fast the retention job anonymises: tickets per second, scrubbing every free text.

``python -m bench.retention [--sizes 20000] [--retention-days 365]``

For each size: a dedicated PostgreSQL database (``hotline_bench_retention``, created and
dropped), the demo province without tickets, then N generated tickets with their
timelines spread over three years (``services.generate``). One run is
``privacy.anonymise_expired`` with a commit per batch of 500, as the daily job does;
about two thirds of the tickets are past a one-year retention. Prints a table and
writes bench/results/retention.json (cores, git commit).
"""
from __future__ import annotations

import argparse
import time

from bench.common import Measurement, print_table, progress, scratch_database, write_results


def _app(url: str, retention_days: int):
    from hotline import create_app
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None,
                       "SECRET_KEY": "bench-secret-" + "x" * 32,
                       "RETENTION_DAYS": retention_days})


def run(size: int, retention_days: int) -> Measurement:
    from hotline.extensions import db
    from hotline.models import utcnow
    from hotline.services import demo, privacy
    from hotline.services.generate import generate

    with scratch_database("hotline_bench_retention") as url:
        app = _app(url, retention_days)
        with app.app_context():
            db.create_all()
            demo.seed(tickets=0, seed=1022)
            db.session.commit()
            progress(f"generating {size:,} tickets")
            generate(size, years=3.0)
            db.session.commit()
            started = time.perf_counter()
            report = privacy.anonymise_expired(utcnow(),
                                               on_batch=lambda _r, _rep: db.session.commit())
            db.session.commit()
            seconds = time.perf_counter() - started
            db.session.remove()
            db.engine.dispose()
    return Measurement("retention: anonymise expired tickets", size, report.tickets,
                       throughput_rps=round(report.tickets / seconds, 1) if seconds else None,
                       extra={"tickets_anonymised": report.tickets, "contacts": report.contacts,
                              "events_blanked": report.events_redacted,
                              "seconds": round(seconds, 2)})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="20000")
    parser.add_argument("--retention-days", type=int, default=365)
    args = parser.parse_args()
    results = [run(int(s), args.retention_days) for s in args.sizes.split(",")]
    print_table(results)
    path = write_results("retention", results, retention_days=args.retention_days)
    print(f"written {path}")


if __name__ == "__main__":
    main()
