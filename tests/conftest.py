"""Test fixtures: the app on a real database (SQLite file and PostgreSQL), real Redis.

Every test that takes ``app`` runs once per backend: ``[sqlite]`` always, and
``[postgres]`` against ``TEST_DATABASE_URL`` (a fresh database per test run is
created there, so parallel runs do not collide). Without the server the
PostgreSQL variants are skipped — unless ``HOTLINE_REQUIRE_SERVICES=1`` (CI),
where a missing service, or any skipped test at all, fails the run.
"""
from __future__ import annotations

import os
import uuid

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from hotline import create_app
from hotline.extensions import db

pytest_plugins = ["tests.factories", "tests.staff_fixtures", "tests.area_fixtures"]

REQUIRE_SERVICES = os.environ.get("HOTLINE_REQUIRE_SERVICES") == "1"


def missing_service(reason: str):
    """Skip on a laptop without the service; fail in CI."""
    if REQUIRE_SERVICES:
        pytest.fail(f"required service unavailable: {reason}", pytrace=False)
    pytest.skip(reason)


def pytest_sessionfinish(session, exitstatus):
    if REQUIRE_SERVICES and session.testsfailed == 0:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        skipped = len(reporter.stats.get("skipped", [])) if reporter else 0
        if skipped:
            reporter.write_line(f"HOTLINE_REQUIRE_SERVICES=1: {skipped} test(s) skipped; failing.",
                                red=True)
            session.exitstatus = 1


@pytest.fixture(scope="session")
def postgres_url():
    """A fresh PostgreSQL database for this run, dropped at the end."""
    base = os.environ.get("TEST_DATABASE_URL")
    if not base:
        missing_service("TEST_DATABASE_URL is not set")
    url = make_url(base).set(drivername="postgresql+psycopg")
    name = f"hotline_test_{os.getpid()}_{uuid.uuid4().hex[:6]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001
        admin.dispose()
        missing_service(f"PostgreSQL at {url.render_as_string(hide_password=True)}: {exc}")
    yield url.set(database=name).render_as_string(hide_password=False)
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session", params=["sqlite", "postgres"])
def database_url(request, tmp_path_factory):
    """The database a test's app runs on; the schema is made once per backend."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'hotline.db'}"
    else:
        url = request.getfixturevalue("postgres_url")
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None})
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    return url


def _empty_tables() -> None:
    tables = list(reversed(db.metadata.sorted_tables))
    with db.engine.begin() as conn:
        if conn.dialect.name == "postgresql":
            names = ", ".join(f'"{t.name}"' for t in tables)
            conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
        else:
            # The append-only audit log refuses DELETE by trigger: lift it for the reset only.
            from hotline.models.audit import AUDIT_SQLITE_TRIGGERS
            conn.execute(text("DROP TRIGGER IF EXISTS audit_log_no_delete"))
            for table in tables:
                conn.execute(table.delete())
            for sql in AUDIT_SQLITE_TRIGGERS:
                conn.execute(text(sql))


@pytest.fixture
def app_config(tmp_path):
    """Extra settings a test module may override."""
    return {}


@pytest.fixture
def app(database_url, tmp_path, app_config):
    config = {
        "TESTING": True,
        "SECRET_KEY": "test-secret",
        "SQLALCHEMY_DATABASE_URI": database_url,
        "REDIS_URL": None,
        "WTF_CSRF_ENABLED": False,
        "UPLOAD_FOLDER": str(tmp_path / "uploads"),
        "PUBLIC_URL": "https://1022.example.gov.vn",
        "RATELIMIT_ENABLED": False,
        "TRIAGE_MODEL_PATH": str(tmp_path / "triage-model.joblib"),
    }
    config.update(app_config)
    app = create_app(config)
    with app.app_context():
        _empty_tables()
        yield app
        db.session.remove()
        db.engine.dispose()


@pytest.fixture
def backend(app) -> str:
    return db.engine.dialect.name


@pytest.fixture
def client(app):
    return app.test_client()


@pytest.fixture
def runner(app):
    return app.test_cli_runner()


@pytest.fixture
def redis_url():
    """A real Redis (database 15, emptied before and after the test)."""
    url = os.environ.get("TEST_REDIS_URL") or "redis://127.0.0.1:6379/15"
    from redis import Redis
    conn = Redis.from_url(url, socket_connect_timeout=1)
    try:
        conn.ping()
    except Exception as exc:  # noqa: BLE001
        missing_service(f"Redis at {url}: {exc}")
    conn.flushdb()
    yield url
    conn.flushdb()
    conn.close()
