"""Citizens' personal data: retention, a citizen's access and erasure requests, export logging.

Decree 13/2023/NĐ-CP asks that personal data be kept no longer than needed and
that a data subject can see and erase theirs. What anonymising a ticket keeps
and removes (the statistics stay true, the person is gone):

- kept: code, kind, channel, field, area, agency, statuses, every date, SLA
  figures, the published summary and the public result (already moderated);
- removed: the contact's name, phone, e-mail and chat ids (once none of their
  tickets is still within retention), the free-text title and description
  (replaced by the public summary when there is one), the street address,
  the rating comment, the internal result text (replaced by the public
  result), citizen messages in the timeline, outbox recipients and texts,
  attachment files (deleted from disk; the rows keep only the content type);
- coarsened: latitude/longitude rounded to 2 decimals (about 1 km), enough for
  a heat map by ward, not enough to find a house.

Each anonymised ticket gets a ``ticket_anonymisations`` row (so the scan never
repeats) and an ``anonymised`` event that says it happened, not what was there.
"""
from __future__ import annotations

import json
import os
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, exists, func, insert, or_, select, update

from hotline.domain import text
from hotline.domain.errors import NotFound, ValidationError
from hotline.extensions import db
from hotline.models import (
    Agency,
    Area,
    Attachment,
    Contact,
    Field,
    OutboxMessage,
    Ticket,
    TicketAnonymisation,
    TicketEvent,
    utcnow,
)
from hotline.services.admin.audit import Actor, record

PLACEHOLDER = "(Nội dung đã được ẩn danh.)"
TITLE_PLACEHOLDER = "(Phiếu đã ẩn danh)"
REDACTED_NOTE = "(Đã ẩn danh)"
REDACTED_RECIPIENT = "(ẩn danh)"
COORD_DECIMALS = 2
CITIZEN_EVENT_TYPES = ("citizen_message", "location", "citizen_replied", "rating")

_PHONE = re.compile(r"(?<!\d)(?:\+?84|0)(?:[\s.\-]?\d){8,10}(?!\d)")
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_ID_NUMBER = re.compile(r"(?<!\d)(?:\d{12}|\d{9})(?!\d)")


def redact_text(value: str | None) -> str | None:
    """Phone numbers, e-mail addresses and ID-card numbers replaced by placeholders."""
    if not value:
        return value
    value = _EMAIL.sub("[e-mail]", value)
    value = _PHONE.sub("[số điện thoại]", value)
    return _ID_NUMBER.sub("[số giấy tờ]", value)


@dataclass
class RetentionReport:
    """What a retention run changed (or, in a dry run, would change)."""

    dry_run: bool
    cutoff: datetime
    tickets: int = 0
    contacts: int = 0
    attachments: int = 0
    files_deleted: int = 0
    events_redacted: int = 0
    sample_codes: list[str] = field(default_factory=list)

    def describe(self) -> str:
        verb = "Sẽ ẩn danh" if self.dry_run else "Đã ẩn danh"
        return (f"{verb} {self.tickets} phiếu đóng trước {self.cutoff:%d/%m/%Y}, "
                f"{self.contacts} người liên hệ, {self.attachments} tệp đính kèm "
                f"({self.files_deleted} tệp xoá khỏi đĩa), {self.events_redacted} tin nhắn.")


@dataclass(frozen=True)
class BatchResult:
    tickets: int
    contacts: int
    attachments: int
    files_deleted: int
    events_redacted: int
    codes: list[str]


def cutoff_for(now: datetime) -> datetime:
    return now - timedelta(days=int(current_app.config["RETENTION_DAYS"]))


