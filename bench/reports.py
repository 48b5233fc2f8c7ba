"""Benchmark of the managers' reports on a generated PostgreSQL database.

    .venv/bin/python -m bench.reports [--sizes 100000,1000000] [--repeat 10] [--keep]

Creates the scratch database ``hotline_bench_reports`` on the local PostgreSQL
(``BENCH_DATABASE_URL`` / ``TEST_DATABASE_URL``, default postgres@127.0.0.1/test),
builds the schema with the migrations, loads the demo organisation, then grows
the ticket table to each size with the ``generate-tickets`` generator (COPY) and
measures, at each size:

- the overdue report (by agency and by district), the due-soon report and the
  first page of the largest agency's overdue drill-down;
- a month's unit ranking counted live from the tickets, then ``refresh-stats``
  over every day, then the same ranking and the dashboard reading the daily table;
- the IOC summary;

and records ``EXPLAIN (ANALYZE, BUFFERS)`` of the two headline queries. Results:
``bench/results/reports.json`` (with core count and git commit) and a table on
stdout. The database is dropped at the end unless ``--keep``.
"""
from __future__ import annotations

import argparse
import time
from datetime import timedelta

from sqlalchemy import func, select, text

from bench.common import (
    Measurement,
    measure,
    print_table,
    progress,
    scratch_database,
    timed,
    write_results,
)

DB_NAME = "hotline_bench_reports"


