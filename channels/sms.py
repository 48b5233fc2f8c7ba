"""SMS through a configurable HTTP gateway (Vietnamese brandname SMS providers).

Phone, web-form and Open311 citizens hear back by SMS. Providers (eSMS,
SpeedSMS, VietGuys, the carriers' own gateways…) all take one HTTP request per
message but differ in field names, so the request is described by settings:

``SMS_GATEWAY_URL``
    The endpoint. May hold placeholders (below), URL-encoded when filled in —
    for GET gateways the whole message can live in the URL.
``SMS_GATEWAY_METHOD``
    ``POST`` (JSON body, the default), ``POST_FORM`` (form-encoded body) or
    ``GET`` (body fields, if any, become query parameters).
``SMS_GATEWAY_BODY``
    A JSON object whose string values may hold placeholders, e.g. for eSMS::

        {"ApiKey": "…", "SecretKey": "…", "Phone": "{phone_local}", "Content": "{text}",
         "Brandname": "{sender}", "SmsType": "2", "IsUnicode": "1", "RequestId": "{request_id}"}

    Default: ``{"to": "{phone}", "from": "{sender}", "text": "{text}",
    "request_id": "{request_id}"}``.
``SMS_GATEWAY_AUTH``
    ``"Bearer <token>"`` / ``"Basic <b64>"`` (sent as ``Authorization``) or
    ``"<Header-Name>: <value>"`` for a provider's own header. Optional.
``SMS_GATEWAY_SUCCESS``
    For providers that answer HTTP 200 with an error code in the body:
    ``"CodeResult=100"`` (a dotted JSON path, then the accepted values, comma
    separated). Anything else is a permanent failure, with the provider's
    ``ErrorMessage``/``message`` as the reason.
``SMS_GATEWAY_ID_FIELD``
    Dotted JSON path of the provider's message id (``SMSID``, ``data.tranId``);
    by default the first of a few usual names.
``SMS_SENDER_NAME``
    The registered brandname. ``SMS_GATEWAY_TIMEOUT``: seconds (default 10).
``SMS_STRIP_DIACRITICS``
    Send Vietnamese without accents (cheaper non-Unicode brandname SMS).

Placeholders: ``{phone}`` (E.164, ``+84912345678``), ``{phone_intl}``
(``84912345678``), ``{phone_local}`` (``0912345678``), ``{text}``,
``{sender}``, ``{request_id}`` (a stable 32-character id derived from the
outbox key: providers that block duplicate request ids — eSMS's ``RequestId``
— make a retried send after a crash harmless) and ``{code}`` (the ticket code).

Errors: timeouts, connection errors, HTTP 5xx, 408 and 429 are transient (the
relay retries with backoff); other 4xx and a body that says "failed" are permanent.
"""
from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote

import requests

from channels.base import (ChannelAdapter, DeliveryResult, OutboundMessage,
                           PermanentDeliveryError, TransientDeliveryError, register)
from hotline.services.settings import setting_bool, setting_float

DEFAULT_BODY = {"to": "{phone}", "from": "{sender}", "text": "{text}",
                "request_id": "{request_id}"}
_ID_FIELDS = ("SMSID", "smsid", "message_id", "messageId", "msgid", "id", "data.tranId",
              "data.id", "data.message_id")
_ERROR_FIELDS = ("ErrorMessage", "error_message", "message", "error", "description")
_PLACEHOLDER = re.compile(r"\{(phone|phone_intl|phone_local|text|sender|request_id|code)\}")
_HEADER_NAME = re.compile(r"^[A-Za-z0-9-]+$")
_METHODS = ("POST", "POST_FORM", "GET")


def request_id(key: str) -> str:
    """The id sent as the provider's duplicate-blocking request id: stable per outbox key."""
    return hashlib.sha256(key.encode()).hexdigest()[:32]


def strip_diacritics(text: str) -> str:
    """Vietnamese without accents, case kept: ``"Đèn đường"`` → ``"Den duong"``."""
    text = text.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", text)
    return unicodedata.normalize("NFC", "".join(c for c in decomposed
                                                if not unicodedata.combining(c)))


def _phone_forms(recipient: str) -> dict[str, str]:
    digits = recipient.lstrip("+")
    local = "0" + digits[2:] if digits.startswith("84") else digits
    return {"phone": recipient, "phone_intl": digits, "phone_local": local}


def _dig(data: Any, path: str) -> Any:
    for part in path.split("."):
        if not isinstance(data, Mapping) or part not in data:
            return None
        data = data[part]
    return data


