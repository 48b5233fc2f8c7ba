"""Security headers, request ids, JSON logs, upload limits and the metrics endpoint."""
from __future__ import annotations

import json
import logging
import re
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import g

from hotline.web.security import CSP
from tests.staff_fixtures import QueryCounter, login

TEMPLATES = Path(__file__).resolve().parents[2] / "templates"
TOKEN = "metrics-token-0123456789abcdef"


def test_every_response_has_the_security_headers(client):
    for url in ("/login", "/healthz", "/no-such-page"):
        resp = client.get(url)
        assert resp.headers["Content-Security-Policy"] == CSP
        assert "script-src 'self'" in CSP and "unsafe-inline" not in CSP
        assert "frame-ancestors 'none'" in CSP
        assert resp.headers["X-Frame-Options"] == "DENY"
        assert resp.headers["X-Content-Type-Options"] == "nosniff"
        assert resp.headers["Referrer-Policy"] == "strict-origin-when-cross-origin"
        assert "Strict-Transport-Security" not in resp.headers  # only in production


def test_production_adds_hsts_and_secure_cookies():
    from flask import Flask

    from hotline.web import security
    prod = Flask(__name__)
    prod.config.update(HOTLINE_ENV="production")
    security.init_app(prod)
    prod.add_url_rule("/x", "x", lambda: "ok")
    resp = prod.test_client().get("/x")
    assert resp.headers["Strict-Transport-Security"].startswith("max-age=31536000")
    assert prod.config["SESSION_COOKIE_SECURE"] is True
    assert resp.headers["Content-Security-Policy"] == CSP


def test_a_header_a_view_sets_itself_is_kept_not_doubled():
    from flask import Flask

    from hotline.web import security
    app = Flask(__name__)
    security.init_app(app)
    app.add_url_rule("/framed", "framed", lambda: ("ok", 200, {"x-frame-options": "SAMEORIGIN"}))
    resp = app.test_client().get("/framed")
    assert resp.headers.getlist("X-Frame-Options") == ["SAMEORIGIN"]
    assert resp.headers["Content-Security-Policy"] == CSP
    assert resp.headers["X-Content-Type-Options"] == "nosniff"


def test_templates_have_no_inline_scripts_or_styles():
    """The CSP has no 'unsafe-inline': an inline script or style would silently not run."""
    offenders = []
    for path in TEMPLATES.rglob("*.html"):
        body = path.read_text(encoding="utf-8")
        if re.search(r"<script(?![^>]*\bsrc=)[^>]*>", body) or re.search(r"\son[a-z]+=\"", body) \
                or re.search(r"<style", body) or re.search(r"\sstyle=\"", body):
            offenders.append(str(path.relative_to(TEMPLATES)))
    assert not offenders, f"inline script/style (blocked by the CSP): {offenders}"


def test_request_id_is_kept_or_made_and_echoed(client):
    resp = client.get("/healthz", headers={"X-Request-ID": "nginx-abc.123"})
    assert resp.headers["X-Request-ID"] == "nginx-abc.123"
    made = client.get("/healthz", headers={"X-Request-ID": "bad id; <script>"})
    assert re.fullmatch(r"[0-9a-f]{32}", made.headers["X-Request-ID"])


@contextmanager
def access_lines():
    """The access log's JSON lines written meanwhile."""
    from hotline.logs import JsonFormatter, RequestIdFilter
    records = []

    class Keep(logging.Handler):
        def emit(self, record):
            records.append(json.loads(self.format(record)))

    handler = Keep()
    handler.setFormatter(JsonFormatter())
    handler.addFilter(RequestIdFilter())
    access = logging.getLogger("hotline.access")
    access.addHandler(handler)
    old = access.level
    access.setLevel(logging.INFO)
    try:
        yield records
    finally:
        access.removeHandler(handler)
        access.setLevel(old)


def test_access_log_is_one_json_line_with_the_request_id(client):
    with access_lines() as lines:
        client.get("/healthz", headers={"X-Request-ID": "req-42"})
    line = lines[-1]
    assert line["request_id"] == "req-42" and line["status"] == 200 and line["path"] == "/healthz"
    assert line["level"] == "INFO" and "duration_ms" in line and line["user_id"] is None


