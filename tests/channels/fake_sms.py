"""A local fake of a Vietnamese brandname SMS gateway (eSMS's JSON API shape).

``POST /MainService.svc/json/SendMultipleMessage_V4_post_json/`` with
``{"ApiKey", "SecretKey", "Phone", "Content", "Brandname", "SmsType",
"IsUnicode", "RequestId"}`` answers HTTP 200 ``{"CodeResult": "100",
"CountRegenerate": 0, "SMSID": "…"}``; a wrong key answers ``CodeResult
"101"`` with an ``ErrorMessage``. Like eSMS it blocks a repeated ``RequestId``:
the message is not sent again and the first answer is returned.

Test controls: ``fail_next(n, status)`` answers the next requests with an HTML
error page (what a proxy in front of the gateway sends), ``block_next()``
accepts the next message and then holds the connection until ``release()``
(a gateway that is slow to answer), ``messages`` are the SMS actually sent,
``requests`` every HTTP request seen.
"""
from __future__ import annotations

import json
import threading
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PATH = "/MainService.svc/json/SendMultipleMessage_V4_post_json/"
API_KEY = "TEST-API-KEY"
SECRET_KEY = "TEST-SECRET-KEY"
BODY_TEMPLATE = json.dumps({
    "ApiKey": API_KEY, "SecretKey": SECRET_KEY, "Phone": "{phone_local}", "Content": "{text}",
    "Brandname": "{sender}", "SmsType": "2", "IsUnicode": "1", "RequestId": "{request_id}",
})


class FakeSmsGateway:
    def __init__(self) -> None:
        self.messages: list[dict] = []
        self.requests: list[dict] = []
        self._answers: dict[str, dict] = {}
        self._failures: list[int] = []
        self._block: threading.Event | None = None
        self.blocked = threading.Event()  # set once a blocked request has arrived
        self._lock = threading.Lock()
        gateway = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):  # keep pytest output clean
                pass

            def do_POST(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length)
                gateway._handle(self, raw)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever,
                                       kwargs={"poll_interval": 0.05}, daemon=True)

    # --- lifecycle ---------------------------------------------------------------

    def start(self) -> FakeSmsGateway:
        self.thread.start()
        return self

    def stop(self) -> None:
        self.release()
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}{PATH}"

    def settings(self, **extra) -> dict:
        """App settings that point the SMS channel here, eSMS style."""
        return {"SMS_GATEWAY_URL": self.url, "SMS_GATEWAY_METHOD": "POST",
                "SMS_GATEWAY_BODY": BODY_TEMPLATE, "SMS_GATEWAY_SUCCESS": "CodeResult=100",
                "SMS_GATEWAY_ID_FIELD": "SMSID", "SMS_SENDER_NAME": "UBND.BPHUOC",
                "SMS_GATEWAY_TIMEOUT": 5, **extra}

    # --- controls ----------------------------------------------------------------

    def fail_next(self, n: int = 1, status: int = 503) -> None:
        with self._lock:
            self._failures.extend([status] * n)

    def block_next(self) -> None:
        with self._lock:
            self._block = threading.Event()

    def release(self) -> None:
        with self._lock:
            block, self._block = self._block, None
        if block is not None:
            block.set()

    def messages_for(self, phone_local: str) -> list[dict]:
        return [m for m in self.messages if m["Phone"] == phone_local]

    # --- the gateway ---------------------------------------------------------------

    def _handle(self, handler: BaseHTTPRequestHandler, raw: bytes) -> None:
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            body = None
        with self._lock:
            self.requests.append({"headers": dict(handler.headers), "body": body})
            failure = self._failures.pop(0) if self._failures else None
        if failure is not None:
            page = (f"<html><head><title>{failure} Service Unavailable</title></head>"
                    "<body><h1>Service Unavailable</h1></body></html>").encode()
            return self._reply(handler, failure, page, "text/html")
        if not isinstance(body, dict):
            return self._json(handler, 400, {"CodeResult": "99", "ErrorMessage": "Invalid JSON"})
        if body.get("ApiKey") != API_KEY or body.get("SecretKey") != SECRET_KEY:
            return self._json(handler, 200, {"CodeResult": "101",
                                             "ErrorMessage": "Sai ApiKey hoặc SecretKey"})
        with self._lock:
            request_id = body.get("RequestId")
            answer = self._answers.get(request_id) if request_id else None
            if answer is None:
                answer = {"CodeResult": "100", "CountRegenerate": 0,
                          "SMSID": uuid.uuid4().hex[:31]}
                if request_id:
                    self._answers[request_id] = answer
                self.messages.append({**body, "SMSID": answer["SMSID"]})
            block = self._block
            self._block = None
        if block is not None:
            self.blocked.set()
            block.wait(timeout=60)
        self._json(handler, 200, answer)

    def _json(self, handler, status: int, data: dict) -> None:
        self._reply(handler, status, json.dumps(data).encode(), "application/json; charset=utf-8")

    @staticmethod
    def _reply(handler, status: int, body: bytes, content_type: str) -> None:
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(body)))
            handler.end_headers()
            handler.wfile.write(body)
        except OSError:
            pass  # the client went away (a killed worker): nothing to answer
