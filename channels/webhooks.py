"""What every chat webhook shares: the enabled check, signatures, bodies, storing, answers.

A webhook stores before it acknowledges: it stages every message of the payload
(``services.staging.stage``: checked, then stored for the intake drain), queues the chat
replies it owes (greeting, status), commits once, and only then answers 200. Anything it
cannot store — a malformed body (400), a bad signature (401), a disabled channel (503, so
the platform redelivers once the secrets are set) — stores nothing.
"""
from __future__ import annotations

import hmac
import json
import logging
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from flask import Flask, jsonify, request

from hotline import tx
from hotline.domain import text
from hotline.domain.errors import ValidationError
from hotline.domain.messages import IncomingMessage, IntakeResult
from hotline.extensions import csrf, db
from hotline.services import chat_rating, chat_replies, staging, status

log = logging.getLogger(__name__)

# Webhook bodies are small JSON documents; anything bigger is not from the platform.
MAX_BODY_BYTES = 1024 * 1024
CHAT_CHANNELS = ("telegram", "zalo", "facebook")
# The oldest event time taken as real, and how far ahead of our clock a platform's may be.
EARLIEST_EVENT = datetime(2000, 1, 1, tzinfo=UTC)
FUTURE_SLACK = timedelta(days=1)


class BadPayload(Exception):
    """The body is not what the platform sends: answered 400 with ``reason``."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ChatCommand:
    """Something the citizen asked the bot that is not ticket content (/start, /status, follow)."""

    channel: str
    chat_id: str
    name: str        # start, welcome, status, rate, help
    argument: str
    key: str         # idempotency key of the reply (derived from the inbound event id)


Item = IncomingMessage | ChatCommand


def init_app(app: Flask) -> None:
    """Register the webhook blueprints (CSRF-exempt: they are signed instead) and say
    at start-up which channels are disabled for lack of their settings."""
    from channels import facebook, telegram, zalo

    for module in (telegram, zalo, facebook):
        csrf.exempt(module.bp)
        app.register_blueprint(module.bp)
    off = [f"{row['channel']} (missing {', '.join(row['missing'])})"
           for row in channel_status(app.config) if not row["enabled"]]
    if off:
        app.logger.warning("channels disabled: %s", "; ".join(off))
    if app.config.get("ZALO_ACCESS_TOKEN") and not app.config.get("ZALO_APP_SECRET"):
        app.logger.warning("channel zalo: ZALO_APP_SECRET is not set, so expired access tokens "
                           "cannot be refreshed")


def channel_status(config: Mapping[str, Any]) -> list[dict[str, Any]]:
    """Per citizen channel: enabled or not and which settings are missing (for the admin page)."""
    from channels.base import adapter_classes
    from channels.settings import mail_addresses

    classes = adapter_classes()
    rows = []
    for kind in (*CHAT_CHANNELS, "email"):
        cls = classes.get(kind)
        missing = cls.missing_settings(config) if cls else [f"channels.{kind}"]
        rows.append({"channel": kind, "enabled": not missing, "missing": missing})
    rows.append({"channel": "email-inbound", "enabled": bool(mail_addresses(config)),
                 "missing": [] if mail_addresses(config) else ["HOTLINE_MAIL_ADDRESSES"]})
    return rows


# -- answers -------------------------------------------------------------------------------

def error_response(status_code: int, message: str, code: str):
    return jsonify(error={"code": status_code, "reason": code, "message": message}), status_code


def disabled(kind: str):
    return error_response(503, f"channel disabled: {kind} has no secrets configured",
                          "channel_disabled")


def unauthorized(message: str = "bad signature"):
    return error_response(401, message, "bad_signature")


def bad_request(reason: str):
    return error_response(400, reason, "malformed")


# -- checks ----------------------------------------------------------------------------------

def same_secret(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a header value with the expected secret."""
    if not given or not expected:
        return False
    return hmac.compare_digest(given.encode("utf-8"), str(expected).encode("utf-8"))


