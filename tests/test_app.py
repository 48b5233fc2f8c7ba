"""The app factory, health endpoints and the foundation's commands."""
from __future__ import annotations

from sqlalchemy import func, select

from hotline import create_app
from hotline.config import normalize_db_url
from hotline.extensions import db
from hotline.models import ApiKey, Ticket, User
from hotline.services import accounts
from tests.factories import MONDAY_9AM


def test_embedded_default_is_a_sqlite_file_in_the_instance_folder(monkeypatch):
    for var in ("DATABASE_URL", "REDIS_URL", "SECRET_KEY", "HOTLINE_ENV"):
        monkeypatch.delenv(var, raising=False)
    app = create_app()
    uri = app.config["SQLALCHEMY_DATABASE_URI"]
    assert uri.startswith("sqlite:///") and uri.endswith("instance/hotline.db")
    assert app.config["REDIS_URL"] is None and app.config["QUEUE_MODE"] == "in-process"
    assert app.config["HOTLINE_TIMEZONE"] == "Asia/Ho_Chi_Minh"


def test_environment_settings_are_read(monkeypatch):
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@db.example/hotline")
    monkeypatch.setenv("HOTLINE_TIMEZONE", "Asia/Bangkok")
    app = create_app({"TESTING": True})
    assert app.config["SQLALCHEMY_DATABASE_URI"] == "postgresql+psycopg://u@db.example/hotline"
    assert app.config["HOTLINE_TIMEZONE"] == "Asia/Bangkok"


def test_postgres_urls_use_psycopg3():
    assert normalize_db_url("postgres://x@h/d") == "postgresql+psycopg://x@h/d"
    assert normalize_db_url("sqlite:///a.db") == "sqlite:///a.db"


def test_healthz_and_readyz(client):
    assert client.get("/healthz").get_json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert ready.status_code == 200 and ready.get_json()["checks"]["database"] == "ok"


def test_readyz_reports_an_unreachable_redis_as_degraded_not_down(app):
    # Every page answers without Redis: the load balancer must keep the web processes.
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 200 and resp.get_json()["status"] == "degraded"
    assert resp.get_json()["checks"]["redis"].startswith("error")


def test_readyz_with_real_redis(app, redis_url):
    app.config["REDIS_URL"] = redis_url
    resp = app.test_client().get("/readyz")
    assert resp.status_code == 200 and resp.get_json()["checks"]["redis"] == "ok"


def test_create_user_command(runner, org):
    result = runner.invoke(args=["create-user", "xuly.sxd", "--role", "handler", "--name",
                                 "Cán bộ Sở Xây dựng", "--agency", "SO-XD",
                                 "--password", "mat-khau-rat-dai"])
    assert result.exit_code == 0, result.output
    user = db.session.scalar(select(User).where(User.username == "xuly.sxd"))
    assert user.agency.code == "SO-XD" and accounts.check_password(user, "mat-khau-rat-dai")


def test_create_user_command_refuses_bad_input(runner, org):
    no_agency = runner.invoke(args=["create-user", "a", "--role", "handler", "--name", "A",
                                    "--password", "mat-khau-rat-dai"])
    assert no_agency.exit_code != 0 and "phải thuộc một cơ quan" in no_agency.output
    weak = runner.invoke(args=["create-user", "b", "--role", "operator", "--name", "B",
                               "--password", "short"])
    assert weak.exit_code != 0 and "ít nhất 10 ký tự" in weak.output
    assert db.session.scalar(select(func.count()).select_from(User)) == 0


def test_create_api_key_prints_a_key_that_verifies(runner):
    result = runner.invoke(args=["create-api-key", "Ứng dụng Bình Phước Today"])
    assert result.exit_code == 0, result.output
    key = result.output.strip().splitlines()[-1]
    assert key.startswith("h1022_")
    row = accounts.verify_api_key(key)
    assert row is not None and row.name == "Ứng dụng Bình Phước Today"
    assert row.scopes == {"open311:write"}
    both = runner.invoke(args=["create-api-key", "IOC", "--scope", "ioc:read",
                               "--scope", "open311:write"])
    assert both.exit_code == 0, both.output
    assert accounts.verify_api_key(both.output.strip().splitlines()[-1]).scopes == \
        {"ioc:read", "open311:write"}
    bad = runner.invoke(args=["create-api-key", "X", "--scope", "admin"])
    assert bad.exit_code != 0 and "admin" in bad.output
    assert key not in {r.key_hash for r in db.session.scalars(select(ApiKey))}
    assert accounts.verify_api_key("h1022_wrong") is None


def test_sla_scan_command_reports_changes(runner, receive):
    receive(external_id="old", received_at=MONDAY_9AM.replace(year=2025))
    receive(external_id="new", received_at=MONDAY_9AM)
    result = runner.invoke(args=["sla-scan"])
    assert result.exit_code == 0, result.output
    assert "became overdue" in result.output
    states = dict(db.session.execute(select(Ticket.external_id, Ticket.sla_state)).all())
    assert states["old"] == "overdue"
    again = runner.invoke(args=["sla-scan"])
    assert "0 ticket(s) became due soon, 0 became overdue" in again.output
