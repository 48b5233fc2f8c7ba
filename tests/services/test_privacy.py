"""Personal data: the retention job (dry run and real), a citizen's export and erasure requests."""
from __future__ import annotations

import json
import os
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hotline.domain.errors import ValidationError
from hotline.domain.messages import ContactHandle, IncomingAttachment
from hotline.extensions import db
from hotline.models import (
    Attachment,
    AuditLog,
    Contact,
    OutboxMessage,
    Ticket,
    TicketAnonymisation,
    TicketEvent,
    utcnow,
)
from hotline.services import privacy
from hotline.services.admin import Actor

PHOTO = b"\xff\xd8\xff\xe0JFIF-fake-photo-with-exif-GPS"
OTHER_PHOTO = b"\x89PNG-another-picture"
DAY = timedelta(days=1)


def close(ticket_id: int, *, days_ago: int, public_summary: str | None = None,
          public_result: str | None = None) -> Ticket:
    """Test setup: mark a ticket closed ``days_ago`` days before now."""
    ticket = db.session.get(Ticket, ticket_id)
    ticket.status = "closed"
    ticket.closed_at = utcnow() - days_ago * DAY
    ticket.public_summary = public_summary
    ticket.public_result = public_result
    ticket.result = "Đã liên hệ ông Nguyễn Văn An, số 0987654321, để sửa."
    ticket.rating_comment = "Cảm ơn anh Bình"
    db.session.commit()
    return ticket


@pytest.fixture
def retention(app):
    app.config["RETENTION_DAYS"] = 365
    return 365


@pytest.fixture
def old_ticket(receive, retention):
    """A ticket closed two years ago, with an address, coordinates, a photo and a follow-up."""
    lan = ContactHandle(name="Nguyễn Thị Lan", phone="0912345678", email="lan@example.com")
    first = receive(external_id="call-old", contact=lan, address="123 đường Phú Riềng Đỏ",
                    lat=11.537812, lon=106.889123,
                    text="Đèn hỏng trước nhà tôi, gọi 0912345678 hoặc lan@example.com",
                    attachments=(IncomingAttachment("anh.jpg", "image/jpeg", PHOTO),))
    receive(external_id="call-old-2", contact=lan, text="Bổ sung: nhà số 123, CCCD 012345678901")
    return close(first.ticket_id, days_ago=730, public_summary="Đèn đường hỏng tại phường Tân Bình.",
                 public_result="Điện lực đã thay bóng đèn.")


def snapshot(ticket_id: int):
    t = db.session.get(Ticket, ticket_id)
    return (t.title, t.description, t.address, t.lat, t.lon, t.result, t.contact.phone,
            t.contact.name, db.session.scalar(select(func.count()).select_from(AuditLog)),
            [e.note for e in db.session.scalars(select(TicketEvent).where(
                TicketEvent.ticket_id == ticket_id).order_by(TicketEvent.id))])


def test_dry_run_reports_and_changes_nothing(app, old_ticket):
    path = os.path.join(app.config["UPLOAD_FOLDER"],
                        db.session.scalar(select(Attachment.storage_key)))
    before = snapshot(old_ticket.id)
    report = privacy.anonymise_expired(utcnow(), dry_run=True)
    assert report.dry_run and report.tickets == 1 and report.contacts == 1
    assert report.attachments == 1 and report.files_deleted == 1
    assert report.events_redacted >= 1 and report.sample_codes == [old_ticket.code]
    assert "Sẽ ẩn danh 1 phiếu" in report.describe()
    db.session.commit()
    db.session.expire_all()
    assert snapshot(old_ticket.id) == before
    assert os.path.exists(path)
    assert db.session.scalar(select(func.count()).select_from(TicketAnonymisation)) == 0


