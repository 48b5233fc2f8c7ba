"""Where an intake request's CPU goes: ``python -m bench.cpu [--requests 3000]``.

Serves the bare single-INSERT baseline, then the hotline app, with gunicorn
(2 × cores workers) on a fresh PostgreSQL database (``hotline_bench_cpu``, dropped
after), and for each kind of request — the baseline INSERT, Open311 POST, the web
form, the Telegram webhook — sends ``--requests`` requests from 64 clients and
reads the CPU time the gunicorn workers, the PostgreSQL and Redis servers and the
load driver itself spent (``/proc``), per request. On one machine the throughput
ratio to the baseline follows the ratio of these totals, so the table says which
part of the stack a change must shrink. Prints a table; writes bench/results/cpu.json.
Linux only (``/proc``); staged messages are not drained here (``bench.run`` does).
"""
from __future__ import annotations

import argparse
import os
import subprocess
import time
from pathlib import Path

from bench.common import (Measurement, gunicorn, pg_admin_url, print_table, progress,
                          scratch_database, write_results)
from bench.load import run_load
from bench.run import WARMUP, _intake_requests, prepare, server_env

TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
KINDS = ("baseline", "open311", "webform", "telegram")


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU of ``pids`` so far (processes that are gone count nothing)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])
    return total / TICK


def _pgrep(*args: str) -> list[int]:
    out = subprocess.run(["pgrep", *args], check=False, capture_output=True, text=True).stdout
    return [int(pid) for pid in out.split()]


def measure_kind(kind: str, env: dict, ctx: dict, total: int, concurrency: int) -> Measurement:
    spec = "bench.baseline_app:create_app()" if kind == "baseline" else "bench.app:create_app()"
    body = "Đèn đường hỏng trước nhà văn hóa khu phố 3".encode()
    with gunicorn(spec, env) as (base, proc):
        if kind == "baseline":
            def make(i):
                return ("POST", "/insert", body, {"Content-Type": "text/plain"})
        else:
            kinds = dict(zip(KINDS[1:], _intake_requests(ctx, f"c{time.time_ns()}", 0,
                                                         total + WARMUP)))
            make = kinds[kind]
        ok = (200, 201, 302)
        run_load(base, make, total=WARMUP, concurrency=16, ok_statuses=ok)
        groups = {"gunicorn": _pgrep("-P", str(proc.pid)), "postgres": _pgrep("-x", "postgres"),
                  "redis": _pgrep("-x", "redis-server")}
        before = {name: cpu_seconds(pids) for name, pids in groups.items()}
        driver = time.process_time()
        res = run_load(base, lambda i: make(i + WARMUP), total=total, concurrency=concurrency,
                       ok_statuses=ok)
        per_request = {name: round((cpu_seconds(pids) - before[name]) * 1000 / total, 3)
                       for name, pids in groups.items()}
        per_request["driver"] = round((time.process_time() - driver) * 1000 / total, 3)
    m = Measurement(f"cpu: {kind}", None, len(res.latencies),
                    throughput_rps=round(res.throughput, 1), errors=res.errors)
    m.extra = {"cpu_ms_per_request": per_request,
               "cpu_ms_total": round(sum(per_request.values()), 3)}
    return m


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--concurrency", type=int, default=64)
    args = parser.parse_args(argv)
    results: list[Measurement] = []
    with scratch_database("hotline_bench_cpu") as url:
        progress("preparing schema and demo organisation")
        ctx = prepare(url)
        env = server_env(url)
        for kind in KINDS:
            progress(f"{kind}: {args.requests} requests")
            results.append(measure_kind(kind, env, ctx, args.requests, args.concurrency))
    base = results[0].extra["cpu_ms_total"]
    for m in results[1:]:
        m.extra["cpu_vs_baseline"] = round(base / m.extra["cpu_ms_total"], 2)
        m.extra["throughput_vs_baseline"] = round(m.throughput_rps / results[0].throughput_rps, 2)
    path = write_results("cpu", results, database=pg_admin_url().rsplit("@", 1)[-1])
    print_table(results)
    print(f"\nwritten: {path}")


if __name__ == "__main__":
    main()
