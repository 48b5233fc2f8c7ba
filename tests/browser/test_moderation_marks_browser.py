"""A manager sees, in a real browser, what is still personal or suspicious in the text about
to be published, edits it, checks again, and only then publishes."""
from __future__ import annotations

from hotline.extensions import db
from hotline.models import Ticket
from tests.browser.conftest import screenshot
from tests.services.test_public import give_result


def test_manager_sees_marks_checks_again_and_publishes(page, org, receive, make_user):
    result = receive(text="Đèn đường trước chợ Tân Bình hỏng, gọi tôi 0912.345.678.",
                     consent_publish=True)
    ticket = give_result(db.session.get(Ticket, result.ticket_id),
                         result="Đã thay bóng đèn trước chợ Tân Bình.")
    code = ticket.code
    make_user("manager", username="kiemduyet")
    db.session.commit()  # SQLite: end our transaction before the browser writes
    page.goto(page.base_url + "/login")
    page.get_by_label("Tên đăng nhập").fill("kiemduyet")
    page.get_by_label("Mật khẩu").fill("correct-horse-battery")
    page.get_by_role("button", name="Đăng nhập").click()
    page.goto(page.base_url + f"/manager/publication/{code}")
    page.locator(".mark-preview").wait_for()
    assert page.locator(".mark-preview mark.pd-phone").count() == 0  # the proposal is redacted

    # The moderator types a name and a number back in: checking again marks them.
    summary = page.get_by_label("Nội dung công khai")
    summary.fill(summary.input_value() + " Liên hệ chị LAN 0 9 1 2 3 4 5 6 7 8.")
    page.get_by_role("button", name="Kiểm tra lại").click()
    page.locator(".mark-preview mark.pd-phone").wait_for()
    assert page.locator(".mark-preview mark.pd-phone").inner_text() == "0 9 1 2 3 4 5 6 7 8"
    assert page.locator(".mark-preview mark.pd-name").inner_text() == "LAN"
    assert "0 9 1 2 3 4 5 6 7 8" in page.get_by_label("Nội dung công khai").input_value()
    screenshot(page, "moderation-marks")
    db.session.refresh(ticket)
    assert ticket.published_at is None  # checking saves nothing
    db.session.commit()  # SQLite: end our read before the browser writes again

    # Removed again, nothing personal is marked, and the text is published.
    page.get_by_label("Nội dung công khai").fill("Đèn đường trước chợ Tân Bình hỏng.")
    page.get_by_role("button", name="Kiểm tra lại").click()
    page.locator(".mark-preview").wait_for()
    assert page.locator(".mark-preview mark.pd-phone, .mark-preview mark.pd-name").count() == 0
    page.get_by_role("button", name="Duyệt và công khai").click()
    page.get_by_text(f"Đã công khai phiếu {code}.").wait_for()
    db.session.refresh(ticket)
    assert ticket.published_at is not None
    assert ticket.public_summary == "Đèn đường trước chợ Tân Bình hỏng."