def _explain(statement) -> dict:
    """Execution time and the plan's node tree of one statement (EXPLAIN ANALYZE)."""
    from hotline.extensions import db
    compiled = statement.compile(db.engine, compile_kwargs={"literal_binds": True})
    plan = db.session.execute(
        text("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + str(compiled))).scalar()[0]
    nodes = []

    def walk(node, depth=0):
        name = node["Node Type"] + (f" using {node['Index Name']}" if "Index Name" in node else "")
        nodes.append(("  " * depth) + name + f" (rows={node.get('Actual Rows')})")
        for child in node.get("Plans", []):
            walk(child, depth + 1)
    walk(plan["Plan"])
    return {"execution_ms": round(plan["Execution Time"], 1), "plan": nodes[:25]}


def _vacuum(*tables: str) -> None:
    """What autovacuum does on a live system: statistics, hint bits and the visibility map
    (index-only scans depend on it)."""
    from hotline.extensions import db
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        for table in tables:
            conn.execute(text(f"VACUUM ANALYZE {table}"))


def _grow(have: int, size: int) -> None:
    from hotline.extensions import db
    from hotline.services import generate
    todo = size - have
    progress(f"generating {todo:,} tickets (to {size:,})")
    done = [0]

    def tick(n: int) -> None:
        done[0] += n
        if done[0] % 100_000 < n or done[0] == todo:
            progress(f"  {done[0]:,}/{todo:,}")
    report = generate.generate(todo, years=3.0, seed=1022 + have, batch=50_000, progress=tick)
    db.session.commit()
    _vacuum("tickets", "ticket_events")
    progress(f"  {report.tickets:,} tickets, {report.events:,} events in {report.seconds:.0f} s")


def measure_at(size: int, repeat: int, results: list[Measurement], explains: dict) -> None:
    """Every measurement at the current size of the database."""
    from hotline.extensions import db
    from hotline.models import Agency, Ticket, utcnow
    from hotline.services.reports import SYSTEM, daily, dashboard, ioc, overdue, ranking, tickets
    from hotline.services.reports.periods import period_containing
    from hotline.services.reports.workdays import work_clock

    now = utcnow()
    clock = work_clock()
    db.session.commit()
    tz = clock.calendar.tz
    month = period_containing("month", now.astimezone(tz).date().replace(day=1)
                              - timedelta(days=1))
    start, end = month.bounds(tz)
    big_agency = db.session.scalar(
        select(Ticket.agency_id).where(overdue.condition("overdue", now))
        .group_by(Ticket.agency_id).order_by(func.count().desc()).limit(1))
    facts = {
        "overdue_tickets": db.session.scalar(select(func.count()).select_from(Ticket).where(
            overdue.condition("overdue", now))),
        "month": month.label,
        "resolved_in_month": db.session.scalar(select(func.count()).select_from(Ticket).where(
            Ticket.resolved_at >= start, Ticket.resolved_at < end)),
        "agencies": db.session.scalar(select(func.count(Agency.id))),
    }
    progress(f"  facts: {facts}")

    def bench(name, fn, n=repeat, **extra):
        results.append(measure(name, size, timed(fn, n, warmup=1), **extra))
        progress(f"  {name}: p50 {results[-1].p50_ms} ms")

    def one(name, fn, **extra):
        started = time.perf_counter()
        value = fn()
        db.session.commit()
        results.append(Measurement(name, size, 1, round((time.perf_counter() - started) * 1000, 1),
                                   extra=extra))
        progress(f"  {name}: {results[-1].p50_ms} ms")
        return value

    bench("overdue report by agency",
          lambda: overdue.sla_report(SYSTEM, "overdue", "agency", now=now, clock=clock), **facts)
    bench("overdue report by district",
          lambda: overdue.sla_report(SYSTEM, "overdue", "area:district", now=now, clock=clock))
    bench("due-soon report by agency",
          lambda: overdue.sla_report(SYSTEM, "due_soon", "agency", now=now, clock=clock))
    flt = tickets.TicketFilter(sla="overdue", group="agency", key=big_agency, has_key=True)
    bench("overdue drill-down, largest agency, page 1",
          lambda: tickets.ticket_page(SYSTEM, flt, now=now, clock=clock))
    bench("month ranking (live, no daily table)",
          lambda: ranking.unit_ranking(SYSTEM, month, now=now, clock=clock))
    refreshed = one("refresh-stats --days 0 (every day)", lambda: daily.refresh(days=None))
    results[-1].extra.update(rows=refreshed.rows,
                             days=(refreshed.day_to - refreshed.day_from).days + 1)
    one("refresh-stats --days 35 (nightly)", lambda: daily.refresh(days=35))
    _vacuum("ticket_daily_stats")
    bench("month ranking (daily table)",
          lambda: ranking.unit_ranking(SYSTEM, month, now=now, clock=clock))
    bench("month dashboard (daily table)", lambda: dashboard.dashboard(SYSTEM, month, now=now))
    bench("IOC summary", lambda: ioc.summary(now=now), n=max(3, repeat // 2))

    t = Ticket.__table__
    from_, g = overdue.group_column("agency", t)
    count = select(g, func.count()).select_from(from_).where(
        overdue.condition("overdue", now)).group_by(g)
    explains[f"overdue_count_by_agency@{size}"] = _explain(count)
    rows = daily.live_rows(clock.d, start, end).subquery()
    explains[f"month_counts_live@{size}"] = _explain(
        select(rows.c.agency_id, func.sum(rows.c.resolved)).group_by(rows.c.agency_id))
    db.session.rollback()


def run(sizes: list[int], keep: bool, repeat: int) -> None:
    from flask_migrate import upgrade

    from hotline import create_app
    from hotline.extensions import db
    from hotline.services import demo

    results: list[Measurement] = []
    explains: dict = {}
    with scratch_database(DB_NAME, keep=keep) as url:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None, "TESTING": True})
        with app.app_context():
            progress("schema: flask db upgrade")
            upgrade()
            progress("demo organisation (no tickets)")
            demo.seed(tickets=0)
            db.session.commit()
            have = 0
            for size in sizes:
                _grow(have, size)
                have = size
                measure_at(size, repeat, results, explains)
    print_table(results)
    path = write_results("reports", results, sizes=sizes, database="PostgreSQL (local)",
                         explain=explains)
    progress(f"results written to {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000",
                        help="ticket counts to measure at, ascending (comma-separated)")
    parser.add_argument("--repeat", type=int, default=10, help="timed runs per measurement")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database")
    args = parser.parse_args()
    sizes = sorted(int(s.replace("_", "")) for s in args.sizes.split(","))
    run(sizes, args.keep, args.repeat)


if __name__ == "__main__":
    main()
