"""Handling services: scoping, every operator and agency action, co-handling, call logging."""
from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

from hotline.domain.errors import NotFound, PermissionDenied, TransitionError, ValidationError
from hotline.domain.messages import ContactHandle, IncomingAttachment
from hotline.extensions import db
from hotline.models import (Attachment, CallEvent, KbArticle, OutboxMessage, Ticket,
                            TicketCohandler, TicketEvent)
from hotline.services import calls, handling, kb, tickets
from hotline.domain.text import fold
from tests.factories import MONDAY_9AM

LATER = MONDAY_9AM + timedelta(hours=2)


def events_of(ticket: Ticket) -> list[TicketEvent]:
    return list(db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id)
                                   .order_by(TicketEvent.id)))


def outbox_of(ticket: Ticket, purpose: str | None = None) -> list[OutboxMessage]:
    q = select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id)
    if purpose:
        q = q.where(OutboxMessage.purpose == purpose)
    return list(db.session.scalars(q.order_by(OutboxMessage.id)))


def routed(receive, **kw) -> Ticket:
    """A ticket the router gave to UBND Thành phố Đồng Xoài (street lighting in Tân Bình)."""
    kw.setdefault("force_new", True)  # the same caller again would thread into the open ticket
    result = receive(**kw)
    ticket = db.session.get(Ticket, result.ticket_id)
    assert ticket.agency.code == "UBND-689" and ticket.status == "assigned"
    return ticket


def unrouted(receive, **kw) -> Ticket:
    """A ticket with no field and no area: the operators' triage queue."""
    kw.setdefault("field_code", None)
    kw.setdefault("area_code", None)
    kw.setdefault("force_new", True)
    result = receive(**kw)
    ticket = db.session.get(Ticket, result.ticket_id)
    assert ticket.status == "new" and ticket.agency_id is None
    return ticket


def in_progress(receive, staff, **kw) -> Ticket:
    ticket = routed(receive, **kw)
    handling.accept(staff.handler, ticket, now=LATER)
    db.session.commit()
    return ticket


# --- scope ---------------------------------------------------------------------------------


def test_handlers_see_only_their_agencys_tickets(receive, staff):
    mine = routed(receive)
    other = db.session.get(Ticket, receive(external_id="c2", field_code="XD", force_new=True,
                                           text="Công trình xây không phép").ticket_id)
    assert other.agency.code == "SO-XD"
    def seen(user):
        return set(db.session.scalars(tickets.visible_tickets(user)))
    assert seen(staff.handler) == {mine} and seen(staff.lead) == {mine}
    assert seen(staff.other_handler) == {other}
    assert seen(staff.operator) == seen(staff.manager) == {mine, other}
    assert seen(staff.admin) == set()
    assert tickets.get_ticket_for(staff.handler, mine.code.lower()) is mine
    with pytest.raises(NotFound):
        tickets.get_ticket_for(staff.other_handler, mine.code)
    with pytest.raises(NotFound):
        tickets.get_ticket_for(staff.admin, mine.code)
    with pytest.raises(NotFound):
        tickets.get_ticket_for(staff.handler, "PA-26-ZZZZZZ")


def test_a_co_handling_agency_sees_the_ticket(receive, staff):
    ticket = routed(receive)
    with pytest.raises(NotFound):
        tickets.get_ticket_for(staff.co_handler, ticket.code)
    handling.add_cohandler(staff.handler, ticket, agency_id=staff.co_handler.agency_id,
                           request_note="Kiểm tra lưới điện")
    db.session.commit()
    assert tickets.get_ticket_for(staff.co_handler, ticket.code) is ticket
    assert [t.id for t in tickets.agency_inbox(staff.co_handler).rows] == [ticket.id]


# --- operator ------------------------------------------------------------------------------


