"""Settings: embedded defaults, then the environment, then the mapping given to ``create_app``.

With no environment at all the app runs on a SQLite file in the instance
folder with jobs run in-process, so one laptop is enough. Production
(``HOTLINE_ENV=production``) refuses unsafe defaults instead of falling back
silently.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from flask import current_app

DEV_SECRET_KEY = "dev-only-not-secret"  # noqa: S105 - the refusal below is the point

# Variables read from the environment: name -> config key (same name unless given).
ENV_VARS = {
    "DATABASE_URL": "SQLALCHEMY_DATABASE_URI",
    "REDIS_URL": "REDIS_URL",
    "SECRET_KEY": "SECRET_KEY",
    "HOTLINE_ENV": "HOTLINE_ENV",
    "HOTLINE_TIMEZONE": "HOTLINE_TIMEZONE",
    "HOTLINE_PUBLIC_URL": "PUBLIC_URL",
    "HOTLINE_PROVINCE_NAME": "PROVINCE_NAME",
    "HOTLINE_MAX_TEXT_LENGTH": "MAX_TEXT_LENGTH",
    "HOTLINE_UPLOAD_FOLDER": "UPLOAD_FOLDER",
    "PBX_SHARED_SECRET": "PBX_SHARED_SECRET",  # staff console: POST /channels/phone/call-event
    # Public side and Open311.
    "SATISFACTION_REOPEN_DAYS": "SATISFACTION_REOPEN_DAYS",
    "SATISFACTION_FOLLOWUP_DAYS": "SATISFACTION_FOLLOWUP_DAYS",
    "STATUS_LIMIT_PER_IP": "STATUS_LIMIT_PER_IP",
    "SUBMIT_LIMIT_PER_IP": "SUBMIT_LIMIT_PER_IP",
    # Administration, personal data and operations (docs/operations.md).
    "HOTLINE_RETENTION_DAYS": "RETENTION_DAYS",
    "HOTLINE_MAX_UPLOAD_MB": "MAX_UPLOAD_MB",
    "METRICS_TOKEN": "METRICS_TOKEN",
    "HOTLINE_LOG_FORMAT": "LOG_FORMAT",
    "HOTLINE_LOG_LEVEL": "LOG_LEVEL",
    "HOTLINE_BACKUP_DIR": "BACKUP_DIR",
    "CRON_RETENTION_SECONDS": "CRON_RETENTION_SECONDS",
    "CRON_SATISFACTION_SECONDS": "CRON_SATISFACTION_SECONDS",
    # Triage suggestions (hotline/services/triage.py).
    "CRON_TRIAGE_SECONDS": "CRON_TRIAGE_SECONDS",
    "HOTLINE_TRIAGE_MODEL_PATH": "TRIAGE_MODEL_PATH",
    "HOTLINE_TRIAGE_PREFILL_SCORE": "TRIAGE_PREFILL_SCORE",
    "HOTLINE_PROXY_COUNT": "PROXY_COUNT",
    # Maps: a tile server of the province's own (none: boundaries and centroids only).
    "HOTLINE_MAP_TILE_URL": "MAP_TILE_URL",
    "HOTLINE_MAP_TILE_ATTRIBUTION": "MAP_TILE_ATTRIBUTION",
    # Staff sessions and sign-in throttling (hotline/services/sessions.py, web/login_limits.py).
    "HOTLINE_SESSION_IDLE_MINUTES": "SESSION_IDLE_MINUTES",
    "HOTLINE_SESSION_MAX_HOURS": "SESSION_MAX_HOURS",
    "LOGIN_LIMIT_PER_IP": "LOGIN_LIMIT_PER_IP",
    "LOGIN_LIMIT_PER_ACCOUNT": "LOGIN_LIMIT_PER_ACCOUNT",
    "LOGIN_LIMIT_PER_CLIENT_ACCOUNT": "LOGIN_LIMIT_PER_CLIENT_ACCOUNT",
    # Citizen channels (channels/*; docs/channels.md). A channel without its secrets is disabled.
    **{name: name for name in (
        "TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET", "TELEGRAM_API_BASE_URL",
        "ZALO_APP_ID", "ZALO_APP_SECRET", "ZALO_OA_SECRET_KEY", "ZALO_ACCESS_TOKEN",
        "ZALO_REFRESH_TOKEN", "ZALO_API_BASE_URL", "ZALO_OAUTH_BASE_URL", "ZALO_MAX_AGE_SECONDS",
        "FACEBOOK_APP_SECRET", "FACEBOOK_VERIFY_TOKEN", "FACEBOOK_PAGE_TOKEN",
        "FACEBOOK_GRAPH_BASE_URL",
        "SMTP_HOST", "SMTP_PORT", "SMTP_USERNAME", "SMTP_PASSWORD", "SMTP_STARTTLS", "MAIL_FROM",
        "HOTLINE_MAIL_ADDRESSES", "IMAP_HOST", "IMAP_PORT", "IMAP_USERNAME", "IMAP_PASSWORD",
        "IMAP_SSL", "IMAP_FOLDER", "IMAP_PROCESSED_FLAG",
    )},
    # SMS gateway, outbox relay, SLA notifications and cron (docs in channels/sms.py).
    **{name: name for name in (
        "SMS_GATEWAY_URL", "SMS_GATEWAY_METHOD", "SMS_GATEWAY_AUTH", "SMS_GATEWAY_BODY",
        "SMS_GATEWAY_SUCCESS", "SMS_GATEWAY_ID_FIELD", "SMS_GATEWAY_TIMEOUT", "SMS_SENDER_NAME",
        "SMS_STRIP_DIACRITICS",
        "OUTBOX_MAX_ATTEMPTS", "OUTBOX_BACKOFF_SECONDS", "OUTBOX_LEASE_SECONDS",
        "OUTBOX_REQUEUE_SECONDS", "JOB_RETRY_INTERVALS",
        "SLA_ESCALATE_AFTER_HOURS", "SLA_ESCALATION_EMAILS", "DIGEST_LOCAL_TIME",
        "CRON_SLA_SCAN_SECONDS", "CRON_RELAY_SECONDS", "CRON_DIGEST_SECONDS",
        "CRON_INTAKE_SECONDS", "CRON_STATS_SECONDS", "LOOKUP_CACHE_SECONDS",
        "DB_PING_IDLE_SECONDS", "INTAKE_DRAIN_LINGER_SECONDS",
    )},
    # Periodic jobs in the web process (workers/periodic.py) and Redis outages (workers/queue.py).
    "HOTLINE_PERIODIC_JOBS": "PERIODIC_JOBS",
    "PERIODIC_TICK_SECONDS": "PERIODIC_TICK_SECONDS",
    "REDIS_RETRY_SECONDS": "REDIS_RETRY_SECONDS",
}


class ConfigError(RuntimeError):
    """Settings that must not be used (e.g. the development secret in production)."""


def defaults(instance_path: str) -> dict[str, Any]:
    """The embedded defaults: SQLite in the instance folder, in-process jobs."""
    return {
        "HOTLINE_ENV": "development",
        "SECRET_KEY": DEV_SECRET_KEY,
        "SQLALCHEMY_DATABASE_URI": "sqlite:///" + os.path.join(instance_path, "hotline.db"),
        # Pooled connections are checked only after sitting idle (hotline/database.py).
        "SQLALCHEMY_ENGINE_OPTIONS": {},
        "DB_PING_IDLE_SECONDS": 10,
        "REDIS_URL": None,
        "HOTLINE_TIMEZONE": "Asia/Ho_Chi_Minh",
        "PUBLIC_URL": "http://127.0.0.1:5000",
        "PROVINCE_NAME": "tỉnh Đồng Nai",
        "MAX_TEXT_LENGTH": 10_000,
        "UPLOAD_FOLDER": os.path.join(instance_path, "uploads"),
        "MAX_CONTENT_LENGTH": 30 * 1024 * 1024,
        "BABEL_DEFAULT_LOCALE": "vi",
        "BABEL_DEFAULT_TIMEZONE": "Asia/Ho_Chi_Minh",
        "SESSION_COOKIE_HTTPONLY": True,
        "SESSION_COOKIE_SAMESITE": "Lax",
        "WTF_CSRF_TIME_LIMIT": None,
        "RATELIMIT_HEADERS_ENABLED": True,
        # Redis away: count in each process's memory instead of failing the request; and
        # should Redis die between a request's check and its deduction (a failed lookup is
        # counted after the answer), log it rather than answer 500.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_SWALLOW_ERRORS": True,
        # A process that saw Redis fail runs jobs in-process this long before asking again.
        "REDIS_RETRY_SECONDS": 5,
        # Personal data of citizens is anonymised this many days after a ticket closes.
        "RETENTION_DAYS": 5 * 365,
        # One request's body (uploads included); nginx's client_max_body_size must match.
        "MAX_UPLOAD_MB": 30,
        "METRICS_TOKEN": None,   # /metrics answers 404 until a token is set
        "LOG_FORMAT": None,      # json in production, text elsewhere
        "LOG_LEVEL": "INFO",
        "BACKUP_DIR": os.path.join(instance_path, "backups"),
        "CRON_RETENTION_SECONDS": 86400,  # the retention job's interval on rq's cron
        "CRON_SATISFACTION_SECONDS": 3600,  # "has it been fixed?" follow-ups
        "CRON_TRIAGE_SECONDS": 86400,  # retrain the triage model on the day's labels
        "TRIAGE_MODEL_PATH": None,     # default: triage-model.joblib in the instance folder
        "TRIAGE_PREFILL_SCORE": 0.6,   # a suggestion this sure pre-fills a missing field
        "PROXY_COUNT": 0,  # reverse proxies in front (nginx: 1) whose X-Forwarded-* to trust
        # "https://tiles.example.gov.vn/{z}/{x}/{y}.png": its origin joins the CSP's img-src.
        "MAP_TILE_URL": None,
        "MAP_TILE_ATTRIBUTION": "",
        # Staff sessions end after this long without a request (shared office machines: a
        # forgotten console should not stay open over lunch), and this long after sign-in
        # whatever happens (one working day and its overtime).
        "SESSION_IDLE_MINUTES": 30,
        "SESSION_MAX_HOURS": 12,
        # Failed sign-ins only. A client that signed in to the account before (its device
        # cookie) has its own counters, so no one else's failures can lock the owner out; one
        # address guessing one account is stopped long before the account-wide limit.
        "LOGIN_LIMIT_PER_CLIENT_ACCOUNT": "5 per minute;15 per hour",
        "LOGIN_LIMIT_PER_ACCOUNT": "50 per hour",
        "LOGIN_LIMIT_PER_IP": "30 per minute;300 per day",
        # Working hours of state agencies, local time.
        "WORK_SHIFTS": "07:30-11:30,13:00-17:00",
        # The PBX's call-event webhook answers 401 until a shared secret is set (docs/pbx.md).
        "PBX_SHARED_SECRET": None,
        # Public side: satisfaction, lookup limits, the web form.
        "SATISFACTION_REOPEN_DAYS": 7,      # "not fixed" within this many days reopens
        "SATISFACTION_FOLLOWUP_DAYS": 3,    # ask "has it been fixed?" this long after resolution
        # Failed lookups only: a citizen checking their own ticket is never locked out.
        "STATUS_LIMIT_PER_IP": "20 per 10 minutes;100 per day",
        "SUBMIT_LIMIT_PER_IP": "5 per 10 minutes;30 per day",
        "PUBLIC_MAX_PHOTOS": 5,
        "PUBLIC_PHOTO_MAX_BYTES": 8 * 1024 * 1024,
        # An Open311 media_url is fetched by a guarded job (channels/media_fetch.py).
        "MEDIA_FETCH_MAX_BYTES": 10 * 1024 * 1024,
        "MEDIA_FETCH_TIMEOUT": 10,     # seconds per connect or read
        "MEDIA_FETCH_DEADLINE": 30,    # seconds for the whole download
        "MEDIA_FETCH_ALLOW_PRIVATE": False,  # tests only: fetch from 127.0.0.1
        # Citizen channels: real hosts by default; a proxy or the tests point them elsewhere.
        "TELEGRAM_API_BASE_URL": "https://api.telegram.org",
        "ZALO_API_BASE_URL": "https://openapi.zalo.me",
        "ZALO_OAUTH_BASE_URL": "https://oauth.zaloapp.com",
        "ZALO_MAX_AGE_SECONDS": 600,
        "FACEBOOK_GRAPH_BASE_URL": "https://graph.facebook.com/v21.0",
        "SMTP_PORT": 25,
        "SMTP_STARTTLS": False,
        "IMAP_SSL": True,
        "IMAP_FOLDER": "INBOX",
        "IMAP_PROCESSED_FLAG": "$Hotline1022",
        # SMS gateway (channels/sms.py): disabled until SMS_GATEWAY_URL is set.
        "SMS_GATEWAY_METHOD": "POST",
        "SMS_GATEWAY_TIMEOUT": 10,
        "SMS_SENDER_NAME": "TONGDAI1022",
        "SMS_STRIP_DIACRITICS": False,
        # Outbox relay (hotline/services/delivery.py): retries with exponential backoff.
        "OUTBOX_MAX_ATTEMPTS": 8,
        "OUTBOX_BACKOFF_SECONDS": 30,
        "OUTBOX_LEASE_SECONDS": 120,
        "OUTBOX_REQUEUE_SECONDS": 300,
        "JOB_RETRY_INTERVALS": "10,30,60,300,900",
        # SLA notifications: escalate to the province this long (working hours) after due.
        "SLA_ESCALATE_AFTER_HOURS": 8,
        "SLA_ESCALATION_EMAILS": "",
        "DIGEST_LOCAL_TIME": "07:30",
        # rq cron (workers/cron.py), seconds between runs.
        "CRON_SLA_SCAN_SECONDS": 60,
        "CRON_RELAY_SECONDS": 60,
        "CRON_DIGEST_SECONDS": 300,
        "CRON_INTAKE_SECONDS": 30,
        # An rq drain job polls this long after the staged queue runs dry (workers/jobs.py).
        "INTAKE_DRAIN_LINGER_SECONDS": 1.0,
        "CRON_STATS_SECONDS": 3600,
        # Who runs that schedule besides rq's scheduler (workers/periodic.py): "auto" — a
        # thread in each web process when there is no Redis or while it is away —,
        # "in-process" or "off" (system cron). Unset: "auto", or "off" under TESTING.
        "PERIODIC_JOBS": None,
        "PERIODIC_TICK_SECONDS": 5,
        # API keys and Open311 services kept per web process (hotline/services/lookups.py).
        "LOOKUP_CACHE_SECONDS": 10,
    }


def from_environ(environ: Mapping[str, str]) -> dict[str, Any]:
    """The settings the environment gives; empty values count as unset."""
    out: dict[str, Any] = {}
    for var, key in ENV_VARS.items():
        value = environ.get(var)
        if value:
            out[key] = value
    if "SQLALCHEMY_DATABASE_URI" in out:
        out["SQLALCHEMY_DATABASE_URI"] = normalize_db_url(out["SQLALCHEMY_DATABASE_URI"])
    if "MAX_TEXT_LENGTH" in out:
        out["MAX_TEXT_LENGTH"] = int(out["MAX_TEXT_LENGTH"])
    for key in ("SATISFACTION_REOPEN_DAYS", "SATISFACTION_FOLLOWUP_DAYS"):
        if key in out:
            out[key] = int(out[key])
    for key in ("RETENTION_DAYS", "MAX_UPLOAD_MB", "SESSION_IDLE_MINUTES", "SESSION_MAX_HOURS"):
        if key in out:
            out[key] = int(out[key])
    if "MAX_UPLOAD_MB" in out:
        out["MAX_CONTENT_LENGTH"] = out["MAX_UPLOAD_MB"] * 1024 * 1024
    return out


def normalize_db_url(url: str) -> str:
    """Point plain ``postgresql://`` URLs at psycopg 3, the driver we install."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix):]
    return url


