"""Every page answers while the configured Redis does not: rate limits count in memory (and
still hold), jobs run in-process, /admin/system and /readyz say so. The live outage — a
private redis-server stopped during a browser session — is tests/workers/test_redis_outage.py."""
from __future__ import annotations

import logging
import socket

import pytest
from sqlalchemy import func, select

from hotline.extensions import db, limiter
from hotline.models import InboundMessage, Ticket
from tests.web.test_public import form_data

PASSWORD = "correct-horse-battery"


def _dead_redis_url() -> str:
    with socket.socket() as s:  # a port nobody listens on: connection refused
        s.bind(("127.0.0.1", 0))
        return f"redis://127.0.0.1:{s.getsockname()[1]}/0"


@pytest.fixture
def app_config():
    return {"REDIS_URL": _dead_redis_url(), "RATELIMIT_ENABLED": True,
            "SUBMIT_LIMIT_PER_IP": "3 per minute"}


@pytest.fixture(autouse=True)
def _fresh_limiter():
    # The limiter is one object for every app of the test run: its "storage dead" switch
    # must not leak into the next test's app.
    limiter._storage_dead = False
    yield
    limiter._storage_dead = False


def submit(client, n: int):
    return client.post("/submit", data=form_data(
        submission_id=f"{n:032x}", description=f"Đèn đường số {n} trước chợ Tân Bình bị hỏng."),
        content_type="multipart/form-data")


def test_every_page_answers_and_reports_become_tickets(app, client, org, make_user, caplog):
    caplog.set_level(logging.WARNING)
    for url in ("/", "/submit", "/status", "/results",
                "/submit/nearby?field=CS&lat=11.5350&lon=106.8824", "/readyz"):
        assert client.get(url).status_code == 200, url
    assert client.get("/readyz").get_json()["status"] == "degraded"
    resp = submit(client, 1)
    assert resp.status_code == 302, resp.get_data(as_text=True)
    link = resp.headers["Location"]
    assert client.get(link).status_code == 200
    # Drained in-process after the commit: the report is a routed ticket already.
    db.session.rollback()
    code = link.split("/status/")[1].split("/")[0]
    ticket = db.session.scalar(select(Ticket).where(Ticket.code == code))
    assert ticket is not None and ticket.agency is not None
    assert client.post("/status", data={"code": "PA-000000", "phone_last4": "0000"}
                       ).status_code < 500
    assert client.post("/login", data={"username": "khong-co", "password": "sai"}
                       ).status_code < 500
    make_user("admin", username="quantri")
    assert client.post("/login", data={"username": "quantri", "password": PASSWORD}
                       ).status_code == 302
    page = client.get("/admin/system")
    text = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Redis không trả lời" in text
    assert "Giới hạn tần suất đang đếm trong bộ nhớ" in text
    logged = caplog.text
    assert "falling back to in-memory storage" in logged  # Flask-Limiter's warning
    assert "Redis unreachable" in logged and "jobs run in this process" in logged


def test_rate_limits_still_hold_in_memory(app, client, org):
    answers = [submit(client, n).status_code for n in range(1, 5)]
    assert answers == [302, 302, 302, 429]
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(InboundMessage)) == 3
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 3
