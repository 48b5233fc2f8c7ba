"""The public side: status lookup, satisfaction, published results, the duplicate hint.

Nothing here knows who is asking: a citizen proves a ticket is theirs with the
code plus the last four digits of their phone, or with the secret link sent on
acknowledgement. An unknown code and a wrong phone give the same ``None``, and
both comparisons are constant-time, so the answer tells an attacker nothing.
What a stranger may read (published results, Open311, the nearby hint) comes
only from text a moderator approved, or from no text at all.

Moderation (``prepare_publication``/``approve_publication``) lives in
:mod:`hotline.services.publication` and is re-exported here.
"""
from __future__ import annotations

import base64
import binascii
import hmac
import math
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from flask import current_app
from sqlalchemy import and_, or_, select
from sqlalchemy import text as sql_text
from sqlalchemy.orm import aliased, joinedload

from hotline.config import local_zone
from hotline.domain import codes, lifecycle, text
from hotline.domain.errors import ValidationError
from hotline.domain.lifecycle import DONE_STATUSES, OPEN_STATUSES, Status
from hotline.domain.redact import redact
from hotline.extensions import db
from hotline.models import Agency, Area, Attachment, Field, Ticket, TicketEvent, utcnow
from hotline.models.publication import OPEN_WITH_POINT
from hotline.services import events, lookups, sla, staging
from hotline.services.publication import (  # noqa: F401
    approve_publication,
    prepare_publication,
    publication_queue,
    unpublish,
)

PAGE_SIZE = 20
_MAX_SEARCH_WORDS = 6
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


def public_timeline(ticket_ids: list[int]) -> dict[int, list[TimelineEntry]]:
    """Public events of several tickets in one query, oldest first (a staged report's
    unsaved preview, id ``None``, has none yet)."""
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
        timeline=public_timeline([ticket.id])[ticket.id],
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


# --- published results ------------------------------------------------------------------

@dataclass(frozen=True)
class ResultFilters:
    """What the public results list is narrowed by (all optional)."""

    q: str | None = None
    field_code: str | None = None
    area_code: str | None = None
    agency_code: str | None = None
    date_from: date | None = None
    date_to: date | None = None


@dataclass(frozen=True)
class PublishedItem:
    code: str
    kind: str
    status: str
    summary: str
    result: str
    field_name: str | None
    area_name: str | None
    agency_name: str | None
    received_at: datetime
    published_at: datetime
    rating: int | None
    photos: list[int] = field(default_factory=list)
    timeline: list[TimelineEntry] = field(default_factory=list)


@dataclass(frozen=True)
class ResultsPage:
    items: list[PublishedItem]
    next_cursor: str | None


def _encode_cursor(when: datetime, ident: int) -> str:
    raw = f"{when.isoformat()}|{ident}".encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode_cursor(value: str | None) -> tuple[datetime, int] | None:
    if not value:
        return None
    try:
        raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
        key, _, ident = raw.partition("|")
        when = datetime.fromisoformat(key)
        if when.tzinfo is None:
            raise ValueError("naive")
        return when, int(ident)
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ValidationError("Liên kết trang không hợp lệ; hãy tải lại danh sách.",
                              code="invalid_cursor") from exc


def _like_escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def search_words(query: str | None) -> list[str]:
    """Folded words of a search ("Đèn đường" → ["den", "duong"]); one-letter words dropped."""
    return [w for w in text.fold(query or "").split() if len(w) >= 2][:_MAX_SEARCH_WORDS]


def _local_day_start(day: date) -> datetime:
    tz = local_zone()
    return datetime.combine(day, time(0), tzinfo=tz)


def published_conditions(filters: ResultFilters) -> list:
    """SQL conditions for published tickets matching ``filters`` (unknown codes match nothing)."""
    return _filter_conditions(filters) + _word_conditions(Ticket.public_search_text,
                                                          search_words(filters.q))


