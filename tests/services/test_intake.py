"""Intake: one door for every channel — idempotent, threaded, routed, timed, all or nothing."""
from __future__ import annotations

import threading
import unicodedata
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hotline.domain.errors import ValidationError
from hotline.domain.messages import ContactHandle, IncomingAttachment
from hotline.extensions import db
from hotline.models import (Attachment, Contact, InboundMessage, OutboxMessage, Ticket,
                            TicketEvent)
from hotline.services import intake, sla
from tests.factories import MONDAY_9AM, message


def counts():
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (Ticket, TicketEvent, Contact, InboundMessage, OutboxMessage, Attachment))


def test_new_message_becomes_a_routed_timed_ticket(receive, org):
    result = receive()
    assert result.created and not result.duplicate
    ticket = db.session.get(Ticket, result.ticket_id)
    assert ticket.code == result.code and ticket.code.startswith("PA-26-")
    # The Đồng Xoài street-lighting rule beats the province-wide one.
    assert ticket.agency.code == "UBND-689"
    assert ticket.status == "assigned"
    assert ticket.routing_rule_id == org.rules["cs_dx"].id
    assert "Thành phố Đồng Xoài" in ticket.routing_reason
    # Normal priority: 5 working days from Monday 09:00. Tuesday 24/11/2026 is a public
    # holiday (Ngày Văn hóa Việt Nam), so the due time is Tuesday 1/12 09:00, not Monday.
    assert ticket.due_at == MONDAY_9AM + timedelta(days=8)
    assert ticket.sla_state == "on_track"
    assert ticket.contact.phone == "+84912345678"
    types = [e.type for e in db.session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == ticket.id).order_by(TicketEvent.id))]
    assert types == ["received", "assigned"]
    ack = db.session.scalar(select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id))
    assert ack.channel == "sms" and ack.recipient == "+84912345678"
    assert ticket.code in ack.payload["text"] and "/status/" in ack.payload["text"]


def test_same_external_id_twice_changes_nothing(receive):
    first = receive()
    before = counts()
    second = receive(text="something else entirely")
    assert second.duplicate and second.ticket_id == first.ticket_id and second.code == first.code
    assert counts() == before


def test_level_rule_routes_to_the_communes_committee(receive):
    result = receive(field_code="TTDT", area_code="25432", text="Lấn chiếm vỉa hè bán hàng.")
    assert db.session.get(Ticket, result.ticket_id).agency.code == "UBND-25432"


def test_no_rule_goes_to_triage(receive):
    result = receive(field_code=None, area_code=None, text="Xin hỏi một việc khác.")
    ticket = db.session.get(Ticket, result.ticket_id)
    assert ticket.status == "new" and ticket.agency_id is None
    assert "phân loại" in ticket.routing_reason
    assert ticket.due_at is not None  # the citizen is still told when to expect an answer


def test_follow_up_on_same_channel_threads_into_open_ticket(receive):
    zalo = ContactHandle(zalo_user_id="2468458835291979221")
    first = receive(channel="zalo", external_id="m1", contact=zalo, field_code=None, area_code=None)
    second = receive(channel="zalo", external_id="m2", contact=zalo, text="Bổ sung: ở gần chợ.",
                     field_code=None, area_code=None)
    assert second.threaded and second.ticket_id == first.ticket_id
    notes = db.session.scalars(select(TicketEvent.note).where(
        TicketEvent.ticket_id == first.ticket_id, TicketEvent.type == "citizen_message")).all()
    assert notes == ["Bổ sung: ở gần chợ."]
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 1
    # A different channel from the same person opens its own ticket.
    third = receive(channel="telegram", external_id="t1",
                    contact=ContactHandle(telegram_chat_id="5012345678", phone="0912345678"))
    assert third.created


def test_contact_is_matched_by_phone_in_any_format(receive):
    a = receive(external_id="c1", contact=ContactHandle(phone="0912 345 678"))
    b = receive(external_id="c2", contact=ContactHandle(phone="84912345678"))
    c = receive(external_id="c3", contact=ContactHandle(phone="+84 912.345.678"))
    ids = {db.session.get(Ticket, r.ticket_id).contact_id for r in (a, b, c)}
    assert len(ids) == 1  # one person, whatever the format of the number


def test_thread_code_threads_only_for_the_same_citizen(receive):
    mail = ContactHandle(email="minh.tran@example.com")
    first = receive(channel="email", external_id="<a@x>", contact=mail)
    reply = receive(channel="email", external_id="<b@x>", contact=mail, thread_code=first.code,
                    text="Re: bổ sung")
    assert reply.threaded and reply.ticket_id == first.ticket_id
    stranger = receive(channel="email", external_id="<c@x>", thread_code=first.code,
                       contact=ContactHandle(email="other@example.com"))
    assert stranger.created and stranger.ticket_id != first.ticket_id


def test_reply_while_waiting_resumes_the_clock(receive):
    tg = ContactHandle(telegram_chat_id="42")
    result = receive(channel="telegram", external_id="u1", contact=tg)
    ticket = db.session.get(Ticket, result.ticket_id)
    ticket.status = "in_progress"
    wednesday_10am = MONDAY_9AM + timedelta(days=2, hours=1)
    sla.pause_clock(ticket, wednesday_10am)
    ticket.status = "waiting_citizen"
    db.session.commit()
    due_before = ticket.due_at
    # The citizen answers the next morning: one working day passed while paused.
    receive(channel="telegram", external_id="u2", contact=tg, text="Đây là ảnh bổ sung",
            received_at=wednesday_10am + timedelta(days=1))
    db.session.refresh(ticket)
    assert ticket.status == "in_progress" and ticket.sla_state == "on_track"
    assert ticket.due_at == due_before + timedelta(days=1)


