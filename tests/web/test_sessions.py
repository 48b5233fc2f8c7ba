"""Staff sessions end on the server: sign-out, password changes, an administrator's reset,
deactivation, reactivation, "sign out everywhere", idleness and age."""
from __future__ import annotations

import re
import time
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from hotline.extensions import db
from hotline.models import StaffSession, User, utcnow
from hotline.services import sessions
from tests.staff_fixtures import PASSWORD, login

NEW_PASSWORD = "mây-trắng-bay-qua-đồi-thông"


def copy_of(app, client):
    """Another browser holding a copy of ``client``'s session cookie."""
    thief = app.test_client()
    thief.set_cookie("session", client.get_cookie("session").value)
    return thief


def signed_in(client) -> bool:
    """Whether the browser is signed in at all (the password page needs only that)."""
    resp = client.get("/account/password")
    assert resp.status_code in (200, 302)
    return resp.status_code == 200


def count_sessions(user) -> int:
    return db.session.scalar(select(func.count()).select_from(StaffSession)
                             .where(StaffSession.user_id == user.id))


def test_a_cookie_copied_before_logout_is_refused_after_it(app, client, staff):
    login(client, staff.operator)
    thief = copy_of(app, client)
    assert signed_in(thief)  # the copy works while the session lives
    client.post("/logout")
    assert not signed_in(thief)
    assert thief.get("/operator/").headers["Location"].startswith("/login")
    assert client.get("/operator/").headers["Location"].startswith("/login")
    assert count_sessions(staff.operator) == 0


def test_logout_ends_only_that_browser(app, client, staff):
    login(client, staff.operator)
    other = login(app.test_client(), staff.operator)
    client.post("/logout")
    assert not signed_in(client) and signed_in(other)


def test_changing_ones_password_ends_the_other_sessions_and_keeps_this_one(app, client, staff):
    login(client, staff.operator)
    elsewhere = login(app.test_client(), staff.operator)
    stolen = copy_of(app, elsewhere)
    resp = client.post("/account/password", data={"current": PASSWORD, "new": NEW_PASSWORD,
                                                  "confirm": NEW_PASSWORD})
    assert resp.status_code == 302
    assert signed_in(client)
    assert not signed_in(elsewhere) and not signed_in(stolen)
    assert count_sessions(staff.operator) == 1


def test_an_administrators_reset_ends_every_session_and_forces_a_change(app, client, staff):
    victim = login(app.test_client(), staff.operator)
    login(client, staff.admin)
    page = client.post(f"/admin/users/{staff.operator.id}/password").get_data(as_text=True)
    assert not signed_in(victim)
    db.session.expire_all()
    user = db.session.get(User, staff.operator.id)
    assert user.must_change_password
    temporary = re.search(r'<code class="secret" id="secret">([^<]+)</code>', page).group(1)
    fresh = app.test_client()
    fresh.post("/login", data={"username": user.username, "password": temporary})
    assert fresh.get("/operator/").headers["Location"].endswith("/account/password")


def test_deactivation_ends_sessions_and_reactivation_does_not_revive_them(app, client, staff):
    victim = login(app.test_client(), staff.operator)
    kept = copy_of(app, victim)  # not used until the account is active again
    login(client, staff.admin)
    client.post(f"/admin/users/{staff.operator.id}/active", data={"active": "0"})
    assert not signed_in(victim)
    assert count_sessions(staff.operator) == 0
    client.post(f"/admin/users/{staff.operator.id}/active", data={"active": "1"})
    db.session.expire_all()
    assert db.session.get(User, staff.operator.id).active
    assert not signed_in(kept)
    assert signed_in(login(app.test_client(), staff.operator))  # a new sign-in works


def test_sign_out_everywhere_from_the_account_page(app, client, staff):
    login(client, staff.operator)
    phone = login(app.test_client(), staff.operator)
    page = client.get("/account").get_data(as_text=True)
    assert "Đăng xuất khỏi mọi thiết bị" in page and "/account/sign-out-everywhere" in page
    resp = client.post("/account/sign-out-everywhere")
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/login")
    assert not signed_in(client) and not signed_in(phone)
    assert count_sessions(staff.operator) == 0
    from hotline.models import AuditLog
    assert db.session.scalar(select(AuditLog.action).where(AuditLog.actor_id == staff.operator.id)
                             .order_by(AuditLog.id.desc()).limit(1)) == "logout_everywhere"


def test_the_account_page_in_english(client, staff):
    login(client, staff.operator)
    page = client.get("/account?lang=en").get_data(as_text=True)
    assert "Sign out of every device" in page


def _age_last_seen(client, seconds: int) -> None:
    with client.session_transaction() as cookie:
        cookie[sessions.SEEN_KEY] = int(time.time()) - seconds


def test_idle_sessions_end_after_the_default_half_hour(client, staff):
    login(client, staff.operator)
    _age_last_seen(client, 29 * 60)
    assert signed_in(client)  # activity within the half hour keeps it alive...
    with client.session_transaction() as cookie:
        assert int(time.time()) - cookie[sessions.SEEN_KEY] < 5  # ...and moves "last seen"
    _age_last_seen(client, 31 * 60)
    assert not signed_in(client)
    assert "Phiên làm việc đã kết thúc" in client.get("/login").get_data(as_text=True)


@pytest.mark.parametrize("app_config", [{"SESSION_IDLE_MINUTES": 5, "SESSION_MAX_HOURS": 2}])
def test_idle_and_absolute_limits_are_configurable(client, staff, app_config):
    login(client, staff.operator)
    _age_last_seen(client, 6 * 60)
    assert not signed_in(client)
    login(client, staff.operator)
    db.session.execute(update(StaffSession).values(created_at=utcnow() - timedelta(minutes=119)))
    db.session.commit()
    assert signed_in(client)
    db.session.execute(update(StaffSession).values(created_at=utcnow() - timedelta(minutes=121)))
    db.session.commit()
    assert not signed_in(client)


def test_sessions_end_twelve_hours_after_sign_in_even_when_busy(client, staff):
    login(client, staff.operator)
    db.session.execute(update(StaffSession).values(created_at=utcnow() - timedelta(hours=11)))
    db.session.commit()
    assert signed_in(client)
    db.session.execute(update(StaffSession).values(created_at=utcnow() - timedelta(hours=12,
                                                                                   minutes=1)))
    db.session.commit()
    assert not signed_in(client)


def test_the_cookie_holds_a_token_and_the_database_only_its_digest(client, staff):
    login(client, staff.operator)
    with client.session_transaction() as cookie:
        token = cookie[sessions.TOKEN_KEY]
    stored = db.session.scalar(select(StaffSession.id))
    assert token not in stored and len(stored) == 64


def test_old_sessions_of_a_user_are_swept_at_their_next_sign_in(client, staff):
    login(client, staff.operator)
    client.post("/logout")
    login(client, staff.operator)
    db.session.execute(update(StaffSession).values(created_at=utcnow() - timedelta(days=2)))
    db.session.commit()
    login(app_client := client.application.test_client(), staff.operator)
    assert count_sessions(staff.operator) == 1 and signed_in(app_client)
