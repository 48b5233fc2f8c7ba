"""End to end in a real browser: a phone call is logged by an operator (who reads the
publication script, default publish), handled by the agency, moderated by a manager from
the machine-redacted draft, and appears on /results — without the caller's name or phone."""
from __future__ import annotations

import re

from playwright.sync_api import expect

from hotline.extensions import db
from hotline.models import Ticket
from tests.browser.conftest import screenshot
from tests.browser.test_staff_flow import sign_in, sign_out

CALLER = "Trần Thị Bích Ngọc"
PHONE = "0918 246 135"


def test_a_phone_call_is_handled_moderated_and_published(page, staff, org):
    operator, handler, manager = (staff.operator.username, staff.handler.username,
                                  staff.manager.username)
    db.session.rollback()  # hold no SQLite lock while the server works

    # --- the operator, on the phone ---------------------------------------------------------
    sign_in(page, operator)
    page.locator("#phone").fill(PHONE)
    page.locator("#name").fill(CALLER)
    page.get_by_label("Lĩnh vực").select_option(label="Chiếu sáng đô thị")
    picker = page.locator("[data-area-picker]")
    picker.locator("select").nth(0).select_option(label="Tỉnh Bình Phước")
    picker.locator("select").nth(1).select_option(label="Thành phố Đồng Xoài")
    picker.locator("select").nth(2).select_option(label="Phường Tân Bình")
    page.get_by_label("Nội dung cuộc gọi").fill(
        f"Chị {CALLER} gọi từ số {PHONE}: hai bóng đèn đường trên đường Phú Riềng Đỏ, "
        "đoạn trước chợ Tân Bình, không sáng từ ba hôm nay.")
    # The script says the default; publication is one click away, left as it is.
    expect(page.locator("#publish-script")).to_contain_text("Mặc định: công khai")
    refuse = page.get_by_label("Người dân không đồng ý công khai")
    expect(refuse).not_to_be_checked()
    screenshot(page, "operator-call-publication")
    page.keyboard.press("Control+Enter")
    flash = page.locator(".flash-success")
    expect(flash).to_contain_text("Đã ghi nhận cuộc gọi")
    code = re.search(r"[A-Z]{2}-\d{2}-[0-9A-Z]{6}", flash.inner_text()).group(0)
    sign_out(page)
    ticket = db.session.scalar(db.select(Ticket).where(Ticket.code == code))
    assert ticket.channel == "phone" and ticket.consent_publish
    db.session.rollback()

    # --- the agency handles it ---------------------------------------------------------------
    sign_in(page, handler)
    page.locator("tr", has_text=code).get_by_role("link", name=code).click()
    page.get_by_role("button", name="Tiếp nhận xử lý").click()
    expect(page.locator(".flash-success")).to_contain_text("Đã tiếp nhận phiếu")
    page.get_by_label("Kết quả xử lý (gửi người dân)").fill(
        f"Đội quản lý đô thị đã thay hai bóng đèn trước chợ Tân Bình và gọi báo chị {CALLER} "
        f"({PHONE}).")
    page.get_by_role("button", name="Báo kết quả").click()
    expect(page.locator(".flash-success")).to_contain_text("kết quả đã được gửi đến người dân")
    sign_out(page)

    # --- the manager moderates the redacted draft -------------------------------------------
    sign_in(page, manager)
    page.goto(page.base_url + "/manager/publication/")
    row = page.locator("tr", has_text=code)
    expect(row).to_contain_text("Điện thoại")
    row.get_by_role("link", name=code).click()
    summary = page.get_by_label("Nội dung công khai")
    expect(summary).not_to_have_value(re.compile("Bích Ngọc|0918"))
    expect(page.get_by_label("Kết quả công khai")).not_to_have_value(re.compile("Bích Ngọc|0918"))
    screenshot(page, "moderation-phone-call")
    page.get_by_role("button", name="Duyệt và công khai").click()
    expect(page.locator(".flash-success")).to_contain_text(f"Đã công khai phiếu {code}")
    sign_out(page)

    # --- anyone reads it on /results -----------------------------------------------------------
    page.goto(page.base_url + "/results")
    card = page.locator(".result-card", has_text=code)
    expect(card).to_contain_text("thay hai bóng đèn")
    card.get_by_role("link").first.click()
    expect(page.locator("article")).to_contain_text("Kết quả giải quyết được công khai.")
    screenshot(page, "public-result-phone-call")
    content = page.content()
    assert CALLER not in content and "Bích Ngọc" not in content and "0918" not in content
    assert "246 135" not in content
