"""A bounded concurrent HTTP load driver for loopback benchmarks.

``run_load`` sends ``total`` requests with ``concurrency`` persistent
connections (one thread each) and stops at ``total`` or ``max_seconds``.
Requests come from a factory ``make_request(i) -> (method, path, body, headers)``.
"""
from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlsplit

RequestSpec = tuple[str, str, bytes | None, dict[str, str]]


@dataclass
class LoadResult:
    latencies: list[float] = field(default_factory=list)
    statuses: dict[int, int] = field(default_factory=dict)
    errors: int = 0
    seconds: float = 0.0
    bodies: list[bytes] = field(default_factory=list)

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def add(self, other: LoadResult) -> None:
        """Count ``other`` (a later run against the same server) in this one."""
        self.latencies += other.latencies
        self.errors += other.errors
        self.seconds += other.seconds
        for status, n in other.statuses.items():
            self.statuses[status] = self.statuses.get(status, 0) + n


def run_load(base_url: str, make_request: Callable[[int], RequestSpec], *, total: int,
             concurrency: int = 64, max_seconds: float = 120.0, ok_statuses=(200, 201, 202),
             keep_bodies: bool = False) -> LoadResult:
    parts = urlsplit(base_url)
    result = LoadResult()
    lock = threading.Lock()
    counter = iter(range(total))
    deadline = time.perf_counter() + max_seconds

    def worker():
        conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        while time.perf_counter() < deadline:
            with lock:
                i = next(counter, None)
            if i is None:
                break
            method, path, body, headers = make_request(i)
            start = time.perf_counter()
            try:
                conn.request(method, path, body=body, headers=headers)
                resp = conn.getresponse()
                data = resp.read()
                status = resp.status
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
                with lock:
                    result.errors += 1
                continue
            elapsed = time.perf_counter() - start
            with lock:
                result.latencies.append(elapsed)
                result.statuses[status] = result.statuses.get(status, 0) + 1
                if status not in ok_statuses:
                    result.errors += 1
                if keep_bodies:
                    result.bodies.append(data)
        conn.close()

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    result.seconds = time.perf_counter() - started
    return result
