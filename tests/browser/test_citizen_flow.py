"""A citizen on a phone files a report with a photo, follows it, reads the published result
and rates it; a manager publishes it from the moderation page in between."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Attachment, Ticket
from tests.browser.conftest import screenshot
from tests.photos import image_bytes
from tests.services.test_public import give_result

RESULT = ("Ngày 25/11, UBND thành phố đã thay 3 bóng đèn trước chợ Tân Bình. "
          "Đã gọi chị Nguyễn Thị Lan (0912 345 678) để thông báo kết quả.")


def test_citizen_files_follows_reads_and_rates(phone_page, page, org, make_user):
    p = phone_page
    # 1. File on the web, with a photo.
    p.goto(p.base_url + "/")
    screenshot(p, "public-home-phone")
    p.get_by_role("link", name="Gửi phản ánh").first.click()
    p.get_by_label("Lĩnh vực").select_option("CS")
    p.get_by_label("Nội dung phản ánh, kiến nghị").fill(
        "Ba bóng đèn đường trước chợ Tân Bình bị hỏng từ tuần trước, buổi tối rất tối.")
    p.get_by_label("Xã, phường nơi xảy ra").select_option("25435")
    p.get_by_label("Địa chỉ, địa điểm cụ thể").fill("Trước cổng chợ Tân Bình")
    p.get_by_label("Ảnh (tối đa 5 ảnh JPEG, PNG hoặc WebP)").set_input_files(
        files=[{"name": "den-hong.jpg", "mimeType": "image/jpeg",
                "buffer": image_bytes(gps=True, size=(320, 240), color=(40, 40, 60))}])
    p.get_by_label("Họ và tên").fill("Nguyễn Thị Lan")
    p.get_by_label("Số điện thoại", exact=True).fill("0912 345 678")
    assert not p.get_by_label("Tôi không đồng ý công khai nội dung").is_checked()  # default: publish
    screenshot(p, "public-submit-phone")
    p.get_by_role("button", name="Gửi phản ánh").click()
    p.get_by_text("Đã gửi phản ánh thành công").wait_for()
    code = p.locator("#ticket-code").inner_text().strip()
    assert code.startswith("PA-") and "UBND Thành phố Đồng Xoài" in p.content()
    screenshot(p, "public-submitted-phone")

    ticket = db.session.scalar(select(Ticket).where(Ticket.code == code))
    assert ticket.channel == "web" and ticket.consent_publish
    assert db.session.scalar(select(Attachment).where(Attachment.ticket_id == ticket.id))
    # SQLite transactions take the write lock up front: end ours before the browser goes on.
    db.session.commit()

    # 2. Follow it by code + the last 4 digits of the phone (a wrong guess first).
    p.goto(p.base_url + "/status")
    p.get_by_label("Mã phiếu").fill(code.lower())
    p.get_by_label("4 số cuối điện thoại đã dùng khi gửi").fill("1234")
    p.get_by_role("button", name="Tra cứu").click()
    p.get_by_text("Không tìm thấy phiếu với mã và 4 số cuối").wait_for()
    screenshot(p, "public-status-not-found-phone")
    p.get_by_label("Mã phiếu").fill(code)
    p.get_by_label("4 số cuối điện thoại đã dùng khi gửi").fill("5678")
    p.get_by_role("button", name="Tra cứu").click()
    p.get_by_role("heading", name=f"Phiếu {code}").wait_for()
    assert "Đã chuyển cơ quan xử lý" in p.content()
    screenshot(p, "public-status-phone")

    # 3. The agency's result is out; a manager checks the redacted text and publishes it.
    give_result(ticket, result=RESULT)
    ticket.resolved_at = ticket.received_at + timedelta(hours=2)
    db.session.commit()
    make_user("manager", username="lanhdao")
    db.session.commit()
    page.goto(page.base_url + "/login")
    page.get_by_label("Tên đăng nhập").fill("lanhdao")
    page.get_by_label("Mật khẩu").fill("correct-horse-battery")
    page.get_by_role("button", name="Đăng nhập").click()
    page.goto(page.base_url + "/manager/publication/")
    screenshot(page, "moderation-queue")
    page.get_by_role("link", name=code).click()
    summary = page.get_by_label("Nội dung công khai")
    assert "0912" not in summary.input_value() and "[họ tên]" in page.get_by_label(
        "Kết quả công khai").input_value()
    page.get_by_label("Công khai ảnh này").check()
    screenshot(page, "moderation-ticket")
    page.get_by_role("button", name="Duyệt và công khai").click()
    page.get_by_text(f"Đã công khai phiếu {code}.").wait_for()

    # 4. The citizen reads the published result: no personal data on it.
    p.goto(p.base_url + "/results?q=den+duong")
    screenshot(p, "public-results-phone")
    p.locator(".result-card a").first.click()
    p.get_by_role("heading", name="Kết quả giải quyết").wait_for()
    content = p.content()
    assert "thay 3 bóng đèn" in content
    for private in ("Nguyễn Thị Lan", "0912", "345 678"):
        assert private not in content
    assert p.locator(".photos img").count() == 1
    # The photo loads after the page: wait for it rather than race it.
    p.wait_for_function("() => { const i = document.querySelector('.photos img');"
                        " return i && i.complete && i.naturalWidth > 0; }")
    assert p.evaluate("document.querySelector('.photos img').naturalWidth") == 320
    screenshot(p, "public-result-phone")

    # 5. …and rates it from the secret link.
    token = ticket.status_token
    db.session.commit()
    p.goto(f"{p.base_url}/status/{code}/{token}")
    p.get_by_label("4 — Hài lòng").check()
    p.get_by_label("Đã khắc phục").check()
    p.get_by_label("Nhận xét (không bắt buộc)").fill("Cảm ơn, đèn đã sáng.")
    screenshot(p, "public-rate-phone")
    p.get_by_role("button", name="Gửi đánh giá").click()
    p.get_by_text("Cảm ơn bạn đã đánh giá kết quả giải quyết.").wait_for()
    screenshot(p, "public-rated-phone")
    db.session.refresh(ticket)
    assert ticket.rating == 4 and ticket.status == "published"
