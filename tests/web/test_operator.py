"""The operator's console through the test client: new call, JSON helpers, triage, actions."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from hotline.domain.text import fold
from hotline.extensions import db
from hotline.models import CallEvent, KbArticle, OutboxMessage, Ticket, TicketEvent
from tests.staff_fixtures import QueryCounter, login, ticket

PBX_SECRET = "pbx-secret-for-tests-0123456789"


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def external_id(page: str) -> str:
    return re.search(r'name="external_id" value="(call-[0-9a-f-]+)"', page).group(1)


def call_form(client, **overrides) -> dict:
    page = client.get("/operator/").get_data(as_text=True)
    data = {"external_id": external_id(page), "phone": "0912 345 678", "name": "Lê Văn Tám",
            "kind": "phan_anh", "priority": "normal", "address": "Số 5 Phú Riềng Đỏ",
            "description": "Đèn đường hỏng trước nhà số 5.", "decision": "forward"}
    data.update(overrides)
    return data


def test_new_call_form_renders_for_speed(client, staff):
    login(client, staff.operator)
    page = client.get("/operator/").get_data(as_text=True)
    assert "Cuộc gọi mới" in page and 'id="phone"' in page and "autofocus" in page
    assert "js/operator.js" in page and "<script>" not in page  # no inline script (CSP)
    assert external_id(page) != external_id(client.get("/operator/").get_data(as_text=True))
    assert "Máy lẻ" in page and "101" in page


def test_logging_a_call_and_forwarding_it(client, staff, org):
    login(client, staff.operator)
    data = call_form(client, field_id=org.fields["CS"].id, area_id=org.areas["25435"].id)
    resp = client.post("/operator/", data=data)
    assert resp.status_code == 303
    home = client.get("/operator/").get_data(as_text=True)
    code = re.search(r"(PA-\d{2}-[0-9A-Z]{6})", home).group(1)  # the year the call came in
    t = ticket(code)
    assert t.agency.code == "UBND-689" and t.created_by_id == staff.operator.id
    assert t.channel == "phone" and t.contact.phone == "+84912345678"
    # The same form sent again (double click, browser retry) makes no second ticket.
    again = client.post("/operator/", data=data, follow_redirects=True)
    assert "đã được ghi nhận trước đó" in again.get_data(as_text=True)
    assert count(Ticket) == 1


def test_logging_a_call_answered_directly(client, staff, org):
    login(client, staff.operator)
    data = call_form(client, kind="hoi_dap", decision="answer", field_id=org.fields["TTHC"].id,
                     answer="Ông/bà nộp hồ sơ tại Bộ phận một cửa.")
    assert client.post("/operator/", data=data).status_code == 303
    t = db.session.scalar(select(Ticket))
    assert t.status == "answered" and t.result.startswith("Ông/bà nộp")


@pytest.mark.parametrize("overrides, message", [
    ({"description": ""}, "Vui lòng nhập nội dung"),
    ({"phone": "12345"}, "Số điện thoại không hợp lệ"),
    ({"decision": "answer", "answer": ""}, "Vui lòng nhập nội dung trả lời"),
    ({"decision": "maybe"}, "Vui lòng chọn trả lời trực tiếp hoặc chuyển xử lý"),
    ({"field_id": "999999"}, "Lĩnh vực không tồn tại"),
    ({"area_id": "999999"}, "Địa bàn không tồn tại"),
    ({"kind": "khieu_nai"}, "Loại phiếu không hợp lệ"),
    ({"priority": "asap"}, "Mức độ ưu tiên không hợp lệ"),
    ({"external_id": "x"}, "Biểu mẫu đã cũ"),
    ({"description": "x" * 10_001}, "dài quá"),
    ({"agency_id": "999999"}, "Cơ quan xử lý không tồn tại"),
])
def test_bad_call_input_shows_a_vietnamese_error_and_stores_nothing(client, staff, overrides,
                                                                    message):
    login(client, staff.operator)
    data = call_form(client, **overrides)
    resp = client.post("/operator/", data=data)
    page = resp.get_data(as_text=True)
    assert resp.status_code == 400 and message in page
    assert count(Ticket) == 0 and count(OutboxMessage) == 0
    # What the operator typed is still there, and so is the form's idempotency key.
    if overrides.get("external_id") is None:
        assert data["external_id"] in page
    assert "Lê Văn Tám" in page


def test_forward_to_another_agency_needs_a_reason(client, staff, org):
    login(client, staff.operator)
    data = call_form(client, field_id=org.fields["CS"].id, area_id=org.areas["25435"].id,
                     agency_id=org.agencies["DIENLUC"].id)
    resp = client.post("/operator/", data=data)
    assert resp.status_code == 400 and "lý do chọn cơ quan khác" in resp.get_data(as_text=True)
    assert count(Ticket) == 0
    data["reason"] = "Cột điện trung thế"
    assert client.post("/operator/", data=data).status_code == 303
    assert db.session.scalar(select(Ticket)).agency.code == "DIENLUC"


def test_caller_lookup_json(client, staff, receive):
    receive(external_id="earlier")
    login(client, staff.operator)
    body = client.get("/operator/api/caller?phone=0912345678").get_json()
    assert body["phone"] == "+84912345678" and body["name"] == "Nguyễn Thị Lan"
    assert len(body["tickets"]) == 1 and body["tickets"][0]["url"].startswith("/operator/tickets/")
    assert body["area_chain"] and body["area_name"] == "Phường Tân Bình"
    bad = client.get("/operator/api/caller?phone=abc")
    assert bad.status_code == 400 and "không hợp lệ" in bad.get_json()["error"]


def test_area_tree_json_walks_any_depth(client, staff, org):
    login(client, staff.operator)
    roots = client.get("/operator/api/areas").get_json()["areas"]
    assert [a["name"] for a in roots] == ["Tỉnh Bình Phước"] and roots[0]["has_children"]
    districts = client.get(f"/operator/api/areas?parent={roots[0]['id']}").get_json()["areas"]
    assert {a["name"] for a in districts} == {"Thành phố Đồng Xoài", "Huyện Phú Riềng"}
    communes = client.get(f"/operator/api/areas?parent={org.areas['689'].id}").get_json()["areas"]
    assert {a["name"] for a in communes} == {"Phường Tân Phú", "Phường Tân Bình"}
    assert not any(a["has_children"] for a in communes)


def test_route_suggestion_json(client, staff, org):
    login(client, staff.operator)
    body = client.get(f"/operator/api/route?field={org.fields['CS'].id}"
                      f"&area={org.areas['25435'].id}&kind=phan_anh").get_json()
    assert body["agency_name"] == "UBND Thành phố Đồng Xoài" and "Quy tắc" in body["reason"]
    none = client.get("/operator/api/route").get_json()
    assert none["agency_id"] is None and "phân loại" in none["reason"]


def test_kb_search_json(client, staff):
    db.session.add(KbArticle(title="Cấp giấy phép xây dựng", body="Nộp tại Bộ phận một cửa.",
                             search_text=fold("Cấp giấy phép xây dựng Nộp tại Bộ phận một cửa.")))
    db.session.commit()
    login(client, staff.operator)
    body = client.get("/operator/api/kb?q=giay phep").get_json()
    assert [a["title"] for a in body["articles"]] == ["Cấp giấy phép xây dựng"]
    assert client.get("/operator/api/kb?q=").get_json() == {"articles": []}


def test_pbx_call_event_reaches_the_operators_console(app, client, staff):
    app.config["PBX_SHARED_SECRET"] = PBX_SECRET
    payload = {"caller": "0912345678", "extension": "101", "call_id": "17000.1"}
    assert client.post("/channels/phone/call-event", json=payload).status_code == 401
    assert client.post("/channels/phone/call-event", json=payload,
                       headers={"X-PBX-Secret": "wrong"}).status_code == 401
    assert count(CallEvent) == 0
    ok = client.post("/channels/phone/call-event", json=payload,
                     headers={"X-PBX-Secret": PBX_SECRET})
    assert ok.status_code == 200 and ok.get_json()["created"]
    again = client.post("/channels/phone/call-event", json=payload,
                        headers={"X-PBX-Secret": PBX_SECRET})
    assert not again.get_json()["created"] and count(CallEvent) == 1
    form = client.post("/channels/phone/call-event",
                       data={"caller": "0987654321", "extension": "101"},
                       headers={"X-PBX-Secret": PBX_SECRET})
    assert form.status_code == 200
    bad = client.post("/channels/phone/call-event", json={"caller": "0912345678"},
                      headers={"X-PBX-Secret": PBX_SECRET})
    assert bad.status_code == 400 and "máy lẻ" in bad.get_json()["error"]["message"]
    login(client, staff.operator)
    latest = client.get("/operator/api/calls/latest").get_json()["call"]
    assert latest["phone"] == "+84987654321"
    after = client.get(f"/operator/api/calls/latest?after={latest['id']}")
    assert after.get_json() == {"call": None}


def test_pbx_webhook_is_closed_without_a_secret(app, client):
    app.config["PBX_SHARED_SECRET"] = None
    resp = client.post("/channels/phone/call-event", json={"caller": "1", "extension": "1"},
                       headers={"X-PBX-Secret": ""})
    assert resp.status_code == 401


def test_triage_lists_unrouted_and_returned_tickets(client, staff, receive):
    new = receive(external_id="t1", field_code=None, area_code=None, force_new=True)
    routed = receive(external_id="t2", force_new=True)
    login(client, staff.operator)
    page = client.get("/operator/triage").get_data(as_text=True)
    assert new.code in page and routed.code not in page
    assert "không có quy tắc phù hợp" in page


def test_operator_ticket_actions(client, staff, receive, org):
    r = receive(external_id="t1", field_code=None, area_code=None, force_new=True)
    login(client, staff.operator)
    page = client.get(f"/operator/tickets/{r.code}").get_data(as_text=True)
    assert "Chuyển cơ quan xử lý" in page and "Gộp vào phiếu trùng" in page
    resp = client.post(f"/operator/tickets/{r.code}/classify",
                       data={"field_id": org.fields["CS"].id, "area_id": org.areas["25435"].id})
    assert resp.status_code == 303
    page = client.get(f"/operator/tickets/{r.code}").get_data(as_text=True)
    assert "Gợi ý" in page and "UBND Thành phố Đồng Xoài" in page
    bad = client.post(f"/operator/tickets/{r.code}/forward",
                      data={"agency_id": org.agencies["SO-XD"].id})
    assert bad.status_code == 400 and "lý do chọn cơ quan khác" in bad.get_data(as_text=True)
    assert ticket(r.code).status == "new"
    ok = client.post(f"/operator/tickets/{r.code}/forward", data={}, follow_redirects=True)
    assert "Đã chuyển phiếu đến UBND Thành phố Đồng Xoài" in ok.get_data(as_text=True)
    assert ticket(r.code).status == "assigned"
    # Not allowed any more in this status: a clear message, not a 500.
    late = client.post(f"/operator/tickets/{r.code}/answer", data={"answer": "x"})
    assert late.status_code == 409 and "Không thể chuyển phiếu" in late.get_data(as_text=True)
    assert client.post(f"/operator/tickets/{r.code}/bogus").status_code == 404


@pytest.mark.parametrize("action, data, message", [
    ("forward", {"agency_id": "999999"}, "Cơ quan xử lý không tồn tại"),
    ("answer", {"answer": ""}, "Vui lòng nhập nội dung trả lời"),
    ("merge", {"into_code": ""}, "Vui lòng nhập mã phiếu được giữ lại"),
    ("merge", {"into_code": "PA-26-ZZZZZZ"}, "Không tìm thấy phiếu"),
    ("reject", {}, "Vui lòng chọn lý do từ chối"),
    ("reject", {"reason": "out_of_scope", "where": ""}, "Vui lòng nhập nơi người dân cần liên hệ"),
    ("classify", {"field_id": "999999"}, "Lĩnh vực không tồn tại"),
    ("classify", {"kind": "khieu_nai"}, "Loại phiếu không hợp lệ"),
    ("note", {"note": ""}, "Vui lòng nhập nội dung ghi chú"),
    ("cohandler_add", {"agency_id": ""}, "Không thể mời cơ quan phối hợp"),
])
def test_bad_operator_action_input_changes_nothing(client, staff, receive, action, data, message):
    r = receive(external_id="t1", field_code=None, area_code=None, force_new=True)
    before = (count(TicketEvent), count(OutboxMessage))
    login(client, staff.operator)
    resp = client.post(f"/operator/tickets/{r.code}/{action}", data=data)
    assert resp.status_code in (400, 409) and message in resp.get_data(as_text=True)
    assert (count(TicketEvent), count(OutboxMessage)) == before
    assert ticket(r.code).status == "new"


def test_lists_issue_a_fixed_number_of_queries(client, staff, receive):
    def queries(n_before: int, n_total: int) -> int:
        for i in range(n_before, n_total):
            receive(external_id=f"q{i}", field_code=None, area_code=None, force_new=True,
                    text=f"Phản ánh số {i}")
        client.get("/operator/tickets")  # the filters' choices are then in the lookups
        with QueryCounter() as counter:
            assert client.get("/operator/tickets").status_code == 200
            assert client.get("/operator/triage").status_code == 200
        return counter.count
    login(client, staff.operator)
    assert queries(0, 5) == queries(5, 50)
