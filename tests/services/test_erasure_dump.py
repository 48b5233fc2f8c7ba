"""After an erasure or a retention run, the whole database holds nothing of the person.

A citizen reaches us by a PBX call, the operator's form, the public web form with a
photo, and a second call answered directly; staff handle it and write her name,
phone and ID number into notes, a co-handling request, the result, a quality
review and a staff e-mail; the result is published. Then every text and JSON
column of every table is dumped (SQLite and PostgreSQL) and searched for her name
(any case, with or without accents), phone (any format), e-mail and ID number.
Another citizen's ticket is the control: it keeps its data.
"""
from __future__ import annotations

import io
import json
import os
import re
from datetime import timedelta

import pytest
from PIL import Image
from sqlalchemy import select

from hotline.domain import text
from hotline.domain.messages import IncomingAttachment
from hotline.extensions import db
from hotline.models import Attachment, Contact, Ticket, utcnow
from hotline.services import calls, handling, outbox, privacy, public, publication
from hotline.services.admin import Actor
from hotline.services.reports import quality

NAME = "Nguyễn Thị Lan"
PHONE_DIGITS = "912345678"
EMAIL = "lan.nguyen@example.com"
ID_NUMBER = "012345678901"
OTHER_NAME = "Trần Văn Minh"


def _jpeg() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (32, 24), (20, 120, 40)).save(out, format="JPEG")
    return out.getvalue()


def dump() -> list[tuple[str, str, str]]:
    """(table, column, text) for every non-empty value of every table."""
    out = []
    with db.engine.connect() as conn:
        for table in db.metadata.sorted_tables:
            for row in conn.execute(table.select()).mappings():
                for column, value in row.items():
                    if value is None or isinstance(value, (int, float, bool)):
                        continue
                    value = (json.dumps(value, ensure_ascii=False)
                             if isinstance(value, (dict, list)) else str(value))
                    out.append((table.name, column, value))
    return out


_SEPARATORS = re.compile(r"[\s.\-/()\u200b\u2060\ufeff]+")


def hits(values, *, name: str = NAME) -> list[tuple[str, str, str]]:
    """Where the person still appears: name, phone, e-mail or ID number, in any spelling."""
    folded_name = text.fold(name)
    found = []
    for table, column, value in values:
        digits = _SEPARATORS.sub("", text.nfc(value))
        if (folded_name in text.fold(value) or PHONE_DIGITS in digits
                or EMAIL in value.casefold() or ID_NUMBER in digits
                or ID_NUMBER[-9:] in digits):
            found.append((table, column, value[:200]))
    return found


