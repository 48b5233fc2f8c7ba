"""An Open311 ``media_url`` is fetched by a job, against a real HTTP server on 127.0.0.1:
the picture is attached and visible to staff; an oversized file, a wrong type, a slow
server and a private address are refused with the reason on the ticket page."""
from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
from sqlalchemy import select

from channels import media_fetch
from hotline.extensions import db
from hotline.models import Attachment, Ticket
from hotline.services import accounts
from tests.photos import image_bytes
from tests.staff_fixtures import login

PHOTO = image_bytes("JPEG", size=(320, 240))


class _Handler(BaseHTTPRequestHandler):
    hits: ClassVar[list[str]] = []

    def log_message(self, *args):  # keep the test output quiet
        pass

    def _send(self, body: bytes, content_type: str, length: bool = True):
        self.send_response(200)
        self.send_header("Content-Type", content_type)
        if length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        self.hits.append(self.path)
        if self.path == "/anh.jpg":
            self._send(PHOTO, "image/jpeg")
        elif self.path == "/to.jpg":         # larger than the limit, no Content-Length
            self._send(b"\xff\xd8" + b"\0" * 200_000, "image/jpeg", length=False)
        elif self.path == "/to-khai-bao.jpg":  # larger, and says so
            self._send(b"\0" * 200_000, "image/jpeg")
        elif self.path == "/trang.html":
            self._send(b"<html>not a photo</html>", "text/html; charset=utf-8")
        elif self.path == "/gia.jpg":        # says JPEG, is not
            self._send(b"<html>not a photo</html>", "image/jpeg")
        elif self.path == "/cham.jpg":       # answers after the read timeout
            time.sleep(4)
            self._send(PHOTO, "image/jpeg")
        elif self.path == "/nho-giot.jpg":   # a byte at a time, past the deadline
            self.send_response(200)
            self.send_header("Content-Type", "image/jpeg")
            self.end_headers()
            for byte in PHOTO[:60]:
                self.wfile.write(bytes([byte]))
                self.wfile.flush()
                time.sleep(0.1)
        elif self.path == "/chuyen":
            self.send_response(302)
            self.send_header("Location", "/anh.jpg")
            self.end_headers()
        else:
            self.send_response(404)
            self.end_headers()


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request, client_address):
        pass  # the fetcher hanging up on an oversized or slow answer is expected here


@pytest.fixture
def media_server():
    _Handler.hits = []
    server = _QuietServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture
def app_config():
    # Generous for a loaded CI machine; the slow server waits 4 s, the drip takes 6 s.
    return {"MEDIA_FETCH_ALLOW_PRIVATE": True, "MEDIA_FETCH_TIMEOUT": 2,
            "MEDIA_FETCH_DEADLINE": 3, "MEDIA_FETCH_MAX_BYTES": 100_000}


@pytest.fixture
def api_key(org):
    _row, key = accounts.create_api_key("Ứng dụng có ảnh")
    db.session.commit()
    return key


def report_with(client, api_key, url: str) -> Attachment:
    resp = client.post("/open311/v2/requests.json", data={
        "api_key": api_key, "service_code": "CS", "lat": "11.5349", "long": "106.8823",
        "description": "Đèn đường hỏng, ảnh đính kèm.", "media_url": url})
    assert resp.status_code == 201, resp.get_json()
    db.session.rollback()
    ticket = db.session.scalar(select(Ticket))
    assert ticket is not None, "the staged request was not processed"
    return db.session.scalar(select(Attachment).where(Attachment.ticket_id == ticket.id))


def test_the_photo_is_fetched_and_shown_to_staff(client, api_key, media_server, staff):
    row = report_with(client, api_key, media_server + "/chuyen")  # one redirect is followed
    assert row.storage_key and row.fetch_error is None
    assert (row.content_type, row.filename, row.size) == ("image/jpeg", "media_url.jpg",
                                                         len(PHOTO))
    assert _Handler.hits == ["/chuyen", "/anh.jpg"]
    code = db.session.get(Ticket, row.ticket_id).code
    login(client, staff.operator)
    page = client.get(f"/operator/tickets/{code}").get_data(as_text=True)
    assert "media_url.jpg" in page and "đang tải về" not in page
    with client.get(f"/operator/tickets/{code}/files/{row.id}") as resp:
        assert resp.data == PHOTO


@pytest.mark.parametrize("path, reason", [
    ("/to.jpg", "lớn quá 97 KB"),
    ("/to-khai-bao.jpg", "lớn quá 97 KB"),
    ("/trang.html", "không phải ảnh JPEG, PNG hoặc WebP (text/html)"),
    ("/gia.jpg", "không phải ảnh hợp lệ"),
    ("/cham.jpg", "quá thời gian chờ"),
    ("/nho-giot.jpg", "tải quá 3 giây"),
    ("/khong-co.jpg", "HTTP 404"),
], ids=["oversized", "oversized-declared", "wrong-type", "not-an-image", "slow", "drip",
        "missing"])
def test_a_bad_media_url_shows_why_to_staff(client, api_key, media_server, staff, path,
                                            reason):
    row = report_with(client, api_key, media_server + path)
    assert row.storage_key is None and reason in (row.fetch_error or "")
    code = db.session.get(Ticket, row.ticket_id).code
    login(client, staff.operator)
    page = client.get(f"/operator/tickets/{code}").get_data(as_text=True)
    assert "không tải được" in page and reason in page


@pytest.mark.parametrize("app_config", [{"MEDIA_FETCH_TIMEOUT": 2}])
def test_a_private_address_is_never_asked(client, api_key, media_server):
    row = report_with(client, api_key, media_server + "/anh.jpg")
    assert row.storage_key is None and "địa chỉ nội bộ" in row.fetch_error
    assert _Handler.hits == []


def test_the_peer_check_refuses_loopback_after_connect(media_server):
    port = int(media_server.rsplit(":", 1)[1])
    sock = socket.create_connection(("127.0.0.1", port))
    with pytest.raises(media_fetch.ForbiddenAddress):
        media_fetch._check_peer(sock)
    assert sock.fileno() == -1  # closed before a byte was sent


def test_only_http_and_https(app):
    with pytest.raises(media_fetch.Refused, match="http"):
        media_fetch.download("file:///etc/passwd", max_bytes=1000, timeout=0.3, deadline=1)
