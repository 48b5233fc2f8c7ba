"""Anonymising a batch of tickets: the person goes, the statistics stay.

Shared by retention (tickets closed past the retention period) and a citizen's
erasure request. Every free text that can hold the person is scrubbed, with the
redactor plus an exact removal of what we know identifies them (their contact's
name, phone, e-mail and chat ids, and every phone, e-mail and ID number the
redactor finds in their own messages), so a spelling the redactor misses is still
removed wherever it was copied:

- tickets: title and description (replaced by the moderated public summary),
  address, internal result, rating comment, public texts, routing reason,
  search columns (rebuilt from what is left), the channel's message id;
- the timeline: the citizen's own entries blanked, staff notes and every event's
  data scrubbed;
- attachments: files deleted from disk (unless another kept ticket shares them),
  rows keep only their type;
- outbox: recipients and bodies, the last error, staff e-mails that quoted the
  ticket; a message still waiting is cancelled;
- staged and raw intake payloads; co-handling notes; quality review comments;
- call events from the person's phone; the contact row itself (once none of
  their tickets still needs it).
"""
from __future__ import annotations

import hashlib
import os
import secrets
from dataclasses import dataclass
from datetime import datetime

from flask import current_app
from sqlalchemy import String, and_, cast, delete, exists, insert, or_, select, update

from hotline.domain import text
from hotline.domain.erasure import Identity, Scrubber, identifiers_in, merge
from hotline.extensions import db
from hotline.models import (
    Attachment,
    CallEvent,
    Contact,
    InboundMessage,
    OutboxMessage,
    QualityReview,
    Ticket,
    TicketAnonymisation,
    TicketCohandler,
    TicketEvent,
)
from hotline.services.admin.audit import Actor

PLACEHOLDER = "(Nội dung đã được ẩn danh.)"
TITLE_PLACEHOLDER = "(Phiếu đã ẩn danh)"
REDACTED_NOTE = "(Đã ẩn danh)"
REDACTED_RECIPIENT = "(ẩn danh)"
COORD_DECIMALS = 2
CITIZEN_EVENT_TYPES = ("citizen_message", "location", "citizen_replied", "rating",
                       "photo_location")


@dataclass(frozen=True)
class BatchResult:
    tickets: int
    contacts: int
    attachments: int
    files_deleted: int
    events_redacted: int
    codes: list[str]


def _citizen_events(ids: list[int]):
    return and_(TicketEvent.ticket_id.in_(ids),
                or_(TicketEvent.actor_label == "citizen",
                    TicketEvent.type.in_(CITIZEN_EVENT_TYPES)))


def contact_identity(contact: Contact | None) -> Identity:
    """What the contact row says identifies the person."""
    if contact is None:
        return Identity()
    return Identity(names=(contact.name,) if contact.name else (),
                    phones=(contact.phone,) if contact.phone else (),
                    emails=(contact.email,) if contact.email else (),
                    handles=tuple(h for h in (contact.telegram_chat_id, contact.zalo_user_id,
                                              contact.facebook_psid) if h))


def _scrubbers(tickets: list[Ticket], events: list[TicketEvent],
               extra: Identity | None) -> dict[int, Scrubber]:
    """One scrubber per ticket: its contact's identity and what its citizen wrote."""
    contacts = {c.id: c for c in db.session.scalars(select(Contact).where(
        Contact.id.in_({t.contact_id for t in tickets if t.contact_id})))}
    own_texts: dict[int, list[str | None]] = {t.id: [t.title, t.description, t.address,
                                                      t.rating_comment] for t in tickets}
    for e in events:
        if e.actor_label == "citizen" or e.type in CITIZEN_EVENT_TYPES:
            own_texts[e.ticket_id].append(e.note)
    out = {}
    for t in tickets:
        person = contact_identity(contacts.get(t.contact_id))
        found = identifiers_in(own_texts[t.id], names=person.names)
        out[t.id] = Scrubber(merge(person, found, extra or Identity()))
    return out


def _opaque(value: str, scrub: Scrubber) -> str:
    """A message id that quoted the person becomes a hash of itself (still unique)."""
    if not scrub.changes(value):
        return value
    return "erased:" + hashlib.sha256(value.encode("utf-8")).hexdigest()[:40]