def test_retention_anonymises_personal_data_and_keeps_statistics(app, old_ticket, org):
    key = db.session.scalar(select(Attachment.storage_key))
    path = os.path.join(app.config["UPLOAD_FOLDER"], key)
    kept = (old_ticket.code, old_ticket.field_id, old_ticket.area_id, old_ticket.agency_id,
            old_ticket.received_at, old_ticket.closed_at, old_ticket.kind, old_ticket.channel)
    old_token = old_ticket.status_token
    contact_id = old_ticket.contact_id
    report = privacy.anonymise_expired(utcnow())
    db.session.commit()
    db.session.expire_all()
    assert report.tickets == 1 and report.contacts == 1 and report.files_deleted == 1
    t = db.session.get(Ticket, old_ticket.id)
    assert (t.code, t.field_id, t.area_id, t.agency_id, t.received_at, t.closed_at, t.kind,
            t.channel) == kept
    assert t.public_result == "Điện lực đã thay bóng đèn."
    assert t.description == t.public_summary == "Đèn đường hỏng tại phường Tân Bình."
    assert t.address is None and (t.lat, t.lon) == (11.54, 106.89)
    assert t.result == "Điện lực đã thay bóng đèn." and t.rating_comment is None
    assert "0912345678" not in t.search_text and t.status_token != old_token
    contact = db.session.get(Contact, contact_id)
    assert (contact.name, contact.phone, contact.email) == (None, None, None)
    assert contact.anonymised_at is not None
    notes = " ".join(e.note or "" for e in db.session.scalars(
        select(TicketEvent).where(TicketEvent.ticket_id == t.id)))
    assert "0912345678" not in notes and "012345678901" not in notes
    assert "ẩn danh do hết thời hạn" in notes
    att = db.session.scalar(select(Attachment))
    assert att.storage_key is None and att.filename == "da-xoa" and not os.path.exists(path)
    for row in db.session.scalars(select(OutboxMessage).where(OutboxMessage.ticket_id == t.id,
                                                              OutboxMessage.status != "pending")):
        assert row.recipient == privacy.REDACTED_RECIPIENT and "text" not in row.payload
    # Run again: nothing left to do.
    again = privacy.anonymise_expired(utcnow())
    assert again.tickets == 0


def test_contact_with_a_recent_ticket_keeps_its_data(app, receive, retention):
    lan = ContactHandle(name="Nguyễn Thị Lan", phone="0912345678")
    old = receive(external_id="a", contact=lan, attachments=(
        IncomingAttachment("a.jpg", "image/jpeg", PHOTO),))
    close(old.ticket_id, days_ago=800)
    recent = receive(external_id="b", contact=lan, channel="web", text="Ổ gà ở đường Hùng Vương",
                     attachments=(IncomingAttachment("a.jpg", "image/jpeg", PHOTO),))
    close(recent.ticket_id, days_ago=10)
    report = privacy.anonymise_expired(utcnow())
    db.session.commit()
    db.session.expire_all()
    assert report.tickets == 1 and report.contacts == 0
    # The same photo is still referenced by the recent ticket: the file stays.
    assert report.files_deleted == 0
    recent_ticket = db.session.get(Ticket, recent.ticket_id)
    assert recent_ticket.contact.phone == "+84912345678"
    key = db.session.scalar(select(Attachment.storage_key).where(
        Attachment.ticket_id == recent.ticket_id))
    assert os.path.exists(os.path.join(app.config["UPLOAD_FOLDER"], key))
    # Two years on, the second ticket expires too and the person is gone.
    report = privacy.anonymise_expired(utcnow() + timedelta(days=400))
    db.session.commit()
    assert report.tickets == 1 and report.contacts == 1 and report.files_deleted == 1


def test_open_tickets_are_never_touched_by_retention(receive, retention):
    result = receive(external_id="open")
    report = privacy.anonymise_expired(utcnow() + timedelta(days=5000))
    assert report.tickets == 0
    assert db.session.get(Ticket, result.ticket_id).contact.phone == "+84912345678"


def test_keyset_batches_cover_every_ticket(receive, retention):
    ids = []
    for i in range(7):
        r = receive(external_id=f"k{i}", channel="web",
                    contact=ContactHandle(phone=f"09123456{i:02d}"))
        ids.append(r.ticket_id)
        close(r.ticket_id, days_ago=400 + (i % 3))  # equal closed_at days: ties broken by id
    seen = []
    report = privacy.anonymise_expired(utcnow(), batch=3,
                                       on_batch=lambda r, _rep: seen.append(r.tickets))
    db.session.commit()
    assert report.tickets == 7 and seen == [3, 3, 1] and report.contacts == 7


