"""Public services: status lookup, satisfaction, moderation, published results, nearby hint."""
from __future__ import annotations

import io
import os
from datetime import date, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from hotline.domain.errors import PermissionDenied, ValidationError
from hotline.domain.messages import ContactHandle, IncomingAttachment
from hotline.extensions import db
from hotline.models import (AuditLog, Attachment, Field, OutboxMessage, Ticket, TicketEvent,
                            utcnow)
from hotline.services import events, public, public_results, satisfaction
from tests.factories import MONDAY_9AM
from tests.photos import image_bytes

RESULT = ("UBND phường đã kiểm tra, thay 3 bóng đèn. Đã liên hệ chị Nguyễn Thị Lan "
          "(0912 345 678) để thông báo.")


def give_result(ticket: Ticket, *, status="approved", at=None, result=RESULT):
    """Put a ticket where an agency's approved result leaves it (the handling flow's end)."""
    ticket.status = status
    ticket.result = result
    ticket.resolved_at = at or MONDAY_9AM + timedelta(days=2)
    ticket.sla_state = None
    events.record(ticket, "resolved", actor_label="handler", public=True, at=ticket.resolved_at,
                  to_status=status, note="Đã có kết quả giải quyết.")
    db.session.commit()
    return ticket


@pytest.fixture
def ticket(receive):
    result = receive(text="Đèn đường trước nhà số 15 hẻm 7 bị hỏng, gọi tôi 0912.345.678.",
                     address="15 hẻm 7 đường Phú Riềng Đỏ", consent_publish=True)
    return db.session.get(Ticket, result.ticket_id)


@pytest.fixture
def manager(make_user):
    return make_user("manager", username="lanhdao")


def count(model):
    return db.session.scalar(select(func.count()).select_from(model))


# --- status lookup ------------------------------------------------------------------------------

def test_code_and_last_four_digits_open_the_status(ticket):
    view = public.lookup_status(ticket.code.lower().replace("-", " - "), "5678")
    assert view is not None and view.code == ticket.code
    assert view.agency_name == "UBND Thành phố Đồng Xoài"
    assert view.due_at == ticket.due_at and view.result is None


def test_unknown_code_and_wrong_phone_give_the_same_answer(ticket, receive):
    anonymous = receive(force_new=True, external_id="anon", contact=ContactHandle())
    assert public.lookup_status(ticket.code, "1234") is None
    assert public.lookup_status("PA-26-ZZZZZZ", "5678") is None
    assert public.lookup_status("not a code", "5678") is None
    assert public.lookup_status(ticket.code, "") is None
    assert public.lookup_status(ticket.code, "05678") is None
    assert public.lookup_status(anonymous.code, "0000") is None  # no phone: the link only


def test_secret_link(ticket):
    assert public.lookup_by_token(ticket.code, ticket.status_token).code == ticket.code
    assert public.lookup_by_token(ticket.code, ticket.status_token[:-1] + "x") is None
    assert public.lookup_by_token("PA-26-ZZZZZZ", ticket.status_token) is None
    assert public.lookup_by_token(ticket.code, None) is None


def test_timeline_shows_only_public_events(ticket):
    events.record(ticket, "note", actor_label="handler", note="Ghi chú nội bộ: hộ này hay khiếu nại")
    db.session.commit()
    view = public.lookup_status(ticket.code, "5678")
    notes = " ".join(e.note or "" for e in view.timeline)
    assert "Tiếp nhận qua kênh" in notes and "nội bộ" not in notes


def test_result_shows_once_out(ticket):
    give_result(ticket)
    view = public.lookup_status(ticket.code, "5678")
    assert view.result == RESULT and view.can_rate and view.due_at is None


# --- satisfaction ---------------------------------------------------------------------------------

def test_rating_before_a_result_is_refused(ticket):
    with pytest.raises(ValidationError) as exc:
        public.rate(ticket, rating=5)
    assert exc.value.code == "not_rateable"
    assert ticket.rating is None


@pytest.mark.parametrize("bad", [None, "", 0, 6, "năm", "3.5"])
def test_invalid_rating_changes_nothing(ticket, bad):
    give_result(ticket)
    before = count(TicketEvent)
    with pytest.raises(ValidationError):
        public.rate(ticket, rating=bad)
    db.session.rollback()
    assert ticket.rating is None and count(TicketEvent) == before


def test_rating_is_recorded_once(ticket):
    give_result(ticket)
    outcome = public.rate(ticket, rating="4", comment="  Nhanh, cảm ơn  ", fixed=True,
                          now=ticket.resolved_at + timedelta(days=1))
    db.session.commit()
    assert not outcome.reopened
    assert (ticket.rating, ticket.rating_comment, ticket.status) == (4, "Nhanh, cảm ơn", "approved")
    with pytest.raises(ValidationError) as exc:
        public.rate(ticket, rating=5)
    assert exc.value.code == "already_rated"