def test_forward_follows_the_suggestion_or_needs_a_reason(receive, staff, org):
    ticket = unrouted(receive)
    handling.classify(staff.operator, ticket, field_id=org.fields["CS"].id,
                      area_id=org.areas["25435"].id)
    assert handling.suggestion_for(ticket).agency_id == org.agencies["UBND-689"].id
    with pytest.raises(ValidationError) as err:
        handling.forward(staff.operator, ticket, agency_id=org.agencies["DIENLUC"].id)
    assert err.value.code == "reason_required" and ticket.status == "new"
    with pytest.raises(PermissionDenied):
        handling.forward(staff.handler, ticket)
    agency = handling.forward(staff.operator, ticket)
    db.session.commit()
    assert agency.code == "UBND-689" and ticket.status == "assigned"
    last = events_of(ticket)[-1]
    assert last.type == "assigned" and last.actor_id == staff.operator.id
    assert "Thành phố Đồng Xoài" in last.data["reason"]
    [msg] = outbox_of(ticket, "assigned")
    assert ticket.code in msg.payload["text"] and "Đồng Xoài" in msg.payload["text"]
    with pytest.raises(ValidationError):  # a second click changes nothing
        handling.forward(staff.operator, ticket)
    handling.forward(staff.operator, ticket, agency_id=org.agencies["DIENLUC"].id,
                     reason="Sự cố lưới điện, không phải đèn đường")
    db.session.commit()
    assert ticket.agency.code == "DIENLUC"
    assert "khác gợi ý" in ticket.routing_reason and ticket.routing_rule_id is None
    assert len(outbox_of(ticket, "assigned")) == 2


def test_forward_without_a_suggestion_needs_an_agency(receive, staff, org):
    ticket = unrouted(receive)
    with pytest.raises(ValidationError) as err:
        handling.forward(staff.operator, ticket)
    assert err.value.code == "agency_required"
    handling.forward(staff.operator, ticket, agency_id=org.agencies["VP-UBND"].id)
    assert ticket.agency.code == "VP-UBND"


def test_answer_directly_closes_and_stops_the_clock(receive, staff, org):
    ticket = unrouted(receive, kind="hoi_dap", text="Thủ tục cấp giấy phép xây dựng thế nào?")
    article = KbArticle(title="Cấp giấy phép xây dựng", body="Nộp hồ sơ tại Bộ phận một cửa.",
                        search_text=fold("Cấp giấy phép xây dựng Nộp hồ sơ tại Bộ phận một cửa."))
    db.session.add(article)
    db.session.flush()
    with pytest.raises(ValidationError):
        handling.answer_directly(staff.operator, ticket, answer="   ")
    with pytest.raises(ValidationError):
        handling.answer_directly(staff.operator, ticket, answer="x", kb_article_id=99999)
    handling.answer_directly(staff.operator, ticket, answer="Ông/bà nộp hồ sơ tại Bộ phận một cửa.",
                             kb_article_id=article.id)
    db.session.commit()
    assert ticket.status == "answered" and ticket.sla_state is None and ticket.resolved_at
    ev = events_of(ticket)[-1]
    assert ev.type == "answered" and ev.public and ev.data["kb_article_id"] == article.id
    assert outbox_of(ticket, "result")[0].payload["text"].count("Bộ phận một cửa") == 1
    with pytest.raises(TransitionError):
        handling.answer_directly(staff.operator, ticket, answer="lần nữa")


def test_merge_duplicate_links_and_keeps_the_contact(receive, staff):
    kept = routed(receive)
    dup = unrouted(receive, external_id="dup", contact=ContactHandle(name="Trần Văn Bình",
                                                                      phone="0987654321"))
    dup_contact = dup.contact_id
    with pytest.raises(ValidationError):
        handling.merge_duplicate(staff.operator, dup, into_code="PA-26-ZZZZZZ")
    with pytest.raises(ValidationError):
        handling.merge_duplicate(staff.operator, dup, into_code=dup.code)
    handling.merge_duplicate(staff.operator, dup, into_code=kept.code)
    db.session.commit()
    assert dup.status == "rejected" and dup.merged_into_id == kept.id
    assert dup.contact_id == dup_contact
    merged = events_of(dup)[-1]
    assert merged.data == {"reason": "duplicate", "merged_into_id": kept.id,
                           "merged_into_code": kept.code}
    linked = events_of(kept)[-1]
    assert linked.type == "duplicate_linked" and linked.data["contact_id"] == dup_contact
    assert outbox_of(dup, "merged")
    # The kept ticket's result reaches the duplicate's citizen too.
    handling.accept(staff.handler, kept, now=LATER)
    handling.resolve(staff.handler, kept, result="Đã thay 3 bóng đèn.", now=LATER)
    db.session.commit()
    assert [m.recipient for m in outbox_of(dup, "result")] == ["+84987654321"]
    assert outbox_of(kept, "result")


