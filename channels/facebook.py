"""Facebook Messenger: the Page webhook in, the Send API out.

Inbound: ``GET /channels/facebook/webhook`` answers Meta's subscription handshake
(``hub.mode=subscribe``, ``hub.verify_token``, ``hub.challenge``); ``POST`` carries
``X-Hub-Signature-256: sha256=<HMAC-SHA256(app secret, raw body)>`` and may batch
several entries and messages — each message (``mid`` is its idempotency key) goes to
intake, all in one transaction. Echoes of the Page's own messages, deliveries, reads
and reactions are acknowledged and ignored.

Outbound: ``POST {FACEBOOK_GRAPH_BASE_URL}/me/messages`` with the Page access token.
"""
from __future__ import annotations

import hashlib
import hmac
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
from channels.settings import base_url
from channels.webhooks import BadPayload, ChatCommand, Item
from hotline.domain.messages import Channel, ContactHandle, IncomingAttachment, IncomingMessage
from hotline.services import chat_rating

SIGNATURE_HEADER = "X-Hub-Signature-256"
TIMEOUT = (5, 20)
MAX_TEXT = 2000
# Graph API error codes that mean "try again later" (throttling, temporary outage).
TRANSIENT_CODES = frozenset({1, 2, 4, 17, 32, 341, 613})
_FILE_TYPES = {"image": ("image/jpeg", ".jpg"), "video": ("video/mp4", ".mp4"),
               "audio": ("audio/mpeg", ".mp3"), "file": ("application/octet-stream", "")}

bp = Blueprint("facebook", __name__, url_prefix="/channels/facebook")


# -- outbound -------------------------------------------------------------------------------

@register
class FacebookAdapter(ChannelAdapter):
    """Text replies through the Messenger Send API."""

    kind = "facebook"
    required_settings = ("FACEBOOK_APP_SECRET", "FACEBOOK_VERIFY_TOKEN", "FACEBOOK_PAGE_TOKEN")

    def send(self, message: OutboundMessage) -> DeliveryResult:
        text = message.text if len(message.text) <= MAX_TEXT else message.text[:MAX_TEXT - 1] + "…"
        url = f"{base_url(self.config, 'FACEBOOK_GRAPH_BASE_URL')}/me/messages"
        payload = {"recipient": {"id": message.recipient},
                   "messaging_type": str(message.extra.get("messaging_type", "RESPONSE")),
                   "message": {"text": text}}
        if message.extra.get("tag"):
            payload["tag"] = str(message.extra["tag"])
        try:
            response = requests.post(
                url, params={"access_token": self.config["FACEBOOK_PAGE_TOKEN"]}, json=payload,
                timeout=TIMEOUT)
        except (requests.Timeout, requests.ConnectionError) as exc:
            raise TransientDeliveryError(f"facebook: {exc}") from exc
        try:
            body = response.json()
        except ValueError:
            body = {}
        if response.status_code >= 500:
            raise TransientDeliveryError(f"facebook: HTTP {response.status_code}")
        error = body.get("error") if isinstance(body, dict) else None
        if response.status_code != 200 or error:
            error = error or {}
            detail = (f"facebook: HTTP {response.status_code}, error {error.get('code')}"
                      f"/{error.get('error_subcode')}: {error.get('message')}")
            if error.get("is_transient") or error.get("code") in TRANSIENT_CODES:
                raise TransientDeliveryError(detail)
            raise PermanentDeliveryError(detail)
        return DeliveryResult(provider_id=body.get("message_id"))


# -- inbound --------------------------------------------------------------------------------

@bp.get("/webhook")
def verify():
    """Meta's subscription handshake: echo the challenge when the verify token matches."""
    config = current_app.config
    if not FacebookAdapter.configured(config):
        return webhooks.disabled("facebook")
    if request.args.get("hub.mode") == "subscribe" and webhooks.same_secret(
            request.args.get("hub.verify_token"), str(config["FACEBOOK_VERIFY_TOKEN"])):
        return request.args.get("hub.challenge", ""), 200, {"Content-Type": "text/plain"}
    return webhooks.error_response(403, "verify token does not match", "bad_verify_token")