def test_not_fixed_within_the_window_reopens_to_the_same_agency(ticket, app):
    give_result(ticket)
    agency_id = ticket.agency_id
    now = ticket.resolved_at + timedelta(days=6)
    outcome = public.rate(ticket, rating=1, comment="Đèn vẫn tắt", fixed=False, now=now)
    db.session.commit()
    assert outcome.reopened
    assert ticket.status == "reopened" and ticket.agency_id == agency_id
    assert ticket.reopened_count == 1
    assert ticket.sla_state == "on_track" and ticket.due_at > now
    event = db.session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                        TicketEvent.type == "reopened"))
    assert event.public and event.from_status == "approved" and event.to_status == "reopened"
    # Resolved again: the citizen may rate the new result.
    give_result(ticket, at=now + timedelta(days=2))
    assert public.can_rate(ticket)


def test_not_fixed_after_the_window_keeps_the_ticket(ticket, app):
    app.config["SATISFACTION_REOPEN_DAYS"] = 3
    give_result(ticket)
    outcome = public.rate(ticket, rating=2, fixed=False,
                          now=ticket.resolved_at + timedelta(days=3, minutes=1))
    db.session.commit()
    assert outcome.too_late_to_reopen and not outcome.reopened
    assert ticket.status == "approved" and ticket.reopened_count == 0 and ticket.rating == 2


# --- satisfaction follow-up -------------------------------------------------------------------------

def test_follow_up_is_sent_once_after_n_days(ticket, receive, app):
    give_result(ticket)
    rated = give_result(db.session.get(Ticket, receive(force_new=True, external_id="r2").ticket_id))
    rated.rated_at, rated.rating = rated.resolved_at, 5
    anonymous = give_result(db.session.get(Ticket, receive(force_new=True, external_id="r3",
                                                           contact=ContactHandle()).ticket_id))
    db.session.commit()
    assert anonymous.contact_id is None
    too_early = satisfaction.send_followups(ticket.resolved_at + timedelta(days=2))
    assert too_early == 0
    now = ticket.resolved_at + timedelta(days=3, hours=1)
    assert satisfaction.send_followups(now) == 1
    db.session.commit()
    assert satisfaction.send_followups(now) == 0          # a second run writes nothing
    assert satisfaction.send_followups(now + timedelta(days=1)) == 0
    rows = db.session.scalars(select(OutboxMessage).where(OutboxMessage.purpose == "satisfaction")).all()
    assert len(rows) == 1 and rows[0].ticket_id == ticket.id and rows[0].channel == "sms"
    assert ticket.status_token in rows[0].payload["text"]


# --- moderation -------------------------------------------------------------------------------------

def test_prepare_publication_redacts_and_writes_nothing(ticket):
    ticket.privacy_requested = True
    give_result(ticket)
    draft = public.prepare_publication(ticket)
    assert "0912" not in draft.summary and "[số điện thoại]" in draft.summary
    assert "[số nhà]" in draft.summary and "15 hẻm" not in draft.summary
    assert "Nguyễn Thị Lan" not in draft.result and "[họ tên]" in draft.result
    assert draft.summary_findings == [] and draft.result_findings == []
    assert not db.session.dirty and ticket.public_summary is None


def test_only_a_manager_publishes(ticket, make_user, org):
    give_result(ticket)
    for role, agency in [("operator", None), ("handler", org.agencies["UBND-689"]),
                         ("agency_lead", org.agencies["UBND-689"]), ("admin", None)]:
        user = make_user(role, agency=agency)
        with pytest.raises(PermissionDenied):
            public.approve_publication(user, ticket, "a", "b")
        with pytest.raises(PermissionDenied):
            public.publication_queue(user)
    assert ticket.published_at is None


def test_publication_needs_consent_and_a_result(ticket, receive, manager):
    with pytest.raises(ValidationError) as exc:
        public.approve_publication(manager, ticket, "Nội dung", "Kết quả")
    assert exc.value.code == "not_publishable"
    other = give_result(db.session.get(Ticket, receive(force_new=True, external_id="nc",
                                                       consent_publish=False).ticket_id))
    with pytest.raises(ValidationError) as exc:
        public.approve_publication(manager, other, "Nội dung", "Kết quả")
    assert exc.value.code == "no_consent"
    give_result(ticket)
    with pytest.raises(ValidationError):
        public.approve_publication(manager, ticket, "   ", "Kết quả")
    assert ticket.published_at is None


def test_queue_lists_results_waiting_unless_refused(ticket, receive, manager):
    waiting = give_result(ticket)
    give_result(db.session.get(Ticket, receive(force_new=True, external_id="nc",
                                               consent_publish=False).ticket_id))  # refused
    receive(force_new=True, external_id="open")                                    # no result yet
    page = public.publication_queue(manager)
    assert [t.code for t in page.tickets] == [waiting.code]


