"""Stored files never run in our origin: a script and a web page a citizen mailed in are
downloads with a generic type, nosniff and a sandboxing CSP on every route that sends a
file; only images the server re-encoded are shown inline.

The mail arrives by a real SMTP exchange (aiosmtpd) and is read by staff over HTTP.
"""
from __future__ import annotations

import io
import smtplib
from email.message import EmailMessage

import pytest
from PIL import Image
from sqlalchemy import select

from channels.mail_inbound import smtp_controller
from hotline.domain.errors import ValidationError
from hotline.extensions import db
from hotline.models import Attachment, Ticket
from hotline.services import publication
from hotline.web.files import SANDBOX_CSP
from tests.channels.conftest import CHANNEL_SETTINGS, HOTLINE_ADDRESS, free_port, settle
from tests.staff_fixtures import login

SCRIPT = b"fetch('/admin/users',{method:'POST'});document.title='pwned';"
PAGE = b"<!doctype html><html><body><script>document.title='pwned'</script></body></html>"


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (40, 30), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


@pytest.fixture
def app_config():
    return dict(CHANNEL_SETTINGS)


@pytest.fixture
def mailed(app, org, staff):
    """A complaint mailed in with a script, a page declared as a PNG, and a real photo."""
    port = free_port()
    controller = smtp_controller(app, "127.0.0.1", port)
    controller.start()
    try:
        mail = EmailMessage()
        mail["From"] = "Trần Văn Minh <minh.tran@example.com>"
        mail["To"] = HOTLINE_ADDRESS
        mail["Subject"] = "Phản ánh: rác thải chợ Đồng Xoài"
        mail["Message-ID"] = "<files-1@example.com>"
        mail.set_content("Rác thải ùn ứ ở cổng chợ Đồng Xoài ba ngày nay.")
        mail.add_attachment(SCRIPT, maintype="application", subtype="javascript",
                            filename="xem.js")
        mail.add_attachment(PAGE, maintype="text", subtype="html", filename="anh.html")
        mail.add_attachment(PAGE, maintype="image", subtype="png", filename="that-ra-la-html.png")
        mail.add_attachment(_png(), maintype="image", subtype="png", filename="cho.png")
        settle()
        with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
            smtp.sendmail("minh.tran@example.com", [HOTLINE_ADDRESS],
                          mail.as_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"))
        settle()
    finally:
        controller.stop()
    ticket = db.session.scalar(select(Ticket))
    rows = {a.filename: a for a in db.session.scalars(
        select(Attachment).where(Attachment.ticket_id == ticket.id))}
    assert set(rows) == {"xem.js", "anh.html", "that-ra-la-html.png", "cho.png"}
    return ticket, rows


def assert_download(resp, name: str | None = None):
    assert resp.status_code == 200
    assert resp.mimetype == "application/octet-stream"
    assert resp.headers["Content-Disposition"].startswith("attachment;")
    if name:
        assert f'filename="{name}"' in resp.headers["Content-Disposition"]
    assert_file_headers(resp)


def assert_file_headers(resp):
    assert resp.headers["X-Content-Type-Options"] == "nosniff"
    assert resp.headers["Content-Security-Policy"] == SANDBOX_CSP


def test_moderator_gets_scripts_and_pages_as_downloads(client, mailed, staff):
    ticket, rows = mailed
    login(client, staff.manager)
    for name in ("xem.js", "anh.html", "that-ra-la-html.png"):
        resp = client.get(f"/manager/publication/{ticket.code}/photos/{rows[name].id}")
        assert_download(resp, name)
        assert resp.data in (SCRIPT, PAGE)
        assert "no-store" in resp.headers["Cache-Control"]


def test_moderator_sees_a_real_photo_re_encoded_inline(client, mailed, staff):
    ticket, rows = mailed
    login(client, staff.manager)
    resp = client.get(f"/manager/publication/{ticket.code}/photos/{rows['cho.png'].id}")
    assert resp.status_code == 200 and resp.mimetype == "image/png"
    assert resp.headers["Content-Disposition"].startswith("inline;")
    assert_file_headers(resp)
    with Image.open(io.BytesIO(resp.data)) as img:
        assert img.format == "PNG" and img.size == (40, 30)


def test_operator_downloads_are_generic(client, mailed, staff):
    ticket, rows = mailed
    login(client, staff.operator)
    for name, row in rows.items():
        resp = client.get(f"/operator/tickets/{ticket.code}/files/{row.id}")
        assert_download(resp, name)


def test_agency_downloads_are_generic(client, mailed, staff):
    ticket, rows = mailed
    ticket.agency_id = staff.handler.agency_id
    db.session.commit()
    login(client, staff.handler)
    for name, row in rows.items():
        resp = client.get(f"/agency/tickets/{ticket.code}/files/{row.id}")
        assert_download(resp, name)


def test_public_photo_is_a_server_image_and_a_planted_page_is_a_download(client, mailed, staff):
    ticket, rows = mailed
    ticket.status = "closed"
    ticket.consent_publish = True
    db.session.commit()
    publication.approve_publication(staff.manager, ticket, "Rác thải ở cổng chợ Đồng Xoài.",
                                    "Đã thu gom.", photo_ids=[rows["cho.png"].id])
    db.session.commit()
    copy = db.session.scalar(select(Attachment).where(Attachment.public.is_(True)))
    resp = client.get(f"/results/{ticket.code}/photos/{copy.id}")
    assert resp.status_code == 200 and resp.mimetype == "image/png"
    assert resp.headers["Content-Disposition"].startswith("inline;")
    assert_file_headers(resp)
    # Were a public row ever to point at a non-image, it would not be rendered.
    copy.storage_key = rows["anh.html"].storage_key
    db.session.commit()
    resp = client.get(f"/results/{ticket.code}/photos/{copy.id}")
    assert_download(resp)


def test_staff_cannot_publish_a_page_as_a_photo(client, mailed, staff):
    """The moderation form lists images by declared type: a lying file fails re-encoding."""
    ticket, rows = mailed
    ticket.status = "closed"
    db.session.commit()
    with pytest.raises(ValidationError):
        publication.approve_publication(staff.manager, ticket, "Rác thải.", "Đã thu gom.",
                                        photo_ids=[rows["that-ra-la-html.png"].id])
    db.session.rollback()
    assert db.session.scalar(select(Attachment).where(Attachment.public.is_(True))) is None