def anonymise_expired(now: datetime, *, dry_run: bool = False, batch: int = 500,
                      on_batch: Callable[[BatchResult, RetentionReport], None] | None = None
                      ) -> RetentionReport:
    """Anonymise tickets closed more than RETENTION_DAYS before ``now``, in keyset batches.

    ``on_batch`` runs after each batch — the command commits there, so a run
    over millions of tickets holds no long transaction and can be stopped and
    restarted (done tickets are skipped). A dry run changes nothing.
    """
    cutoff = cutoff_for(now)
    report = RetentionReport(dry_run=dry_run, cutoff=cutoff)
    seen_contacts: set[int] = set()
    position: tuple[datetime, int] | None = None
    while True:
        query = (select(Ticket.id, Ticket.closed_at)
                 .outerjoin(TicketAnonymisation, TicketAnonymisation.ticket_id == Ticket.id)
                 .where(Ticket.closed_at.is_not(None), Ticket.closed_at < cutoff,
                        TicketAnonymisation.ticket_id.is_(None))
                 .order_by(Ticket.closed_at, Ticket.id).limit(batch))
        if position is not None:
            query = query.where(or_(Ticket.closed_at > position[0],
                                    and_(Ticket.closed_at == position[0], Ticket.id > position[1])))
        rows = db.session.execute(query).all()
        if not rows:
            return report
        position = (rows[-1].closed_at, rows[-1].id)
        result = _anonymise_batch([r.id for r in rows], now=now, cutoff=cutoff, reason="retention",
                                  dry_run=dry_run, seen_contacts=seen_contacts)
        report.tickets += result.tickets
        report.contacts += result.contacts
        report.attachments += result.attachments
        report.files_deleted += result.files_deleted
        report.events_redacted += result.events_redacted
        report.sample_codes.extend(result.codes[: max(0, 20 - len(report.sample_codes))])
        if on_batch is not None:
            on_batch(result, report)
        if len(rows) < batch:
            return report


def _citizen_events(ids: list[int]):
    return and_(TicketEvent.ticket_id.in_(ids),
                or_(TicketEvent.actor_label == "citizen",
                    TicketEvent.type.in_(CITIZEN_EVENT_TYPES)))


def _anonymise_batch(ids: list[int], *, now: datetime, cutoff: datetime | None, reason: str,
                     dry_run: bool, seen_contacts: set[int] | None = None,
                     actor: Actor | None = None) -> BatchResult:
    tickets = list(db.session.scalars(select(Ticket).where(Ticket.id.in_(ids))))
    attachments = list(db.session.scalars(select(Attachment).where(Attachment.ticket_id.in_(ids))))
    events = db.session.scalar(select(func.count()).select_from(TicketEvent)
                               .where(_citizen_events(ids))) or 0
    contacts = _contacts_to_anonymise({t.contact_id for t in tickets if t.contact_id}, ids, cutoff)
    if seen_contacts is not None:
        contacts = [c for c in contacts if c not in seen_contacts]
        seen_contacts.update(contacts)
    keys = {a.storage_key for a in attachments if a.storage_key}
    kept = set()
    if keys:
        kept = set(db.session.scalars(select(Attachment.storage_key).where(
            Attachment.storage_key.in_(keys), Attachment.ticket_id.not_in(ids))))
    doomed = keys - kept
    codes = [t.code for t in tickets]
    if dry_run:
        return BatchResult(len(tickets), len(contacts), len(attachments), len(doomed), events,
                           codes)

    for ticket in tickets:
        _scrub_ticket(ticket)
    db.session.execute(update(TicketEvent).where(_citizen_events(ids))
                        .values(note=REDACTED_NOTE, data=None)
                        .execution_options(synchronize_session=False))
    db.session.execute(update(TicketEvent).where(TicketEvent.ticket_id.in_(ids),
                                                 TicketEvent.type == "received")
                       .values(data=None).execution_options(synchronize_session=False))
    db.session.execute(update(Attachment).where(Attachment.ticket_id.in_(ids))
                       .values(storage_key=None, remote_ref=None, sha256=None, size=None,
                               filename="da-xoa").execution_options(synchronize_session=False))
    outbox_done = OutboxMessage.status != "pending"
    if reason == "erasure":
        # An erased citizen must not be written to again, even by a message already queued.
        db.session.execute(update(OutboxMessage).where(OutboxMessage.ticket_id.in_(ids),
                                                       OutboxMessage.status == "pending")
                           .values(status="failed", last_error="Người dân yêu cầu xoá dữ liệu.")
                           .execution_options(synchronize_session=False))
        outbox_done = True
    db.session.execute(update(OutboxMessage).where(OutboxMessage.ticket_id.in_(ids), outbox_done)
                       .values(recipient=REDACTED_RECIPIENT, payload={"redacted": True})
                       .execution_options(synchronize_session=False))
    if contacts:
        db.session.execute(update(Contact).where(Contact.id.in_(contacts))
                           .values(name=None, phone=None, email=None, telegram_chat_id=None,
                                   zalo_user_id=None, facebook_psid=None, anonymised_at=now)
                           .execution_options(synchronize_session=False))
    db.session.execute(insert(TicketAnonymisation),
                       [{"ticket_id": i, "at": now, "reason": reason} for i in ids])
    note = ("Dữ liệu cá nhân của người dân đã được xoá theo yêu cầu của người dân."
            if reason == "erasure" else
            "Dữ liệu cá nhân của người dân đã được ẩn danh do hết thời hạn lưu trữ.")
    db.session.execute(insert(TicketEvent), [
        {"ticket_id": t.id, "type": "privacy_erased" if reason == "erasure" else "anonymised",
         "actor_id": actor.user.id if actor and actor.user else None,
         "actor_label": actor.name if actor else "system", "at": now, "from_status": None,
         "to_status": None, "agency_id": t.agency_id, "note": note, "public": False,
         "data": None} for t in tickets])
    db.session.flush()
    # Expire what the bulk UPDATEs changed behind the session's back.
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, (Contact, Attachment, TicketEvent, OutboxMessage)):
            db.session.expire(obj)
    deleted = _delete_files(doomed)
    return BatchResult(len(tickets), len(contacts), len(attachments), deleted, events, codes)


