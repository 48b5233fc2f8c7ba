"""The benchmark harness: ``python -m bench.run`` (or ``make bench``).

Builds a PostgreSQL database (``hotline_bench``) with the demo organisation,
grows it to each size with ``generate-tickets``, and at each size measures:
HTTP intake (Open311 POST and the web form) and the Telegram webhook (with
duplicates) under 64 concurrent clients against gunicorn (2 × cores workers),
beside a bare single-INSERT Flask baseline on the same stack; server time of
the staff pages (agency inbox first and deep keyset page, caller lookup, ticket
page with a long timeline), the public results search, the SLA scan with 1 % of
open tickets crossing, and the overdue report and a month's ranking; and the
web worker's memory over 10,000 requests. Prints a table; writes
bench/results/run.json.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import time
import uuid
from datetime import timedelta
from pathlib import Path

from bench.common import (Measurement, gunicorn, measure, print_table, progress, rq_worker,
                          scratch_database, timed, write_results)
from bench.load import LoadResult, run_load

FIXTURES = Path(__file__).resolve().parents[2] / "shared" / "fixtures"
TELEGRAM_SECRET = "bench-telegram-secret"
WARMUP = 300
NEXT_LINK = re.compile(r'href="([^"]+)"[^>]*rel="next"')


def _app(url: str):
    from hotline import create_app
    return create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None,
                       "RATELIMIT_ENABLED": False, "WTF_CSRF_ENABLED": False,
                       "SECRET_KEY": "bench-secret-" + "x" * 32})


def prepare(url: str) -> dict:
    """Schema, demo organisation, accounts and an API key. Returns what the runs need."""
    from flask_migrate import upgrade
    from sqlalchemy import func, select, update

    from hotline.extensions import db
    from hotline.models import Agency, Ticket, User
    from hotline.services import accounts, demo
    app = _app(url)
    with app.app_context():
        upgrade()
        demo.seed(tickets=0, progress=lambda m: None)
        # The bench times pages, not the demo accounts' forced first password change.
        db.session.execute(update(User).values(must_change_password=False))
        _, key = accounts.create_api_key("bench")
        db.session.commit()
        handler = db.session.scalar(select(User).where(User.role == "handler"))
        operator = db.session.scalar(select(User).where(User.role == "operator"))
        manager = db.session.scalar(select(User).where(User.role == "manager"))
        agencies = db.session.scalar(select(func.count()).select_from(Agency))
        _ = db.session.scalar(select(func.count()).select_from(Ticket))
        return {"api_key": key, "handler": handler.username, "operator": operator.username,
                "manager": manager.username, "agencies": agencies}


def grow(url: str, target: int) -> float:
    """Generate tickets until the database holds ``target``; returns seconds spent."""
    from sqlalchemy import func, select
    from tqdm import tqdm

    from hotline.extensions import db
    from hotline.models import Ticket
    from hotline.services import generate
    from hotline.services.reports import daily
    app = _app(url)
    with app.app_context():
        have = db.session.scalar(select(func.count()).select_from(Ticket))
        missing = target - have
        if missing <= 0:
            return 0.0
        with tqdm(total=missing, unit="phiếu", desc=f"generate → {target:,}") as bar:
            report = generate.generate(missing, years=3, seed=target, batch=50_000,
                                       progress=bar.update, status=bar.set_postfix_str)
            db.session.commit()
        # As the hourly cron job keeps it in a live system: the reports' daily aggregate.
        started = time.perf_counter()
        daily.refresh(None)
        db.session.commit()
        progress(f"daily aggregate rebuilt in {time.perf_counter() - started:.1f} s")
        _vacuum(url)
        return report.seconds


def _vacuum(url: str) -> None:
    """VACUUM ANALYZE after bulk writes, as autovacuum would on a live system: without the
    visibility map, index-only scans fall back to the heap and the figures mislead."""
    from sqlalchemy import create_engine, text
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1),
                           isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text("VACUUM ANALYZE"))
    engine.dispose()


def _ok(resp, expected: int = 200):
    """A timing only counts if the page really answered."""
    assert resp.status_code == expected, \
        f"{resp.request.path}: HTTP {resp.status_code} {resp.get_data(as_text=True)[:300]}"
    return resp


def _login(client, username: str):
    resp = client.post("/login", data={"username": username,
                                       "password": f"Demo@1022-{username}"})
    assert resp.status_code == 302, f"login {username}: {resp.status_code}"


def page_timings(url: str, size: int, ctx: dict, repeat: int) -> list[Measurement]:
    """Server time of pages and reports, through the whole Flask stack (no network).

    Requests are made outside any app context: each gets its own, as in production
    (a shared context would share the signed-in user between test clients).
    """
    from sqlalchemy import func, select, update

    from hotline.extensions import db
    from hotline.models import Agency, Contact, Ticket, TicketEvent, User, utcnow
    from hotline.services import accounts, sla
    app = _app(url)
    out: list[Measurement] = []
    with app.app_context():
        # The busiest agency and a handler of it (created once).
        agency_id, n_open = db.session.execute(
            select(Ticket.agency_id, func.count()).where(Ticket.agency_id.is_not(None),
                                                         Ticket.sla_state.is_not(None))
            .group_by(Ticket.agency_id).order_by(func.count().desc()).limit(1)).one()
        agency = db.session.get(Agency, agency_id)
        agency_name, username = agency.name, f"bench.{agency.code.lower()}"
        if db.session.scalar(select(User).where(User.username == username)) is None:
            accounts.create_user(username=username, password=f"Demo@1022-{username}",
                                 role="handler", full_name="Bench handler", agency_code=agency.code)
            db.session.commit()
        contact_id = db.session.scalar(select(Ticket.contact_id).where(Ticket.contact_id.is_not(None))
                                       .order_by(Ticket.id.desc()).limit(1))
        local = "0" + db.session.get(Contact, contact_id).phone[3:]
        # A ticket of that agency with a long timeline (200 events).
        code, tid = db.session.execute(select(Ticket.code, Ticket.id)
                                       .where(Ticket.agency_id == agency_id)
                                       .order_by(Ticket.id.desc()).limit(1)).one()
        have = db.session.scalar(select(func.count()).select_from(TicketEvent)
                                 .where(TicketEvent.ticket_id == tid))
        if have < 200:
            now = utcnow()
            db.session.execute(TicketEvent.__table__.insert(), [
                {"ticket_id": tid, "at": now, "type": "progress", "actor_label": "bench",
                 "note": f"Cập nhật tiến độ lần {i}: đã kiểm tra hiện trường.", "public": i % 2 == 0,
                 "agency_id": agency_id} for i in range(200 - have)])
            db.session.commit()
        db.session.remove()

    handler = app.test_client()
    _login(handler, username)
    first = _ok(handler.get("/agency/"))
    out.append(measure("agency inbox, first page", size,
                       timed(lambda: _ok(handler.get("/agency/")), repeat),
                       agency=agency_name, open_tickets=n_open))
    # Follow "next" 20 times for a deep keyset page.
    link, html = None, first.get_data(as_text=True)
    for _ in range(20):
        m = NEXT_LINK.search(html)
        if not m:
            break
        link = m.group(1).replace("&amp;", "&")
        html = _ok(handler.get(link)).get_data(as_text=True)
    if link:
        out.append(measure("agency inbox, deep keyset page (21st)", size,
                           timed(lambda: _ok(handler.get(link)), repeat)))
    out.append(measure("ticket page, 200-event timeline", size,
                       timed(lambda: _ok(handler.get(f"/agency/tickets/{code}")), repeat)))

    operator = app.test_client()
    _login(operator, ctx["operator"])
    out.append(measure("operator caller lookup by phone", size,
                       timed(lambda: _ok(operator.get("/operator/api/caller",
                                                      query_string={"phone": local})), repeat)))

    public = app.test_client()
    out.append(measure("public results search 'den duong'", size,
                       timed(lambda: _ok(public.get("/results", query_string={"q": "den duong"})),
                             repeat)))

    manager = app.test_client()
    _login(manager, ctx["manager"])
    out.append(measure("overdue report", size,
                       timed(lambda: _ok(manager.get("/manager/overdue")), max(5, repeat // 4))))
    out.append(measure("unit ranking, one month", size,
                       timed(lambda: _ok(manager.get("/manager/ranking",
                                                     query_string={"period": "month"})),
                             max(5, repeat // 4))))

    with app.app_context():
        # Steady state first: generated data carries a backlog (overdue tickets never
        # escalated, first responses never flagged) that a live system scanned long ago.
        now = utcnow()
        start = time.perf_counter()
        backlog = sla.scan(now)
        db.session.commit()
        out.append(Measurement("SLA scan, first run over generated backlog", size, 1,
                               round((time.perf_counter() - start) * 1000, 1), None, None, None,
                               0, extra={"overdue": len(backlog.overdue),
                                         "due_soon": len(backlog.due_soon)}))
        db.session.remove()
        _vacuum(url)
        # Then the measured scan: 1 % of the open on-track tickets crossing "overdue".
        open_ids = db.session.scalars(select(Ticket.id).where(Ticket.sla_state == "on_track")).all()
        now = utcnow()
        k = max(1, len(open_ids) // 100)
        chosen = random.Random(size).sample(open_ids, min(k, len(open_ids)))
        db.session.execute(update(Ticket).where(Ticket.id.in_(chosen))
                           .values(due_soon_at=now - timedelta(hours=2),
                                   due_at=now - timedelta(hours=1)))
        db.session.commit()
        start = time.perf_counter()
        report = sla.scan(now)
        db.session.commit()
        took = time.perf_counter() - start
        out.append(Measurement("SLA scan, 1 % of on-track crossing", size, 1,
                               round(took * 1000, 1), None, None, None, 0,
                               extra={"open_on_track": len(open_ids), "crossed": len(chosen),
                                      "overdue_reported": len(report.overdue)}))
    return out


def server_env(url: str) -> dict[str, str]:
    """The environment of the benchmark's gunicorn servers and rq workers: the production
    shape (PostgreSQL, Redis-backed jobs, the Telegram channel on)."""
    return {"DATABASE_URL": url, "BASELINE_DATABASE_URL": url,
            "SECRET_KEY": "bench-" + "s" * 40, "TELEGRAM_BOT_TOKEN": "123:bench",
            "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
            "HOTLINE_PUBLIC_URL": "https://1022.example.gov.vn",
            "REDIS_URL": os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/12")}


def http_runs(url: str, size: int, ctx: dict, total: int, concurrency: int,
              slices: int = 8) -> list[Measurement]:
    """Intake over HTTP against gunicorn, beside the bare single-INSERT baseline.

    Both servers run side by side. Each door's ``total`` requests go in ``slices`` slices,
    each paired with a slice of the baseline sent right before or after it (alternately):
    the ratio is the median of the pairs' ratios. A shared two-core machine drifts within
    seconds; one baseline before and after a whole run let one noisy neighbour's burst
    move a door's ratio by a quarter.
    """
    from sqlalchemy import create_engine, text
    out: list[Measurement] = []
    env = server_env(url)
    # Production shape: requests stage messages and wake the intake drain through Redis. A
    # burst is measured as it happens to a deployment: answered at full speed while the
    # drain jobs queue up, then drained by one rq worker (acknowledgement sends stay
    # queued: no gateway) — both rates are reported.
    redis_url = env["REDIS_URL"]
    from redis import Redis
    Redis.from_url(redis_url).flushdb()
    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))

    def settle(pattern: str, expected: int) -> dict:
        """Drain the staged messages with one rq worker; what became of them, how fast."""
        start = time.perf_counter()
        with rq_worker(env, ("intake",)), engine.connect() as conn:
            while True:
                waiting = conn.execute(text(
                    "SELECT count(*) FROM inbound_messages WHERE state <> 'done'")).scalar()
                if not waiting or time.perf_counter() - start > 900:
                    break
                time.sleep(0.2)
            drained = time.perf_counter() - start
            tickets, distinct = conn.execute(text(
                "SELECT count(*), count(DISTINCT description) FROM tickets "
                "WHERE description LIKE :p"), {"p": pattern}).one()
        return {"tickets": tickets, "lost": expected - distinct, "duplicated": tickets - distinct,
                "still_staged": waiting, "drain_seconds": round(drained, 1),
                "drain_tickets_per_s": round(tickets / drained, 1) if drained else None}

    body = "Đèn đường hỏng trước nhà văn hóa khu phố 3".encode()

    def insert(i):
        return ("POST", "/insert", body, {"Content-Type": "text/plain"})

    with gunicorn("bench.baseline_app:create_app()", env) as (plain, _), \
            gunicorn("bench.app:create_app()", env) as (base, proc):
        baselines: list = []
        run_load(plain, insert, total=WARMUP, concurrency=16)
        # Each worker's first requests import and compile templates and catalogs: warm up
        # every kind of request first (those messages are drained before the runs).
        warm = uuid.uuid4().hex[:8]
        kinds = _intake_requests(ctx, warm, size + 5_000_000, WARMUP)
        run_load(base, lambda i: kinds[i % 3](i), total=WARMUP, concurrency=16,
                 ok_statuses=(200, 201, 302))
        settle(f"%{warm}%", 0)
        marker = uuid.uuid4().hex[:8]
        open311, webform, telegram = _intake_requests(ctx, marker, size, 10**9)
        piece = max(total // slices, concurrency)
        half = piece // 2

        def redelivered(i):
            # Each slice sends its half of new updates, then sends them all again.
            k, j = divmod(i, piece)
            return telegram(k * half + j % half)

        runs = [("intake: Open311 POST requests", open311, f"%{marker}-%", piece * slices),
                ("intake: public web form POST", webform, f"%{marker}w%", piece * slices),
                ("Telegram webhook (50 % duplicates)", redelivered, f"%{marker}t%",
                 half * slices)]
        intake: list[Measurement] = []
        for name, make, pattern, expected in runs:
            res, pairs = _paired_slices(plain, insert, base, make, slices=slices, piece=piece,
                                        concurrency=concurrency, baselines=baselines)
            m = measure(name, size, res.latencies)
            m.throughput_rps, m.errors = round(res.throughput, 1), res.errors
            ratios = sorted(door / plain_rps for door, plain_rps in pairs)
            m.extra = {"statuses": res.statuses, **({"expected": expected}
                                                   if expected != piece * slices else {}),
                       **settle(pattern, expected),
                       "baseline_adjacent_rps": round(sum(p for _, p in pairs) / len(pairs), 1),
                       "vs_baseline": round(statistics.median(ratios), 2),
                       "vs_baseline_slices": [round(r, 2) for r in ratios]}
            intake.append(m)
        every = [x for res in baselines for x in res.latencies]
        baseline = measure("baseline: bare Flask single-row INSERT", size, every)
        baseline.throughput_rps = round(sum(len(r.latencies) for r in baselines)
                                        / sum(r.seconds for r in baselines), 1)
        baseline.errors = sum(r.errors for r in baselines)
        baseline.extra = {"slices_rps": [round(r.throughput, 1) for r in baselines]}
        out += [baseline, *intake]

        # Memory of the web workers while serving: warmed up first, then RSS after each
        # 2,500 of 10,000 requests (search, a result page, a service list): flat = no leak.
        out.append(_memory_run(base, proc.pid, size, published_code(engine)))
    engine.dispose()
    Redis.from_url(redis_url).flushdb()
    return out


def _intake_requests(ctx: dict, marker: str, size: int, distinct: int):
    """Request factories for Open311, the web form and Telegram (the Telegram updates
    repeat after ``distinct``: redeliveries); ``marker`` tags the texts to find them."""
    def open311(i):
        form = (f"api_key={ctx['api_key']}&service_code=CS&lat=11.53&long=106.88"
                f"&description=Den+duong+hong+so+{marker}-{i}&first_name=Lan"
                f"&device_id=bench-{marker}&phone=0912345678")
        return ("POST", "/open311/v2/requests.json", form.encode(),
                {"Content-Type": "application/x-www-form-urlencoded"})

    def webform(i):
        form = (f"kind=phan_anh&description=Rac+thai+do+trom+{marker}w{i}"
                f"&address=Duong+Hung+Vuong&phone=0912345678&consent_publish=y"
                f"&submission_id={uuid.uuid4().hex}")  # as the page posts it
        return ("POST", "/submit", form.encode(),
                {"Content-Type": "application/x-www-form-urlencoded"})

    template = json.loads((FIXTURES / "telegram_text.json").read_text())

    def telegram(i):
        n = i % distinct
        update = json.loads(json.dumps(template))
        update["update_id"] = 10_000_000 + size + n
        update["message"]["chat"]["id"] = update["message"]["from"]["id"] = 7_000_000 + size + n
        update["message"]["text"] += f" [{marker}t{n}]"
        return ("POST", "/channels/telegram/webhook", json.dumps(update).encode(),
                {"Content-Type": "application/json",
                 "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET})
    return open311, webform, telegram


def _paired_slices(plain: str, insert, base: str, make, *, slices: int, piece: int,
                   concurrency: int, baselines: list):
    """``slices`` slices of ``piece`` requests to ``base``, each beside a baseline slice
    (before it, then after it, alternately). Returns the door's whole load result and the
    (door, baseline) throughput of each pair; the baseline slices go to ``baselines``."""
    door = LoadResult()
    pairs = []
    for k in range(slices):
        def door_slice(k=k):
            return run_load(base, lambda i: make(k * piece + i), total=piece,
                            concurrency=concurrency, ok_statuses=(200, 201, 302, 303))

        def plain_slice():
            return run_load(plain, insert, total=piece, concurrency=concurrency)

        if k % 2:
            d = door_slice()
            p = plain_slice()
        else:
            p = plain_slice()
            d = door_slice()
        baselines.append(p)
        door.add(d)
        pairs.append((d.throughput, p.throughput))
    return door, pairs


def published_code(engine) -> str | None:
    from sqlalchemy import text
    with engine.connect() as conn:
        return conn.execute(text("SELECT code FROM tickets WHERE published_at IS NOT NULL "
                                 "ORDER BY published_at DESC LIMIT 1")).scalar()


def _memory_run(base: str, master_pid: int, size: int, code: str | None) -> Measurement:
    paths = ["/results?q=den+duong", "/open311/v2/services.json", "/results?q=rac+thai"]
    if code:
        paths.append(f"/results/{code}")

    def request(i):
        return ("GET", paths[i % len(paths)], None, {})
    run_load(base, request, total=1_000, concurrency=16, max_seconds=300)
    workers = _children(master_pid)
    series = [sum(_rss_kb(p) for p in workers)]
    latencies: list[float] = []
    errors = 0
    for _ in range(4):
        res = run_load(base, request, total=2_500, concurrency=16, max_seconds=600)
        latencies += res.latencies
        errors += res.errors
        series.append(sum(_rss_kb(p) for p in _children(master_pid)))
    m = measure("memory: 10,000 requests after warm-up (all workers)", size, latencies)
    m.errors = errors
    m.extra = {"workers": len(workers), "rss_kb_every_2500": series,
               "growth_kb": series[-1] - series[0],
               "growth_kb_last_7500": series[-1] - series[1],
               "same_workers": sorted(workers) == sorted(_children(master_pid))}
    return m


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000",
                        help="comma-separated ticket counts (default 100000,1000000)")
    parser.add_argument("--ten-million", action="store_true", help="also measure at 10,000,000")
    parser.add_argument("--requests", type=int, default=2000, help="HTTP requests per intake run")
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--repeat", type=int, default=40, help="samples per page timing")
    parser.add_argument("--keep-db", action="store_true")
    parser.add_argument("--skip-http", action="store_true")
    parser.add_argument("--skip-pages", action="store_true",
                        help="only HTTP intake (quick runs while tuning intake)")
    parser.add_argument("--out", default="run",
                        help="results file name in bench/results (default run → run.json)")
    args = parser.parse_args(argv)
    sizes = [int(s) for s in args.sizes.split(",") if s]
    if args.ten_million:
        sizes.append(10_000_000)
    results: list[Measurement] = []
    meta: dict = {"sizes": sizes, "concurrency": args.concurrency}
    with scratch_database("hotline_bench", keep=args.keep_db) as url:
        progress("preparing schema and demo organisation")
        ctx = prepare(url)
        for size in sizes:
            progress(f"growing to {size:,} tickets")
            meta[f"generate_seconds_to_{size}"] = round(grow(url, size), 1)
            if not args.skip_pages:
                progress(f"page and report timings at {size:,}")
                results += page_timings(url, size, ctx, args.repeat)
            if not args.skip_http:
                progress(f"HTTP intake at {size:,}")
                results += http_runs(url, size, ctx, args.requests, args.concurrency)
            print_table(results)
            # Written after each size: a long 10M run that fails keeps what it measured.
            path = write_results(args.out, results, **meta)
    print()
    print_table(results)
    print(f"\nwritten: {path}")


if __name__ == "__main__":
    main()