def test_access_log_names_the_signed_in_user_without_loading_one_for_it(client, staff):
    login(client, staff.operator)
    # Each served request has its own ``g``; here the test's app context holds one for all.
    g.pop("_login_user", None)
    with access_lines() as lines, QueryCounter() as queries:
        client.get("/healthz")
    # A page that never asks who is signed in costs no user query for the log's sake.
    assert lines[-1]["user_id"] is None and not any("FROM users" in q for q in queries.statements)
    with access_lines() as lines:
        client.get("/operator/")
    assert lines[-1]["path"] == "/operator/" and lines[-1]["user_id"] == staff.operator.id


@pytest.mark.parametrize("app_config", [{"MAX_CONTENT_LENGTH": 1024}])
def test_upload_limit_gives_413(client, app_config):
    resp = client.post("/login", data={"username": "x" * 5000, "password": "y"})
    assert resp.status_code == 413


def test_metrics_off_without_a_token(client):
    assert client.get("/metrics").status_code == 404


@pytest.mark.parametrize("app_config", [{"METRICS_TOKEN": TOKEN}])
def test_metrics_need_the_bearer_token(client, receive, app_config):
    assert client.get("/metrics").status_code == 401
    assert client.get("/metrics", headers={"Authorization": "Bearer wrong"}).status_code == 401
    client.get("/healthz")
    receive()
    resp = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"})
    assert resp.status_code == 200
    body = resp.get_data(as_text=True)
    assert 'hotline_http_requests_total{endpoint="health.healthz",method="GET",status="200"}' in body
    assert "hotline_http_request_duration_seconds_bucket" in body
    assert 'hotline_outbox_messages{status="pending"} 1.0' in body
    assert "hotline_tickets_overdue 0.0" in body
    assert "/metrics" not in re.findall(r'endpoint="([^"]+)"', body)


@pytest.mark.parametrize("app_config", [{"METRICS_TOKEN": TOKEN}])
def test_metrics_count_every_answered_request_by_endpoint_and_status(client, app_config):
    def scrape() -> dict[str, float]:
        body = client.get("/metrics", headers={"Authorization": f"Bearer {TOKEN}"}).get_data(
            as_text=True)
        return {m.group(1): float(m.group(2)) for m in re.finditer(
            r'^(hotline_http_request(?:s_total|_duration_seconds_count)\{[^}]*\}) (\S+)$',
            body, re.M)}

    ok = 'hotline_http_requests_total{endpoint="health.healthz",method="GET",status="200"}'
    missing = 'hotline_http_requests_total{endpoint="unmatched",method="GET",status="404"}'
    timed = 'hotline_http_request_duration_seconds_count{endpoint="health.healthz",method="GET"}'
    before = scrape()
    for _ in range(3):
        client.get("/healthz")
    client.get("/no-such-page")
    after = scrape()
    assert after[ok] - before.get(ok, 0) == 3 and after[timed] - before.get(timed, 0) == 3
    assert after[missing] - before.get(missing, 0) == 1


@pytest.mark.parametrize("app_config", [{"PROXY_COUNT": 1}])
def test_behind_nginx_the_client_address_is_the_forwarded_one(client, make_user, app_config):
    from sqlalchemy import select

    from hotline.extensions import db
    from hotline.models import AuditLog
    make_user("admin", username="qt")
    # Signed in from that address too: a session moving to another address ends
    # (Flask-Login's "strong" protection).
    forwarded = {"X-Forwarded-For": "203.0.113.7", "X-Forwarded-Proto": "https"}
    client.post("/login", data={"username": "qt", "password": "correct-horse-battery"},
                headers=forwarded)
    client.post("/admin/api-keys", data={"name": "x", "scopes": "open311:write"}, headers=forwarded)
    assert db.session.scalar(select(AuditLog.ip)) == "203.0.113.7"


def test_the_session_serializer_is_built_once_and_follows_a_key_rotation(app, client, staff):
    from itsdangerous import BadSignature
    sessions = app.session_interface
    first = sessions.get_signing_serializer(app)
    assert sessions.get_signing_serializer(app) is first
    login(client, staff.operator)
    assert client.get("/operator/").status_code == 200
    cookie = first.dumps({"_user_id": str(staff.operator.id)})
    # A rotated key, the old one kept as a fallback: old cookies still read, new ones signed anew.
    old = app.secret_key
    app.config["SECRET_KEY_FALLBACKS"] = [old]
    app.secret_key = "rotated-" + old
    rotated = sessions.get_signing_serializer(app)
    assert rotated is not first and rotated.loads(cookie)["_user_id"] == str(staff.operator.id)
    app.config["SECRET_KEY_FALLBACKS"] = []
    with pytest.raises(BadSignature):  # the old key retired: its cookies are refused
        sessions.get_signing_serializer(app).loads(cookie)