@register
class SmsAdapter(ChannelAdapter):
    """One HTTP request per SMS to the configured gateway."""

    kind = "sms"
    required_settings = ("SMS_GATEWAY_URL",)

    def send(self, message: OutboundMessage) -> DeliveryResult:
        method, url, kwargs = self.build_request(message)
        try:
            response = requests.request(method, url, timeout=self._timeout(), **kwargs)
        except requests.Timeout as exc:
            raise TransientDeliveryError(f"SMS gateway timed out: {exc}") from exc
        except requests.RequestException as exc:
            raise TransientDeliveryError(f"SMS gateway unreachable: {exc}") from exc
        return self.interpret(response)

    # --- building the request ---------------------------------------------------

    def build_request(self, message: OutboundMessage) -> tuple[str, str, dict[str, Any]]:
        """(HTTP method, URL, keyword arguments for ``requests.request``)."""
        method = str(self.config.get("SMS_GATEWAY_METHOD") or "POST").upper()
        if method not in _METHODS:
            raise PermanentDeliveryError(
                f"SMS_GATEWAY_METHOD must be one of {', '.join(_METHODS)}, not {method!r}")
        values = self._values(message)
        url = _PLACEHOLDER.sub(lambda m: quote(values[m.group(1)], safe=""),
                               str(self.config["SMS_GATEWAY_URL"]))
        body = self._body(values)
        kwargs: dict[str, Any] = {"headers": self._headers()}
        if method == "GET":
            if body:
                kwargs["params"] = body
            return "GET", url, kwargs
        if method == "POST_FORM":
            kwargs["data"] = body
        else:
            kwargs["json"] = body
        return "POST", url, kwargs

    def _values(self, message: OutboundMessage) -> dict[str, str]:
        text = message.text
        if setting_bool("SMS_STRIP_DIACRITICS", self.config):
            text = strip_diacritics(text)
        return {**_phone_forms(message.recipient), "text": text,
                "sender": str(self.config.get("SMS_SENDER_NAME") or ""),
                "request_id": request_id(message.key), "code": message.ticket_code or ""}

    def _body(self, values: dict[str, str]) -> dict[str, Any]:
        raw = self.config.get("SMS_GATEWAY_BODY")
        if raw:
            try:
                template = json.loads(raw) if isinstance(raw, str) else dict(raw)
            except ValueError as exc:
                raise PermanentDeliveryError(f"SMS_GATEWAY_BODY is not valid JSON: {exc}") from exc
            if not isinstance(template, dict):
                raise PermanentDeliveryError("SMS_GATEWAY_BODY must be a JSON object")
        else:
            template = DEFAULT_BODY

        def fill(value: Any) -> Any:
            if isinstance(value, str):
                return _PLACEHOLDER.sub(lambda m: values[m.group(1)], value)
            if isinstance(value, dict):
                return {k: fill(v) for k, v in value.items()}
            if isinstance(value, list):
                return [fill(v) for v in value]
            return value

        return fill(template)

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json"}
        auth = str(self.config.get("SMS_GATEWAY_AUTH") or "").strip()
        if auth:
            name, sep, value = auth.partition(":")
            if sep and _HEADER_NAME.match(name.strip()):
                headers[name.strip()] = value.strip()
            else:
                headers["Authorization"] = auth
        return headers

    def _timeout(self) -> tuple[float, float]:
        read = (setting_float("SMS_GATEWAY_TIMEOUT", self.config)
                if self.config.get("SMS_GATEWAY_TIMEOUT") not in (None, "") else 10.0)
        return (min(5.0, read), read)

    # --- reading the answer -----------------------------------------------------

    def interpret(self, response: requests.Response) -> DeliveryResult:
        """Map the gateway's answer to a result or a transient/permanent error."""
        status = response.status_code
        data = self._json(response)
        if status >= 400:
            reason = f"SMS gateway HTTP {status}: {self._reason(data, response)}"
            if status >= 500 or status in (408, 429):
                raise TransientDeliveryError(reason)
            raise PermanentDeliveryError(reason)
        rule = str(self.config.get("SMS_GATEWAY_SUCCESS") or "").strip()
        if rule:
            path, _, accepted = rule.partition("=")
            got = _dig(data, path.strip())
            if got is None or str(got) not in {v.strip() for v in accepted.split(",")}:
                raise PermanentDeliveryError(
                    f"SMS gateway refused the message ({path.strip()}={got}): "
                    f"{self._reason(data, response)}")
        return DeliveryResult(provider_id=self._provider_id(data))

    @staticmethod
    def _json(response: requests.Response) -> Any:
        try:
            return response.json()
        except ValueError:
            return None

    def _provider_id(self, data: Any) -> str | None:
        configured = self.config.get("SMS_GATEWAY_ID_FIELD")
        for path in ([str(configured)] if configured else _ID_FIELDS):
            value = _dig(data, path)
            if value not in (None, ""):
                return str(value)[:200]
        return None

    @staticmethod
    def _reason(data: Any, response: requests.Response) -> str:
        for path in _ERROR_FIELDS:
            value = _dig(data, path)
            if value:
                return str(value)[:500]
        return (response.text or response.reason or "")[:500]
