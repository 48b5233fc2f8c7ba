"""End to end in a real browser: an operator logs a call and forwards it, the agency's
handler accepts and resolves it, a handler of another agency cannot open it."""
from __future__ import annotations

import re
from datetime import datetime, timedelta, timezone

from playwright.sync_api import expect

from hotline.domain.messages import ContactHandle
from hotline.domain.text import fold
from hotline.extensions import db
from hotline.models import KbArticle, Ticket
from hotline.services import handling
from tests.browser.conftest import screenshot
from tests.staff_fixtures import PASSWORD

NOW = datetime.now(timezone.utc)


def sign_in(page, username: str) -> None:
    page.goto(page.base_url + "/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_role("button", name="Đăng xuất").wait_for()


def sign_out(page) -> None:
    page.get_by_role("button", name="Đăng xuất").click()
    page.get_by_label("Tên đăng nhập").wait_for()


def seed_workload(receive, staff, org) -> None:
    """A realistic day: a dozen tickets for Đồng Xoài in every state, two knowledge articles."""
    texts = [
        ("Cây xanh gãy cành đè lên vỉa hè đường Hùng Vương, nguy hiểm cho người đi bộ.", "TTDT",
         "25432", 40),
        ("Đèn chiếu sáng khu phố 3 phường Tân Bình tắt cả tuần nay.", "CS", "25435", 30),
        ("Lấn chiếm vỉa hè bán hàng trước chợ Tân Phú vào buổi sáng.", "TTDT", "25432", 12),
        ("Đèn đường trước trường tiểu học Tân Bình chập chờn ban đêm.", "CS", "25435", 6),
        ("Rác thải tồn đọng ở hẻm 12 đường Phú Riềng Đỏ, bốc mùi.", "TTDT", "25435", 3),
        ("Đèn chiếu sáng công viên trung tâm hỏng 5 bóng.", "CS", "689", 1),
        ("Quán karaoke hoạt động quá 22 giờ gây ồn ào khu dân cư.", "TTDT", "25432", 0),
    ]
    for i, (text, field, area, days_ago) in enumerate(texts):
        r = receive(external_id=f"seed-{i}", text=text, field_code=field, area_code=area,
                    received_at=NOW - timedelta(days=days_ago, hours=i), force_new=True,
                    contact=ContactHandle(name=["Trần Văn Bình", "Lê Thị Hoa", "Phạm Minh Tuấn",
                                                "Nguyễn Văn An", "Võ Thị Mai", "Đỗ Quang Huy",
                                                "Bùi Thị Lan"][i], phone=f"09{i}1234567"))
        t = db.session.get(Ticket, r.ticket_id)
        if t.agency is None or t.agency.code != "UBND-689":
            handling.forward(staff.operator, t, agency_id=org.agencies["UBND-689"].id,
                             reason="Địa bàn thành phố")
        if i in (0, 2, 4):
            handling.accept(staff.handler, t)
        if i == 2:
            handling.ask_citizen(staff.handler, t, question="Xin ảnh hiện trường.")
        if i == 4:
            handling.add_cohandler(staff.handler, t, agency_id=org.agencies["DIENLUC"].id)
    for title, body in [
        ("Báo hỏng đèn chiếu sáng công cộng",
         "Đèn chiếu sáng trên đường do UBND thành phố (Đội quản lý đô thị) quản lý; "
         "đèn trên cột điện lực do Điện lực Bình Phước quản lý. Tổng đài ghi nhận và chuyển "
         "đơn vị quản lý xử lý trong 5 ngày làm việc."),
        ("Thủ tục cấp giấy phép xây dựng nhà ở riêng lẻ",
         "Hồ sơ nộp tại Bộ phận một cửa UBND cấp huyện; thời hạn giải quyết 15 ngày."),
    ]:
        db.session.add(KbArticle(title=title, body=body, search_text=fold(f"{title} {body}")))
    db.session.commit()
    from hotline.services import sla
    sla.scan(NOW)
    db.session.commit()


def test_operator_forwards_a_call_the_agency_resolves_it(browser, live_server, page, staff, org,
                                                         receive):
    seed_workload(receive, staff, org)
    operator, handler, outsider = (staff.operator.username, staff.handler.username,
                                   staff.other_handler.username)
    operator_id = staff.operator.id
    # SQLite takes its write lock when a transaction begins: hold none while the server works.
    db.session.rollback()

    # --- the operator, on the phone -----------------------------------------------------
    sign_in(page, operator)
    expect(page.get_by_role("heading", name="Cuộc gọi mới")).to_be_visible()
    expect(page.locator("#phone")).to_be_focused()
    page.locator("#phone").fill("0912 888 777")
    page.locator("#phone").press("Enter")
    expect(page.locator("[data-caller-body]")).to_contain_text("Chưa có phiếu nào từ số này")
    page.locator("#name").fill("Nguyễn Thị Thu")
    page.get_by_label("Lĩnh vực").select_option(label="Chiếu sáng đô thị")
    picker = page.locator("[data-area-picker]")
    picker.locator("select").nth(0).select_option(label="Tỉnh Bình Phước")
    picker.locator("select").nth(1).select_option(label="Thành phố Đồng Xoài")
    picker.locator("select").nth(2).select_option(label="Phường Tân Bình")
    page.get_by_label("Địa chỉ cụ thể").fill("Trước số 25 đường Phú Riềng Đỏ")
    page.get_by_label("Nội dung cuộc gọi").fill(
        "Ba bóng đèn đường trước số 25 Phú Riềng Đỏ không sáng từ tối thứ Sáu, "
        "đoạn đường tối, người dân đi lại nguy hiểm.")
    page.locator("#kb-q").fill("den chieu sang")
    expect(page.locator("[data-kb-results]")).to_contain_text("Báo hỏng đèn chiếu sáng công cộng")
    expect(page.locator("[data-suggestion]")).to_contain_text("UBND Thành phố Đồng Xoài")
    expect(page.locator("[data-panel=forward]")).to_be_visible()
    expect(page.locator("[data-panel=answer]")).to_be_hidden()
    screenshot(page, "operator-new-call")
    page.keyboard.press("Control+Enter")
    flash = page.locator(".flash-success")
    expect(flash).to_contain_text("Đã ghi nhận cuộc gọi")
    code = re.search(r"[A-Z]{2}-\d{2}-[0-9A-Z]{6}", flash.inner_text()).group(0)
    # Ready for the next call: a fresh form, the phone box focused again.
    expect(page.locator("#phone")).to_have_value("")
    sign_out(page)

    ticket = db.session.scalar(db.select(Ticket).where(Ticket.code == code))
    assert ticket.agency.code == "UBND-689" and ticket.created_by_id == operator_id
    ticket_id = ticket.id
    db.session.rollback()

    # --- the handler of that agency ---------------------------------------------------------
    sign_in(page, handler)
    expect(page.get_by_role("heading", name=re.compile("Hộp phiếu"))).to_be_visible()
    row = page.locator("tr", has_text=code)
    expect(row).to_contain_text("còn")
    screenshot(page, "agency-inbox")
    row.get_by_role("link", name=code).click()
    expect(page.get_by_role("heading", name=re.compile(code))).to_be_visible()
    expect(page.locator(".timeline")).to_contain_text("Chuyển xử lý")
    page.get_by_role("button", name="Tiếp nhận xử lý").click()
    expect(page.locator(".flash-success")).to_contain_text("Đã tiếp nhận phiếu")
    page.get_by_label("Kết quả xử lý (gửi người dân)").fill(
        "Đội quản lý đô thị đã thay 3 bóng đèn LED trước số 25 Phú Riềng Đỏ, đèn sáng bình "
        "thường từ 18 giờ ngày hôm nay.")
    screenshot(page, "agency-ticket")
    page.get_by_role("button", name="Báo kết quả").click()
    expect(page.locator(".flash-success")).to_contain_text("kết quả đã được gửi đến người dân")
    expect(page.locator(".ticket-head")).to_contain_text("Đã có kết quả")
    sign_out(page)
    assert db.session.get(Ticket, ticket_id).status == "approved"
    db.session.rollback()

    # --- a handler of another agency cannot open it -------------------------------------------
    sign_in(page, outsider)
    response = page.goto(f"{page.base_url}/agency/tickets/{code}")
    assert response.status == 404
    expect(page.get_by_text("Không tìm thấy trang hoặc phiếu bạn yêu cầu.")).to_be_visible()


def test_pbx_call_fills_the_console_and_triage_routes_a_returned_ticket(app, page, staff, org,
                                                                        receive):
    seed_workload(receive, staff, org)
    earlier = receive(external_id="earlier", text="Đèn đường hẻm 7 không sáng.", force_new=True,
                      received_at=NOW - timedelta(days=20),
                      contact=ContactHandle(name="Hồ Thị Ngọc", phone="0977123456"))
    unrouted = receive(external_id="web-1", channel="web", field_code=None, area_code=None,
                       received_at=NOW - timedelta(hours=5),
                       force_new=True, text="Mương thoát nước trước nhà bị tắc, mưa là ngập.",
                       contact=ContactHandle(name="Trịnh Văn Long", phone="0966111222"))
    returned = db.session.get(Ticket, receive(external_id="ret-1", force_new=True,
                                              received_at=NOW - timedelta(days=1),
                                              text="Cột điện nghiêng sau mưa bão",
                                              contact=ContactHandle(phone="0955000111")).ticket_id)
    handling.accept(staff.handler, returned)
    handling.return_to_triage(staff.handler, returned,
                              reason="Cột điện trung thế thuộc Điện lực quản lý.")
    db.session.commit()
    operator = staff.operator.username
    returned_code, unrouted_code, earlier_code = returned.code, unrouted.code, earlier.code
    tan_binh = org.areas["25435"].id
    db.session.rollback()
    app.config["PBX_SHARED_SECRET"] = "pbx-" + "x" * 28

    sign_in(page, operator)
    # The PBX reports a call ringing at extension 101: the console shows and fills it.
    resp = page.request.post(page.base_url + "/channels/phone/call-event",
                             data={"caller": "0977123456", "extension": "101", "call_id": "c-1"},
                             headers={"X-PBX-Secret": "pbx-" + "x" * 28})
    assert resp.status == 200
    banner = page.locator("#incoming-call")
    expect(banner).to_be_visible(timeout=8000)
    expect(banner).to_contain_text("+84977123456")
    expect(page.locator("#phone")).to_have_value("+84977123456")
    expect(page.locator("[data-caller-body]")).to_contain_text(earlier_code)
    expect(page.locator("#name")).to_have_value("Hồ Thị Ngọc")
    expect(page.locator("[data-area-picker] select").nth(2)).to_have_value(str(tan_binh))
    screenshot(page, "operator-incoming-call")

    page.get_by_role("link", name="Phân loại").click()
    expect(page.get_by_role("heading", name="Hàng chờ phân loại")).to_be_visible()
    expect(page.locator("tr", has_text=returned_code)).to_contain_text("Điện lực quản lý")
    expect(page.locator("tr", has_text=unrouted_code)).to_be_visible()
    screenshot(page, "operator-triage")
    page.get_by_role("link", name=returned_code).first.click()
    # The agency that returned it is never suggested again.
    expect(page.locator(".suggestion")).to_contain_text("Điện lực Bình Phước")
    screenshot(page, "operator-ticket")
    page.get_by_role("button", name="Chuyển", exact=True).click()
    expect(page.locator(".flash-success")).to_contain_text(
        "Đã chuyển phiếu đến Điện lực Bình Phước")

    # A question from the web answered on the spot with a knowledge-base article.
    page.goto(f"{page.base_url}/operator/tickets/{unrouted_code}")
    page.locator("#act-answer > summary").click()
    page.get_by_label("Tra cứu hướng dẫn").fill("den chieu sang")
    page.get_by_role("button", name="Dùng câu trả lời này").first.click()
    expect(page.locator("#an-answer")).to_have_value(re.compile("Đèn chiếu sáng trên đường"))
    expect(page.locator("[data-kb-used]")).to_contain_text("Báo hỏng đèn chiếu sáng công cộng")
    page.get_by_role("button", name="Trả lời và đóng phiếu").click()
    expect(page.locator(".flash-success")).to_contain_text("Đã trả lời trực tiếp")
    expect(page.locator(".ticket-head")).to_contain_text("Đã trả lời trực tiếp")
