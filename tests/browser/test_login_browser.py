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
