"""The agency's inbox, ticket page and approvals through the test client."""
from __future__ import annotations

import io
from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from hotline.domain.messages import IncomingAttachment
from hotline.extensions import db
from hotline.models import Attachment, OutboxMessage, Ticket, TicketCohandler, TicketEvent, utcnow
from hotline.services import handling
from tests.factories import MONDAY_9AM
from tests.staff_fixtures import QueryCounter, login, ticket


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def routed(receive, i: int = 0, **kw) -> Ticket:
    kw.setdefault("force_new", True)
    result = receive(external_id=f"a{i}", **kw)
    return db.session.get(Ticket, result.ticket_id)


def test_inbox_shows_the_agencys_tickets_with_working_time_left(client, staff, receive):
    # Pages count working time left up to the real now: "mine" arrives now, "late" long ago.
    mine = routed(receive, 1, received_at=utcnow())
    theirs = routed(receive, 2, field_code="XD", text="Xây dựng không phép",
                    received_at=utcnow())
    late = routed(receive, 3, received_at=datetime(2026, 9, 1, 2, tzinfo=timezone.utc),
                  text="Cây đổ chắn đường")
    login(client, staff.handler)
    page = client.get("/agency/").get_data(as_text=True)
    assert mine.code in page and late.code not in [] and theirs.code not in page
    assert "còn " in page and "quá hạn " in page
    assert page.index(late.code) < page.index(mine.code)  # most urgent first
    assert "1</b> quá hạn" in page
    only_late = client.get("/agency/?overdue=1").get_data(as_text=True)
    assert late.code in only_late and mine.code not in only_late
    found = client.get("/agency/?q=cay do").get_data(as_text=True)
    assert late.code in found and mine.code not in found
    bad = client.get("/agency/?after=garbage")
    assert bad.status_code == 200 and "Liên kết trang không hợp lệ" in bad.get_data(as_text=True)
    bad_status = client.get("/agency/?status=closed").get_data(as_text=True)
    assert "Trạng thái lọc không hợp lệ" in bad_status


def test_inbox_pages_by_due_time(client, staff, receive):
    codes = [routed(receive, i, received_at=MONDAY_9AM + timedelta(minutes=i)).code
             for i in range(53)]
    login(client, staff.handler)
    first = client.get("/agency/").get_data(as_text=True)
    assert codes[49] in first and codes[50] not in first
    import re
    next_url = re.search(r'href="([^"]+)" rel="next"', first).group(1).replace("&amp;", "&")
    second = client.get(next_url).get_data(as_text=True)
    assert codes[50] in second and codes[52] in second and codes[0] not in second
    assert 'rel="next"' not in second


def test_ticket_page_shows_timeline_messages_and_files(client, staff, receive, org):
    t = routed(receive, attachments=(IncomingAttachment("anh.jpg", "image/jpeg", b"\xff\xd8x"),))
    receive(external_id="follow", text="Bổ sung: cột số 12")  # threads into the open ticket
    handling.add_note(staff.operator, ticket(t.id), note="Ghi chú nội bộ của tổng đài")
    db.session.commit()
    login(client, staff.handler)
    page = client.get(f"/agency/tickets/{t.code}").get_data(as_text=True)
    assert "Bổ sung: cột số 12" in page and "Tin nhắn của người dân" in page
    assert "Ghi chú nội bộ của tổng đài" in page and "nội bộ" in page
    assert "anh.jpg" in page and "Tiếp nhận xử lý" in page
    att = db.session.scalar(select(Attachment))
    with client.get(f"/agency/tickets/{t.code}/files/{att.id}") as download:
        assert download.status_code == 200 and download.data == b"\xff\xd8x"
        assert "attachment" in download.headers["Content-Disposition"]
    client.post("/logout")
    login(client, staff.other_handler)
    assert client.get(f"/agency/tickets/{t.code}").status_code == 404
    assert client.get(f"/agency/tickets/{t.code}/files/{att.id}").status_code == 404


