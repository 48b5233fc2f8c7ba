"""Production mode refuses unsafe settings; the environment reference matches the code."""
from __future__ import annotations

import re
from pathlib import Path

import pytest

from hotline import create_app
from hotline.config import ENV_VARS, ConfigError, check, defaults, from_environ

ROOT = Path(__file__).resolve().parents[1]
SAFE = {
    "HOTLINE_ENV": "production",
    "SECRET_KEY": "x" * 48,
    "SQLALCHEMY_DATABASE_URI": "postgresql+psycopg://hotline@db/hotline",
    "DEBUG": False,
    "TESTING": False,
    "RETENTION_DAYS": 1825,
}


def test_safe_production_settings_pass():
    check(SAFE)


@pytest.mark.parametrize("override, complaint", [
    ({"SECRET_KEY": None}, "SECRET_KEY"),
    ({"SECRET_KEY": "dev-only-not-secret"}, "SECRET_KEY"),
    ({"SECRET_KEY": "short"}, "SECRET_KEY"),
    ({"SQLALCHEMY_DATABASE_URI": "sqlite:////srv/hotline.db"}, "PostgreSQL"),
    ({"DEBUG": True}, "debug"),
    ({"TESTING": True}, "TESTING"),
    ({"WTF_CSRF_ENABLED": False}, "CSRF"),
    ({"METRICS_TOKEN": "abc"}, "METRICS_TOKEN"),
    ({"RETENTION_DAYS": 0}, "RETENTION_DAYS"),
])
def test_production_refuses_each_unsafe_setting(override, complaint):
    with pytest.raises(ConfigError, match=complaint):
        check({**SAFE, **override})


def test_production_lists_every_problem_at_once():
    with pytest.raises(ConfigError) as err:
        check({"HOTLINE_ENV": "production", "SQLALCHEMY_DATABASE_URI": "sqlite:///x.db",
               "DEBUG": True})
    assert all(word in str(err.value) for word in ("SECRET_KEY", "PostgreSQL", "debug"))


def test_development_allows_the_embedded_defaults(tmp_path):
    check(defaults(str(tmp_path)))


def test_create_app_refuses_production_with_defaults(monkeypatch):
    for var in ("DATABASE_URL", "SECRET_KEY"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("HOTLINE_ENV", "production")
    with pytest.raises(ConfigError, match="Refusing to start"):
        create_app()


def test_create_app_refuses_production_with_debug(monkeypatch):
    monkeypatch.setenv("HOTLINE_ENV", "production")
    monkeypatch.setenv("SECRET_KEY", "s" * 40)
    monkeypatch.setenv("DATABASE_URL", "postgresql://u@127.0.0.1:1/none")
    with pytest.raises(ConfigError, match="debug"):
        create_app({"DEBUG": True})


def test_upload_limit_and_retention_come_from_the_environment():
    got = from_environ({"HOTLINE_MAX_UPLOAD_MB": "12", "HOTLINE_RETENTION_DAYS": "730"})
    assert got["MAX_CONTENT_LENGTH"] == 12 * 1024 * 1024 and got["RETENTION_DAYS"] == 730


def test_operations_doc_lists_every_environment_variable():
    """docs/operations.md is the environment reference: nothing the code reads is missing."""
    doc = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)`", doc, flags=re.MULTILINE))
    missing = sorted(set(ENV_VARS) - documented - {"PROMETHEUS_MULTIPROC_DIR"})
    assert not missing, f"add to docs/operations.md: {missing}"