def test_reject_spam_and_out_of_scope(receive, staff):
    spam = unrouted(receive, external_id="s1")
    with pytest.raises(ValidationError):
        handling.reject(staff.operator, spam, reason="bogus")
    handling.reject(staff.operator, spam, reason="spam")
    db.session.commit()
    assert spam.status == "rejected" and not outbox_of(spam, "rejected")
    complaint = unrouted(receive, external_id="s2", contact=ContactHandle(phone="0987654321"),
                         text="Tôi tố cáo cán bộ xã nhận hối lộ")
    with pytest.raises(ValidationError) as err:
        handling.reject(staff.operator, complaint, reason="out_of_scope", where="")
    assert "liên hệ" in err.value.message and complaint.status == "new"
    handling.reject(staff.operator, complaint, reason="out_of_scope",
                    where=handling.OUT_OF_SCOPE_DEFAULT)
    db.session.commit()
    [msg] = outbox_of(complaint, "rejected")
    assert "Ban Tiếp công dân" in msg.payload["text"]
    assert events_of(complaint)[-1].data == {"reason": "out_of_scope"}


# --- agency --------------------------------------------------------------------------------


def test_accept_only_by_the_agency_and_only_once(receive, staff):
    ticket = routed(receive)
    with pytest.raises(PermissionDenied):
        handling.accept(staff.other_handler, ticket)
    with pytest.raises(PermissionDenied):
        handling.accept(staff.operator, ticket)
    handling.accept(staff.handler, ticket, now=LATER)
    db.session.commit()
    assert ticket.status == "in_progress" and ticket.accepted_at == LATER
    assert ticket.assignee_id == staff.handler.id
    with pytest.raises(TransitionError) as err:
        handling.accept(staff.handler, ticket)
    assert "Đang xử lý" in err.value.message


def test_return_to_triage_excludes_the_agency(receive, staff, org):
    ticket = in_progress(receive, staff)
    with pytest.raises(ValidationError):
        handling.return_to_triage(staff.handler, ticket, reason=" ")
    handling.return_to_triage(staff.handler, ticket, reason="Đèn thuộc Điện lực quản lý")
    db.session.commit()
    assert ticket.status == "returned" and ticket.agency_id is None
    assert ticket.excluded_agency_ids == [org.agencies["UBND-689"].id]
    assert ticket.returned_count == 1
    ev = events_of(ticket)[-1]
    assert ev.type == "returned" and ev.agency_id == org.agencies["UBND-689"].id
    with pytest.raises(NotFound):
        tickets.get_ticket_for(staff.handler, ticket.code)
    # The router now suggests the province-wide rule's agency, never the one that returned it.
    assert handling.suggestion_for(ticket).agency_id == org.agencies["DIENLUC"].id
    assert [t.id for t in tickets.triage_queue(staff.operator).rows] == [ticket.id]


def test_ask_citizen_pauses_and_their_reply_resumes(receive, staff):
    ticket = in_progress(receive, staff)
    due = ticket.due_at
    asked = MONDAY_9AM + timedelta(hours=3)
    handling.ask_citizen(staff.handler, ticket, question="Xin số cột đèn gần nhất?", now=asked)
    db.session.commit()
    assert ticket.status == "waiting_citizen" and ticket.sla_state == "paused"
    assert ticket.sla_paused_at == asked
    [msg] = outbox_of(ticket, "ask")
    assert "số cột đèn" in msg.payload["text"]
    # The citizen writes again on the same channel: intake threads it and resumes the clock.
    receive(external_id="reply-1", text="Cột số 12", received_at=asked + timedelta(days=1))
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    assert ticket.status == "in_progress" and ticket.sla_paused_at is None
    assert ticket.due_at > due  # a working day paused moves the due time


