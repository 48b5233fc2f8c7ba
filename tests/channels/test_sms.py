"""The SMS adapter against a local fake gateway speaking eSMS's JSON API over real HTTP."""
from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from channels.base import (
    OutboundMessage,
    PermanentDeliveryError,
    TransientDeliveryError,
    get_adapter,
)
from channels.sms import DEFAULT_BODY, SmsAdapter, request_id, strip_diacritics
from tests.channels.fake_sms import API_KEY, BODY_TEMPLATE, FakeSmsGateway

TEXT = ("Tổng đài 1022 đã tiếp nhận phản ánh của bạn. Mã phiếu: PA-26-004213.\n"
        "Tra cứu: https://1022.example.gov.vn/status/PA-26-004213/abc")


def sms(**kw) -> OutboundMessage:
    values = {"key": "ack:PA-26-004213", "channel": "sms", "recipient": "+84912345678",
              "text": TEXT, "ticket_code": "PA-26-004213"}
    values.update(kw)
    return OutboundMessage(**values)


@pytest.fixture
def gateway():
    fake = FakeSmsGateway().start()
    yield fake
    fake.stop()


def test_sends_esms_shaped_request_and_keeps_the_provider_id(gateway):
    adapter = get_adapter("sms", gateway.settings(SMS_GATEWAY_AUTH="X-Api-Version: 4"))
    assert isinstance(adapter, SmsAdapter)
    result = adapter.send(sms())
    [sent] = gateway.messages
    assert result.provider_id == sent["SMSID"]
    assert sent["Phone"] == "0912345678"
    assert sent["Content"] == TEXT  # Vietnamese kept, newline and all
    assert sent["Brandname"] == "UBND.BPHUOC" and sent["SmsType"] == "2"
    assert sent["RequestId"] == request_id("ack:PA-26-004213") and len(sent["RequestId"]) == 32
    assert gateway.requests[0]["headers"]["X-Api-Version"] == "4"


def test_the_same_key_twice_reaches_the_citizen_once(gateway):
    adapter = get_adapter("sms", gateway.settings())
    first = adapter.send(sms())
    second = adapter.send(sms())  # e.g. the retry after a worker died mid-request
    assert len(gateway.requests) == 2 and len(gateway.messages) == 1
    assert first.provider_id == second.provider_id


def test_error_code_in_a_200_answer_is_permanent(gateway):
    settings = gateway.settings(SMS_GATEWAY_BODY=BODY_TEMPLATE.replace(API_KEY, "WRONG"))
    with pytest.raises(PermanentDeliveryError, match="101.*Sai ApiKey"):
        get_adapter("sms", settings).send(sms())
    assert gateway.messages == []


@pytest.mark.parametrize("status", [500, 502, 503, 408, 429])
def test_server_errors_and_throttling_are_transient(gateway, status):
    gateway.fail_next(1, status=status)
    with pytest.raises(TransientDeliveryError, match=f"HTTP {status}"):
        get_adapter("sms", gateway.settings()).send(sms())
    assert gateway.messages == []


def test_client_error_is_permanent(gateway):
    gateway.fail_next(1, status=400)
    with pytest.raises(PermanentDeliveryError, match="HTTP 400"):
        get_adapter("sms", gateway.settings()).send(sms())


def test_timeout_is_transient(gateway):
    gateway.block_next()
    adapter = get_adapter("sms", gateway.settings(SMS_GATEWAY_TIMEOUT="0.3"))
    with pytest.raises(TransientDeliveryError, match="timed out"):
        adapter.send(sms())
    gateway.release()


def test_unreachable_gateway_is_transient():
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    adapter = get_adapter("sms", {"SMS_GATEWAY_URL": f"http://127.0.0.1:{port}/send"})
    with pytest.raises(TransientDeliveryError, match="unreachable"):
        adapter.send(sms())


def test_not_configured_without_a_url():
    assert get_adapter("sms", {}) is None
    assert SmsAdapter.missing_settings({}) == ["SMS_GATEWAY_URL"]


@pytest.mark.parametrize("settings, message", [
    ({"SMS_GATEWAY_METHOD": "PUT"}, "SMS_GATEWAY_METHOD"),
    ({"SMS_GATEWAY_BODY": "{not json"}, "not valid JSON"),
    ({"SMS_GATEWAY_BODY": "[1, 2]"}, "JSON object"),
])
def test_bad_settings_fail_permanently(settings, message):
    adapter = SmsAdapter({"SMS_GATEWAY_URL": "http://127.0.0.1:9/send", **settings})
    with pytest.raises(PermanentDeliveryError, match=message):
        adapter.send(sms())


class _Recorder:
    """A bare HTTP endpoint that records GET and form POST requests."""

    def __init__(self):
        self.seen: list[dict] = []
        recorder = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def _answer(self, body: bytes):
                recorder.seen.append({"method": self.command, "path": self.path, "body": body,
                                      "headers": dict(self.headers)})
                data = json.dumps({"status": "success", "code": "00",
                                   "data": {"tranId": 8812345, "totalSMS": 1}}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_GET(self):
                self._answer(b"")

            def do_POST(self):
                self._answer(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05},
                         daemon=True).start()
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"


@pytest.fixture
def recorder():
    rec = _Recorder()
    yield rec
    rec.server.shutdown()
    rec.server.server_close()


def test_get_gateway_with_a_url_template(recorder):
    adapter = SmsAdapter({
        "SMS_GATEWAY_URL": recorder.base + "/send?to={phone_intl}&msg={text}&from={sender}",
        "SMS_GATEWAY_METHOD": "GET", "SMS_GATEWAY_BODY": "{}", "SMS_SENDER_NAME": "TONGDAI1022",
        "SMS_GATEWAY_AUTH": "Bearer s3cr3t", "SMS_GATEWAY_ID_FIELD": "data.tranId"})
    result = adapter.send(sms(text="Đã nhận & xử lý 100%"))
    [req] = recorder.seen
    query = parse_qs(urlsplit(req["path"]).query)
    assert query == {"to": ["84912345678"], "msg": ["Đã nhận & xử lý 100%"],
                     "from": ["TONGDAI1022"]}
    assert req["headers"]["Authorization"] == "Bearer s3cr3t"
    assert result.provider_id == "8812345"


def test_form_post_with_the_default_body_and_no_accents(recorder):
    adapter = SmsAdapter({"SMS_GATEWAY_URL": recorder.base + "/sms",
                          "SMS_GATEWAY_METHOD": "post_form",
                          "SMS_SENDER_NAME": "TONGDAI1022", "SMS_STRIP_DIACRITICS": "1"})
    adapter.send(sms(text="Đèn đường Phú Riềng ĐỎ"))
    [req] = recorder.seen
    form = parse_qs(req["body"].decode())
    assert set(form) == set(DEFAULT_BODY)
    assert form["text"] == ["Den duong Phu Rieng DO"]
    assert form["to"] == ["+84912345678"]
    assert form["request_id"] == [request_id("ack:PA-26-004213")]


def test_strip_diacritics_keeps_case_and_punctuation():
    assert strip_diacritics("Ủy ban nhân dân Phường Tân Phú: 15/12!") == \
        "Uy ban nhan dan Phuong Tan Phu: 15/12!"
