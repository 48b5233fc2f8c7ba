"""What a Redis outage costs a request: Open311 POST and the submit form's nearby hint
against a real threaded server whose Redis (a private ``redis-server``) answers, then is
stopped; beside the embedded default (no Redis at all) on the same machine.

``python -m bench.redis_outage [--requests 100]``

With Redis up a POST only stages its report (the drain waits for an rq worker, none runs
here); with Redis stopped the same POST also drains and relays in-process, as on the
embedded default. SQLite file in a temporary folder. Prints a table and writes
bench/results/redis_outage.json (cores, git commit).
"""
from __future__ import annotations

import argparse
import logging
import shutil
import subprocess
import tempfile
import threading
import time

import requests
from redis import Redis
from werkzeug.serving import make_server

from bench.common import free_port, measure, print_table, progress, write_results


def _serve(redis_url: str | None, folder: str):
    from hotline import create_app
    from hotline.extensions import db
    from hotline.services import accounts
    from tests.factories import build_org
    app = create_app({"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/hotline.db",
                      "REDIS_URL": redis_url, "SECRET_KEY": "bench-" + "x" * 40,
                      "PERIODIC_JOBS": "off", "RATELIMIT_ENABLED": True})
    with app.app_context():
        db.create_all()
        build_org()
        _row, key = accounts.create_api_key("bench")
        db.session.commit()
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}", key


def _posts(base: str, key: str, n: int, tag: str) -> list[float]:
    session, out = requests.Session(), []
    for i in range(n):
        start = time.perf_counter()
        resp = session.post(f"{base}/open311/v2/requests.json", timeout=60, data={
            "api_key": key, "service_code": "CS", "lat": "11.5349", "long": "106.8823",
            "phone": f"0913{i:06d}", "description": f"Đèn đường hỏng ({tag} {i})."})
        out.append(time.perf_counter() - start)
        assert resp.status_code == 201, resp.text
    return out


def _nearby(base: str, n: int) -> list[float]:
    # Its limit is 60 a minute per client: 25 before and 25 after the stop stay under it.
    out = []
    for _ in range(n):
        start = time.perf_counter()
        resp = requests.get(f"{base}/submit/nearby?field=CS&lat=11.53&lon=106.88", timeout=60)
        out.append(time.perf_counter() - start)
        assert resp.status_code == 200
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=100)
    n = parser.parse_args().requests
    logging.disable(logging.WARNING)
    folder = tempfile.mkdtemp(prefix="hotline-bench-outage-")
    port = free_port()
    redis = subprocess.Popen([shutil.which("redis-server"), "--port", str(port), "--bind",
                              "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", folder],
                             stdout=subprocess.DEVNULL)
    for _ in range(200):
        try:
            Redis(port=port).ping()
            break
        except Exception:  # noqa: BLE001 - not up yet
            time.sleep(0.05)
    results = []
    try:
        server, base, key = _serve(f"redis://127.0.0.1:{port}/0", folder)
        _posts(base, key, 10, "warm-up")
        progress("Redis up")
        results.append(measure("Open311 POST, Redis up (staged)", None, _posts(base, key, n, "up")))
        results.append(measure("nearby hint, Redis up", None, _nearby(base, min(n, 25))))
        redis.terminate()
        redis.wait(10)
        progress("Redis stopped")
        results.append(measure("Open311 POST, Redis stopped (in-process)", None,
                               _posts(base, key, n, "down")))
        results.append(measure("nearby hint, Redis stopped", None, _nearby(base, min(n, 25))))
        server.shutdown()
        progress("embedded default (no Redis)")
        embedded = tempfile.mkdtemp(prefix="hotline-bench-embedded-")
        server, base, key = _serve(None, embedded)
        _posts(base, key, 10, "warm-up")
        results.append(measure("Open311 POST, no Redis configured", None,
                               _posts(base, key, n, "none")))
        server.shutdown()
    finally:
        if redis.poll() is None:
            redis.terminate()
    print_table(results)
    print(f"wrote {write_results('redis_outage', results, requests=n)}")


if __name__ == "__main__":
    main()
