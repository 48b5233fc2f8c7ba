"""The managers' reports in a real browser, on the demo province; screenshots for the docs."""
from __future__ import annotations

from hotline.extensions import db
from hotline.services import demo
from hotline.services.reports import daily
from tests.browser.conftest import screenshot


def _sign_in(page, username: str) -> None:
    """Sign in with the demo's published password, which has to be replaced at once."""
    page.goto(page.base_url + "/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(demo.demo_password(username))
    page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_role("heading", name="Đổi mật khẩu").wait_for()
    page.get_by_label("Mật khẩu hiện tại").fill(demo.demo_password(username))
    page.get_by_label("Mật khẩu mới", exact=True).fill("mây-trắng-bay-qua-đồi-thông")
    page.get_by_label("Nhập lại mật khẩu mới").fill("mây-trắng-bay-qua-đồi-thông")
    page.get_by_role("button", name="Lưu").click()
    page.get_by_text("Đã đổi mật khẩu.").wait_for()


def test_manager_reads_the_reports(page, app):
    demo.seed(tickets=150, seed=1022)
    db.session.commit()
    daily.refresh(days=None)
    db.session.commit()
    _sign_in(page, "lanhdao.tinh")

    page.goto(page.base_url + "/manager/")
    page.get_by_role("heading", name="Tiếp nhận và giải quyết").wait_for()
    assert page.locator("svg.chart").count() >= 4
    assert page.get_by_text("Số liệu tổng hợp ngày cập nhật lúc").is_visible()
    screenshot(page, "manager-dashboard")

    page.goto(page.base_url + "/manager/overdue")
    page.get_by_role("heading", name="Phiếu quá hạn").wait_for()
    screenshot(page, "manager-overdue")
    first_group = page.locator("table tbody tr td:first-child a").first
    if first_group.count():
        first_group.click()
        page.get_by_role("heading", name="Danh sách phiếu · Quá hạn").wait_for()
        screenshot(page, "manager-overdue-drilldown")

    page.goto(page.base_url + "/manager/ranking")
    page.get_by_role("heading", name="Xếp hạng đơn vị").first.wait_for()
    screenshot(page, "manager-ranking")

    page.goto(page.base_url + "/manager/monthly")
    page.get_by_role("heading", name="BÁO CÁO").wait_for()
    # The print button is shown by the static script (no inline JS under the CSP).
    assert page.get_by_role("button", name="In báo cáo").is_visible()
    screenshot(page, "manager-monthly")
    page.emulate_media(media="print")
    assert not page.locator(".topbar").is_visible()
    screenshot(page, "manager-monthly-print")
    page.emulate_media(media="screen")

    page.goto(page.base_url + "/manager/quality")
    page.get_by_role("heading", name="Kiểm tra chất lượng trả lời trực tiếp").wait_for()
    screenshot(page, "manager-quality")
    page.goto(page.base_url + "/manager/approvals")
    page.get_by_role("heading", name="Đề nghị gia hạn chờ duyệt").wait_for()

    # A bad period is a message, not an error page.
    page.goto(page.base_url + "/manager/ranking?period=custom&from=2026-12-01&to=2026-11-01")
    assert page.get_by_text("Ngày bắt đầu phải trước hoặc bằng ngày kết thúc.").is_visible()


def test_agency_lead_sees_own_unit(page, app):
    demo.seed(tickets=60, seed=7)
    db.session.commit()
    _sign_in(page, "lanhdao.soxd")
    page.goto(page.base_url + "/manager/ranking")
    rows = page.locator("table.ranking tbody tr")
    assert rows.count() == 1 and "Sở Xây dựng" in rows.first.inner_text()
    page.goto(page.base_url + "/manager/overdue")
    screenshot(page, "manager-overdue-agency-lead")