def test_cli_anonymise_dry_run_and_real(runner, old_ticket):
    out = runner.invoke(args=["privacy", "anonymise", "--dry-run"])
    assert out.exit_code == 0, out.output
    assert "Sẽ ẩn danh 1 phiếu" in out.output and old_ticket.code in out.output
    out = runner.invoke(args=["privacy", "anonymise"])
    assert out.exit_code == 0, out.output
    assert "Đã ẩn danh 1 phiếu" in out.output
    row = db.session.scalar(select(AuditLog).where(AuditLog.action == "anonymise"))
    assert row.actor_label == "cli" and row.after["tickets"] == 1


# A citizen's request -------------------------------------------------------------------------

@pytest.fixture
def operator_actor(make_user):
    return Actor(user=make_user("operator", username="dtv1"), ip="10.1.1.1")


def test_find_export_and_erase(app, receive, operator_actor):
    lan = ContactHandle(name="Nguyễn Thị Lan", phone="0912345678", email="lan@example.com")
    open_one = receive(external_id="e1", contact=lan,
                       attachments=(IncomingAttachment("anh.jpg", "image/jpeg", PHOTO),))
    receive(external_id="e2", channel="web", contact=lan, text="Rác thải tràn ra đường")
    [contact] = privacy.find_contacts(phone="+84 912 345 678")
    assert privacy.find_contacts(email="LAN@example.com") == [contact]
    with pytest.raises(ValidationError):
        privacy.find_contacts()
    with pytest.raises(ValidationError, match="xác minh"):
        privacy.export_contact(operator_actor, contact.id, verification="  ")
    filename, body = privacy.export_contact(operator_actor, contact.id,
                                            verification="Đối chiếu CCCD tại bộ phận một cửa")
    db.session.commit()
    doc = json.loads(body)
    assert filename.endswith(".json") and doc["contact"]["phone"] == "+84912345678"
    assert len(doc["tickets"]) == 2 and doc["tickets"][0]["attachments"][0]["filename"] == "anh.jpg"
    exported = db.session.scalar(select(AuditLog).where(AuditLog.action == "privacy_export"))
    assert exported.actor_id == operator_actor.user.id and exported.after["tickets"] == 2
    assert "0912345678" not in json.dumps(exported.after) and "+849" not in json.dumps(exported.after)

    count = privacy.erase_contact(operator_actor, contact.id,
                                  verification="Gọi lại số đã đăng ký")
    db.session.commit()
    db.session.expire_all()
    assert count == 2
    contact = db.session.get(Contact, contact.id)
    assert contact.phone is None and contact.email is None and contact.anonymised_at
    ticket = db.session.get(Ticket, open_one.ticket_id)
    assert ticket.status == "assigned"  # the agency still fixes the lamp
    event = db.session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                        TicketEvent.type == "privacy_erased"))
    assert event.actor_id == operator_actor.user.id and event.data is None
    assert "Lan" not in event.note and "0912" not in event.note
    erased = db.session.scalar(select(AuditLog).where(AuditLog.action == "privacy_erase"))
    assert erased.after == {"tickets": 2, "verification": "Gọi lại số đã đăng ký"}
    assert db.session.scalar(select(func.count()).select_from(OutboxMessage).where(
        OutboxMessage.status == "pending", OutboxMessage.ticket_id == ticket.id)) == 0
    # No one can export or erase an erased contact again, and nobody finds them by phone.
    assert privacy.find_contacts(phone="0912345678") == []
    with pytest.raises(Exception, match="đã được xoá"):
        privacy.export_contact(operator_actor, contact.id, verification="x")


def test_redact_text():
    assert privacy.redact_text("Gọi 0912 345 678 hoặc +84912345678, a.b@c.vn, CCCD 012345678901") \
        == "Gọi [số điện thoại] hoặc [số điện thoại], [e-mail], CCCD [số giấy tờ]"
    # The whole ID goes, not a phone-shaped part of it ("CCCD [số điện thoại] 333").
    assert privacy.redact_text("CCCD 079 203 001 333") == "CCCD [số giấy tờ]"