def test_handler_accepts_asks_notes_and_resolves(client, staff, receive):
    # The pages act at the real now: the extension asked for must be later than now too.
    t = routed(receive, received_at=utcnow())
    login(client, staff.handler)
    assert client.post(f"/agency/tickets/{t.code}/accept").status_code == 303
    assert ticket(t.code).status == "in_progress"
    client.post(f"/agency/tickets/{t.code}/note", data={"note": "Đã cử tổ kiểm tra", "public": "1"})
    assert db.session.scalar(select(TicketEvent).where(TicketEvent.type == "progress")).public
    client.post(f"/agency/tickets/{t.code}/ask", data={"question": "Xin số cột đèn"})
    assert ticket(t.code).status == "waiting_citizen"
    client.post(f"/agency/tickets/{t.code}/citizen_reply", data={"reply": "Cột số 12"})
    assert ticket(t.code).status == "in_progress"
    due = ticket(t.code).due_at
    new_due = (due + timedelta(days=7)).astimezone(timezone(timedelta(hours=7)))
    resp = client.post(f"/agency/tickets/{t.code}/extension",
                       data={"new_due": new_due.strftime("%Y-%m-%dT%H:%M"), "reason": "Chờ vật tư"})
    assert resp.status_code == 303
    assert db.session.scalar(select(TicketEvent).where(TicketEvent.type == "extension_requested"))
    resp = client.post(f"/agency/tickets/{t.code}/resolve",
                       data={"result": "Đã thay bóng đèn",
                             "files": (io.BytesIO(b"png"), "sau.png")},
                       content_type="multipart/form-data", follow_redirects=True)
    assert "kết quả đã được gửi đến người dân" in resp.get_data(as_text=True)
    done = ticket(t.code)
    assert done.status == "approved" and done.result == "Đã thay bóng đèn"
    assert db.session.scalar(select(Attachment).where(Attachment.filename == "sau.png")).event_id
    assert db.session.scalar(select(OutboxMessage).where(OutboxMessage.purpose == "result"))


def test_lead_approves_from_the_approvals_page(client, staff, receive, org):
    org.agencies["UBND-689"].requires_result_approval = True
    db.session.commit()
    t = routed(receive)
    login(client, staff.handler)
    client.post(f"/agency/tickets/{t.code}/accept")
    client.post(f"/agency/tickets/{t.code}/resolve", data={"result": "Đã sửa"})
    assert ticket(t.code).status == "resolved"
    assert client.get("/agency/approvals").status_code == 403
    assert client.post(f"/agency/tickets/{t.code}/approve").status_code == 403
    client.post("/logout")
    login(client, staff.lead)
    page = client.get("/agency/approvals").get_data(as_text=True)
    assert t.code in page and "Đã sửa" in page
    resp = client.post(f"/agency/tickets/{t.code}/send_back", data={"reason": ""})
    assert resp.status_code == 400
    assert "Vui lòng nhập lý do trả lại kết quả" in resp.get_data(as_text=True)
    resp = client.post(f"/agency/tickets/{t.code}/approve", data={"return_to": "approvals"})
    assert resp.status_code == 303 and resp.headers["Location"].endswith("/agency/approvals")
    assert ticket(t.code).status == "approved"


def test_return_to_triage_from_the_ticket_page(client, staff, receive):
    t = routed(receive)
    login(client, staff.handler)
    resp = client.post(f"/agency/tickets/{t.code}/return", data={"reason": ""})
    assert resp.status_code == 400 and ticket(t.code).status == "assigned"
    resp = client.post(f"/agency/tickets/{t.code}/return",
                       data={"reason": "Thuộc thẩm quyền Điện lực"})
    assert resp.status_code == 303
    # The ticket left the agency: its page is now a 404 for them, the triage queue has it.
    assert client.get(resp.headers["Location"]).status_code == 404
    client.post("/logout")
    login(client, staff.operator)
    assert t.code in client.get("/operator/triage").get_data(as_text=True)


