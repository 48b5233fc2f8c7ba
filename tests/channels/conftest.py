"""Channel tests: the shared fixtures (real wire payloads and their signatures), the
secrets they were signed with, and helpers to post them and to read what was stored.

Each test module sets ``app_config`` from ``CHANNEL_SETTINGS`` itself (this directory also
holds other channels' tests)."""
from __future__ import annotations

import json
import socket
from pathlib import Path

from sqlalchemy import func, select

from channels.base import OutboundMessage
from hotline.extensions import db
from hotline.models import Attachment, Contact, InboundMessage, OutboxMessage, Ticket, TicketEvent

REPO_ROOT = Path(__file__).resolve().parents[2]
# CI clones the repository with shared/ beside it.
FIXTURES = Path(REPO_ROOT).parent / "shared" / "fixtures"
SIGNATURES = json.loads((FIXTURES / "signatures.json").read_text(encoding="utf-8"))
HOTLINE_ADDRESS = "1022@hotline.example.gov.vn"

CHANNEL_SETTINGS = {
    "TELEGRAM_BOT_TOKEN": "123456:TEST-telegram-bot-token",
    "TELEGRAM_WEBHOOK_SECRET": SIGNATURES["telegram_secret_token"],
    "ZALO_APP_ID": SIGNATURES["zalo_app_id"],
    "ZALO_OA_SECRET_KEY": SIGNATURES["zalo_oa_secret_key"],
    "ZALO_APP_SECRET": "test-zalo-app-secret",
    "ZALO_ACCESS_TOKEN": "zalo-access-1",
    "ZALO_REFRESH_TOKEN": "zalo-refresh-1",
    # The fixtures carry fixed 2025 timestamps: accept them (staleness is tested apart).
    "ZALO_MAX_AGE_SECONDS": 100 * 365 * 24 * 3600,
    "ZALO_API_BASE_URL": "https://openapi.zalo.test",
    "ZALO_OAUTH_BASE_URL": "https://oauth.zalo.test",
    "FACEBOOK_APP_SECRET": SIGNATURES["facebook_app_secret"],
    "FACEBOOK_VERIFY_TOKEN": "test-facebook-verify-token",
    "FACEBOOK_PAGE_TOKEN": "test-facebook-page-token",
    "FACEBOOK_GRAPH_BASE_URL": "https://graph.facebook.test/v21.0",
    "HOTLINE_MAIL_ADDRESSES": f"{HOTLINE_ADDRESS}, tiepnhan@hotline.example.gov.vn",
    "MAIL_FROM": f"Tổng đài 1022 <{HOTLINE_ADDRESS}>",
}


def fixture_bytes(name: str) -> bytes:
    """A fixture file's exact bytes (signatures are over these)."""
    return (FIXTURES / name).read_bytes()


def counts() -> dict[str, int]:
    """How many rows each table intake writes to holds."""
    return {m.__tablename__: db.session.scalar(select(func.count()).select_from(m))
            for m in (Ticket, TicketEvent, Contact, InboundMessage, OutboxMessage, Attachment)}


def settle() -> None:
    """End the test's read transaction (SQLite holds its write lock until then)."""
    db.session.rollback()


def outbound(row: OutboxMessage) -> OutboundMessage:
    """The message the relay builds from an outbox row."""
    return OutboundMessage(key=row.key, channel=row.channel, recipient=row.recipient,
                           text=row.payload["text"], subject=row.payload.get("subject"),
                           ticket_code=row.payload.get("code"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]
