"""Zalo Official Account: the OA webhook in, the OA API v3 customer-service message out.

Inbound: ``POST /channels/zalo/webhook``. Zalo signs every event with
``X-ZEvent-Signature: mac=<sha256(app_id + raw body + timestamp + OA secret key)>``, the
timestamp being the event's own ``timestamp`` field (ms); events older than
``ZALO_MAX_AGE_SECONDS`` are refused so a captured request cannot be replayed later.
``user_send_text`` / ``_image`` / ``_location`` go to intake (``msg_id`` is the
idempotency key); ``follow`` queues a welcome and opens no ticket; other events are
acknowledged and ignored (``oa_send_*`` are our own messages echoed back).

Outbound: ``POST {ZALO_API_BASE_URL}/v3.0/oa/message/cs`` with the OA access token.
Access tokens live about 25 hours: on Zalo's "access token invalid" answer the adapter
refreshes with the refresh token at ``{ZALO_OAUTH_BASE_URL}/v4/oa/access_token``,
stores the rotated pair (``services.channel_tokens``) and retries once.
"""
from __future__ import annotations

import hashlib
import time
from datetime import UTC, datetime
from typing import Any

import requests
from flask import Blueprint, current_app, request

from channels import webhooks
from channels.base import (
    ChannelAdapter,
    DeliveryResult,
    OutboundMessage,
    PermanentDeliveryError,
    TransientDeliveryError,
    register,
)
from channels.settings import as_int, base_url
from channels.webhooks import BadPayload, ChatCommand, Item
from hotline.domain.messages import Channel, ContactHandle, IncomingAttachment, IncomingMessage
from hotline.services import channel_tokens, chat_rating
from hotline.services.channel_tokens import TokenPair

SIGNATURE_HEADER = "X-ZEvent-Signature"
# "Access token is invalid" (-216, what an expired OA token gets) and -124 (ZNS's code).
TOKEN_ERRORS = frozenset({-216, -124})
TIMEOUT = (5, 20)
MAX_TEXT = 2000
TICKET_EVENTS = ("user_send_text", "user_send_image", "user_send_location")

bp = Blueprint("zalo", __name__, url_prefix="/channels/zalo")


# -- outbound -------------------------------------------------------------------------------

@register
class ZaloAdapter(ChannelAdapter):
    """Customer-service messages through the OA API v3, refreshing the token when it expires."""

    kind = "zalo"
    required_settings = ("ZALO_APP_ID", "ZALO_OA_SECRET_KEY", "ZALO_ACCESS_TOKEN",
                         "ZALO_REFRESH_TOKEN")

    def _seed(self) -> TokenPair:
        return TokenPair(str(self.config["ZALO_ACCESS_TOKEN"]),
                         str(self.config["ZALO_REFRESH_TOKEN"]))

    def send(self, message: OutboundMessage) -> DeliveryResult:
        tokens = channel_tokens.current(self.kind, self._seed())
        if tokens.expiring(datetime.now(UTC)):
            tokens = self._refresh(tokens.access_token)
        body = self._post_message(tokens.access_token, message)
        if body.get("error") in TOKEN_ERRORS:
            tokens = self._refresh(tokens.access_token)
            body = self._post_message(tokens.access_token, message)
        error = body.get("error")
        if error in TOKEN_ERRORS:
            raise PermanentDeliveryError("zalo: access token rejected even after a refresh "
                                         f"({error}: {body.get('message')})")
        if error != 0:
            raise PermanentDeliveryError(f"zalo: error {error}: {body.get('message')}")
        data = body.get("data") or {}
        return DeliveryResult(provider_id=str(data.get("message_id") or "") or None)

    def _post_message(self, access_token: str, message: OutboundMessage) -> dict[str, Any]:
        text = message.text if len(message.text) <= MAX_TEXT else message.text[:MAX_TEXT - 1] + "…"
        url = f"{base_url(self.config, 'ZALO_API_BASE_URL')}/v3.0/oa/message/cs"
        payload = {"recipient": {"user_id": message.recipient}, "message": {"text": text}}
        response = _call("send", lambda: requests.post(
            url, json=payload, headers={"access_token": access_token}, timeout=TIMEOUT))
        return response

    def _refresh(self, stale_access_token: str) -> TokenPair:
        if not self.config.get("ZALO_APP_SECRET"):
            raise PermanentDeliveryError(
                "zalo: the access token expired and ZALO_APP_SECRET is not set to refresh it")
        return channel_tokens.refresh(self.kind, self._seed(), stale_access_token, self._exchange)

    def _exchange(self, refresh_token: str) -> tuple[str, str | None, int | None]:
        url = f"{base_url(self.config, 'ZALO_OAUTH_BASE_URL')}/v4/oa/access_token"
        body = _call("token refresh", lambda: requests.post(
            url, headers={"secret_key": str(self.config["ZALO_APP_SECRET"])},
            data={"refresh_token": refresh_token, "app_id": str(self.config["ZALO_APP_ID"]),
                  "grant_type": "refresh_token"}, timeout=TIMEOUT))
        if not body.get("access_token"):
            raise PermanentDeliveryError(
                f"zalo: refresh refused ({body.get('error')}: "
                f"{body.get('error_description') or body.get('error_name')});"
                " re-authorise the OA and set ZALO_ACCESS_TOKEN/ZALO_REFRESH_TOKEN")
        expires_in = body.get("expires_in")
        return (str(body["access_token"]), body.get("refresh_token"),
                int(expires_in) if str(expires_in or "").isdigit() else None)


