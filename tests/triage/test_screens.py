"""Triage on the operator screens, at intake and on /admin/system — SQLite and PostgreSQL."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from hotline.extensions import db
from hotline.models import OutboxMessage, Ticket, TicketEvent
from hotline.services import triage, triage_duplicates
from tests.factories import MONDAY_9AM, message
from tests.staff_fixtures import login
from tests.staff_fixtures import ticket as fresh


def test_new_call_endpoint_suggests_fields_scope_and_kb(client, staff, with_model):
    login(client, staff.operator)
    resp = client.post("/operator/api/triage", json={"text": "đèn đường hẻm nhà tôi tối om mấy bữa"})
    body = resp.get_json()
    assert resp.status_code == 200 and body["fields"][0]["code"] == "CS"
    assert body["fields"][0]["words"] and body["banner"] is None and body["scope"] == "in_scope"
    fire = client.post("/operator/api/triage", json={"text": "cháy nhà đang cháy lớn cứu với"}).get_json()
    assert fire["scope"] == "emergency" and fire["number"] == "114" and "114" in fire["banner"]
    complaint = client.post("/operator/api/triage",
                            json={"text": "tôi khiếu nại quyết định thu hồi đất của huyện"}).get_json()
    assert "Luật Khiếu nại 2011" in complaint["banner"]
    assert client.post("/operator/api/triage", json={"text": "😀😀"}).get_json()["fields"] == []
    assert client.post("/operator/api/triage", json={"nope": 1}).status_code == 400
    assert client.get("/operator/api/triage?text=x").status_code == 405


def test_triage_endpoint_is_for_staff_only(client, staff, with_model):
    assert client.post("/operator/api/triage", json={"text": "đèn đường hư"}).status_code in (302, 401)
    login(client, staff.handler)
    assert client.post("/operator/api/triage", json={"text": "đèn đường hư"}).status_code == 403


def test_chat_ticket_without_field_is_prefilled_and_ack_tells_the_emergency(app, org, with_model):
    from hotline.services import intake
    intake.receive(message(channel="telegram", external_id="c1", field_code=None, area_code=None,
                           text="Đèn đường trước nhà hư hết mấy hôm nay, tối thui"))
    intake.receive(message(channel="web", external_id="w1", field_code=None, area_code=None,
                           text="Cháy nhà ở ấp 3 rồi, lửa đang bốc cao, cứu với"))
    db.session.commit()
    lamp = db.session.scalars(select(Ticket).where(Ticket.external_id == "c1")).one()
    assert lamp.field_id == org.fields["CS"].id and lamp.status == "new"   # filled, not routed
    note = db.session.scalars(select(TicketEvent.note).where(
        TicketEvent.ticket_id == lamp.id, TicketEvent.actor_label == "triage")).one()
    assert "Chiếu sáng" in note
    fire = db.session.scalars(select(Ticket).where(Ticket.external_id == "w1")).one()
    assert fire.code                                                      # recorded, not dropped
    ack = db.session.scalars(select(OutboxMessage).where(OutboxMessage.ticket_id == fire.id)).one()
    assert "114" in ack.payload["text"] and fire.code in ack.payload["text"]


def test_a_phone_call_and_a_ticket_with_a_field_keep_theirs(app, org, with_model):
    from hotline.services import intake
    intake.receive(message(channel="telegram", external_id="c2", field_code="XD",
                           text="Đèn đường trước nhà hư hết mấy hôm nay"))
    intake.receive(message(channel="phone", external_id="p2", field_code=None, route=False,
                           text="Đèn đường trước nhà hư hết mấy hôm nay"))
    db.session.commit()
    assert db.session.scalars(select(Ticket.field_id).where(Ticket.external_id == "c2")).one() == \
        org.fields["XD"].id
    assert db.session.scalars(select(Ticket.field_id).where(Ticket.external_id == "p2")).one() is None


def _open(org, ext, text, *, days=0, area="25432", status="new"):
    from hotline.domain.messages import ContactHandle
    from hotline.services import intake
    someone = ContactHandle(name="Người dân", email=f"{ext}@example.com")   # one each: no threading
    result = intake.receive(message(channel="web", external_id=ext, text=text, field_code=None,
                                    contact=someone,
                                    area_code=area, received_at=MONDAY_9AM - timedelta(days=days)))
    assert result.created
    t = db.session.get(Ticket, result.ticket_id)
    t.status = status
    db.session.commit()
    return t


def test_duplicates_by_meaning_place_and_time(app, org, with_model):
    kept = _open(org, "d1", "Ổ gà rất to trên đường Phú Riềng Đỏ, xe máy té liên tục", days=3)
    _open(org, "d2", "Karaoke hát to tới khuya trên đường Phú Riềng Đỏ", days=2)
    _open(org, "d3", "Ổ gà rất to trên đường Phú Riềng Đỏ xe máy hay té", days=2, area="25600")
    _open(org, "d4", "Ổ gà to trên đường Phú Riềng Đỏ, xe máy té", days=90)
    _open(org, "d5", "Ổ gà rất to trên đường Phú Riềng Đỏ, xe té", days=1, status="closed")
    new = _open(org, "d6", "o ga to qua tren duong phu rieng do xe may te hoai")
    found = triage_duplicates.for_ticket(new)
    assert [d.ticket.code for d in found] == [kept.code]    # same ward, similar, recent, open
    assert triage_duplicates.similar_open("😀", area_id=new.area_id, lat=None, lon=None,
                                          received_at=new.received_at) == []


def test_ticket_page_shows_suggestions_and_merges_a_duplicate(client, staff, org, with_model):
    kept = _open(org, "m1", "Ổ gà rất to trên đường Phú Riềng Đỏ, xe máy té liên tục", days=2)
    new = _open(org, "m2", "o ga to qua tren duong phu rieng do xe may te hoai")
    login(client, staff.operator)
    page = client.get(f"/operator/tickets/{new.code}").get_data(as_text=True)
    assert 'data-field-code="GT"' in page and "Chọn lĩnh vực này" in page
    assert f'data-duplicate="{kept.code}"' in page
    resp = client.post(f"/operator/tickets/{new.code}/merge", data={"into_code": kept.code})
    assert resp.status_code in (302, 303)
    assert fresh(new.code).merged_into_id == kept.id


def test_admin_system_warns_when_the_model_is_missing_or_corrupt(client, staff, model_path,
                                                                 corpus_model_file):
    login(client, staff.admin)
    triage.reset_caches()
    assert "Chưa có mô hình gợi ý" in client.get("/admin/system").get_data(as_text=True)
    model_path.parent.mkdir(parents=True, exist_ok=True)
    model_path.write_bytes(b"\x80garbage")
    assert "Tệp mô hình gợi ý bị hỏng" in client.get("/admin/system").get_data(as_text=True)
    model_path.write_bytes(corpus_model_file.read_bytes())
    page = client.get("/admin/system").get_data(as_text=True)
    assert "Mô hình huấn luyện lúc" in page and "bị hỏng" not in page


def test_triage_list_shows_the_scope_banner_and_the_suggested_field(client, staff, org, with_model):
    fire = _open(org, "l1", "Cháy nhà ở ấp 3 rồi, lửa đang bốc cao, cứu với")
    lamp = _open(org, "l2", "Đèn đường trong hẻm hư hết, tối om")
    db.session.execute(Ticket.__table__.update().where(Ticket.id == lamp.id).values(field_id=None))
    db.session.commit()
    login(client, staff.operator)
    page = client.get("/operator/triage").get_data(as_text=True)
    assert fire.code in page and 'data-scope="emergency"' in page and "114" in page
    assert 'data-suggested-field="CS"' in page
