"""How long one SLA scan takes with N open tickets of which 1 % cross a threshold.

``python -m bench.sla_scan [--sizes 100000,1000000] [--repeat 3]``

For each size: a dedicated PostgreSQL database (``hotline_bench_sla``, created
and dropped), the schema from the models, 50 agencies each with a lead, three
managers, then N open tickets bulk-loaded with COPY straight into ``tickets``:

- 0.4 % on track whose due-soon instant just passed     → due soon (lead told)
- 0.4 % due soon whose due time just passed             → overdue (lead + 3 managers)
- 0.1 % overdue for days, not escalated yet              → escalated (3 managers)
- 0.1 % never accepted, first-response deadline passed  → first response (lead)
- 2 %   overdue and escalated long ago (must cost nothing)
- the rest on track with deadlines spread over the next 20 days.

One measured scan = ``services.sla.scan(now)`` + the commit: the crossings, their
events and ~2.4 notifications per crossing written to the outbox. Between
repeats the crossed rows are put back and the events/outbox emptied. A second
scan right after (nothing left to cross) shows the cost does not follow N.
Prints a table and writes bench/results/sla_scan.json (cores, git commit).
"""
from __future__ import annotations

import argparse
import statistics
import time
from datetime import UTC, datetime, timedelta

from bench.common import Measurement, print_table, progress, scratch_database, write_results

NOW = datetime(2026, 12, 2, 3, 0, tzinfo=UTC)  # Wednesday 10:00 in Hà Nội, a working day
AGENCIES = 50
MANAGERS = 3
COLUMNS = ("id", "code", "kind", "channel", "external_id", "title", "description", "search_text",
           "status", "priority", "agency_id", "received_at", "accepted_at", "sla_started_at",
           "first_response_due", "due_soon_at", "due_at", "sla_state", "escalated_at",
           "sla_paused_seconds", "consent_publish", "privacy_requested", "reopened_count",
           "returned_count", "status_token", "updated_at")
# Ticket id % 1000 → what it is (see the module docstring).
DUE_SOON, OVERDUE, ESCALATE, FIRST_RESPONSE = range(4), range(4, 8), (8,), (9,)
ESCALATED_LONG_AGO = range(10, 30)


def _app(url: str):
    from hotline import create_app
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None,
                       "SECRET_KEY": "bench-secret-" + "x" * 32})


def _organisation() -> list[int]:
    from hotline.extensions import db
    from hotline.models import Agency, SlaPolicy, User
    agencies = [Agency(code=f"DV-{n:02d}", name=f"Đơn vị {n}", level="commune",
                       email=f"dv{n}@example.gov.vn") for n in range(AGENCIES)]
    db.session.add_all(agencies)
    db.session.flush()
    db.session.add_all(
        [User(username=f"lead{n}", full_name=f"Lãnh đạo {n}", role="agency_lead",
              password_hash="x", agency_id=a.id, email=f"lead{n}@example.gov.vn")
         for n, a in enumerate(agencies)]
        + [User(username=f"manager{n}", full_name=f"IOC {n}", role="manager", password_hash="x",
                email=f"ioc{n}@example.gov.vn") for n in range(MANAGERS)])
    db.session.add(SlaPolicy(name="Thường", resolution_minutes=5 * 480,
                             first_response_minutes=480, due_soon_max_minutes=480))
    db.session.commit()
    return [a.id for a in agencies]


def _row(i: int, agency_ids: list[int]) -> tuple:
    kind = i % 1000
    spread = timedelta(minutes=(i * 7919) % (20 * 24 * 60) + 60)
    received = NOW - timedelta(days=10) + timedelta(seconds=(i * 104729) % (9 * 86400))
    accepted, frd = received + timedelta(hours=1), NOW + timedelta(days=1)
    state, escalated = "on_track", None
    due_at = NOW + spread + timedelta(days=1)
    due_soon = due_at - timedelta(days=1)
    if kind in DUE_SOON:
        due_soon, due_at = NOW - timedelta(minutes=30), NOW + spread
    elif kind in OVERDUE:
        state, due_soon, due_at = "due_soon", NOW - timedelta(days=1), NOW - timedelta(minutes=20)
    elif kind in ESCALATE:
        state, due_soon, due_at = "overdue", NOW - timedelta(days=6), NOW - timedelta(days=5)
    elif kind in FIRST_RESPONSE:
        accepted, frd = None, NOW - timedelta(hours=1)
    elif kind in ESCALATED_LONG_AGO:
        state, due_soon, due_at = "overdue", NOW - timedelta(days=11), NOW - timedelta(days=10)
        escalated = NOW - timedelta(days=9)
    return (i, f"PA-26-{i:07d}", "phan_anh", "web", f"bench-{i}", f"Phản ánh số {i}",
            "Đèn đường hỏng.", "den duong hong", "in_progress", "normal",
            agency_ids[i % len(agency_ids)], received, accepted, received, frd, due_soon, due_at,
            state, escalated, 0, False, False, 0, 0, "t", received)