def test_ask_needs_a_reachable_citizen_and_reply_can_be_recorded(receive, staff):
    ticket = in_progress(receive, staff, contact=ContactHandle(name="Ẩn danh"))
    with pytest.raises(ValidationError) as err:
        handling.ask_citizen(staff.handler, ticket, question="?")
    assert err.value.code == "unreachable"
    other = in_progress(receive, staff, external_id="c9")
    handling.ask_citizen(staff.handler, other, question="Địa chỉ cụ thể?", now=LATER)
    handling.record_citizen_reply(staff.handler, other, reply="Số 5 đường Phú Riềng Đỏ",
                                  now=LATER + timedelta(hours=1))
    assert other.status == "in_progress" and other.sla_state != "paused"


def test_notes_public_and_internal(receive, staff):
    ticket = in_progress(receive, staff)
    handling.add_note(staff.handler, ticket, note="Đã cử tổ kiểm tra.", public=True)
    handling.add_note(staff.operator, ticket, note="Người dân gọi hỏi lại.")
    with pytest.raises(PermissionDenied):
        handling.add_note(staff.other_handler, ticket, note="x")
    with pytest.raises(PermissionDenied):
        handling.add_note(staff.operator, ticket, note="x", public=True)
    with pytest.raises(ValidationError):
        handling.add_note(staff.handler, ticket, note="")
    kinds = [(e.type, e.public) for e in events_of(ticket)[-2:]]
    assert kinds == [("progress", True), ("note", False)]


def test_request_extension_is_recorded(receive, staff):
    ticket = in_progress(receive, staff)
    due = ticket.due_at
    # The new due time must be after the current one AND after "now": asked while the ticket
    # is in progress (LATER), not at the real now, which passes the due time in December 2026.
    with pytest.raises(ValidationError):
        handling.request_extension(staff.handler, ticket, new_due_at=due - timedelta(days=1),
                                   reason="Cần thêm thời gian", now=LATER)
    with pytest.raises(ValidationError):
        handling.request_extension(staff.handler, ticket, new_due_at=due + timedelta(days=3),
                                   reason="", now=LATER)
    handling.request_extension(staff.handler, ticket, new_due_at=due + timedelta(days=3),
                               reason="Chờ vật tư thay thế", now=LATER)
    db.session.commit()
    assert ticket.due_at == due
    ev = events_of(ticket)[-1]
    assert ev.type == "extension_requested" and ev.note == "Chờ vật tư thay thế"
    assert ev.actor_id == staff.handler.id
    with pytest.raises(ValidationError):  # one pending request at a time
        handling.request_extension(staff.handler, ticket, new_due_at=due + timedelta(days=4),
                                   reason="Lần hai", now=LATER)
    with pytest.raises(PermissionDenied):
        handling.request_extension(staff.other_handler, ticket, new_due_at=due + timedelta(days=4),
                                   reason="x", now=LATER)


def test_resolve_without_approval_goes_straight_to_the_citizen(receive, staff, tmp_path):
    ticket = in_progress(receive, staff)
    with pytest.raises(TransitionError):
        handling.approve(staff.lead, ticket)
    with pytest.raises(ValidationError):
        handling.resolve(staff.handler, ticket, result="")
    photo = IncomingAttachment(filename="sau-khi-sua.jpg", content_type="image/jpeg",
                               data=b"\xff\xd8jpeg")
    handling.resolve(staff.handler, ticket, result="Đã thay bóng đèn.", files=(photo,), now=LATER)
    db.session.commit()
    assert ticket.status == "approved" and ticket.sla_state is None
    assert [e.type for e in events_of(ticket)[-2:]] == ["resolved", "approved"]
    [att] = db.session.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id))
    assert att.event_id == events_of(ticket)[-2].id
    assert len(outbox_of(ticket, "result")) == 1


