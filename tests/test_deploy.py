"""The production process layout, as far as one machine allows: gunicorn with
deploy/gunicorn.conf.py, several workers, multiprocess metrics, and refusal to
start with unsafe settings."""
from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests

ROOT = Path(__file__).resolve().parents[1]
GUNICORN = Path(sys.executable).with_name("gunicorn")
TOKEN = "deploy-test-metrics-token-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(env: dict[str, str]) -> subprocess.Popen:
    return subprocess.Popen([str(GUNICORN), "-c", str(ROOT / "deploy" / "gunicorn.conf.py")],
                            cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            text=True, start_new_session=True)


def base_env(tmp_path, database_url: str, port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("HOTLINE_", "GUNICORN_"))}
    env.update(GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_WORKERS="2", GUNICORN_THREADS="2",
               DATABASE_URL=database_url, METRICS_TOKEN=TOKEN,
               HOTLINE_UPLOAD_FOLDER=str(tmp_path / "uploads"),
               PROMETHEUS_MULTIPROC_DIR=str(tmp_path / "metrics"), HOTLINE_LOG_FORMAT="json")
    env.pop("REDIS_URL", None)
    return env


def test_gunicorn_serves_with_several_workers_and_aggregates_metrics(tmp_path, database_url):
    port = free_port()
    proc = start(base_env(tmp_path, database_url, port))
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                if requests.get(f"{url}/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            pytest.fail("gunicorn did not start")
        for _ in range(20):
            resp = requests.get(f"{url}/healthz", headers={"X-Request-ID": "deploy-1"}, timeout=5)
            assert resp.headers["X-Request-ID"] == "deploy-1"
            assert "frame-ancestors 'none'" in resp.headers["Content-Security-Policy"]
        metrics = requests.get(f"{url}/metrics", headers={"Authorization": f"Bearer {TOKEN}"},
                               timeout=5)
        assert metrics.status_code == 200
        line = next(row for row in metrics.text.splitlines() if row.startswith(
            'hotline_http_requests_total{endpoint="health.healthz"'))
        # Summed over both workers' files: at least the 20 we sent (plus the startup polls).
        assert float(line.rsplit(" ", 1)[1]) >= 20
        assert "hotline_tickets_overdue" in metrics.text
        assert len(list((tmp_path / "metrics").glob("*.db"))) >= 1
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    assert '"logger": "hotline.access"' in out and '"request_id": "deploy-1"' in out


def test_gunicorn_refuses_to_start_in_production_with_sqlite(tmp_path):
    env = base_env(tmp_path, f"sqlite:///{tmp_path / 'x.db'}", free_port())
    env.update(HOTLINE_ENV="production", SECRET_KEY="s" * 48)
    proc = start(env)
    out, _ = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "Refusing to start with HOTLINE_ENV=production" in out and "PostgreSQL" in out