def _filter_conditions(filters: ResultFilters) -> list:
    conds = [Ticket.published_at.is_not(None)]
    if filters.field_code:
        fid = db.session.scalar(select(Field.id).where(Field.code == filters.field_code))
        # A field includes its sub-types.
        conds.append(Ticket.field_id.in_(select(Field.id).where(
            or_(Field.id == fid, Field.parent_id == fid))) if fid else Ticket.id.is_(None))
    if filters.area_code:
        path = db.session.scalar(select(Area.path).where(Area.code == filters.area_code))
        conds.append(Ticket.area_id.in_(select(Area.id).where(
            Area.path.like(_like_escape(path) + "%", escape="\\"))) if path else Ticket.id.is_(None))
    if filters.agency_code:
        aid = db.session.scalar(select(Agency.id).where(Agency.code == filters.agency_code))
        conds.append(Ticket.agency_id == aid if aid else Ticket.id.is_(None))
    if filters.date_from:
        conds.append(Ticket.published_at >= _local_day_start(filters.date_from))
    if filters.date_to:
        conds.append(Ticket.published_at < _local_day_start(filters.date_to + timedelta(days=1)))
    return conds


def _word_conditions(column, words: list[str]) -> list:
    return [column.like(f"%{_like_escape(w)}%", escape="\\") for w in words]


def _item(ticket: Ticket, photos=None, timeline=None) -> PublishedItem:
    return PublishedItem(
        code=ticket.code, kind=ticket.kind, status=ticket.status,
        summary=ticket.public_summary or "", result=ticket.public_result or "",
        field_name=ticket.field.name if ticket.field else None,
        area_name=ticket.area.name if ticket.area else None,
        agency_name=ticket.agency.name if ticket.agency else None,
        received_at=ticket.received_at, published_at=ticket.published_at,
        rating=ticket.rating, photos=photos or [], timeline=timeline or [])


def list_published(filters: ResultFilters = ResultFilters(), *, cursor: str | None = None,
                   limit: int = PAGE_SIZE) -> ResultsPage:
    """Published results, newest first, one page (keyset on published_at, id)."""
    limit = max(1, min(int(limit), 100))
    conds = _filter_conditions(filters)
    words = search_words(filters.q)
    after = _decode_cursor(cursor)
    if after:
        when, ident = after
        conds.append(or_(Ticket.published_at < when,
                         and_(Ticket.published_at == when, Ticket.id < ident)))
    rows = None
    if words:
        rows = _search_recent(conds, words, limit)
    if rows is None:
        rows = db.session.scalars(
            select(Ticket).options(*_list_loads(Ticket))
            .where(*conds, *_word_conditions(Ticket.public_search_text, words))
            .order_by(Ticket.published_at.desc(), Ticket.id.desc())
            .limit(limit + 1)).all()
    more = len(rows) > limit
    rows = rows[:limit]
    nxt = _encode_cursor(rows[-1].published_at, rows[-1].id) if more and rows else None
    return ResultsPage([_item(t) for t in rows], nxt)


# How many of the newest matching rows a search first looks through (see _search_recent).
SEARCH_WINDOW = 5000


def _list_loads(entity):
    return (joinedload(entity.field), joinedload(entity.area), joinedload(entity.agency))


def _search_recent(conds: list, words: list[str], limit: int) -> list[Ticket] | None:
    """A search page from the newest ``SEARCH_WINDOW`` published rows, or ``None``.

    Words that are everywhere ("đèn đường") fool PostgreSQL's estimate for the trigram
    index: it fetches every match (tens of thousands) to sort them. Reading the newest
    rows in index order and filtering them costs a bounded few milliseconds and fills
    the page for such words; rare words fall through to the trigram index, which is
    fast exactly when matches are few.
    """
    recent = (select(Ticket).where(*conds)
              .order_by(Ticket.published_at.desc(), Ticket.id.desc())
              .limit(SEARCH_WINDOW).subquery())
    window = aliased(Ticket, recent)
    rows = db.session.scalars(
        select(window).options(*_list_loads(window))
        .where(*_word_conditions(window.public_search_text, words))
        .order_by(window.published_at.desc(), window.id.desc()).limit(limit + 1)).all()
    return list(rows) if len(rows) > limit else None