def _publish(manager, ticket, **kw):
    draft = public.prepare_publication(ticket)
    public.approve_publication(manager, ticket, draft.summary, draft.result, **kw)
    db.session.commit()
    return draft


def test_approval_publishes_the_moderated_text(ticket, manager):
    give_result(ticket)
    draft = _publish(manager, ticket)
    assert ticket.status == "published" and ticket.published_at is not None
    assert ticket.public_summary == draft.summary
    assert "den duong" in ticket.public_search_text and "0912" not in ticket.public_search_text
    first = ticket.published_at
    public.approve_publication(manager, ticket, "Đèn đường bị hỏng.", "Đã thay bóng.")
    db.session.commit()
    assert ticket.published_at == first and ticket.public_result == "Đã thay bóng."
    types = db.session.scalars(select(TicketEvent.type).where(TicketEvent.ticket_id == ticket.id)
                               .order_by(TicketEvent.id)).all()
    assert types[-2:] == ["published", "publication_edited"]


def test_closed_ticket_publishes_without_a_status_change(ticket, manager):
    give_result(ticket, status="closed")
    _publish(manager, ticket)
    assert ticket.status == "closed" and ticket.published_at is not None


def test_photos_are_published_as_copies_without_exif(receive, manager, app):
    photo = IncomingAttachment("anh-1.jpg", "image/jpeg", image_bytes(gps=True, maker="Serial-9"))
    ticket = db.session.get(Ticket, receive(force_new=True, external_id="p", consent_publish=True,
                                            attachments=(photo,)).ticket_id)
    give_result(ticket)
    draft = public.prepare_publication(ticket)
    assert len(draft.photos) == 1
    _publish(manager, ticket, photo_ids=[draft.photos[0].id])
    copies = db.session.scalars(select(Attachment).where(Attachment.ticket_id == ticket.id,
                                                         Attachment.public.is_(True))).all()
    assert len(copies) == 1 and copies[0].id != draft.photos[0].id
    item = public.get_published(ticket.code)
    assert item.photos == [copies[0].id]
    path = os.path.join(app.config["UPLOAD_FOLDER"], copies[0].storage_key)
    with open(path, "rb") as fh:
        data = fh.read()
    assert b"Serial-9" not in data and dict(Image.open(io.BytesIO(data)).getexif()) == {}
    # The original stays internal, and is never served as public.
    assert public.public_photo(ticket.code, draft.photos[0].id) is None
    assert public.public_photo(ticket.code, copies[0].id) is not None
    with pytest.raises(ValidationError):
        public.approve_publication(manager, ticket, "a b c", "d e f", photo_ids=[999999])


def test_unpublish_withholds_with_an_audited_reason(ticket, manager):
    give_result(ticket)
    _publish(manager, ticket)
    public.unpublish(manager, ticket, "Người dân đề nghị gỡ")
    db.session.commit()
    assert ticket.published_at is None and public.get_published(ticket.code) is None
    assert ticket.publication_withheld_at is not None
    # A decision was made: the ticket leaves the queue, and the decision is audited.
    assert public.publication_queue(manager).tickets == []
    rows = db.session.scalars(select(AuditLog).where(AuditLog.entity == "ticket")
                              .order_by(AuditLog.id)).all()
    assert [r.action for r in rows] == ["publish", "unpublish"]
    assert rows[-1].after["reason"] == "Người dân đề nghị gỡ" and rows[-1].actor_id == manager.id
    with pytest.raises(ValidationError):
        public.unpublish(manager, ticket, "lần hai")
    with pytest.raises(ValidationError):
        public.withhold_publication(manager, ticket, "  ")
    # A later decision may publish it again.
    _publish(manager, ticket)
    assert ticket.publication_withheld_at is None and public.get_published(ticket.code)


# --- published results ----------------------------------------------------------------------------------

def _published(receive, manager, n, result=RESULT, **kw):
    ticket = db.session.get(Ticket, receive(force_new=True, external_id=f"pub-{n}",
                                            consent_publish=True, **kw).ticket_id)
    give_result(ticket, result=result)
    _publish(manager, ticket)
    return ticket