def load(n: int, agency_ids: list[int]) -> None:
    """COPY ``n`` tickets into the table, with progress."""
    from hotline.extensions import db
    raw = db.engine.raw_connection()
    try:
        cur = raw.driver_connection.cursor()
        step = max(n // 10, 1)
        start = time.perf_counter()
        with cur.copy(f"COPY tickets ({', '.join(COLUMNS)}) FROM STDIN") as copy:
            for i in range(1, n + 1):
                copy.write_row(_row(i, agency_ids))
                if i % step == 0:
                    rate = i / (time.perf_counter() - start)
                    progress(f"  loaded {i:>9,}/{n:,} tickets ({rate:,.0f}/s)")
        cur.execute("SELECT setval('tickets_id_seq', %s)", (n,))
        raw.commit()
        raw.driver_connection.autocommit = True
        progress("  VACUUM ANALYZE tickets")
        cur.execute("VACUUM ANALYZE tickets")
        raw.driver_connection.autocommit = False
    finally:
        raw.close()


def reset() -> None:
    """Put the crossed tickets back and empty what the scan wrote."""
    from sqlalchemy import text

    from hotline.extensions import db
    for sql in (
        ("UPDATE tickets SET sla_state = 'on_track' WHERE sla_state = 'due_soon' "
         "AND id % 1000 IN (0, 1, 2, 3)"),
        ("UPDATE tickets SET sla_state = 'due_soon' WHERE sla_state = 'overdue' "
         "AND id % 1000 IN (4, 5, 6, 7)"),
        "UPDATE tickets SET escalated_at = NULL WHERE escalated_at IS NOT NULL AND id % 1000 = 8",
        ("UPDATE tickets SET first_response_breached_at = NULL "
         "WHERE first_response_breached_at IS NOT NULL"),
        "DELETE FROM outbox", "DELETE FROM ticket_events",
    ):
        db.session.execute(text(sql))
    db.session.commit()
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM ANALYZE tickets"))
        conn.execute(text("VACUUM ANALYZE outbox"))
        conn.execute(text("VACUUM ANALYZE ticket_events"))


PLANS = {
    "overdue (from due soon)": "sla_state = 'due_soon' AND due_at <= :now ORDER BY due_at",
    "overdue (from on track)": "sla_state = 'on_track' AND due_at <= :now ORDER BY due_at",
    "due_soon": "sla_state = 'on_track' AND due_soon_at <= :now ORDER BY due_soon_at",
    "escalate": ("sla_state = 'overdue' AND escalated_at IS NULL AND due_at <= :now "
                 "ORDER BY due_at"),
    "first_response": ("sla_state IN ('on_track', 'due_soon', 'overdue') "
                       "AND accepted_at IS NULL AND first_response_breached_at IS NULL "
                       "AND first_response_due <= :now ORDER BY first_response_due"),
}


def plans() -> dict[str, str]:
    """Which index each crossing's candidate query uses (first plan line)."""
    from sqlalchemy import text

    from hotline.extensions import db
    out = {}
    for name, where in PLANS.items():
        lines = db.session.execute(
            text(f"EXPLAIN SELECT id FROM tickets WHERE {where} LIMIT 5000 FOR UPDATE SKIP LOCKED"),
            {"now": NOW}).scalars().all()
        out[name] = next((line.strip(" ->") for line in lines if "Scan" in line), lines[0])
    db.session.rollback()
    return out


def run_size(n: int, repeat: int) -> list[Measurement]:
    from hotline.extensions import db
    from hotline.services import sla
    with scratch_database("hotline_bench_sla") as url:
        app = _app(url)
        with app.app_context():
            progress(f"{n:,} open tickets: schema and organisation")
            db.create_all()
            agency_ids = _organisation()
            load(n, agency_ids)
            used = plans()
            timings, report = [], None
            for attempt in range(repeat):
                if attempt:
                    reset()
                start = time.perf_counter()
                report = sla.scan(NOW)
                db.session.commit()
                timings.append(time.perf_counter() - start)
                progress(f"  scan {attempt + 1}/{repeat}: {timings[-1] * 1000:,.0f} ms")
            start = time.perf_counter()
            again = sla.scan(NOW + timedelta(minutes=1))
            db.session.commit()
            idle = time.perf_counter() - start
            crossed = (len(report.due_soon) + len(report.overdue) + len(report.escalated)
                       + len(report.first_response))
            db.session.remove()
            db.engine.dispose()
    median = statistics.median(timings)
    scan = Measurement(
        f"sla scan, 1 % crossing ({crossed:,} tickets)", n, len(timings),
        p50_ms=round(median * 1000, 1), p95_ms=round(max(timings) * 1000, 1),
        extra={"crossed": {"due_soon": len(report.due_soon), "overdue": len(report.overdue),
                           "escalated": len(report.escalated),
                           "first_response": len(report.first_response)},
               "notifications_queued": report.notifications, "plans": used,
               "crossings_per_second": round(crossed / median),
               "all_ms": [round(t * 1000, 1) for t in timings]})
    rescan = Measurement("sla scan again, nothing left to cross", n, 1,
                         p50_ms=round(idle * 1000, 1),
                         extra={"crossed": len(again.due_soon) + len(again.overdue)})
    return [scan, rescan]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000",
                        help="Open ticket counts, comma separated.")
    parser.add_argument("--repeat", type=int, default=3, help="Measured scans per size.")
    args = parser.parse_args()
    measurements: list[Measurement] = []
    for n in (int(s) for s in args.sizes.split(",")):
        measurements += run_size(n, args.repeat)
    print()
    print_table(measurements)
    path = write_results("sla_scan", measurements, crossing_fraction=0.01, now=NOW.isoformat(),
                         agencies=AGENCIES, managers=MANAGERS)
    print(f"\nwrote {path}")


if __name__ == "__main__":
    main()