def test_co_handling_through_the_pages(client, staff, receive, org):
    t = routed(receive)
    login(client, staff.handler)
    client.post(f"/agency/tickets/{t.code}/accept")
    client.post(f"/agency/tickets/{t.code}/cohandler_add",
                data={"agency_id": org.agencies["DIENLUC"].id,
                      "request_note": "Kiểm tra lưới điện"})
    client.post("/logout")
    login(client, staff.co_handler)
    inbox = client.get("/agency/").get_data(as_text=True)
    assert t.code in inbox and "Phối hợp" in inbox
    page = client.get(f"/agency/tickets/{t.code}").get_data(as_text=True)
    assert "Phần việc phối hợp của đơn vị" in page and "Báo kết quả xử lý" not in page
    assert client.post(f"/agency/tickets/{t.code}/resolve", data={"result": "x"}).status_code == 403
    client.post(f"/agency/tickets/{t.code}/cohandler_part",
                data={"part": "Đã đóng điện lại", "done": "1"})
    assert db.session.scalar(select(TicketCohandler)).status == "done"
    client.post("/logout")
    login(client, staff.handler)
    page = client.get(f"/agency/tickets/{t.code}").get_data(as_text=True)
    assert "Đã đóng điện lại" in page and "Đã xong" in page


@pytest.mark.parametrize("action, data, message", [
    ("return", {"reason": "   "}, "Vui lòng nhập lý do trả lại"),
    ("ask", {"question": ""}, "Vui lòng nhập nội dung cần bổ sung"),
    ("note", {"note": ""}, "Vui lòng nhập nội dung ghi chú"),
    ("note", {"note": "x" * 4001}, "dài quá"),
    ("extension", {"new_due": "", "reason": "x"}, "Vui lòng nhập thời hạn mới"),
    ("extension", {"new_due": "ngày mai", "reason": "x"}, "Thời điểm không hợp lệ"),
    ("extension", {"new_due": "2020-01-01T08:00", "reason": "x"}, "Thời hạn"),
    ("extension", {"new_due": "2030-01-01T08:00", "reason": ""}, "lý do"),
    ("resolve", {"result": ""}, "Vui lòng nhập kết quả xử lý"),
    ("cohandler_add", {"agency_id": "abc"}, "Vui lòng chọn cơ quan phối hợp"),
    ("citizen_reply", {"reply": "x"}, "Không thể"),
    ("approve", {}, "Chỉ lãnh đạo"),
])
def test_bad_agency_input_shows_a_clear_error_and_changes_nothing(client, staff, receive, action,
                                                                  data, message):
    t = routed(receive)
    handling.accept(staff.handler, ticket(t.id))
    db.session.commit()
    before = (count(TicketEvent), count(OutboxMessage), count(TicketCohandler),
              ticket(t.id).status, ticket(t.id).due_at)
    login(client, staff.handler)
    resp = client.post(f"/agency/tickets/{t.code}/{action}", data=data)
    if action == "approve":
        assert resp.status_code == 403 and message in resp.get_data(as_text=True)
    else:
        assert resp.status_code in (400, 409)
        assert message in resp.get_data(as_text=True), resp.get_data(as_text=True)[-3000:]
    t2 = ticket(t.id)
    assert (count(TicketEvent), count(OutboxMessage), count(TicketCohandler), t2.status,
            t2.due_at) == before


def test_inbox_and_ticket_page_issue_a_fixed_number_of_queries(client, staff, receive):
    login(client, staff.handler)

    def inbox_queries(n: int) -> int:
        existing = count(Ticket)
        for i in range(existing, n):
            routed(receive, 100 + i, received_at=MONDAY_9AM + timedelta(minutes=i))
        client.get("/agency/")  # the filters' choices are then in this process's lookups
        with QueryCounter() as counter:
            assert client.get("/agency/").status_code == 200
        return counter.count

    assert inbox_queries(5) == inbox_queries(50)

    t = routed(receive, 999)

    def page_queries(n_events: int) -> int:
        current = db.session.scalar(select(func.count()).select_from(TicketEvent)
                                    .where(TicketEvent.ticket_id == t.id))
        for i in range(current, n_events):
            handling.add_note(staff.handler, ticket(t.id), note=f"Ghi chú {i}")
        db.session.commit()
        client.get(f"/agency/tickets/{t.code}")  # the agencies' choices: then in the lookups
        with QueryCounter() as counter:
            assert client.get(f"/agency/tickets/{t.code}").status_code == 200
        return counter.count

    assert page_queries(5) == page_queries(50)
