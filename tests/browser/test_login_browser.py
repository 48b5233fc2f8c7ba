"""A staff member signs in with a real browser."""
from __future__ import annotations

from tests.browser.conftest import screenshot


def test_sign_in_in_the_browser(page, make_user):
    make_user("manager", username="lanhdao", password="correct-horse-battery")
    page.goto(page.base_url + "/login")
    page.get_by_label("Tên đăng nhập").fill("lanhdao")
    page.get_by_label("Mật khẩu").fill("wrong-password-x")
    page.get_by_role("button", name="Đăng nhập").click()
    assert page.get_by_text("Sai tên đăng nhập hoặc mật khẩu.").is_visible()
    page.get_by_label("Mật khẩu").fill("correct-horse-battery")
    page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_role("button", name="Đăng xuất").wait_for()
    screenshot(page, "login-landing")


def test_a_demo_password_is_changed_at_first_sign_in(page, app):
    from hotline.extensions import db
    from hotline.services import demo
    demo.seed(tickets=0)
    db.session.commit()
    published = demo.demo_password("dtv01")
    page.goto(page.base_url + "/login")
    page.get_by_label("Tên đăng nhập").fill("dtv01")
    page.get_by_label("Mật khẩu").fill(published)
    page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_text("Bạn cần đặt mật khẩu của riêng mình").wait_for()
    # Any staff page leads back here until the password is changed.
    page.goto(page.base_url + "/operator/")
    page.get_by_role("heading", name="Đổi mật khẩu").wait_for()
    assert page.url.endswith("/account/password")
    page.get_by_label("Mật khẩu hiện tại").fill(published)
    for weak in ("aaaaaaaaaa", "1234567890"):
        page.get_by_label("Mật khẩu mới", exact=True).fill(weak)
        page.get_by_label("Nhập lại mật khẩu mới").fill(weak)
        page.get_by_role("button", name="Lưu").click()
        page.get_by_text("Mật khẩu quá dễ đoán").wait_for()
        page.get_by_label("Mật khẩu hiện tại").fill(published)
    screenshot(page, "forced-password-change")
    page.get_by_label("Mật khẩu mới", exact=True).fill("mây-trắng-bay-qua-đồi-thông")
    page.get_by_label("Nhập lại mật khẩu mới").fill("mây-trắng-bay-qua-đồi-thông")
    page.get_by_role("button", name="Lưu").click()
    page.get_by_text("Đã đổi mật khẩu.").wait_for()
    page.goto(page.base_url + "/operator/")
    assert page.url.endswith("/operator/")
    # Sign out everywhere from the account page.
    page.get_by_role("link", name="Tài khoản của tôi").click()
    page.get_by_role("button", name="Đăng xuất khỏi mọi thiết bị").click()
    page.get_by_text("Đã đăng xuất khỏi mọi thiết bị.").wait_for()
    page.goto(page.base_url + "/operator/")
    assert "/login" in page.url