def get_published(code_text: str | None) -> PublishedItem | None:
    """One published result with its public photos and public timeline, or ``None``."""
    code = codes.parse_code(code_text)
    if code is None:
        return None
    ticket = db.session.scalar(
        select(Ticket).options(joinedload(Ticket.field), joinedload(Ticket.area),
                               joinedload(Ticket.agency))
        .where(Ticket.code == code, Ticket.published_at.is_not(None)))
    if ticket is None:
        return None
    photos = db.session.scalars(
        select(Attachment.id).where(Attachment.ticket_id == ticket.id,
                                    Attachment.public.is_(True),
                                    Attachment.storage_key.is_not(None))
        .order_by(Attachment.id)).all()
    timeline = [
        TimelineEntry(e.at, e.type, redact(e.note, hide_house_numbers=ticket.privacy_requested),
                      e.to_status)
        for e in public_timeline([ticket.id])[ticket.id]]
    return _item(ticket, list(photos), timeline)


def public_photo(code_text: str | None, attachment_id: int) -> Attachment | None:
    """A photo of a published ticket that a moderator made public (an EXIF-free copy)."""
    code = codes.parse_code(code_text)
    if code is None:
        return None
    return db.session.scalar(
        select(Attachment).join(Ticket, Ticket.id == Attachment.ticket_id)
        .where(Ticket.code == code, Ticket.published_at.is_not(None),
               Attachment.id == attachment_id, Attachment.public.is_(True),
               Attachment.storage_key.is_not(None)))


# --- duplicate hint ---------------------------------------------------------------------

@dataclass(frozen=True)
class NearbyTicket:
    code: str
    status: str
    received_at: datetime
    summary: str | None        # only when the citizen agreed to publication, redacted
    distance_m: int | None     # None when matched by commune
    published: bool


_EARTH_M = 6_371_000
_OPEN_WITH_POINT_STATUSES = tuple(s.value for s in OPEN_STATUSES)


def _distance_m(lat1, lon1, lat2, lon2) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_M * math.asin(math.sqrt(a))


def nearby_open(field_code: str | None, *, lat: float | None = None, lon: float | None = None,
                area_code: str | None = None, radius_m: int = 300, limit: int = 5) -> list[NearbyTicket]:
    """Open tickets of the same field near a point (a lat/lon box), else in the same commune.

    Nothing private leaves: the summary is shown only for tickets whose citizen agreed to
    publication, and then redacted; otherwise only the code, status and date.
    """
    if not field_code:
        return []
    fid = db.session.scalar(select(Field.id).where(Field.code == field_code))
    if fid is None:
        return []
    radius_m = max(50, min(int(radius_m), 2000))
    query = select(Ticket).options(joinedload(Ticket.contact))
    if lat is not None and lon is not None:
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            raise ValidationError("Toạ độ không hợp lệ.", code="invalid_location")
        dlat = radius_m / 111_320
        dlon = radius_m / (111_320 * max(math.cos(math.radians(lat)), 0.01))
        # The same predicate as ix_tickets_open_point, so both databases use that index.
        query = query.where(
            Ticket.field_id == fid, sql_text(OPEN_WITH_POINT),
            Ticket.lat.between(lat - dlat, lat + dlat), Ticket.lon.between(lon - dlon, lon + dlon))
    elif area_code:
        aid = db.session.scalar(select(Area.id).where(Area.code == area_code))
        if aid is None:
            return []
        query = query.where(Ticket.field_id == fid, Ticket.area_id == aid,
                            Ticket.status.in_(_OPEN_WITH_POINT_STATUSES))
    else:
        return []
    rows = db.session.scalars(query.order_by(Ticket.received_at.desc(), Ticket.id.desc())
                              .limit(50)).all()
    found = []
    for t in rows:
        dist = _distance_m(lat, lon, t.lat, t.lon) if lat is not None and t.lat is not None else None
        if dist is not None and dist > radius_m:
            continue
        summary = None
        if t.consent_publish:
            summary = t.public_summary if t.published_at else redact(
                t.title, hide_house_numbers=True,
                known_names=[t.contact.name] if t.contact and t.contact.name else ())
        found.append(NearbyTicket(t.code, t.status, t.received_at, summary,
                                  round(dist) if dist is not None else None,
                                  t.published_at is not None))
    found.sort(key=lambda n: (n.distance_m if n.distance_m is not None else 0))
    return found[:limit]


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
