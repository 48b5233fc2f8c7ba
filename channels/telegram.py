"""Telegram: the bot's webhook in, the Bot API out (python-telegram-bot v22).

Inbound: ``POST /channels/telegram/webhook`` with the ``X-Telegram-Bot-Api-Secret-Token``
registered through ``setWebhook``. ``update_id`` is the idempotency key. Text opens a
ticket (or threads into the chat's open one), a photo keeps its largest size's
``file_id`` for ``fetch_file`` to download later, a location sets lat/lon on the open
ticket, ``/start`` greets and ``/status CODE`` answers through the outbox.

Outbound: ``TelegramAdapter.send`` through ``telegram.Bot`` (async in v22, so each call
runs its own event loop; the relay calls it from a plain worker thread).
"""
from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC
from typing import Any, TypeVar

from flask import Blueprint, current_app, request
from telegram import Bot, Message
from telegram import error as tg_error

from channels import webhooks
from channels.base import (
    ChannelAdapter,
    DeliveryResult,
    OutboundMessage,
    PermanentDeliveryError,
    TransientDeliveryError,
    register,
)
from channels.settings import base_url
from channels.webhooks import BadPayload, ChatCommand, Item
from hotline import tx
from hotline.domain.messages import Channel, ContactHandle, IncomingAttachment, IncomingMessage
from hotline.services import chat_rating, remote_attachments

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
MAX_TEXT = 4096  # Bot API limit for one message
T = TypeVar("T")

bp = Blueprint("telegram", __name__, url_prefix="/channels/telegram")


# -- outbound -------------------------------------------------------------------------------