def anonymise_batch(ids: list[int], *, now: datetime, cutoff: datetime | None, reason: str,
                    dry_run: bool, seen_contacts: set[int] | None = None,
                    actor: Actor | None = None, extra: Identity | None = None) -> BatchResult:
    """Anonymise the tickets ``ids`` (see the module docstring); a dry run only counts."""
    tickets = list(db.session.scalars(select(Ticket).where(Ticket.id.in_(ids))))
    attachments = list(db.session.scalars(select(Attachment).where(Attachment.ticket_id.in_(ids))))
    events = list(db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id.in_(ids))
                                     .order_by(TicketEvent.id)))
    citizen_events = sum(1 for e in events
                         if e.actor_label == "citizen" or e.type in CITIZEN_EVENT_TYPES)
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
        return BatchResult(len(tickets), len(contacts), len(attachments), len(doomed),
                           citizen_events, codes)

    scrubbers = _scrubbers(tickets, events, extra)
    for ticket in tickets:
        _scrub_ticket(ticket, scrubbers[ticket.id])
    _scrub_events(events, scrubbers)
    db.session.execute(update(Attachment).where(Attachment.ticket_id.in_(ids))
                       .values(storage_key=None, remote_ref=None, sha256=None, size=None,
                               filename="da-xoa").execution_options(synchronize_session=False))
    by_code = {t.code: scrubbers[t.id] for t in tickets}
    _scrub_outbox(ids, by_code, scrubbers)
    _scrub_side_tables(ids, by_code, scrubbers)
    if contacts:
        phones = list(db.session.scalars(select(Contact.phone).where(
            Contact.id.in_(contacts), Contact.phone.is_not(None))))
        if phones:
            # The PBX's record of their calls (kept a few days for the operator's screen).
            db.session.execute(delete(CallEvent).where(CallEvent.caller_phone.in_(phones))
                               .execution_options(synchronize_session=False))
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
    # Expire what the bulk statements changed behind the session's back.
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, (Contact, Attachment, TicketEvent, OutboxMessage, InboundMessage,
                            TicketCohandler, QualityReview)):
            db.session.expire(obj)
    deleted = _delete_files(doomed)
    return BatchResult(len(tickets), len(contacts), len(attachments), deleted, citizen_events,
                       codes)


def _scrub_ticket(ticket: Ticket, scrub: Scrubber) -> None:
    ticket.public_summary = scrub.text(ticket.public_summary)
    ticket.public_result = scrub.text(ticket.public_result)
    summary = (ticket.public_summary or "").strip()
    ticket.description = summary or PLACEHOLDER
    first = summary.splitlines()[0] if summary else ""
    ticket.title = (first[:117] + "…" if len(first) > 120 else first) or TITLE_PLACEHOLDER
    ticket.address = None
    if ticket.lat is not None and ticket.lon is not None:
        ticket.lat = round(ticket.lat, COORD_DECIMALS)
        ticket.lon = round(ticket.lon, COORD_DECIMALS)
    ticket.result = ticket.public_result or scrub.text(ticket.result)
    ticket.rating_comment = None
    ticket.routing_reason = scrub.text(ticket.routing_reason)
    ticket.external_id = _opaque(ticket.external_id, scrub)
    ticket.search_text = text.fold(f"{ticket.title} {ticket.description}")
    if ticket.public_search_text is not None:
        ticket.public_search_text = text.fold(
            f"{ticket.code} {ticket.public_summary or ''} {ticket.public_result or ''}")
    # The old secret status link stops working.
    ticket.status_token = secrets.token_urlsafe(16)


def _scrub_events(events: list[TicketEvent], scrubbers: dict[int, Scrubber]) -> None:
    rows = []
    for e in events:
        if e.actor_label == "citizen" or e.type in CITIZEN_EVENT_TYPES:
            note, data = (REDACTED_NOTE if e.note else None), None
        else:
            scrub = scrubbers[e.ticket_id]
            note, data = scrub.text(e.note), scrub.json(e.data)
        if note != e.note or data != e.data:
            rows.append({"id": e.id, "note": note, "data": data})
    if rows:
        # One executemany UPDATE by primary key.
        db.session.execute(update(TicketEvent), rows)


def _scrub_outbox(ids: list[int], by_code: dict[str, Scrubber],
                  scrubbers: dict[int, Scrubber]) -> None:
    # A message still waiting is never sent: the person is gone, or the ticket is years old.
    db.session.execute(update(OutboxMessage).where(OutboxMessage.ticket_id.in_(ids),
                                                   OutboxMessage.status == "pending")
                       .values(status="failed", last_error="Dữ liệu cá nhân đã được ẩn danh.")
                       .execution_options(synchronize_session=False))
    for row in db.session.scalars(select(OutboxMessage).where(OutboxMessage.ticket_id.in_(ids))):
        row.recipient = REDACTED_RECIPIENT
        row.payload = {"redacted": True}
        row.last_error = scrubbers[row.ticket_id].text(row.last_error)
    if not by_code:
        return
    # Staff e-mails about several tickets at once (the SLA digest) quote titles by code.
    payload_text = cast(OutboxMessage.payload, String)
    for row in db.session.scalars(select(OutboxMessage).where(
            OutboxMessage.ticket_id.is_(None),
            or_(*(payload_text.contains(code) for code in by_code)))):
        payload = row.payload
        for code, scrub in by_code.items():
            if code in str(payload):
                payload = scrub.json(payload)
        row.payload = payload


def _scrub_side_tables(ids: list[int], by_code: dict[str, Scrubber],
                       scrubbers: dict[int, Scrubber]) -> None:
    # The intake ledger keeps the message as received (and a staged report's payload).
    for row in db.session.scalars(select(InboundMessage).where(
            or_(InboundMessage.ticket_id.in_(ids), InboundMessage.ticket_code.in_(by_code)))):
        row.payload = None
        scrub = scrubbers.get(row.ticket_id) or by_code.get(row.ticket_code)
        if scrub is not None:
            row.external_id = _opaque(row.external_id, scrub)
    for row in db.session.scalars(select(TicketCohandler).where(TicketCohandler.ticket_id.in_(ids))):
        row.note = scrubbers[row.ticket_id].text(row.note)
        row.request_note = scrubbers[row.ticket_id].text(row.request_note)
    for row in db.session.scalars(select(QualityReview).where(QualityReview.ticket_id.in_(ids))):
        row.comment = scrubbers[row.ticket_id].text(row.comment)


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
