"""Shared benchmark plumbing: percentiles, result files, databases, gunicorn processes."""
from __future__ import annotations

import json
import os
import platform
import signal
import socket
import statistics
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path

from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
LOGS = ROOT / "bench" / "logs"  # the servers' output during a run (not committed)
DEFAULT_PG = "postgresql://postgres@127.0.0.1:5432/test"


@dataclass
class Measurement:
    """One line of the results table."""

    name: str
    size: int | None
    samples: int
    p50_ms: float | None = None
    p95_ms: float | None = None
    p99_ms: float | None = None
    throughput_rps: float | None = None
    errors: int = 0
    extra: dict = field(default_factory=dict)


def percentiles(latencies_s: list[float]) -> tuple[float, float, float]:
    """p50/p95/p99 in milliseconds."""
    if not latencies_s:
        return (float("nan"),) * 3
    if len(latencies_s) == 1:
        v = latencies_s[0] * 1000
        return v, v, v
    q = statistics.quantiles([x * 1000 for x in latencies_s], n=100, method="inclusive")
    return q[49], q[94], q[98]


def timed(fn, repeat: int, warmup: int = 3) -> list[float]:
    """Call ``fn`` ``warmup`` + ``repeat`` times; return the measured durations in seconds."""
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append(time.perf_counter() - start)
    return out


def measure(name: str, size: int | None, latencies: list[float], **extra) -> Measurement:
    p50, p95, p99 = percentiles(latencies)
    return Measurement(name, size, len(latencies), round(p50, 2), round(p95, 2), round(p99, 2),
                       extra=extra)


def git_commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


# The code a run measured: the commit when it started (work may be committed meanwhile).
STARTED_AT = git_commit()


def write_results(name: str, measurements: list[Measurement], **meta) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    payload = {
        "benchmark": name, "at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "commit": STARTED_AT, "cores": os.cpu_count(), "python": platform.python_version(),
        "machine": platform.machine(), **meta,
        "results": [asdict(m) for m in measurements],
    }
    path.write_text(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
    return path


def print_table(measurements: list[Measurement]) -> None:
    head = f"{'measurement':44} {'size':>9} {'n':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8} {'req/s':>8} {'err':>4}"
    print(head)
    print("-" * len(head))
    for m in measurements:
        def f(v):
            return f"{v:8.2f}" if isinstance(v, (int, float)) and v == v else f"{'':>8}"
        size = f"{m.size:>9,}" if m.size else f"{'':>9}"
        print(f"{m.name[:44]:44} {size} {m.samples:>6} {f(m.p50_ms)} {f(m.p95_ms)} {f(m.p99_ms)} "
              f"{f(m.throughput_rps)} {m.errors:>4}")
        for k, v in m.extra.items():
            print(f"    {k}: {v}")


def pg_admin_url() -> str:
    return os.environ.get("BENCH_DATABASE_URL") or os.environ.get("TEST_DATABASE_URL") or DEFAULT_PG


@contextmanager
def scratch_database(name: str, keep: bool = False):
    """Create database ``name`` on the benchmark server (dropped afterwards unless ``keep``)."""
    url = make_url(pg_admin_url()).set(drivername="postgresql+psycopg")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        if not keep:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def gunicorn(app_spec: str, env: dict[str, str], workers: int | None = None):
    """Serve ``app_spec`` with gunicorn (2 × cores sync workers) on a free loopback port."""
    port = free_port()
    workers = workers or 2 * (os.cpu_count() or 1)
    cmd = [sys.executable, "-m", "gunicorn", "-w", str(workers), "-b", f"127.0.0.1:{port}",
           "--backlog", "2048", "--log-level", "warning", app_spec]
    # The app's access log (a line per request, as in production) goes to a file: on the
    # terminal it would bury the progress lines, and its scrolling costs the cores measured.
    LOGS.mkdir(parents=True, exist_ok=True)
    log_path = LOGS / f"gunicorn-{app_spec.split(':')[0]}.log"
    with open(log_path, "ab") as log:  # the server keeps its own copy of the file
        proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env}, stdout=log, stderr=log)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            if proc.poll() is not None:
                raise RuntimeError(f"gunicorn exited with {proc.returncode}: see {log_path}")
            time.sleep(0.2)
    try:
        yield base, proc
    finally:
        _stop(proc, timeout=20)


@contextmanager
def rq_worker(env: dict[str, str], queues: tuple[str, ...] = ("intake", "notifications")):
    """An rq worker process (``flask --app hotline worker``) on ``queues``, stopped after."""
    cmd = [sys.executable, "-m", "flask", "--app", "hotline", "worker", *queues]
    proc = subprocess.Popen(cmd, cwd=ROOT, env={**os.environ, **env},
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        yield proc
    finally:
        _stop(proc, timeout=60)


def _stop(proc: subprocess.Popen, *, timeout: float) -> None:
    """SIGTERM (gunicorn and rq finish what they are doing), then SIGKILL after ``timeout``."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()


def progress(msg: str) -> None:
    print(f"[{datetime.now().strftime('%H:%M:%S')}] {msg}", flush=True)
