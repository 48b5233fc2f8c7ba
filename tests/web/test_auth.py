"""Sign-in, sign-out, password change and the login rate limit."""
from __future__ import annotations

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select

from hotline.domain.errors import ValidationError
from hotline.extensions import db
from hotline.models import AuditLog, User
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


LIMITED = [{"RATELIMIT_ENABLED": True}]
ATTACKER = {"REMOTE_ADDR": "198.51.100.66"}
OFFICE = {"REMOTE_ADDR": "203.0.113.10"}


@pytest.mark.parametrize("app_config", LIMITED)
def test_guessing_from_one_address_is_stopped_there(client, make_user, app_config):
    make_user("manager", username="lanhdao")
    codes = [login(client, "lanhdao", "guess-guess-guess", environ_base=ATTACKER).status_code
             for _ in range(6)]
    assert codes == [401] * 5 + [429]
    # The guesser stays stopped, right password or not...
    assert login(client, "lanhdao", environ_base=ATTACKER).status_code == 429
    # Another account from that address is not held by this account's limit.
    make_user("operator", username="dtv")
    assert login(client, "dtv", environ_base=ATTACKER).status_code == 302


@pytest.mark.parametrize("app_config", LIMITED)
def test_the_owner_signs_in_from_a_fresh_client_while_someone_guesses(app, make_user,
                                                                      app_config):
    make_user("manager", username="lanhdao")
    attacker = app.test_client()
    for _ in range(8):
        login(attacker, "lanhdao", "guess-guess-guess", environ_base=ATTACKER)
    owner = app.test_client()
    assert login(owner, "lanhdao", environ_base=OFFICE).status_code == 302


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True,
                                         "LOGIN_LIMIT_PER_ACCOUNT": "10 per hour"}])
def test_the_owners_own_browser_passes_even_behind_the_attackers_address(app, make_user,
                                                                         app_config):
    """Same office NAT, or a guessing attack from many addresses: the browser the owner
    signed in with before has counters of its own."""
    make_user("manager", username="lanhdao")
    owner = app.test_client()
    assert login(owner, "lanhdao", environ_base=OFFICE).status_code == 302
    owner.post("/logout", environ_base=OFFICE)
    for i in range(10):  # from many addresses: the account-wide limit is reached
        login(app.test_client(), "lanhdao", "guess-guess-guess",
              environ_base={"REMOTE_ADDR": f"198.51.100.{i + 1}"})
    fresh = app.test_client()
    assert login(fresh, "lanhdao", environ_base={"REMOTE_ADDR": "192.0.2.1"}).status_code == 429
    for _ in range(5):  # and the owner's own office address is full of failures too
        login(app.test_client(), "lanhdao", "guess-guess-guess", environ_base=OFFICE)
    assert login(owner, "lanhdao", environ_base=OFFICE).status_code == 302


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True,
                                         "LOGIN_LIMIT_PER_IP": "3 per minute",
                                         "LOGIN_LIMIT_PER_ACCOUNT": "3 per minute"}])
def test_a_correct_sign_in_is_never_counted(app, client, make_user, app_config):
    """The morning shift signs in behind one office address, some more than once."""
    for name in ("dtv1", "dtv2", "dtv3", "dtv4"):
        make_user("operator", username=name)
    for _ in range(2):
        for name in ("dtv1", "dtv2", "dtv3", "dtv4"):
            browser = app.test_client()
            assert login(browser, name, environ_base=OFFICE).status_code == 302, name
    for _ in range(6):
        assert login(client, "dtv1", environ_base=OFFICE).status_code == 302
        client.post("/logout", environ_base=OFFICE)


@pytest.mark.parametrize("app_config", LIMITED)
def test_the_device_cookie_is_signed_and_names_no_one(app, client, make_user, app_config):
    make_user("manager", username="lanhdao")
    login(client, "lanhdao")
    cookie = client.get_cookie("hotline_device", path="/login")
    assert cookie is not None and cookie.http_only and "lanhdao" not in cookie.value
    forged = app.test_client()
    forged.set_cookie("hotline_device", cookie.value[:-2] + "xx", path="/login")
    codes = [login(forged, "lanhdao", "guess-guess-guess").status_code for _ in range(6)]
    assert codes[-1] == 429  # a tampered cookie counts as no cookie


def test_unknown_and_known_users_cost_one_argon2_verification_each(client, make_user,
                                                                   monkeypatch):
    make_user("manager", username="lanhdao")
    make_user("manager", username="nghiviec")
    db.session.execute(db.update(User).where(User.username == "nghiviec").values(active=False))
    db.session.commit()
    calls = []
    verify = PasswordHasher.verify

    def counted(self, hash_, password):
        calls.append(hash_)
        return verify(self, hash_, password)

    monkeypatch.setattr(PasswordHasher, "verify", counted)
    for username in ("lanhdao", "khongtontai", "nghiviec"):
        calls.clear()
        assert login(client, username, "nope-nope-nope").status_code == 401
        assert len(calls) == 1 and calls[0].startswith("$argon2"), username
    # The stand-in hash costs what a real one does.
    real = db.session.scalar(select(User.password_hash).where(User.username == "lanhdao"))
    assert accounts._DUMMY_HASH.split("$")[3] == real.split("$")[3]