def raw_body() -> bytes:
    """The exact request bytes (signatures are over these, never a re-serialised body)."""
    request.max_content_length = MAX_BODY_BYTES
    return request.get_data(cache=True)


def parse_json(raw: bytes) -> dict[str, Any]:
    """The body as a JSON object, or ``BadPayload``.

    NUL is dropped and a lone surrogate (a ``"\\ud800"`` escape: valid JSON, not storable)
    becomes U+FFFD: the message is signed and acknowledged, so it is kept, minus what no
    column can hold, rather than staged in a form that could never become a ticket.
    """
    try:
        data = text.scrub_data(json.loads(raw.decode("utf-8")))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BadPayload(f"body is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise BadPayload("body must be a JSON object")
    return data


def platform_time(value: Any, *, per_second: int = 1, now: datetime | None = None) -> datetime:
    """When the platform says an event happened (``value`` in 1/``per_second`` seconds since
    the epoch: 1000 for Facebook's and Zalo's milliseconds), as UTC.

    A time that is not a finite number, is before ``EARLIEST_EVENT`` or more than
    ``FUTURE_SLACK`` ahead of our clock is not a real one (a platform sends its own clock):
    the event is kept with the time we received it, and the oddity is logged. Refusing it
    would lose a signed message the citizen sent; trusting it would start the SLA clock in
    another century.
    """
    now = now or datetime.now(UTC)
    seconds = None
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        try:
            seconds = value / per_second
        except OverflowError:  # an integer of hundreds of digits
            seconds = None
    if seconds is not None and math.isfinite(seconds) \
            and EARLIEST_EVENT.timestamp() <= seconds <= (now + FUTURE_SLACK).timestamp():
        return datetime.fromtimestamp(seconds, UTC)
    log.warning("event time %.40r is not a sane timestamp: using the receive time", value)
    return now


# -- storing --------------------------------------------------------------------------------

def store_and_ack(items: Iterable[Item]):
    """Store every item in one transaction and answer 200 — or 400 and store nothing."""
    try:
        results = store(items)
    except ValidationError as exc:
        return bad_request(f"{exc.code}: {exc.message}")
    return jsonify(ok=True, stored=[{"code": r.code, "created": r.created,
                                     "duplicate": r.duplicate, "pending": r.pending}
                                    for r in results]), 200


def store(items: Iterable[Item]) -> list[IntakeResult]:
    """Stage each message and queue each reply, then commit once.

    The messages become tickets in the intake drain (``workers.jobs.drain_intake``),
    which also fetches files sent as references (``fetcher_for``). A message that
    intake refuses rolls back the whole payload (the platform's retry gets the same
    answer, and nothing is half stored).
    """
    results: list[IntakeResult] = []
    try:
        for item in items:
            if isinstance(item, ChatCommand):
                answer(item)
                continue
            results.append(staging.stage(item))
    except ValidationError:
        db.session.rollback()
        raise
    tx.commit()
    return results


def fetcher_for(channel: str) -> Callable[[int], None] | None:
    """The job that downloads a file this channel sent as a reference."""
    from channels import downloads, media_fetch, telegram
    return {"telegram": telegram.fetch_file, "zalo": downloads.fetch_url,
            "facebook": downloads.fetch_url, "open311": media_fetch.fetch_media}.get(channel)


def answer(command: ChatCommand) -> None:
    """Queue the reply a chat command asks for (through the outbox)."""
    if command.name in ("start", "welcome"):
        text, purpose = chat_replies.welcome_text(command.channel), "welcome"
    elif command.name == "status":
        text = status.status_text_for_chat(command.argument, command.channel, command.chat_id)
        purpose = "status"
    elif command.name == "rate":
        text = chat_rating.rating_text_for_chat(command.argument, command.channel,
                                                command.chat_id)
        purpose = "rating"
    else:
        text, purpose = chat_replies.help_text(command.channel), "help"
    chat_replies.queue_reply(command.channel, command.chat_id, text, key=command.key,
                             purpose=purpose)
