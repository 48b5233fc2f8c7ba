"""Publication policy through the app: the operator's one click (with the script), the web
form's box, the status page's button, the moderation queue of every channel, withholding
with an audited reason, and result approvals that never stall without an agency lead."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from hotline.domain.errors import PermissionDenied
from hotline.extensions import db
from hotline.models import AuditLog, Ticket
from hotline.services import handling, lead_fallback, public
from tests.services.test_public import give_result
from tests.staff_fixtures import login, ticket
from tests.web.test_operator import call_form
from tests.web.test_public import submit


def _code(page: str) -> str:
    return re.search(r"(PA-\d{2}-[0-9A-Z]{6})", page).group(1)


def test_operator_asks_in_one_click_with_the_default_in_the_script(client, staff, org):
    login(client, staff.operator)
    page = client.get("/operator/").get_data(as_text=True)
    assert "Người dân không đồng ý công khai" in page and "Mặc định: công khai" in page
    assert 'name="no_publish"' in page and "checked" not in page.split('name="no_publish"')[1][:80]
    client.post("/operator/", data=call_form(client, field_id=org.fields["CS"].id,
                                             area_id=org.areas["25435"].id))
    client.post("/operator/", data=call_form(client, field_id=org.fields["CS"].id,
                                             area_id=org.areas["25435"].id, no_publish="1",
                                             description="Cột điện nghiêng trước nhà."))
    rows = db.session.scalars(select(Ticket).order_by(Ticket.id)).all()
    assert [t.consent_publish for t in rows] == [True, False]


def test_web_form_refusal_box(client, org):
    submit(client)
    submit(client, submission_id="b" * 32, no_publish="y")
    rows = db.session.scalars(select(Ticket).order_by(Ticket.id)).all()
    assert [t.consent_publish for t in rows] == [True, False]


def test_status_page_button_refuses_and_takes_down(client, staff, org, receive):
    result = receive(force_new=True, external_id="web-1", channel="web")
    t = db.session.get(Ticket, result.ticket_id)
    give_result(t)
    draft = public.prepare_publication(t)
    public.approve_publication(staff.manager, t, draft.summary, draft.result)
    db.session.commit()
    link = f"/status/{t.code}/{t.status_token}"
    page = client.get(link).get_data(as_text=True)
    assert "Không đồng ý công khai" in page
    assert client.post(f"/status/{t.code}/wrong-token/no-publish").status_code == 404
    assert ticket(t.id).consent_publish  # a stranger changes nothing
    resp = client.post(link + "/no-publish")
    assert resp.status_code == 302
    assert not ticket(t.id).consent_publish and ticket(t.id).published_at is None
    assert client.get(f"/results/{t.code}").status_code == 404
    assert "không được công khai" in client.get(link).get_data(as_text=True)


def test_queue_covers_every_channel_and_withholding_is_audited(client, staff, org, receive):
    made = {}
    for channel in ("phone", "web", "email", "telegram", "zalo", "facebook", "open311"):
        r = receive(force_new=True, external_id=f"{channel}-1", channel=channel)
        give_result(db.session.get(Ticket, r.ticket_id))
        made[channel] = r.code
    refused = receive(force_new=True, external_id="refused", consent_publish=False)
    give_result(db.session.get(Ticket, refused.ticket_id))
    login(client, staff.manager)
    page = client.get("/manager/publication/").get_data(as_text=True)
    assert all(code in page for code in made.values()) and refused.code not in page
    assert "Telegram" in page and "Điện thoại" in page
    resp = client.post(f"/manager/publication/{made['phone']}/unpublish",
                       data={"reason": "Nội dung liên quan đời tư"})
    assert resp.status_code == 302
    assert made["phone"] not in [t.code for t in public.publication_queue(staff.manager).tickets]
    row = db.session.scalar(select(AuditLog).where(AuditLog.action == "withhold"))
    assert row.entity_id == made["phone"] and row.after["reason"] == "Nội dung liên quan đời tư"
    assert row.actor_id == staff.manager.id
    # No reason: refused, nothing changes.
    client.post(f"/manager/publication/{made['web']}/unpublish", data={"reason": ""})
    assert ticket(made["web"]).publication_withheld_at is None
    # A refused ticket cannot be published, even by a manager.
    page = client.get(f"/manager/publication/{refused.code}").get_data(as_text=True)
    assert "không đồng ý công khai" in page


@pytest.fixture
def leadless(staff, org):
    """UBND TP Đồng Xoài needs its lead's approval and its only lead is deactivated."""
    org.agencies["UBND-689"].requires_result_approval = True
    staff.lead.active = False
    db.session.commit()
    return org.agencies["UBND-689"]


def _resolved(receive, staff, n=1):
    r = receive(force_new=True, external_id=f"lead-{n}")
    t = db.session.get(Ticket, r.ticket_id)
    handling.accept(staff.handler, t)
    handling.resolve(staff.handler, t, result="Đã thay bóng đèn.")
    db.session.commit()
    assert t.status == "resolved"
    return t


def test_approvals_fall_to_managers_without_a_lead(client, staff, leadless, receive):
    t = _resolved(receive, staff)
    assert [a.code for a in lead_fallback.agencies_without_lead()] == ["UBND-689"]
    login(client, staff.admin)
    home = client.get("/admin/").get_data(as_text=True)
    assert 'id="leadless-warning"' in home and "UBND Thành phố Đồng Xoài" in home
    client.post("/logout")
    login(client, staff.manager)
    page = client.get("/manager/approvals").get_data(as_text=True)
    assert t.code in page and "Kết quả chờ duyệt thay lãnh đạo đơn vị" in page
    resp = client.post(f"/manager/approvals/results/{t.code}", data={"decision": "approve"})
    assert resp.status_code == 302
    assert ticket(t.id).status == "approved"


def test_with_an_active_lead_managers_do_not_approve(client, staff, org, receive):
    org.agencies["UBND-689"].requires_result_approval = True
    db.session.commit()
    t = _resolved(receive, staff)
    assert lead_fallback.agencies_without_lead() == []
    with pytest.raises(PermissionDenied):
        handling.approve(staff.manager, t)
    login(client, staff.manager)
    client.post(f"/manager/approvals/results/{t.code}", data={"decision": "approve"})
    assert ticket(t.id).status == "resolved"
    client.post("/logout")
    login(client, staff.admin)
    assert 'id="leadless-warning"' not in client.get("/admin/").get_data(as_text=True)


def test_operator_records_a_refusal_when_the_citizen_calls_back(client, staff, org, receive):
    r = receive(force_new=True, external_id="callback")
    t = db.session.get(Ticket, r.ticket_id)
    give_result(t)
    draft = public.prepare_publication(t)
    public.approve_publication(staff.manager, t, draft.summary, draft.result)
    db.session.commit()
    login(client, staff.operator)
    page = client.get(f"/operator/tickets/{t.code}").get_data(as_text=True)
    assert "Ghi nhận không công khai" in page
    resp = client.post(f"/operator/tickets/{t.code}/no_publish")
    assert resp.status_code == 303
    assert not ticket(t.id).consent_publish and ticket(t.id).published_at is None
    assert client.get(f"/results/{t.code}").status_code == 404
    assert "Ghi nhận không công khai" not in client.get(
        f"/operator/tickets/{t.code}").get_data(as_text=True)
