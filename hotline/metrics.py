"""Prometheus metrics at ``/metrics``: requests, latencies, queue depth, overdue tickets.

Protected by ``METRICS_TOKEN`` (``Authorization: Bearer <token>``); without a
token the endpoint answers 404. Request counters live in this process, or —
under gunicorn with several workers — in files under ``PROMETHEUS_MULTIPROC_DIR``
(set it in the environment before the app is imported and empty it on start;
deploy/gunicorn.conf.py does both), aggregated at scrape time. Queue depth and
the overdue count are read from the database at scrape time (index-only
counts), so every process reports the same figures.
"""
from __future__ import annotations

import hmac
import os
import time

from flask import Blueprint, Flask, Response, abort, current_app, g, request
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
)
from prometheus_client.core import GaugeMetricFamily

# Metric objects are process-wide (prometheus_client forbids registering a name twice),
# so they live at module level in a registry of our own, not in the app.
REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter("hotline_http_requests_total", "HTTP requests handled",
                   ["method", "endpoint", "status"], registry=REGISTRY)
LATENCY = Histogram("hotline_http_request_duration_seconds", "Time to answer an HTTP request",
                    ["method", "endpoint"], registry=REGISTRY,
                    buckets=(0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))

bp = Blueprint("metrics", __name__)


class _DatabaseCollector:
    """Gauges computed from the database when scraped, inside the scrape's app context."""

    def collect(self):
        from hotline.services.admin.ops import queue_depth
        depth = queue_depth(current_app.config)
        outbox = GaugeMetricFamily("hotline_outbox_messages", "Outbox rows by status",
                                   labels=["status"])
        for status, count in sorted(depth.outbox.items()):
            outbox.add_metric([status], count)
        yield outbox
        if depth.rq is not None:
            queue = GaugeMetricFamily("hotline_rq_queue_jobs", "Jobs waiting in rq queues",
                                      labels=["queue"])
            for name, count in sorted(depth.rq.items()):
                queue.add_metric([name], count)
            yield queue
        yield GaugeMetricFamily("hotline_tickets_overdue", "Tickets past their due time",
                                value=depth.overdue)
        staged = GaugeMetricFamily("hotline_inbound_staged", "Inbound messages stored and not "
                                   "yet turned into tickets, by state", labels=["state"])
        staged.add_metric(["pending"], depth.staged.pending)
        staged.add_metric(["failed"], depth.staged.failed)
        yield staged


def _scrape_registry() -> CollectorRegistry:
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        from prometheus_client import multiprocess
        registry = CollectorRegistry()
        multiprocess.MultiProcessCollector(registry)
    else:
        registry = CollectorRegistry()
        registry.register(_Forward(REGISTRY))
    registry.register(_DatabaseCollector())
    return registry


class _Forward:
    """Expose another registry's metrics through this one."""

    def __init__(self, source: CollectorRegistry):
        self.source = source

    def collect(self):
        return self.source.collect()


@bp.get("/metrics")
def metrics():
    token = current_app.config.get("METRICS_TOKEN")
    if not token:
        abort(404)
    given = request.headers.get("Authorization", "")
    if not hmac.compare_digest(given.encode(), f"Bearer {token}".encode()):
        return Response("unauthorized\n", 401, {"WWW-Authenticate": "Bearer"},
                        mimetype="text/plain")
    return Response(generate_latest(_scrape_registry()), mimetype=CONTENT_TYPE_LATEST)


# The labelled children, by label values: ``labels()`` checks and locks on every call.
_latency: dict[tuple[str, str], Histogram] = {}
_requests: dict[tuple[str, str, int], Counter] = {}


def observe(method: str, endpoint: str, status: int, seconds: float) -> None:
    """Count one answered request and its duration."""
    key = (method, endpoint)
    latency = _latency.get(key)
    if latency is None:
        latency = _latency[key] = LATENCY.labels(method, endpoint)
    latency.observe(seconds)
    counter = _requests.get((method, endpoint, status))
    if counter is None:
        counter = _requests[(method, endpoint, status)] = REQUESTS.labels(method, endpoint,
                                                                          str(status))
    counter.inc()


def init_app(app: Flask) -> None:
    app.register_blueprint(bp)

    @app.before_request
    def _start_timer():
        g.metrics_started = time.perf_counter()

    @app.after_request
    def _observe(response):
        started = g.pop("metrics_started", None)
        endpoint = request.endpoint
        if started is not None and endpoint != "metrics.metrics":
            # The endpoint name, never the raw path: ticket codes would explode the label set.
            observe(request.method, endpoint or "unmatched", response.status_code,
                    time.perf_counter() - started)
        return response