def _call(what: str, do) -> dict[str, Any]:
    """One HTTP call to Zalo: network trouble and 5xx are transient, other refusals are not."""
    try:
        response = do()
    except (requests.Timeout, requests.ConnectionError) as exc:
        raise TransientDeliveryError(f"zalo {what}: {exc}") from exc
    if response.status_code >= 500 or response.status_code == 429:
        raise TransientDeliveryError(f"zalo {what}: HTTP {response.status_code}")
    if response.status_code != 200:
        raise PermanentDeliveryError(f"zalo {what}: HTTP {response.status_code}")
    try:
        body = response.json()
    except ValueError as exc:
        raise TransientDeliveryError(f"zalo {what}: answer is not JSON") from exc
    if not isinstance(body, dict):
        raise TransientDeliveryError(f"zalo {what}: unexpected answer")
    return body


# -- inbound --------------------------------------------------------------------------------

def signature(app_id: str, raw: bytes, timestamp: str, secret: str) -> str:
    """The ``X-ZEvent-Signature`` value Zalo sends for these exact bytes."""
    digest = hashlib.sha256(app_id.encode() + raw + timestamp.encode() + secret.encode())
    return "mac=" + digest.hexdigest()


@bp.post("/webhook")
def webhook():
    """Zalo delivers one event per request."""
    config = current_app.config
    if not ZaloAdapter.configured(config):
        return webhooks.disabled("zalo")
    raw = webhooks.raw_body()
    try:
        data = webhooks.parse_json(raw)
        timestamp = str(data.get("timestamp") or "")
        # ASCII digits of a plausible length: "²" or 5000 digits would break int().
        if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 16):
            raise BadPayload("timestamp is missing or not a number")
    except BadPayload as exc:
        return webhooks.bad_request(exc.reason)
    expected = signature(str(config["ZALO_APP_ID"]), raw, timestamp,
                         str(config["ZALO_OA_SECRET_KEY"]))
    if not webhooks.same_secret(request.headers.get(SIGNATURE_HEADER), expected):
        return webhooks.unauthorized("wrong or missing X-ZEvent-Signature")
    max_age_ms = as_int(config, "ZALO_MAX_AGE_SECONDS", 600) * 1000
    if abs(time.time() * 1000 - int(timestamp)) > max_age_ms:
        return webhooks.unauthorized("stale event: timestamp outside ZALO_MAX_AGE_SECONDS")
    try:
        items = parse_event(data)
    except BadPayload as exc:
        return webhooks.bad_request(exc.reason)
    return webhooks.store_and_ack(items)


def parse_event(data: dict[str, Any]) -> list[Item]:
    """Turn one OA webhook event into what intake or the OA must do (maybe nothing)."""
    event = data.get("event_name")
    if not isinstance(event, str):
        raise BadPayload("event_name is missing")
    timestamp = str(data.get("timestamp"))
    if event == "follow":
        follower = _id(data.get("follower"), "follower")
        return [ChatCommand(Channel.ZALO.value, follower, "welcome", "",
                            key=f"zalo:follow:{follower}:{timestamp}")]
    if event not in TICKET_EVENTS:
        return []
    sender = _id(data.get("sender"), "sender")
    message = data.get("message")
    if not isinstance(message, dict) or not message.get("msg_id"):
        raise BadPayload("message.msg_id is missing")
    common = dict(channel=Channel.ZALO, external_id=str(message["msg_id"]),
                  received_at=webhooks.platform_time(int(timestamp), per_second=1000),
                  contact=ContactHandle(zalo_user_id=sender))
    attachments = message.get("attachments") or []
    if not isinstance(attachments, list) or not all(isinstance(a, dict) for a in attachments):
        raise BadPayload("message.attachments must be a list of objects")
    if event == "user_send_location":
        lat, lon = _coordinates(attachments)
        return [IncomingMessage(**common, lat=lat, lon=lon, location_only=True)]
    files = []
    for n, item in enumerate(attachments):
        url = (item.get("payload") or {}).get("url")
        if item.get("type") == "image" and url:
            files.append(IncomingAttachment(filename=f"zalo-{message['msg_id']}-{n + 1}.jpg",
                                            content_type="image/jpeg", remote_ref=str(url)))
    text = message.get("text")
    if event == "user_send_text" and not (isinstance(text, str) and text.strip()):
        raise BadPayload("message.text is missing")
    rating = chat_rating.parse_command(text) if event == "user_send_text" else None
    if rating is not None:  # "đánh giá CODE N": a reply, never a ticket
        return [ChatCommand(Channel.ZALO.value, sender, "rate", rating,
                            key=f"zalo:{message['msg_id']}")]
    if event == "user_send_image" and not files:
        raise BadPayload("user_send_image without an image URL")
    return [IncomingMessage(**common, text=text if isinstance(text, str) else None,
                            attachments=tuple(files))]


def _id(value: Any, name: str) -> str:
    if not isinstance(value, dict) or not value.get("id"):
        raise BadPayload(f"{name}.id is missing")
    return str(value["id"])


def _coordinates(attachments: list[dict[str, Any]]) -> tuple[float, float]:
    for item in attachments:
        coords = (item.get("payload") or {}).get("coordinates")
        if item.get("type") == "location" and isinstance(coords, dict):
            try:
                return float(coords["latitude"]), float(coords["longitude"])
            except (KeyError, TypeError, ValueError) as exc:
                raise BadPayload("location coordinates are not numbers") from exc
    raise BadPayload("user_send_location without coordinates")