def test_lead_approves_or_sends_back(receive, staff, org):
    org.agencies["UBND-689"].requires_result_approval = True
    db.session.commit()
    ticket = in_progress(receive, staff)
    handling.resolve(staff.handler, ticket, result="Đã sửa xong.", now=LATER)
    db.session.commit()
    assert ticket.status == "resolved" and not outbox_of(ticket, "result")
    assert [t.id for t in tickets.approvals_queue(staff.lead).rows] == [ticket.id]
    with pytest.raises(PermissionDenied):
        handling.approve(staff.handler, ticket)
    with pytest.raises(PermissionDenied):
        handling.approve(staff.other_lead, ticket)
    with pytest.raises(ValidationError):
        handling.send_back(staff.lead, ticket, reason="")
    handling.send_back(staff.lead, ticket, reason="Thiếu ảnh hiện trường", now=LATER)
    assert ticket.status == "in_progress" and ticket.sla_state == "on_track"
    handling.resolve(staff.handler, ticket, result="Đã sửa xong, có ảnh.", now=LATER)
    handling.approve(staff.lead, ticket, now=LATER)
    db.session.commit()
    assert ticket.status == "approved" and len(outbox_of(ticket, "result")) == 1


def test_co_handling_parts_before_the_lead_resolves(receive, staff, org):
    ticket = in_progress(receive, staff)
    with pytest.raises(ValidationError):
        handling.add_cohandler(staff.handler, ticket, agency_id=org.agencies["UBND-689"].id)
    with pytest.raises(PermissionDenied):
        handling.add_cohandler(staff.other_handler, ticket, agency_id=org.agencies["DIENLUC"].id)
    handling.add_cohandler(staff.handler, ticket, agency_id=org.agencies["DIENLUC"].id)
    with pytest.raises(ValidationError):
        handling.add_cohandler(staff.handler, ticket, agency_id=org.agencies["DIENLUC"].id)
    db.session.commit()
    with pytest.raises(PermissionDenied):
        handling.submit_cohandler_part(staff.other_handler, ticket, part="x", done=True)
    with pytest.raises(PermissionDenied):  # a co-handler does not resolve the ticket
        handling.resolve(staff.co_handler, ticket, result="x")
    with pytest.raises(ValidationError) as err:
        handling.resolve(staff.handler, ticket, result="Đã xong")
    assert err.value.code == "parts_pending" and ticket.status == "in_progress"
    handling.submit_cohandler_part(staff.co_handler, ticket, part="Đã kiểm tra đường dây.",
                                   done=False)
    handling.submit_cohandler_part(staff.co_handler, ticket, part="Đã đóng điện lại.", done=True)
    db.session.commit()
    row = db.session.scalar(select(TicketCohandler))
    assert row.status == "done" and "đường dây" in row.note and "đóng điện" in row.note
    with pytest.raises(TransitionError):
        handling.submit_cohandler_part(staff.co_handler, ticket, part="nữa", done=True)
    handling.resolve(staff.handler, ticket, result="Đã xong cả hai phần.")
    assert ticket.status == "approved"
    co_events = [e for e in events_of(ticket) if e.type.startswith("cohandler_")]
    assert [e.type for e in co_events] == ["cohandler_added", "cohandler_part", "cohandler_done"]
    assert co_events[-1].agency_id == org.agencies["DIENLUC"].id


def test_lead_may_resolve_with_parts_pending_given_a_reason(receive, staff, org):
    ticket = in_progress(receive, staff)
    handling.add_cohandler(staff.operator, ticket, agency_id=org.agencies["DIENLUC"].id)
    handling.resolve(staff.handler, ticket, result="Đã xong phần chính.",
                     reason_without_parts="Điện lực xác nhận qua điện thoại")
    resolved = [e for e in events_of(ticket) if e.type == "resolved"][0]
    assert resolved.data["reason_without_parts"] == "Điện lực xác nhận qua điện thoại"


def test_illegal_actions_are_transition_errors(receive, staff):
    ticket = routed(receive)
    with pytest.raises(TransitionError):
        handling.resolve(staff.handler, ticket, result="Xong")
    with pytest.raises(TransitionError):
        handling.ask_citizen(staff.handler, ticket, question="?")
    with pytest.raises(TransitionError):
        handling.reject(staff.operator, ticket, reason="spam")
    assert ticket.status == "assigned"


# --- lists ---------------------------------------------------------------------------------


