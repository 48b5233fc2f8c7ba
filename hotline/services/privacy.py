"""Citizens' personal data: retention, a citizen's access and erasure requests, export logging.

Law 91/2025/QH15 on personal data protection and Decree 356/2025/NĐ-CP ask that
personal data be kept no longer than needed and that a data subject can see and
erase theirs. What anonymising a ticket keeps and removes (the statistics stay
true, the person is gone; :mod:`hotline.services.anonymise` does it):

- kept: code, kind, channel, field, area, agency, statuses, every date, SLA
  figures, the published summary and the public result (moderated, and scrubbed
  again of the person's identifiers);
- removed: the contact's name, phone, e-mail and chat ids (once none of their
  tickets is still within retention), the free-text title and description
  (replaced by the public summary when there is one), the street address,
  the rating comment, the internal result text (replaced by the public
  result), citizen messages in the timeline, the person's identifiers in every
  staff note, outbox recipients and texts, staged and raw intake payloads,
  attachment files (deleted from disk; the rows keep only the content type);
- coarsened: latitude/longitude rounded to 2 decimals (about 1 km), enough for
  a heat map by ward, not enough to find a house.

Each anonymised ticket gets a ``ticket_anonymisations`` row (so the scan never
repeats) and an ``anonymised`` event that says it happened, not what was there.
"""
from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import and_, delete, exists, or_, select, update

from hotline.domain import text
from hotline.domain.erasure import Identity, Scrubber
from hotline.domain.errors import NotFound, ValidationError
from hotline.extensions import db
from hotline.models import (
    Agency,
    Area,
    Attachment,
    CallEvent,
    Contact,
    Field,
    Ticket,
    TicketAnonymisation,
    TicketEvent,
    utcnow,
)
from hotline.services.admin.audit import Actor, record
from hotline.services.anonymise import (  # noqa: F401 - the retention API's names
    PLACEHOLDER,
    REDACTED_NOTE,
    REDACTED_RECIPIENT,
    BatchResult,
    anonymise_batch,
    contact_identity,
)


def redact_text(value: str | None) -> str | None:
    """Phone numbers, e-mail addresses, ID numbers and names found in ``value`` replaced."""
    return Scrubber(Identity()).text(value)


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
        result = anonymise_batch([r.id for r in rows], now=now, cutoff=cutoff, reason="retention",
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
    # The audit log outlives an erasure: it keeps how the person was checked, not who it was.
    verification = Scrubber(contact_identity(contact)).text(verification)
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
    identity = contact_identity(contact)
    # The audit row says that it happened and who checked the request — not who it was.
    verification = Scrubber(identity).text(verification)
    done = select(TicketAnonymisation.ticket_id).where(
        TicketAnonymisation.ticket_id == Ticket.id)
    ids = list(db.session.scalars(select(Ticket.id).where(Ticket.contact_id == contact.id,
                                                          ~exists(done))))
    now = utcnow()
    count = 0
    for i in range(0, len(ids), 500):
        result = anonymise_batch(ids[i:i + 500], now=now, cutoff=None, reason="erasure",
                                 dry_run=False, actor=actor, extra=identity)
        count += result.tickets
    if db.session.get(Contact, contact.id).anonymised_at is None:
        db.session.execute(update(Contact).where(Contact.id == contact.id)
                           .values(name=None, phone=None, email=None, telegram_chat_id=None,
                                   zalo_user_id=None, facebook_psid=None, anonymised_at=now)
                           .execution_options(synchronize_session=False))
        db.session.expire(contact)
    if identity.phones:
        db.session.execute(delete(CallEvent).where(CallEvent.caller_phone.in_(identity.phones))
                           .execution_options(synchronize_session=False))
    record(actor, "privacy_erase", "contact", contact.id,
           after={"tickets": count, "verification": verification})
    return count


def log_export(actor: Actor, what: str, *, rows: int, filters: dict | None = None) -> None:
    """Record that personal data left the system in a file (reports call this too)."""
    record(actor, "export", what, None, after={"rows": rows, "filters": filters or {}})