def _scrub_ticket(ticket: Ticket) -> None:
    summary = (ticket.public_summary or "").strip()
    ticket.description = summary or PLACEHOLDER
    first = summary.splitlines()[0] if summary else ""
    ticket.title = (first[:117] + "…" if len(first) > 120 else first) or TITLE_PLACEHOLDER
    ticket.address = None
    if ticket.lat is not None and ticket.lon is not None:
        ticket.lat = round(ticket.lat, COORD_DECIMALS)
        ticket.lon = round(ticket.lon, COORD_DECIMALS)
    ticket.result = ticket.public_result or redact_text(ticket.result)
    ticket.rating_comment = None
    ticket.search_text = text.fold(f"{ticket.title} {ticket.description}")
    # The old secret status link stops working.
    ticket.status_token = secrets.token_urlsafe(16)


def _contacts_to_anonymise(contact_ids: set[int], ids: list[int],
                           cutoff: datetime | None) -> list[int]:
    """Contacts none of whose other tickets still needs their data.

    A ticket still needs it when it is not anonymised, not in this batch, and
    (for retention) not past the cutoff: open, or closed recently.
    """
    if not contact_ids:
        return []
    other = select(Ticket.id).outerjoin(
        TicketAnonymisation, TicketAnonymisation.ticket_id == Ticket.id).where(
        Ticket.contact_id == Contact.id, TicketAnonymisation.ticket_id.is_(None),
        Ticket.id.not_in(ids))
    if cutoff is not None:
        other = other.where(or_(Ticket.closed_at.is_(None), Ticket.closed_at >= cutoff))
    return list(db.session.scalars(
        select(Contact.id).where(Contact.id.in_(contact_ids), Contact.anonymised_at.is_(None),
                                 ~exists(other))))


def _delete_files(keys: set[str]) -> int:
    """Remove stored attachment files; a file already gone counts as done."""
    root = current_app.config["UPLOAD_FOLDER"]
    deleted = 0
    for key in keys:
        path = os.path.join(root, key)
        if os.path.commonpath([os.path.abspath(path), os.path.abspath(root)]) != os.path.abspath(root):
            continue
        try:
            os.remove(path)
            deleted += 1
        except FileNotFoundError:
            pass
    return deleted


# A citizen's request ----------------------------------------------------------------------------

def find_contacts(*, phone: str | None = None, email: str | None = None) -> list[Contact]:
    """The contacts a verified citizen's phone number or e-mail address belongs to."""
    phone_e164 = text.normalize_phone(phone) if phone else None
    email_norm = text.normalize_email(email) if email else None
    if not phone_e164 and not email_norm:
        raise ValidationError("Nhập số điện thoại hoặc e-mail của người dân.", code="required")
    conds = []
    if phone_e164:
        conds.append(Contact.phone == phone_e164)
    if email_norm:
        conds.append(Contact.email == email_norm)
    return list(db.session.scalars(select(Contact).where(or_(*conds)).order_by(Contact.id)))


def _contact(contact_id: int) -> Contact:
    contact = db.session.get(Contact, contact_id)
    if contact is None or contact.anonymised_at is not None:
        raise NotFound("Không tìm thấy người liên hệ (hoặc dữ liệu đã được xoá).")
    return contact


def _verification(note: str | None) -> str:
    return text.clean_text(note, max_length=400, field="cách xác minh người yêu cầu",
                           required=True, multiline=False)


def contact_tickets(contact_id: int) -> list[Ticket]:
    return list(db.session.scalars(select(Ticket).where(Ticket.contact_id == contact_id)
                                   .order_by(Ticket.received_at, Ticket.id)))