def test_every_failed_sign_in_is_audited_without_the_password(client, make_user):
    user = make_user("manager", username="lanhdao")
    make_user("operator", username="nghiviec")
    db.session.execute(db.update(User).where(User.username == "nghiviec").values(active=False))
    db.session.commit()
    login(client, "lanhdao", "sai-mat-khau-1", environ_base=ATTACKER)
    login(client, "khongtontai", "sai-mat-khau-2", environ_base=ATTACKER)
    login(client, "nghiviec", environ_base=ATTACKER)
    rows = list(db.session.scalars(select(AuditLog).where(AuditLog.action == "login_failed")
                                   .order_by(AuditLog.id)))
    assert [(r.after["username"], r.after["reason"]) for r in rows] == [
        ("lanhdao", "wrong_password"), ("khongtontai", "unknown_user"),
        ("nghiviec", "inactive")]
    assert all(r.ip == ATTACKER["REMOTE_ADDR"] and r.actor_id is None for r in rows)
    assert rows[0].entity == "user" and rows[0].entity_id == str(user.id)
    assert rows[1].entity_id is None
    for r in rows:
        text = str(r.before) + str(r.after) + r.actor_label
        assert "sai-mat-khau" not in text and PASSWORD not in text
    login(client, "lanhdao")  # a successful sign-in is not a failure
    assert db.session.scalar(select(func.count()).select_from(AuditLog)) == 3


@pytest.mark.parametrize("weak", ["aaaaaaaaaa", "1234567890", "dtv-dtv-dtv-dtv",
                                  "operator-test-2026", "password1234"])
def test_guessable_passwords_are_refused_in_vietnamese_and_english(client, make_user, weak):
    user = make_user("operator", username="dtv")
    login(client, "dtv")
    form = {"current": PASSWORD, "new": weak, "confirm": weak}
    vi = client.post("/account/password", data=form).get_data(as_text=True)
    assert "Mật khẩu quá dễ đoán" in vi
    en = client.post("/account/password?lang=en", data=form).get_data(as_text=True)
    assert "This password is too easy to guess" in en
    db.session.refresh(user)
    assert accounts.check_password(user, PASSWORD)


def test_a_password_made_of_ones_own_name_is_refused(app, make_user):
    user = accounts.create_user(username="lan.nguyen", password="mây-trắng-bay-qua-đồi",
                                role="operator", full_name="Nguyễn Thị Lan",
                                email="lan.nguyen@soxd.gov.vn")
    for weak in ("nguyenthilan", "Lan-Nguyen-Thi-1990", "soxd-lan-nguyen", "lan.nguyen2026"):
        with pytest.raises(ValidationError) as exc:
            accounts.set_password(user, weak)
        assert exc.value.code == "weak_password", weak
    accounts.set_password(user, "Vietnam-lan-2026-mưa-rào")


def test_new_accounts_get_the_same_rules(app):
    with pytest.raises(ValidationError):
        accounts.create_user(username="dtv9", password="1234567890", role="operator",
                             full_name="Điện thoại viên")


def test_a_known_password_must_be_changed_before_any_staff_page(client, make_user):
    user = make_user("operator", username="dtv")
    user.must_change_password = True
    db.session.commit()
    resp = login(client, "dtv")
    assert resp.headers["Location"].endswith("/account/password")
    for path in ("/operator/", "/operator/tickets", "/staff", "/account", "/manager/overdue"):
        assert client.get(path).headers.get("Location", "").endswith("/account/password"), path
    page = client.get("/account/password").get_data(as_text=True)
    assert "Bạn cần đặt mật khẩu của riêng mình" in page
    same = client.post("/account/password", data={"current": PASSWORD, "new": PASSWORD,
                                                  "confirm": PASSWORD})
    assert "Mật khẩu mới phải khác mật khẩu hiện tại." in same.get_data(as_text=True)
    new = "mây-trắng-bay-qua-đồi-thông"
    done = client.post("/account/password", data={"current": PASSWORD, "new": new,
                                                  "confirm": new})
    assert done.status_code == 302
    db.session.refresh(user)
    assert not user.must_change_password
    assert client.get("/operator/").status_code == 200


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True,
                                         "RATELIMIT_STORAGE_URI": "redis://127.0.0.1:1/0"}])
def test_sign_in_and_its_limits_work_with_redis_away(app, client, make_user, app_config):
    """Nothing listens on port 1: the app's limiter counts in memory meanwhile."""
    make_user("manager", username="lanhdao")
    codes = [login(client, "lanhdao", "guess-guess-guess", environ_base=ATTACKER).status_code
             for _ in range(6)]
    assert codes == [401] * 5 + [429]
    assert login(app.test_client(), "lanhdao", environ_base=OFFICE).status_code == 302