def test_inbox_filters_sorts_and_pages(receive, staff, org):
    codes = []
    for i in range(7):
        r = receive(external_id=f"inbox-{i}", received_at=MONDAY_9AM + timedelta(hours=i),
                    text=f"Đèn đường số {i} hỏng" if i % 2 else f"Cây đổ chắn đường số {i}",
                    area_code="25435" if i < 5 else "689", force_new=True)
        codes.append(r.code)
    old = receive(external_id="old", received_at=datetime(2026, 9, 1, 2, tzinfo=timezone.utc),
                  force_new=True)
    page = tickets.agency_inbox(staff.handler, limit=3)
    assert [t.code for t in page.rows] == [old.code, codes[0], codes[1]]
    seen = [t.code for t in page.rows]
    while page.next_cursor:
        page = tickets.agency_inbox(staff.handler, limit=3,
                                    cursor=tickets.Cursor.decode(page.next_cursor))
        seen += [t.code for t in page.rows]
    assert seen == [old.code, *codes]
    def search(q, **kw):
        flt = tickets.TicketFilter(search=q, **kw)
        return [t.code for t in tickets.agency_inbox(staff.handler, flt).rows]
    assert search("den DUONG") == [old.code, codes[1], codes[3], codes[5]]
    assert search("đèn đường số 3") == [codes[3]]
    assert search(codes[4].lower()) == [codes[4]]
    assert set(search("0912 345 678")) == {old.code, *codes}
    assert search("100%_") == []
    by_area = tickets.agency_inbox(staff.handler, tickets.TicketFilter(
        area_id=org.areas["689"].id)).rows
    assert len(by_area) == 8  # the district and the communes under it
    commune = tickets.agency_inbox(staff.handler, tickets.TicketFilter(
        area_id=org.areas["25435"].id)).rows
    assert len(commune) == 6
    # Overdue as of a fixed instant: the November tickets fall due in December 2026, and
    # would all be overdue at the real now from then on.
    tuesday = MONDAY_9AM + timedelta(days=1)
    overdue = tickets.agency_inbox(staff.handler, tickets.TicketFilter(overdue_only=True),
                                   now=tuesday).rows
    assert [t.code for t in overdue] == [old.code]
    assert tickets.inbox_counts(staff.handler, now=tuesday)["overdue"] == 1
    with pytest.raises(ValidationError):
        tickets.agency_inbox(staff.handler, tickets.TicketFilter(status="closed"))
    with pytest.raises(ValidationError):
        tickets.Cursor.decode("not-a-cursor")
    with pytest.raises(PermissionDenied):
        tickets.agency_inbox(staff.operator)


def test_caller_lookup_finds_recent_tickets(receive, staff, org):
    receive(external_id="a")
    receive(external_id="b", text="Đèn khác hỏng", received_at=LATER, force_new=True)
    info = tickets.caller_lookup(staff.operator, "0912.345.678")
    assert info.phone == "+84912345678" and info.contact.name == "Nguyễn Thị Lan"
    assert len(info.tickets) == 2 and info.tickets[0].received_at == LATER
    assert info.last_area.code == "25435"
    unknown = tickets.caller_lookup(staff.operator, "0987654321")
    assert unknown.contact is None and unknown.tickets == []
    with pytest.raises(ValidationError):
        tickets.caller_lookup(staff.operator, "12ab")
    with pytest.raises(PermissionDenied):
        tickets.caller_lookup(staff.handler, "0912345678")


def test_kb_search_is_accent_insensitive(app):
    for title, body in [("Cấp giấy phép xây dựng nhà ở riêng lẻ", "Hồ sơ gồm đơn đề nghị…"),
                        ("Đăng ký khai sinh", "Nộp tại UBND cấp xã."),
                        ("Đèn đường hỏng báo ở đâu", "Gọi 1022 hoặc Điện lực.")]:
        db.session.add(KbArticle(title=title, body=body, search_text=fold(f"{title} {body}")))
    db.session.add(KbArticle(title="Đã ẩn", body="giay phep", search_text="da an giay phep",
                             active=False))
    db.session.commit()
    assert [a.title for a in kb.search("giay phep xay dung")] == \
        ["Cấp giấy phép xây dựng nhà ở riêng lẻ"]
    assert [a.title for a in kb.search("ĐĂNG KÝ khai sinh")] == ["Đăng ký khai sinh"]
    assert kb.search("") == [] and kb.search("   ") == []


