"""A script and a web page mailed in as attachments do not run in a manager's session
(a real chromium): opened, framed or loaded as a script, they execute nothing."""
from __future__ import annotations

from sqlalchemy import select

from hotline.domain.messages import ContactHandle, IncomingAttachment
from hotline.extensions import db
from hotline.models import Attachment, Ticket
from hotline.services import intake
from tests.factories import message
from tests.staff_fixtures import PASSWORD

SCRIPT = b"window.pwned = 'js'; document.title = 'pwned';"
PAGE = (b"<!doctype html><html><body><script>try { parent.pwned = 'html'; } catch (e) {} "
        b"document.title = 'pwned';</script></body></html>")


def _mailed_ticket() -> tuple[str, dict[str, int]]:
    result = intake.receive(message(
        channel="email", external_id="<attack@example.com>",
        contact=ContactHandle(email="minh.tran@example.com"),
        text="Rác thải ùn ứ ở cổng chợ Đồng Xoài ba ngày nay.",
        attachments=(IncomingAttachment("xem.js", "application/javascript", SCRIPT),
                     IncomingAttachment("anh.html", "text/html", PAGE),
                     IncomingAttachment("anh.png", "image/png", PAGE))))
    db.session.commit()
    ticket = db.session.get(Ticket, result.ticket_id)
    rows = {a.filename: a.id for a in db.session.scalars(
        select(Attachment).where(Attachment.ticket_id == ticket.id))}
    return ticket.code, rows


def test_mailed_script_and_page_never_run_for_a_manager(page, staff, org):
    code, rows = _mailed_ticket()
    manager = staff.manager.username
    # SQLite takes its write lock when a transaction begins: hold none while the server works.
    db.session.rollback()
    page.goto(page.base_url + "/login")
    page.get_by_label("Tên đăng nhập").fill(manager)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_role("button", name="Đăng xuất").wait_for()
    page.goto(page.base_url + f"/manager/publication/{code}")
    title = page.title()
    base = page.base_url + f"/manager/publication/{code}/photos/"

    # Opened directly: a download, never a page of our origin.
    for name in ("anh.html", "anh.png", "xem.js"):
        with page.expect_download() as download:
            page.evaluate("url => { const a = document.createElement('a'); a.href = url; "
                          "document.body.appendChild(a); a.click(); }", base + str(rows[name]))
        assert download.value.suggested_filename == name
    # Framed, or loaded as a script into the manager's page: nothing executes.
    page.evaluate("""urls => {
        const frame = document.createElement('iframe'); frame.src = urls[0];
        document.body.appendChild(frame);
        const script = document.createElement('script'); script.src = urls[1];
        document.body.appendChild(script);
    }""", [base + str(rows["anh.html"]), base + str(rows["xem.js"])])
    page.wait_for_timeout(1500)
    assert page.evaluate("() => window.pwned === undefined")
    assert page.title() == title and "pwned" not in page.title()
