"""Liveness and readiness for load balancers."""
from __future__ import annotations

from flask import Blueprint, current_app, jsonify
from sqlalchemy import text

from hotline.extensions import db

bp = Blueprint("health", __name__)


@bp.get("/healthz")
def healthz():
    """The process is alive (no dependency is touched)."""
    return jsonify(status="ok")


@bp.get("/readyz")
def readyz():
    """The database answers (else 503). Redis is reported, but its absence only makes the
    app "degraded": every page still answers (rate limits in memory, jobs in-process), and
    a load balancer must not take every web process out of service because of it."""
    checks: dict[str, str] = {}
    ok = True
    try:
        db.session.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as exc:  # noqa: BLE001 - any failure means "not ready"
        checks["database"] = f"error: {type(exc).__name__}"
        ok = False
    degraded = False
    if current_app.config.get("REDIS_URL"):
        from workers.queue import redis_connection
        try:
            redis_connection().ping()
            checks["redis"] = "ok"
        except Exception as exc:  # noqa: BLE001
            checks["redis"] = f"error: {type(exc).__name__}"
            degraded = True
    status = "unavailable" if not ok else "degraded" if degraded else "ok"
    return jsonify(status=status, checks=checks), (200 if ok else 503)