# --- the phone console -----------------------------------------------------------------------


def call(**kw) -> calls.NewCall:
    defaults = dict(external_id="call-1", description="Đèn đường hỏng trước nhà số 5.",
                    decision="forward", phone="0912345678", name="Lê Văn Tám", kind="phan_anh",
                    priority="normal", address="Số 5 Phú Riềng Đỏ")
    defaults.update(kw)
    return calls.NewCall(**defaults)


def test_log_call_forward_to_the_suggestion(staff, org):
    result = calls.log_call(staff.operator, call(field_id=org.fields["CS"].id,
                                                 area_id=org.areas["25435"].id))
    db.session.commit()
    ticket = db.session.get(Ticket, result.ticket_id)
    assert ticket.channel == "phone" and ticket.created_by_id == staff.operator.id
    assert ticket.agency.code == "UBND-689" and ticket.status == "assigned"
    [ack] = outbox_of(ticket)
    assert "UBND Thành phố Đồng Xoài" in ack.payload["text"]
    again = calls.log_call(staff.operator, call(field_id=org.fields["CS"].id,
                                                area_id=org.areas["25435"].id))
    assert again.duplicate and again.ticket_id == ticket.id
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 1


def test_log_call_override_tells_the_citizen_once(staff, org):
    with pytest.raises(ValidationError):
        calls.log_call(staff.operator, call(field_id=org.fields["CS"].id,
                                            area_id=org.areas["25435"].id,
                                            agency_id=org.agencies["DIENLUC"].id))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0
    result = calls.log_call(staff.operator, call(field_id=org.fields["CS"].id,
                                                 area_id=org.areas["25435"].id,
                                                 agency_id=org.agencies["DIENLUC"].id,
                                                 reason="Cột điện trung thế"))
    ticket = db.session.get(Ticket, result.ticket_id)
    assert ticket.agency.code == "DIENLUC"
    [ack] = outbox_of(ticket)
    assert "Điện lực" in ack.payload["text"]
    assert [e.type for e in events_of(ticket)] == ["received", "assigned", "assigned"]


def test_log_call_answer_directly(staff, org):
    with pytest.raises(ValidationError):
        calls.log_call(staff.operator, call(decision="answer", answer=""))
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0
    result = calls.log_call(staff.operator, call(decision="answer", kind="hoi_dap",
                                                 field_id=org.fields["CS"].id,
                                                 area_id=org.areas["25435"].id,
                                                 answer="Đã hướng dẫn gọi Điện lực."))
    ticket = db.session.get(Ticket, result.ticket_id)
    assert ticket.status == "answered" and ticket.agency_id is None
    assert ticket.field.code == "CS" and ticket.area.code == "25435"
    assert {m.purpose for m in outbox_of(ticket)} == {"ack", "result"}


def test_log_call_rejects_bad_input(staff, org):
    for bad in (call(decision="nope"), call(external_id="x-1"), call(description=""),
                call(phone="12"), call(field_id=999999), call(kind="khieu_nai")):
        with pytest.raises(ValidationError):
            calls.log_call(staff.operator, bad)
        db.session.rollback()
    with pytest.raises(PermissionDenied):
        calls.log_call(staff.manager, call())
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 0


def test_call_events_reach_the_operator(staff):
    row, created = calls.record_call_event(caller="0912 345 678", extension="101", call_id="a1")
    again, created_again = calls.record_call_event(caller="0912 345 678", extension="101",
                                                   call_id="a1")
    db.session.commit()
    assert created and not created_again and again.id == row.id
    assert row.caller_phone == "+84912345678"
    hidden, _ = calls.record_call_event(caller="anonymous", extension="101")
    assert hidden.caller_phone is None
    assert calls.latest_call_for(staff.operator).id == hidden.id
    assert calls.latest_call_for(staff.operator, after_id=hidden.id) is None
    assert calls.latest_call_for(staff.operator2) is None  # no extension
    with pytest.raises(ValidationError):
        calls.record_call_event(caller="", extension="101")
    assert db.session.scalar(select(func.count()).select_from(CallEvent)) == 2