def _run_async(main: Callable[[], Awaitable[T]]) -> T:
    """Run ``main()`` to completion from synchronous code.

    python-telegram-bot is async; our relay and jobs are not. When this thread
    already runs an event loop (an async server, a browser-test driver),
    ``asyncio.run`` would refuse, so the coroutine gets a thread of its own.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(main())
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(main())).result()


@register
class TelegramAdapter(ChannelAdapter):
    """Sends through the Bot API; also downloads files and registers the webhook."""

    kind = "telegram"
    required_settings = ("TELEGRAM_BOT_TOKEN", "TELEGRAM_WEBHOOK_SECRET")

    def _bot(self) -> Bot:
        base = base_url(self.config, "TELEGRAM_API_BASE_URL")
        return Bot(str(self.config["TELEGRAM_BOT_TOKEN"]), base_url=f"{base}/bot",
                   base_file_url=f"{base}/file/bot")

    def _run(self, call: Callable[[Bot], Awaitable[T]]) -> T:
        async def main() -> T:
            bot = self._bot()
            try:
                # No ``initialize()``: it would spend a getMe round trip on every send.
                return await call(bot)
            finally:
                await bot.shutdown()
        try:
            return _run_async(main)
        except (tg_error.RetryAfter, tg_error.TimedOut) as exc:
            raise TransientDeliveryError(f"telegram: {exc}") from exc
        except tg_error.BadRequest as exc:  # a NetworkError subclass: check it first
            raise PermanentDeliveryError(f"telegram: {exc}") from exc
        except tg_error.NetworkError as exc:  # 5xx, connection failures
            raise TransientDeliveryError(f"telegram: {exc}") from exc
        except tg_error.TelegramError as exc:  # Forbidden (blocked), InvalidToken, ...
            raise PermanentDeliveryError(f"telegram: {type(exc).__name__}: {exc}") from exc

    def send(self, message: OutboundMessage) -> DeliveryResult:
        text = message.text if len(message.text) <= MAX_TEXT else message.text[:MAX_TEXT - 1] + "…"
        sent: Message = self._run(lambda bot: bot.send_message(chat_id=message.recipient,
                                                               text=text))
        return DeliveryResult(provider_id=str(sent.message_id))

    def download(self, file_id: str) -> bytes:
        """The bytes of a file the citizen sent (``getFile`` then the file URL)."""
        async def fetch(bot: Bot) -> bytes:
            file = await bot.get_file(file_id)
            return bytes(await file.download_as_bytearray())
        return self._run(fetch)

    def set_webhook(self, url: str) -> bool:
        """Register ``url`` with Telegram, with our secret token and the updates we read."""
        secret = str(self.config["TELEGRAM_WEBHOOK_SECRET"])
        return self._run(lambda bot: bot.set_webhook(url=url, secret_token=secret,
                                                     allowed_updates=["message"]))


def fetch_file(attachment_id: int) -> None:
    """Job: download a Telegram photo/file into attachment storage; a no-op once stored.

    Enqueue it with ``workers.queue.enqueue(fetch_file, attachment_id)``. A transient
    failure raises, so rq retries it with backoff.
    """
    pending = remote_attachments.pending(attachment_id)
    if pending is None:
        return
    adapter = TelegramAdapter(current_app.config)
    data = adapter.download(pending.remote_ref)
    remote_attachments.store_fetched(attachment_id, data)
    tx.commit()


# -- inbound --------------------------------------------------------------------------------

@bp.post("/webhook")
def webhook():
    """Telegram delivers one ``Update`` per request."""
    config = current_app.config
    if not TelegramAdapter.configured(config):
        return webhooks.disabled("telegram")
    if not webhooks.same_secret(request.headers.get(SECRET_HEADER),
                                str(config["TELEGRAM_WEBHOOK_SECRET"])):
        return webhooks.unauthorized("wrong or missing secret token")
    try:
        items = parse_update(webhooks.parse_json(webhooks.raw_body()))
    except BadPayload as exc:
        return webhooks.bad_request(exc.reason)
    return webhooks.store_and_ack(items)


def parse_update(data: dict[str, Any]) -> list[Item]:
    """Turn one Bot API ``Update`` into what intake or the bot must do (maybe nothing)."""
    update_id = data.get("update_id")
    if not isinstance(update_id, int) or isinstance(update_id, bool):
        raise BadPayload("update_id is missing or not an integer")
    # Edited messages, channel posts, callbacks...: acknowledged and ignored, so Telegram
    # does not redeliver them (the webhook is registered for "message" only anyway). Only
    # the message is parsed: the whole Update costs half as much again, for nothing.
    raw = data.get("message")
    if raw is None:
        return []
    try:
        if not isinstance(raw, dict):
            raise TypeError("message is not an object")
        # The Bot API's "date" (seconds): an insane one is replaced by the receive time
        # before the library turns it into a datetime (where it would overflow).
        if "date" in raw:
            raw = {**raw, "date": int(webhooks.platform_time(raw["date"]).timestamp())}
        msg = Message.de_json(raw, bot=None)
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BadPayload(f"not a Telegram Update: {exc!r}") from exc
    if msg is None or msg.chat is None:
        return []
    chat_id = str(msg.chat.id)
    key = f"telegram:{update_id}"
    # A command is what Telegram marks as one (a bot_command entity at the start).
    if msg.text and msg.entities and msg.entities[0].type == "bot_command" \
            and msg.entities[0].offset == 0:
        command, _, argument = msg.text.partition(" ")
        name = command[1:].split("@", 1)[0].lower()
        return [ChatCommand(Channel.TELEGRAM.value, chat_id, name, argument.strip(), key)]
    rating = chat_rating.parse_command(msg.text)
    if rating is not None:  # "đánh giá CODE N" typed as text: a reply, never a ticket
        return [ChatCommand(Channel.TELEGRAM.value, chat_id, "rate", rating, key)]
    sender = msg.from_user
    name = " ".join(filter(None, [sender.first_name, sender.last_name])) if sender else None
    common = dict(channel=Channel.TELEGRAM, external_id=str(update_id),
                  received_at=msg.date.astimezone(UTC),
                  contact=ContactHandle(name=name or None, telegram_chat_id=chat_id))
    if msg.location is not None:
        return [IncomingMessage(**common, lat=msg.location.latitude, lon=msg.location.longitude,
                                location_only=True)]
    attachments = _attachments(msg)
    text = msg.text or msg.caption
    if not text and not attachments:
        return []  # stickers, polls, contacts...: nothing a ticket can hold
    return [IncomingMessage(**common, text=text, attachments=tuple(attachments))]


def _attachments(msg: Message) -> list[IncomingAttachment]:
    files = []
    if msg.photo:
        # Telegram sends every size it made; keep the largest.
        largest = max(msg.photo, key=lambda p: (p.file_size or 0, p.width * p.height))
        files.append(IncomingAttachment(filename=f"telegram-{largest.file_unique_id}.jpg",
                                        content_type="image/jpeg", remote_ref=largest.file_id))
    if msg.document is not None:
        doc = msg.document
        files.append(IncomingAttachment(filename=doc.file_name or f"telegram-{doc.file_unique_id}",
                                        content_type=doc.mime_type or "application/octet-stream",
                                        remote_ref=doc.file_id))
    if msg.voice is not None:
        files.append(IncomingAttachment(filename=f"telegram-{msg.voice.file_unique_id}.ogg",
                                        content_type=msg.voice.mime_type or "audio/ogg",
                                        remote_ref=msg.voice.file_id))
    return files