def test_location_and_attachments_join_the_open_ticket(receive, app):
    tg = ContactHandle(telegram_chat_id="5099911122")
    first = receive(channel="telegram", external_id="p1", contact=tg, text="Rác thải đổ trộm",
                    attachments=(IncomingAttachment("a.jpg", "image/jpeg", remote_ref="file-1"),
                                 IncomingAttachment("b.png", "image/png", data=b"\x89PNG..")))
    receive(channel="telegram", external_id="p2", contact=tg, text=None, lat=11.5349, lon=106.8832,
            location_only=True)
    ticket = db.session.get(Ticket, first.ticket_id)
    assert (ticket.lat, ticket.lon) == (11.5349, 106.8832)
    files = db.session.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id)
                               .order_by(Attachment.id)).all()
    assert [f.remote_ref for f in files] == ["file-1", None]
    assert files[1].size == 6 and files[1].storage_key


@pytest.mark.parametrize("overrides, code", [
    (dict(text="   "), "required"),
    (dict(text=None), "required"),
    (dict(field_code="NOPE"), "unknown_field"),
    (dict(area_code="99999"), "unknown_area"),
    (dict(contact=ContactHandle(phone="12345")), "invalid_phone"),
    (dict(contact=ContactHandle(email="not-an-email")), "invalid_email"),
    (dict(text="x" * 10_001), "too_long"),
    (dict(kind="khieu_nai"), "invalid_kind"),
    (dict(priority="asap"), "invalid_priority"),
    (dict(channel="pigeon"), "invalid_channel"),
    (dict(lat=91.0, lon=10.0), "invalid_location"),
    (dict(external_id=""), "required"),
    (dict(attachments=(IncomingAttachment("big.bin", "application/pdf", data=b"0" * (10 * 1024 * 1024 + 1)),)),
     "file_too_large"),
])
def test_bad_input_is_refused_and_writes_nothing(org, overrides, code):
    before = counts()
    with pytest.raises(ValidationError) as err:
        intake.receive(message(**overrides))
    db.session.commit()
    assert err.value.code == code
    assert err.value.message  # a Vietnamese sentence for the user
    assert counts() == before


def test_text_is_stored_nfc(receive):
    decomposed = unicodedata.normalize("NFD", "Đường Phú Riềng Đỏ mất điện")
    result = receive(text=decomposed)
    ticket = db.session.get(Ticket, result.ticket_id)
    assert ticket.description == unicodedata.normalize("NFC", decomposed)
    assert "duong phu rieng do" in ticket.search_text


def test_concurrent_receives_of_one_message_leave_one_ticket(app, org):
    """Eight threads deliver the same Zalo message at once: exactly one ticket."""
    n = 8
    barrier = threading.Barrier(n)
    results, errors = [], []

    def deliver():
        with app.app_context():
            try:
                barrier.wait()
                r = intake.receive(message(channel="zalo", external_id="same-msg",
                                           contact=ContactHandle(zalo_user_id="z-1")))
                db.session.commit()
                results.append(r)
            except Exception as exc:  # noqa: BLE001 - collected and asserted below
                errors.append(exc)
            finally:
                db.session.remove()

    threads = [threading.Thread(target=deliver) for _ in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert len({r.ticket_id for r in results}) == 1
    assert sum(r.created for r in results) == 1
    assert db.session.scalar(select(func.count()).select_from(Ticket)) == 1
    assert db.session.scalar(select(func.count()).select_from(Contact)) == 1


def test_a_deactivated_agency_is_never_routed_to(receive, org):
    org.agencies["UBND-689"].active = False
    db.session.commit()
    result = receive()  # street lighting in Đồng Xoài: the district rule's agency is inactive
    assert db.session.get(Ticket, result.ticket_id).agency.code == "DIENLUC"


def test_an_operator_answering_the_call_keeps_it_away_from_the_router(receive, org):
    result = receive(route=False, created_by_id=None)
    ticket = db.session.get(Ticket, result.ticket_id)
    assert ticket.status == "new" and ticket.agency_id is None
    assert ticket.field.code == "CS"  # the classification is kept for reports
    types = db.session.scalars(select(TicketEvent.type).where(TicketEvent.ticket_id == ticket.id)).all()
    assert types == ["received"]


def test_a_code_carries_the_provinces_year_not_utcs(receive, org):
    from datetime import datetime, timezone
    # 17:30 UTC on 31 December is 00:30 on 1 January in Hà Nội.
    new_year = receive(external_id="ny", force_new=True,
                       received_at=datetime(2026, 12, 31, 17, 30, tzinfo=timezone.utc))
    old_year = receive(external_id="oy", force_new=True,
                       received_at=datetime(2026, 12, 31, 16, 30, tzinfo=timezone.utc))
    assert new_year.code.startswith("PA-27-") and old_year.code.startswith("PA-26-")