@pytest.fixture
def person(app, client, org, staff):
    """Lan's tickets through every path, handled, reviewed and published; Minh's as control."""
    fields, areas = org.fields, org.areas
    calls.record_call_event(caller="0912 345 678", extension="101", call_id="pbx-1")
    db.session.commit()
    forwarded = calls.log_call(staff.operator, calls.NewCall(
        external_id="call-lan-1", decision="forward", phone="0912.345.678", name=NAME,
        kind="phan_anh", priority="normal", address="Số 12 đường Phú Riềng Đỏ",
        field_id=fields["CS"].id, area_id=areas["25435"].id,
        description=(f"Tôi là {NAME}, CCCD {ID_NUMBER}, đèn đường trước nhà hỏng. "
                     "Gọi lại 0912 345 678 hoặc lan.nguyen@example.com.")))
    db.session.commit()
    answered = calls.log_call(staff.operator, calls.NewCall(
        external_id="call-lan-2", decision="answer", phone="+84912345678", name=NAME,
        kind="hoi_dap", priority="normal", field_id=fields["CS"].id, area_id=areas["25435"].id,
        description="Hỏi lịch cắt điện tuần sau.",
        answer=f"Đã trả lời chị {NAME.upper()} qua số 0912-345-678: lịch cắt điện thứ Ba."))
    db.session.commit()
    resp = client.post("/submit", data={
        "submission_id": "b" * 32, "kind": "phan_anh", "field_code": "CS", "area_code": "25435",
        "address": "Trước nhà bà Lan, số 12", "name": NAME.lower(), "phone": "0912345678",
        "email": EMAIL.upper(),
        "description": f"Rác tràn ra đường, liên hệ nguyen thi lan ０９１２３４５６７８, "
                       f"CMND/CCCD {ID_NUMBER[:4]} {ID_NUMBER[4:8]} {ID_NUMBER[8:]}.",
        "consent_publish": "y",
        "photos": (io.BytesIO(_jpeg()), f"cccd-{NAME}.jpg")},
        content_type="multipart/form-data")
    assert resp.status_code == 302, resp.get_data(as_text=True)[:300]
    web = db.session.scalar(select(Ticket).where(Ticket.channel == "web"))
    assert web is not None, "the staged web report was not drained"

    ticket = db.session.get(Ticket, forwarded.ticket_id)
    handler = staff.handler
    handling.accept(handler, ticket)
    handling.add_note(handler, ticket, note=f"Đã gọi chị Lan 0912345678, chị {NAME} xác nhận.")
    handling.add_note(handler, ticket, note="Đã cử tổ điện lực đến kiểm tra.", public=True)
    handling.add_cohandler(handler, ticket, agency_id=org.agencies["DIENLUC"].id,
                           request_note=f"Liên hệ bà {NAME} (0912 345 678) để vào nhà.")
    handling.resolve(handler, ticket, result=(
        f"Đã thay bóng đèn; bà {NAME.upper()} (SĐT 0912-345-678, CCCD {ID_NUMBER}) đã ký "
        "biên bản."), files=(IncomingAttachment(f"bien-ban-{NAME}-0912345678.jpg", "image/jpeg",
                                                _jpeg()),),
        reason_without_parts=f"Điện lực chưa liên hệ được chị {NAME}.")
    db.session.commit()
    ticket = db.session.get(Ticket, forwarded.ticket_id)
    if ticket.status == "resolved":  # the agency needs its lead's approval
        handling.approve(staff.lead, ticket)
        db.session.commit()
    ticket = db.session.get(Ticket, forwarded.ticket_id)
    public.rate(ticket, rating=5, comment=f"Cảm ơn, {NAME} 0912345678", fixed=True)
    quality.review(staff.manager, answered.ticket_id, "needs_correction",
                   f"Không nên đọc số 0912 345 678 của chị {NAME} qua điện thoại.")
    outbox.queue_staff_message(
        "lanhdao@example.gov.vn", "sla_digest", "Phiếu sắp quá hạn",
        f"{ticket.code} [sắp quá hạn] — {ticket.title}", key="digest-1")
    ticket.consent_publish = True
    db.session.commit()
    publication.approve_publication(staff.manager, ticket,
                                    "Đèn đường trước nhà chị Lan bị hỏng.",
                                    "Đã thay bóng đèn.")
    db.session.commit()

    other = calls.log_call(staff.operator, calls.NewCall(
        external_id="call-minh-1", decision="forward", phone="0987654321", name=OTHER_NAME,
        kind="phan_anh", priority="normal", field_id=fields["CS"].id,
        area_id=areas["25435"].id, description=f"Tôi là {OTHER_NAME}, ổ gà trước nhà."))
    db.session.commit()
    planted = {table for table, _, _ in hits(dump())}
    assert planted >= {"tickets", "ticket_events", "outbox", "contacts", "call_events",
                       "attachments", "quality_reviews", "ticket_cohandlers"}, planted
    contact_id = db.session.get(Ticket, forwarded.ticket_id).contact_id
    return contact_id, other.ticket_id


def uploaded_files(app) -> list[str]:
    root = app.config["UPLOAD_FOLDER"]
    return [os.path.join(d, f) for d, _, files in os.walk(root) for f in files]


def test_erasure_leaves_no_trace_in_any_table(app, person, staff):
    contact_id, other_id = person
    actor = Actor(user=staff.admin, ip="10.0.0.1")
    privacy.export_contact(actor, contact_id,
                           verification=f"Đối chiếu CCCD {ID_NUMBER} của chị {NAME}")
    count = privacy.erase_contact(actor, contact_id,
                                  verification=f"Gọi lại số 0912 345 678, chị {NAME} xác nhận")
    db.session.commit()
    assert count == 3
    assert hits(dump()) == []
    # Her files are gone from disk; the other citizen's ticket is untouched.
    assert db.session.scalar(select(Attachment.storage_key).where(
        Attachment.storage_key.is_not(None), Attachment.public.is_(False))) is None
    assert uploaded_files(app) == []
    other = db.session.get(Ticket, other_id)
    assert OTHER_NAME in other.description and other.contact.phone == "+84987654321"


def test_retention_leaves_no_trace_in_any_table(app, person):
    contact_id, other_id = person
    app.config["RETENTION_DAYS"] = 365
    long_ago = utcnow() - timedelta(days=800)
    for ticket in db.session.scalars(select(Ticket).where(Ticket.contact_id == contact_id)):
        ticket.status, ticket.closed_at = "closed", long_ago
    db.session.commit()
    report = privacy.anonymise_expired(utcnow())
    db.session.commit()
    assert report.tickets == 3 and report.contacts == 1
    assert hits(dump()) == []
    assert db.session.get(Contact, contact_id).anonymised_at is not None
    other = db.session.get(Ticket, other_id)
    assert OTHER_NAME in other.description