def check(config: Mapping[str, Any]) -> None:
    """Refuse settings that are unsafe in production."""
    if config.get("HOTLINE_ENV") != "production":
        return
    problems = []
    if config.get("SECRET_KEY") in (None, "", DEV_SECRET_KEY) or len(str(config["SECRET_KEY"])) < 32:
        problems.append("SECRET_KEY must be set to a random value of 32+ characters")
    if str(config.get("SQLALCHEMY_DATABASE_URI", "")).startswith("sqlite"):
        problems.append("DATABASE_URL must point at PostgreSQL, not SQLite")
    if config.get("DEBUG"):
        problems.append("debug mode must be off")
    if config.get("TESTING"):
        problems.append("TESTING must be off")
    if config.get("WTF_CSRF_ENABLED") is False:
        problems.append("CSRF protection must stay on")
    token = config.get("METRICS_TOKEN")
    if token and len(str(token)) < 24:
        problems.append("METRICS_TOKEN must be 24+ characters (or unset to turn /metrics off)")
    if "RETENTION_DAYS" in config and int(config["RETENTION_DAYS"] or 0) < 1:
        problems.append("HOTLINE_RETENTION_DAYS must be a positive number of days")
    if problems:
        raise ConfigError("Refusing to start with HOTLINE_ENV=production: " + "; ".join(problems))


def local_zone() -> ZoneInfo:
    """The province's time zone (``HOTLINE_TIMEZONE``): times are stored in UTC, shown in it."""
    return ZoneInfo(current_app.config["HOTLINE_TIMEZONE"])


def local_time(value: datetime, fmt: str = "%H:%M %d/%m/%Y") -> str:
    """A UTC instant as people in the province read it: "16:30 25/11/2026"."""
    return value.astimezone(local_zone()).strftime(fmt)
