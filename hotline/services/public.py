"""The public side: status lookup, satisfaction, published results, the duplicate hint.

Nothing here knows who is asking: a citizen proves a ticket is theirs with the
code plus the last four digits of their phone, or with the secret link sent on
acknowledgement. An unknown code and a wrong phone give the same ``None``, and
both comparisons are constant-time, so the answer tells an attacker nothing.
What a stranger may read (published results, Open311, the nearby hint) is the one
public projection of a ticket (:mod:`hotline.services.public_projection`): text a
moderator approved, or no text at all.

Moderation (``prepare_publication``/``approve_publication``) lives in
:mod:`hotline.services.publication`, the results list in
:mod:`hotline.services.public_results` and the duplicate hint in
:mod:`hotline.services.nearby_hint`; they are re-exported here.
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from hotline.domain import codes, lifecycle, text
from hotline.domain.errors import ValidationError
from hotline.domain.lifecycle import DONE_STATUSES, OPEN_STATUSES, Status
from hotline.extensions import db
from hotline.models import Agency, Area, Field, Ticket, TicketEvent, utcnow
from hotline.services import events, lookups, sla, staging
from hotline.services.nearby_hint import NearbyTicket, nearby_open  # noqa: F401
from hotline.services.public_projection import (  # noqa: F401
    PublicTicket,
    get_published,
    public_photo,
)
from hotline.services.public_results import (  # noqa: F401
    PAGE_SIZE,
    ResultFilters,
    ResultsPage,
    list_published,
)
from hotline.services.publication import (  # noqa: F401
    approve_publication,
    prepare_publication,
    publication_queue,
    unpublish,
    withhold_publication,
)

# Compared against when the code is unknown, so both paths do the same work.
_DUMMY_DIGITS = "0000"
_DUMMY_TOKEN = "x" * 22


# --- status lookup --------------------------------------------------------------------

@dataclass(frozen=True)
class TimelineEntry:
    """One public event of a ticket, as the citizen reads it."""

    at: datetime
    type: str
    note: str | None
    to_status: str | None


@dataclass(frozen=True)
class StatusView:
    """What the owner of a ticket sees on the status page."""

    code: str
    token: str
    kind: str
    status: str
    title: str
    field_name: str | None
    area_name: str | None
    agency_name: str | None
    received_at: datetime
    due_at: datetime | None
    resolved_at: datetime | None
    result: str | None
    published: bool
    consent_publish: bool
    timeline: list[TimelineEntry]
    rating: int | None
    can_rate: bool
    reopen_until: datetime | None   # "not fixed" reopens the ticket until then


def _ticket_by_code(code_text: str | None, *, staged: bool = False) -> Ticket | None:
    """The ticket with this code; with ``staged``, also a report accepted a moment ago that
    the intake drain has not turned into a ticket yet (an unsaved preview, read-only)."""
    code = codes.parse_code(code_text)
    if code is None:
        return None
    ticket = db.session.scalar(select(Ticket).options(joinedload(Ticket.contact))
                               .where(Ticket.code == code))
    if ticket is None and staged:
        ticket = staging.preview(code)
    return ticket


def lookup_status(code_text: str | None, phone_last4: str | None) -> StatusView | None:
    """The status of a ticket for whoever knows its code and the phone's last 4 digits.

    ``None`` — and nothing else — for a malformed code, an unknown code, a ticket
    without a phone, and a wrong phone.
    """
    digits = "".join(ch for ch in (phone_last4 or "") if ch.isdigit())
    ticket = _ticket_by_code(code_text, staged=True)
    phone = ticket.contact.phone if ticket is not None and ticket.contact is not None else None
    expected = text.phone_last_digits(phone) if phone else _DUMMY_DIGITS
    matches = hmac.compare_digest(expected.encode(), digits.encode())
    if ticket is None or not phone or len(digits) != 4 or not matches:
        return None
    return status_view(ticket)


def ticket_by_token(code_text: str | None, token: str | None, *,
                    staged: bool = False) -> Ticket | None:
    """The ticket the secret link names, or ``None`` (same for unknown code and wrong token)."""
    ticket = _ticket_by_code(code_text, staged=staged)
    expected = ticket.status_token if ticket is not None else _DUMMY_TOKEN
    matches = hmac.compare_digest(expected.encode(), (token or "").encode())
    return ticket if ticket is not None and matches else None


def lookup_by_token(code_text: str | None, token: str | None) -> StatusView | None:
    """The status page behind the secret link, or ``None``."""
    ticket = ticket_by_token(code_text, token, staged=True)
    return status_view(ticket) if ticket is not None else None


def owner_timeline(ticket_ids: list[int]) -> dict[int, list[TimelineEntry]]:
    """The citizen-visible events of several tickets, for their owner's status page only
    (notes included: a stranger reads ``public_projection.public_entries``), oldest first
    (a staged report's unsaved preview, id ``None``, has none yet)."""
    out: dict[int, list[TimelineEntry]] = {tid: [] for tid in ticket_ids}
    ticket_ids = [tid for tid in ticket_ids if tid is not None]
    if not ticket_ids:
        return out
    rows = db.session.execute(
        select(TicketEvent.ticket_id, TicketEvent.at, TicketEvent.type, TicketEvent.note,
               TicketEvent.to_status)
        .where(TicketEvent.ticket_id.in_(ticket_ids), TicketEvent.public.is_(True))
        .order_by(TicketEvent.ticket_id, TicketEvent.id)).all()
    for r in rows:
        out[r.ticket_id].append(TimelineEntry(r.at, r.type, r.note, r.to_status))
    return out


def _result_reference(ticket: Ticket) -> datetime:
    """When the citizen got the result: the reopen window counts from here."""
    return ticket.resolved_at or ticket.closed_at or ticket.updated_at or ticket.received_at


def reopen_deadline(ticket: Ticket) -> datetime:
    days = int(current_app.config.get("SATISFACTION_REOPEN_DAYS", 7))
    return _result_reference(ticket) + timedelta(days=days)


def can_rate(ticket: Ticket) -> bool:
    """A result is out and the citizen has not rated this result yet."""
    if ticket.status not in {s.value for s in DONE_STATUSES}:
        return False
    return ticket.rated_at is None or ticket.rated_at < _result_reference(ticket)


def status_view(ticket: Ticket) -> StatusView:
    done = ticket.status in {s.value for s in DONE_STATUSES}
    rateable = can_rate(ticket)
    return StatusView(
        code=ticket.code, token=ticket.status_token, kind=ticket.kind, status=ticket.status,
        title=ticket.title,
        field_name=ticket.field.name if ticket.field else None,
        area_name=ticket.area.name if ticket.area else None,
        agency_name=ticket.agency.name if ticket.agency else None,
        received_at=ticket.received_at,
        due_at=ticket.due_at if ticket.status in {s.value for s in OPEN_STATUSES} else None,
        resolved_at=ticket.resolved_at,
        # The owner reads the agency's full answer; the public reads the redacted one.
        result=ticket.result if done else None,
        published=ticket.published_at is not None,
        consent_publish=bool(ticket.consent_publish),
        timeline=owner_timeline([ticket.id])[ticket.id],
        rating=ticket.rating,
        can_rate=rateable,
        reopen_until=reopen_deadline(ticket) if rateable else None,
    )


# --- satisfaction -----------------------------------------------------------------------

@dataclass(frozen=True)
class RatingOutcome:
    reopened: bool
    too_late_to_reopen: bool = False


def rate(ticket: Ticket, *, rating: int | str | None, comment: str | None = None,
         fixed: bool | None = None, now: datetime | None = None,
         actor_label: str = "citizen") -> RatingOutcome:
    """Record the citizen's rating of the result (1–5, optional comment).

    ``fixed=False`` ("chưa khắc phục") within ``SATISFACTION_REOPEN_DAYS`` of the
    result reopens the ticket to the same agency, with a public event, and counts
    it (``reopened_count``); later, the rating is kept and the ticket stays as is.
    """
    now = now or utcnow()
    try:
        value = int(rating) if rating is not None and str(rating).strip() else None
    except ValueError:
        value = None
    if value is None or not 1 <= value <= 5:
        raise ValidationError("Vui lòng chọn mức đánh giá từ 1 đến 5 sao.", code="invalid_rating",
                              field="rating")
    comment = text.clean_text(comment, max_length=2000, field="nhận xét")
    if ticket.status not in {s.value for s in DONE_STATUSES}:
        raise ValidationError("Phiếu chưa có kết quả để đánh giá.", code="not_rateable")
    if not can_rate(ticket):
        raise ValidationError("Bạn đã đánh giá kết quả này. Cảm ơn bạn.", code="already_rated")
    ticket.rating = value
    ticket.rating_comment = comment
    ticket.rated_at = now
    events.record(ticket, "rated", actor_label=actor_label, public=True, at=now,
                  note=f"Người dân đánh giá kết quả: {value}/5.",
                  data={"rating": value, "fixed": fixed, "comment": comment})
    if fixed is not False:
        return RatingOutcome(reopened=False)
    if now > reopen_deadline(ticket):
        return RatingOutcome(reopened=False, too_late_to_reopen=True)
    reopen(ticket, now=now, reason=comment)
    return RatingOutcome(reopened=True)


def reopen(ticket: Ticket, *, now: datetime, reason: str | None = None) -> None:
    """The citizen says the problem is not fixed: back to the same agency, clock restarted."""
    previous = ticket.status
    ticket.status = lifecycle.check_transition(ticket.status, Status.REOPENED).value
    ticket.reopened_count = (ticket.reopened_count or 0) + 1
    if ticket.due_at is not None:
        sla.start_clock(ticket, now)
    agency = ticket.agency.name if ticket.agency else "tổng đài"
    events.record(ticket, "reopened", actor_label="citizen", public=True, at=now,
                  from_status=previous, to_status=ticket.status,
                  note=f"Người dân cho biết vấn đề chưa được khắc phục; phiếu được mở lại "
                       f"và chuyển lại {agency}.",
                  data={"reason": reason, "reopened_count": ticket.reopened_count})


# --- choices for the public forms ---------------------------------------------------------

def area_options(*, max_depth: int | None = None) -> list[tuple[str, str, int]]:
    """Active areas in tree order as ``(code, name, depth)`` (any depth; the root is depth 0);
    kept a few seconds per process (``services.lookups``): every form post needs them."""
    return lookups.cached("area_options", max_depth, lambda: _area_options(max_depth))


def _area_options(max_depth: int | None) -> list[tuple[str, str, int]]:
    rows = db.session.execute(select(Area.id, Area.code, Area.name, Area.parent_id)
                              .where(Area.active.is_(True))).all()
    children: dict[int | None, list] = {}
    ids = {r.id for r in rows}
    for r in rows:
        parent = r.parent_id if r.parent_id in ids else None
        children.setdefault(parent, []).append(r)
    out: list[tuple[str, str, int]] = []

    def walk(parent, depth):
        for r in sorted(children.get(parent, []), key=lambda r: text.fold(r.name)):
            if max_depth is None or depth <= max_depth:
                out.append((r.code, r.name, depth))
            walk(r.id, depth + 1)

    walk(None, 0)
    return out


def field_options() -> list[tuple[str, str, int]]:
    """Active fields, each followed by its sub-types: ``(code, name, depth)`` (kept a few
    seconds per process, like ``area_options``)."""
    return lookups.cached("field_options", None, _field_options)


def _field_options() -> list[tuple[str, str, int]]:
    rows = db.session.execute(select(Field.id, Field.code, Field.name, Field.parent_id)
                              .where(Field.active.is_(True))).all()
    top = sorted((r for r in rows if r.parent_id is None), key=lambda r: text.fold(r.name))
    subs: dict[int, list] = {}
    for r in rows:
        if r.parent_id is not None:
            subs.setdefault(r.parent_id, []).append(r)
    out = []
    for r in top:
        out.append((r.code, r.name, 0))
        out.extend((s.code, s.name, 1) for s in sorted(subs.get(r.id, []),
                                                       key=lambda s: text.fold(s.name)))
    return out


def agency_options() -> list[tuple[str, str]]:
    return [(r.code, r.name) for r in db.session.execute(
        select(Agency.code, Agency.name).where(Agency.active.is_(True)).order_by(Agency.name))]