def export_contact(actor: Actor, contact_id: int, *, verification: str) -> tuple[str, bytes]:
    """Everything we hold about one citizen, as a JSON file; the export itself is audited.

    Staff-internal notes are left out (they are the agencies' working papers);
    the citizen's own messages, the public timeline, the result and the
    attachment list are in.
    """
    verification = _verification(verification)
    contact = _contact(contact_id)
    tickets = contact_tickets(contact.id)
    ids = [t.id for t in tickets]
    names = _names(tickets)
    events: dict[int, list[dict]] = {i: [] for i in ids}
    if ids:
        for e in db.session.scalars(select(TicketEvent).where(
                TicketEvent.ticket_id.in_(ids),
                or_(TicketEvent.public.is_(True), TicketEvent.actor_label == "citizen"))
                .order_by(TicketEvent.ticket_id, TicketEvent.id)):
            events[e.ticket_id].append({"at": e.at.isoformat(), "type": e.type, "note": e.note})
    files: dict[int, list[dict]] = {i: [] for i in ids}
    if ids:
        for a in db.session.scalars(select(Attachment).where(Attachment.ticket_id.in_(ids))):
            files[a.ticket_id].append({"filename": a.filename, "content_type": a.content_type,
                                       "size": a.size})
    doc = {
        "exported_at": utcnow().isoformat(),
        "controller": current_app.config.get("PROVINCE_NAME"),
        "contact": {"name": contact.name, "phone": contact.phone, "email": contact.email,
                    "telegram_chat_id": contact.telegram_chat_id,
                    "zalo_user_id": contact.zalo_user_id, "facebook_psid": contact.facebook_psid,
                    "first_seen": contact.created_at.isoformat()},
        "tickets": [{
            "code": t.code, "kind": t.kind, "channel": t.channel,
            "received_at": t.received_at.isoformat(), "status": t.status, "title": t.title,
            "description": t.description, "address": t.address, "lat": t.lat, "lon": t.lon,
            "field": names["field"].get(t.field_id), "area": names["area"].get(t.area_id),
            "agency": names["agency"].get(t.agency_id), "result": t.public_result or t.result,
            "closed_at": t.closed_at.isoformat() if t.closed_at else None,
            "rating": t.rating, "rating_comment": t.rating_comment,
            "timeline": events[t.id], "attachments": files[t.id],
        } for t in tickets],
    }
    record(actor, "privacy_export", "contact", contact.id,
           after={"tickets": len(tickets), "verification": verification, "format": "json"})
    body = json.dumps(doc, ensure_ascii=False, indent=2).encode("utf-8")
    return f"du-lieu-ca-nhan-{contact.id}.json", body


def _names(tickets: list[Ticket]) -> dict[str, dict[int, str]]:
    out: dict[str, dict[int, str]] = {}
    for key, model, attr in (("field", Field, "field_id"), ("area", Area, "area_id"),
                             ("agency", Agency, "agency_id")):
        wanted = {getattr(t, attr) for t in tickets if getattr(t, attr)}
        out[key] = dict(db.session.execute(select(model.id, model.name)
                                           .where(model.id.in_(wanted))).all()) if wanted else {}
    return out


def erase_contact(actor: Actor, contact_id: int, *, verification: str) -> int:
    """Erase = anonymise every ticket of this citizen now, and the contact itself.

    Open tickets stay open, without the person: agencies still fix the pothole
    but can no longer write back. Returns how many tickets were anonymised.
    """
    verification = _verification(verification)
    contact = _contact(contact_id)
    done = select(TicketAnonymisation.ticket_id).where(
        TicketAnonymisation.ticket_id == Ticket.id)
    ids = list(db.session.scalars(select(Ticket.id).where(Ticket.contact_id == contact.id,
                                                          ~exists(done))))
    now = utcnow()
    count = 0
    for i in range(0, len(ids), 500):
        result = _anonymise_batch(ids[i:i + 500], now=now, cutoff=None, reason="erasure",
                                  dry_run=False, actor=actor)
        count += result.tickets
    if db.session.get(Contact, contact.id).anonymised_at is None:
        db.session.execute(update(Contact).where(Contact.id == contact.id)
                           .values(name=None, phone=None, email=None, telegram_chat_id=None,
                                   zalo_user_id=None, facebook_psid=None, anonymised_at=now)
                           .execution_options(synchronize_session=False))
        db.session.expire(contact)
    # The audit row says that it happened and who checked the request — not what was erased.
    record(actor, "privacy_erase", "contact", contact.id,
           after={"tickets": count, "verification": verification})
    return count


def log_export(actor: Actor, what: str, *, rows: int, filters: dict | None = None) -> None:
    """Record that personal data left the system in a file (reports call this too)."""
    record(actor, "export", what, None, after={"rows": rows, "filters": filters or {}})