def test_filters_and_accent_insensitive_search(receive, manager, org):
    lamp = _published(receive, manager, 1)  # CS in Tân Bình (Đồng Xoài) → UBND-689
    road = _published(receive, manager, 2, field_code="GT", area_code="25600",
                      text="Ổ gà lớn trên ĐT741 gần chợ Phú Riềng, ông Trần Văn Bảy bị ngã.",
                      result="Sở GTVT đã vá ổ gà.")
    ids = lambda **f: [i.code for i in public.list_published(public.ResultFilters(**f)).items]
    assert set(ids()) == {lamp.code, road.code}
    assert ids(q="den duong") == [lamp.code]
    assert ids(q="ĐÈN ĐƯỜNG") == [lamp.code]
    assert ids(q="o ga cho") == [road.code]
    assert ids(q="Trần Văn Bảy") == []        # the name was redacted: search cannot find it
    assert ids(q="0912345678") == []
    assert ids(field_code="GT") == [road.code]
    assert ids(area_code="689") == [lamp.code]   # a district includes its communes
    assert ids(area_code="70") == [road.code, lamp.code]
    assert ids(agency_code="SO-GTVT") == [road.code]
    assert ids(field_code="NOPE") == [] and ids(area_code="NOPE") == []
    today = lamp.published_at.date()
    assert len(ids(date_from=today - timedelta(days=1), date_to=today + timedelta(days=1))) == 2
    assert ids(date_to=date(2020, 1, 1)) == []


def test_sub_types_belong_to_their_field(receive, manager, org):
    sub = Field(code="CS-DEN", name="Đèn hỏng", parent_id=org.fields["CS"].id)
    db.session.add(sub)
    db.session.commit()
    t = _published(receive, manager, 1, field_code="CS-DEN")
    assert [i.code for i in public.list_published(public.ResultFilters(field_code="CS")).items] \
        == [t.code]


def test_keyset_pagination_walks_every_result_once(receive, manager):
    made = {_published(receive, manager, n).code for n in range(7)}
    seen, cursor = [], None
    while True:
        page = public.list_published(cursor=cursor, limit=3)
        seen.extend(i.code for i in page.items)
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    assert len(seen) == 7 and set(seen) == made
    with pytest.raises(ValidationError):
        public.list_published(cursor="not-a-cursor")


def test_unpublished_ticket_is_not_public(ticket):
    give_result(ticket)
    assert public.get_published(ticket.code) is None
    assert public.list_published().items == []


# --- duplicate hint ---------------------------------------------------------------------------------------

def test_nearby_open_tickets_of_the_same_field(receive, manager):
    near = receive(force_new=True, external_id="n1", lat=11.5349, lon=106.8823,
                   text="Đèn đường hỏng, liên hệ anh Hùng 0987654321")
    refused = receive(force_new=True, external_id="n2", lat=11.5352, lon=106.8826,
                      consent_publish=False)                                   # ~45 m, refused
    receive(force_new=True, external_id="far", lat=11.60, lon=106.90)                        # kilometres away
    receive(force_new=True, external_id="other", lat=11.5349, lon=106.8823, field_code="GT")  # another field
    done = receive(force_new=True, external_id="done", lat=11.5349, lon=106.8823)
    give_result(db.session.get(Ticket, done.ticket_id))                       # not open any more
    found = public.nearby_open("CS", lat=11.5350, lon=106.8824)
    assert [f.code for f in found] == [near.code]       # the refused one never shows
    assert refused.code not in {f.code for f in public.nearby_open("CS", area_code="25435")}
    # Not published: code, status and date only, never the citizen's words.
    assert found[0].summary is None and found[0].distance == "dưới 100 m"
    by_commune = public.nearby_open("CS", area_code="25435")
    assert {f.code for f in by_commune} >= {near.code} and by_commune[0].distance is None
    assert public.nearby_open(None, lat=11.5, lon=106.8) == []
    with pytest.raises(ValidationError):
        public.nearby_open("CS", lat=123.0, lon=106.8)
    with pytest.raises(ValidationError):
        public.nearby_open("CS", lat=float("nan"), lon=106.8)


def test_follow_up_command(ticket, runner):
    # The command asks about results given SATISFACTION_FOLLOWUP_DAYS before the real now.
    give_result(ticket, at=utcnow() - timedelta(days=4))
    first = runner.invoke(args=["satisfaction-followup"])
    again = runner.invoke(args=["satisfaction-followup"])
    assert "1 message(s) queued" in first.output and "0 message(s) queued" in again.output


def test_search_pages_through_the_recent_window_and_beyond(receive, manager, monkeypatch):
    lamps = {_published(receive, manager, n).code for n in range(6)}
    for n in range(3):  # newer results that do not match push matches out of the window
        _published(receive, manager, 10 + n, text="Rác thải ùn ứ ở chợ.", result="Đã thu gom.")
    monkeypatch.setattr(public_results, "SEARCH_WINDOW", 4)
    seen, cursor = [], None
    while True:
        page = public.list_published(public.ResultFilters(q="den duong"), cursor=cursor, limit=2)
        seen += [i.code for i in page.items]
        cursor = page.next_cursor
        if not cursor:
            break
    assert len(seen) == 6 and set(seen) == lamps
