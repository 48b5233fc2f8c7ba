"""Sign-in, sign-out, password change and the login rate limit."""
from __future__ import annotations

import pytest

from hotline.extensions import db
from hotline.services import accounts

PASSWORD = "correct-horse-battery"


def login(client, username, password=PASSWORD, **kw):
    return client.post("/login", data={"username": username, "password": password}, **kw)


def test_login_page_is_vietnamese(client):
    page = client.get("/login").get_data(as_text=True)
    assert "Đăng nhập" in page and 'lang="vi"' in page


def test_login_and_logout(client, make_user):
    make_user("manager", username="lanhdao")
    resp = login(client, "lanhdao")
    assert resp.status_code == 302
    assert client.get("/staff").status_code == 200
    assert client.post("/logout").status_code == 302
    assert client.get("/staff").status_code == 302  # back to the login page


def test_wrong_user_and_wrong_password_look_the_same(client, make_user):
    make_user("manager", username="lanhdao")
    wrong_pw = login(client, "lanhdao", "nope-nope-nope")
    no_user = login(client, "khongton", "nope-nope-nope")
    assert wrong_pw.status_code == no_user.status_code == 401
    msg = "Sai tên đăng nhập hoặc mật khẩu."
    assert msg in wrong_pw.get_data(as_text=True) and msg in no_user.get_data(as_text=True)


def test_inactive_account_cannot_sign_in(client, make_user):
    user = make_user("manager", username="nghiviec")
    user.active = False
    db.session.commit()
    assert login(client, "nghiviec").status_code == 401


def test_next_parameter_never_leaves_the_site(client, make_user):
    make_user("manager", username="lanhdao")
    resp = login(client, "lanhdao", query_string={"next": "https://evil.example/x"})
    assert "evil.example" not in resp.headers["Location"]
    client.post("/logout")
    resp = login(client, "lanhdao", query_string={"next": "/staff"})
    assert resp.headers["Location"].endswith("/staff")


def test_change_password(client, make_user):
    user = make_user("operator", username="dtv")
    login(client, "dtv")
    bad = client.post("/account/password", data={"current": "wrong-wrong", "new": "new-password-1022",
                                                 "confirm": "new-password-1022"})
    assert "Mật khẩu hiện tại không đúng." in bad.get_data(as_text=True)
    short = client.post("/account/password", data={"current": PASSWORD, "new": "short",
                                                   "confirm": "short"})
    assert short.status_code == 200
    db.session.refresh(user)
    assert accounts.check_password(user, PASSWORD)
    ok = client.post("/account/password", data={"current": PASSWORD, "new": "new-password-1022",
                                                "confirm": "new-password-1022"})
    assert ok.status_code == 302
    db.session.refresh(user)
    assert accounts.check_password(user, "new-password-1022")


def test_password_is_hashed_with_argon2(make_user):
    user = make_user("operator", username="dtv")
    assert user.password_hash.startswith("$argon2") and PASSWORD not in user.password_hash


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}])
def test_login_is_rate_limited_per_account(client, make_user, app_config):
    make_user("manager", username="lanhdao")
    codes = [login(client, "lanhdao", "guess-guess-guess").status_code for _ in range(6)]
    assert codes[:5] == [401] * 5 and codes[5] == 429
    # Even the right password is refused until the window passes.
    assert login(client, "lanhdao").status_code == 429
    # Another account from the same address is not blocked by this account's limit.
    make_user("operator", username="dtv")
    assert login(client, "dtv").status_code == 302
