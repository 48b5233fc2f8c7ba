"""The authorisation matrix: every role × every staff page and action of the console.

Expected answers: 200 (page), OK (the action ran or was refused for its input or
status — 303/400/409, never a guard), 302 (anonymous: to the sign-in page),
403 (wrong role), 404 (a ticket outside the actor's scope — exactly like a code
that does not exist, so a handler guessing another agency's codes learns nothing).
"""
from __future__ import annotations

import pytest
from flask import session
from flask_wtf.csrf import generate_csrf
from sqlalchemy import select

from hotline.domain.messages import IncomingAttachment
from hotline.extensions import db
from hotline.models import Attachment, Ticket
from tests.staff_fixtures import login

OK = "ok"  # passed every guard: 200, 303, or a 400/409 about the input or status
OK_CODES = {200, 303, 400, 409}
ROLES = ("operator", "manager", "handler", "agency_lead", "other_handler", "admin", "anonymous")

OPERATOR_ACTIONS = ("forward", "answer", "merge", "reject", "classify", "note", "cohandler_add")
AGENCY_ACTIONS = ("accept", "return", "ask", "citizen_reply", "note", "extension", "resolve",
                  "cohandler_add", "cohandler_part")
LEAD_ACTIONS = ("approve", "send_back")


def row(operator, manager, handler, agency_lead, other_handler, admin, anonymous=302):
    return dict(zip(ROLES, (operator, manager, handler, agency_lead, other_handler, admin,
                            anonymous), strict=True))


def matrix(t_code: str, agency_code: str, att_id: int) -> list[tuple[str, str, dict]]:
    """(method, url, expected per role)."""
    op_read = row(200, 200, 403, 403, 403, 403)
    rows = [
        ("GET", "/operator/", row(200, 403, 403, 403, 403, 403)),
        ("POST", "/operator/", row(OK, 403, 403, 403, 403, 403)),
        ("GET", "/operator/triage", op_read),
        ("GET", "/operator/tickets", op_read),
        ("GET", f"/operator/tickets/{t_code}", op_read),
        ("GET", f"/operator/tickets/{agency_code}", op_read),
        ("GET", f"/operator/tickets/{agency_code}/files/{att_id}", op_read),
        ("GET", "/operator/tickets/PA-26-ZZZZZZ", row(404, 404, 403, 403, 403, 403)),
        ("GET", "/operator/api/caller?phone=0912345678", op_read),
        ("GET", "/operator/api/areas", op_read),
        ("GET", "/operator/api/route", op_read),
        ("GET", "/operator/api/kb?q=den", op_read),
        ("GET", "/operator/api/calls/latest", op_read),
        ("GET", "/agency/", row(403, 403, 200, 200, 200, 403)),
        ("GET", "/agency/approvals", row(403, 403, 403, 200, 403, 403)),
        ("GET", f"/agency/tickets/{agency_code}", row(403, 403, 200, 200, 404, 403)),
        ("GET", f"/agency/tickets/{agency_code}/files/{att_id}", row(403, 403, 200, 200, 404, 403)),
        # A triage ticket belongs to no agency yet: nobody's agency page shows it.
        ("GET", f"/agency/tickets/{t_code}", row(403, 403, 404, 404, 404, 403)),
        ("GET", "/agency/tickets/PA-26-ZZZZZZ", row(403, 403, 404, 404, 404, 403)),
        ("GET", "/agency/tickets/not-a-code", row(403, 403, 404, 404, 404, 403)),
    ]
    for action in OPERATOR_ACTIONS:
        rows.append(("POST", f"/operator/tickets/{t_code}/{action}",
                     row(OK, 403, 403, 403, 403, 403)))
    rows.append(("POST", "/operator/tickets/PA-26-ZZZZZZ/note", row(404, 403, 403, 403, 403, 403)))
    for action in AGENCY_ACTIONS:
        # A co-handler's part is only for a co-handling agency: the lead agency is refused (403).
        mine = 403 if action == "cohandler_part" else OK
        rows.append(("POST", f"/agency/tickets/{agency_code}/{action}",
                     row(403, 403, mine, mine, 404, 403)))
    for action in LEAD_ACTIONS:
        rows.append(("POST", f"/agency/tickets/{agency_code}/{action}",
                     row(403, 403, 403, OK, 404, 403)))
    rows.append(("POST", "/agency/tickets/PA-26-ZZZZZZ/accept", row(403, 403, 404, 404, 404, 403)))
    return rows


@pytest.fixture
def tickets_for_matrix(receive, staff):
    triage = receive(external_id="m1", field_code=None, area_code=None, force_new=True)
    assigned = receive(external_id="m2", force_new=True,
                       attachments=(IncomingAttachment("anh.jpg", "image/jpeg", b"\xff\xd8"),))
    att = db.session.scalar(select(Attachment))
    assert db.session.get(Ticket, assigned.ticket_id).agency.code == "UBND-689"
    return triage.code, assigned.code, att.id


@pytest.mark.parametrize("role", ROLES)
def test_authorisation_matrix(client, staff, tickets_for_matrix, role):
    users = {"operator": staff.operator, "manager": staff.manager, "handler": staff.handler,
             "agency_lead": staff.lead, "other_handler": staff.other_handler, "admin": staff.admin}
    if role != "anonymous":
        login(client, users[role])
    failures = []
    for method, url, expected in matrix(*tickets_for_matrix):
        want = expected[role]
        with client.open(url, method=method, data={}) as resp:
            got = resp.status_code
            location = resp.headers.get("Location", "")
        ok = got in OK_CODES if want == OK else got == want
        if want == 302 and ok:
            ok = "/login" in location
        if not ok:
            failures.append(f"{method} {url}: expected {want}, got {got}")
    assert not failures, f"{role}:\n" + "\n".join(failures)


def test_a_handler_guessing_another_agencys_ticket_learns_nothing(client, staff, receive):
    theirs = receive(external_id="g1", force_new=True)
    login(client, staff.other_handler)
    guessed = client.get(f"/agency/tickets/{theirs.code}")
    missing = client.get("/agency/tickets/PA-26-ZZZZZZ")
    assert guessed.status_code == missing.status_code == 404
    assert guessed.get_data(as_text=True) == missing.get_data(as_text=True)
    assert "Không có phiếu nào" in client.get(f"/agency/?q={theirs.code}").get_data(as_text=True)
    assert client.post(f"/agency/tickets/{theirs.code}/accept").status_code == 404
    assert db.session.get(Ticket, theirs.ticket_id).status == "assigned"


@pytest.mark.parametrize("app_config", [{"WTF_CSRF_ENABLED": True}])
def test_forms_need_the_csrf_token_but_the_pbx_webhook_does_not(app, client, staff, receive,
                                                                app_config):
    t = receive(external_id="c1", force_new=True)
    with client:
        client.get("/login")
        token = generate_csrf()
        login_data = {"username": staff.handler.username, "password": "correct-horse-battery",
                      "csrf_token": token}
        assert client.post("/login", data=login_data).status_code == 302
        assert session.get("_user_id")
    resp = client.post(f"/agency/tickets/{t.code}/accept", data={})
    assert resp.status_code == 400
    assert db.session.get(Ticket, t.ticket_id).status == "assigned"
    app.config["PBX_SHARED_SECRET"] = "s" * 32
    pbx = client.post("/channels/phone/call-event", json={"caller": "0912345678",
                                                          "extension": "101"},
                      headers={"X-PBX-Secret": "s" * 32})
    assert pbx.status_code == 200
