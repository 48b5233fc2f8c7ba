"""A local stand-in for api.telegram.org speaking the Bot API's real response shapes.

python-telegram-bot talks through httpx, which ``responses`` cannot intercept, so this
is a real HTTP server on a free port; ``TELEGRAM_API_BASE_URL`` points at it.
"""
from __future__ import annotations

import json
import threading
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs

BOT_USER = {"id": 7000000001, "is_bot": True, "first_name": "Tổng đài 1022",
            "username": "tongdai1022_test_bot"}
PHOTO_BYTES = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00fake-jpeg-bytes\xff\xd9"


@dataclass
class Call:
    method: str          # Bot API method, or "file" for a download
    path: str
    params: dict


@dataclass
class FakeTelegram:
    calls: list[Call] = field(default_factory=list)
    # Bot API method -> list of (status, body) to answer with next (then the default).
    scripted: dict[str, list[tuple[int, dict]]] = field(default_factory=dict)
    files: dict[str, bytes] = field(default_factory=dict)
    url: str = ""

    def script(self, method: str, status: int, body: dict) -> None:
        self.scripted.setdefault(method, []).append((status, body))

    def calls_to(self, method: str) -> list[Call]:
        return [c for c in self.calls if c.method == method]

    def answer(self, method: str, params: dict) -> tuple[int, dict]:
        if self.scripted.get(method):
            return self.scripted[method].pop(0)
        if method == "sendMessage":
            return 200, {"ok": True, "result": {
                "message_id": 100 + len(self.calls), "from": BOT_USER,
                "chat": {"id": int(params["chat_id"]), "type": "private", "first_name": "Dân"},
                "date": 1763794900, "text": params.get("text", "")}}
        if method == "getFile":
            file_id = params["file_id"]
            path = f"photos/file_{len(self.files)}.jpg"
            self.files[path] = PHOTO_BYTES
            return 200, {"ok": True, "result": {"file_id": file_id, "file_unique_id": "AQADs2",
                                                "file_size": len(PHOTO_BYTES), "file_path": path}}
        if method == "setWebhook":
            return 200, {"ok": True, "result": True, "description": "Webhook was set"}
        return 404, {"ok": False, "error_code": 404, "description": "Not Found"}


def start(fake: FakeTelegram) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):  # keep test output clean
            pass

        def _reply(self, status: int, body: bytes, content_type: str) -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def do_GET(self):
            # File downloads: /file/bot<token>/<file_path>
            parts = self.path.split("/", 3)
            if len(parts) == 4 and parts[1] == "file":
                fake.calls.append(Call("file", self.path, {}))
                data = fake.files.get(parts[3])
                if data is not None:
                    return self._reply(200, data, "image/jpeg")
            self._reply(404, b"Not Found", "text/plain")

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length)
            ctype = self.headers.get("Content-Type", "")
            if "json" in ctype:
                params = json.loads(raw or b"{}")
            else:
                params = {k: v[0] for k, v in parse_qs(raw.decode()).items()}
            method = self.path.rsplit("/", 1)[-1]
            fake.calls.append(Call(method, self.path, params))
            status, body = fake.answer(method, params)
            self._reply(status, json.dumps(body).encode(), "application/json")

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    return server