def signature(app_secret: str, raw: bytes) -> str:
    """The ``X-Hub-Signature-256`` value Meta sends for these exact bytes."""
    return "sha256=" + hmac.new(app_secret.encode(), raw, hashlib.sha256).hexdigest()


@bp.post("/webhook")
def webhook():
    config = current_app.config
    if not FacebookAdapter.configured(config):
        return webhooks.disabled("facebook")
    raw = webhooks.raw_body()
    if not webhooks.same_secret(request.headers.get(SIGNATURE_HEADER),
                                signature(str(config["FACEBOOK_APP_SECRET"]), raw)):
        return webhooks.unauthorized("wrong or missing X-Hub-Signature-256")
    try:
        items = parse_payload(webhooks.parse_json(raw))
    except BadPayload as exc:
        return webhooks.bad_request(exc.reason)
    return webhooks.store_and_ack(items)


def parse_payload(data: dict[str, Any]) -> list[Item]:
    """Every citizen message (and Get Started tap) in a ``page`` webhook batch, in order."""
    if data.get("object") != "page":
        raise BadPayload("object must be 'page'")
    entries = data.get("entry")
    if not isinstance(entries, list):
        raise BadPayload("entry must be a list")
    items: list[Item] = []
    for entry in entries:
        if not isinstance(entry, dict):
            raise BadPayload("each entry must be an object")
        events = entry.get("messaging") or []
        if not isinstance(events, list):
            raise BadPayload("entry.messaging must be a list")
        for event in events:
            item = _parse_event(event)
            if item is not None:
                items.append(item)
    return items


def _parse_event(event: Any) -> Item | None:
    if not isinstance(event, dict):
        raise BadPayload("each messaging event must be an object")
    sender = event.get("sender")
    if not isinstance(sender, dict) or not sender.get("id"):
        raise BadPayload("messaging event without sender.id")
    psid = str(sender["id"])
    timestamp = event.get("timestamp")
    if not isinstance(timestamp, int) or isinstance(timestamp, bool):
        raise BadPayload("messaging event without a numeric timestamp")
    postback = event.get("postback")
    if isinstance(postback, dict) and postback.get("payload") == "GET_STARTED":
        return ChatCommand(Channel.FACEBOOK.value, psid, "welcome", "",
                           key=f"facebook:postback:{postback.get('mid') or f'{psid}:{timestamp}'}")
    message = event.get("message")
    if not isinstance(message, dict) or message.get("is_echo"):
        return None
    if not message.get("mid"):
        raise BadPayload("message.mid is missing")
    mid = str(message["mid"])
    common = dict(channel=Channel.FACEBOOK, external_id=mid,
                  received_at=webhooks.platform_time(timestamp, per_second=1000),
                  contact=ContactHandle(facebook_psid=psid))
    files: list[IncomingAttachment] = []
    attachments = message.get("attachments") or []
    if not isinstance(attachments, list):
        raise BadPayload("message.attachments must be a list")
    for n, item in enumerate(attachments):
        payload = item.get("payload") if isinstance(item, dict) else None
        if not isinstance(payload, dict) or payload.get("sticker_id"):
            continue  # the "like" thumb and stickers carry nothing to handle
        kind = item.get("type")
        coords = payload.get("coordinates")
        if kind == "location" and isinstance(coords, dict):
            try:
                lat, lon = float(coords["lat"]), float(coords["long"])
            except (KeyError, TypeError, ValueError) as exc:
                raise BadPayload("location coordinates are not numbers") from exc
            return IncomingMessage(**common, lat=lat, lon=lon, location_only=True)
        if kind in _FILE_TYPES and payload.get("url"):
            content_type, suffix = _FILE_TYPES[kind]
            files.append(IncomingAttachment(filename=f"facebook-{n + 1}{suffix}",
                                            content_type=content_type,
                                            remote_ref=str(payload["url"])))
    text = message.get("text")
    text = text if isinstance(text, str) and text.strip() else None
    if text is None and not files:
        return None
    rating = chat_rating.parse_command(text) if not files else None
    if rating is not None:  # "đánh giá CODE N": a reply, never a ticket
        return ChatCommand(Channel.FACEBOOK.value, psid, "rate", rating, key=f"facebook:{mid}")
    return IncomingMessage(**common, text=text, attachments=tuple(files))
