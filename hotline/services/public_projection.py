"""The one public projection of a ticket: all that a stranger may ever see of it.

Every unauthenticated surface — ``/``, ``/results`` and its pages, the share page,
Open311 GET (JSON and XML, with or without ``extensions``), the duplicate hint —
reads tickets through this module and nothing else. What it hands out:

* for a **published** ticket (a moderator approved its text): the moderated summary
  and result, the photos a moderator made public (EXIF-free copies), a timeline of
  fixed sentences (never an event's note: a note is what a handler or a citizen
  typed), the agency, field, commune, dates, status and the rating;
* for any other ticket the citizen did not refuse to publish and a manager did not
  withhold: the same minus every text and photo;
* for a ticket whose citizen refused publication, or that a manager withheld or took
  down: only its code, status, field, agency and dates (and it is left out of every
  public list, so it leaves no trace on a map or in the hint).

Locations are always rounded to ``COORD_DIGITS`` decimals (about 100 m), never the
point the citizen gave. ``published_at`` is set only while a ticket is published,
so taking one down (withholding, the citizen's refusal) removes every public trace
at once.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import joinedload

from hotline.domain import codes
from hotline.domain.lifecycle import OPEN_STATUSES
from hotline.extensions import db
from hotline.models import Agency, Attachment, Ticket, TicketEvent

# 0.001° is 111 m north–south and about 109 m east–west in the province (11.5° N).
COORD_DIGITS = 3
_OPEN = frozenset(s.value for s in OPEN_STATUSES)

# The public timeline: which events show, in which fixed words. An event's own note
# is never shown (it may hold a name, a phone number, the agency's internal answer).
_ENTRY_TEXT = {
    "received": "Tổng đài tiếp nhận phản ánh.",
    "assigned": "Chuyển {agency} xử lý.",
    "accepted": "Cơ quan xử lý đã nhận phiếu.",
    "asked_citizen": "Cơ quan xử lý đề nghị người phản ánh bổ sung thông tin.",
    "citizen_replied": "Người phản ánh đã bổ sung thông tin.",
    "answered": "Tổng đài đã trả lời.",
    "approved": "Có kết quả giải quyết.",
    "published": "Kết quả giải quyết được công khai.",
    "reopened": "Người dân cho biết vấn đề chưa được khắc phục; phiếu được mở lại.",
    "rated": "Người dân đánh giá kết quả giải quyết.",
    "merged": "Phiếu được gộp với một phiếu trùng nội dung.",
    "extension_approved": "Thời hạn xử lý được gia hạn.",
}


def round_point(lat: float | None, lon: float | None) -> tuple[float | None, float | None]:
    """A point as the public may see it: snapped to a grid of about 100 m."""
    if lat is None or lon is None:
        return None, None
    return round(lat, COORD_DIGITS), round(lon, COORD_DIGITS)


def listed_conditions() -> list:
    """SQL: tickets that may appear in a public list at all (not refused, not withheld)."""
    return [Ticket.consent_publish.is_(True), Ticket.publication_withheld_at.is_(None)]


def is_listed(ticket: Ticket) -> bool:
    return bool(ticket.consent_publish) and ticket.publication_withheld_at is None


def is_published(ticket: Ticket) -> bool:
    return ticket.published_at is not None and is_listed(ticket)


@dataclass(frozen=True)
class PublicEntry:
    """One line of the public timeline: when, what kind, and fixed words."""

    at: datetime
    type: str
    note: str
    to_status: str | None


@dataclass(frozen=True)
class PublicTicket:
    """A ticket as a stranger sees it (see the module docstring for what each level holds)."""

    code: str
    kind: str
    status: str
    field_code: str | None
    field_name: str | None
    area_name: str | None
    agency_name: str | None
    received_at: datetime
    updated_at: datetime | None
    due_at: datetime | None          # only while the ticket is open
    published_at: datetime | None
    listed: bool
    summary: str | None = None       # moderated text, published tickets only
    result: str | None = None
    rating: int | None = None
    lat: float | None = None         # rounded; listed tickets only
    lon: float | None = None
    photos: list[int] = field(default_factory=list)
    timeline: list[PublicEntry] = field(default_factory=list)

    @property
    def published(self) -> bool:
        return self.published_at is not None


def project(tickets: list[Ticket], *, timeline: bool = False,
            photos: bool = False) -> list[PublicTicket]:
    """The public projection of several tickets (one query each for timelines and photos)."""
    published = [t.id for t in tickets if t.id is not None and is_published(t)]
    listed = [t.id for t in tickets if t.id is not None and is_listed(t)]
    lines = public_entries(listed) if timeline else {}
    pictures = public_photo_ids(published) if photos else {}
    return [_one(t, lines.get(t.id, []), pictures.get(t.id, [])) for t in tickets]


def _one(t: Ticket, lines: list[PublicEntry], pictures: list[int]) -> PublicTicket:
    listed, published = is_listed(t), is_published(t)
    lat, lon = round_point(t.lat, t.lon) if listed else (None, None)
    return PublicTicket(
        code=t.code, kind=t.kind, status=t.status,
        field_code=t.field.code if t.field else None,
        field_name=t.field.name if t.field else None,
        area_name=t.area.name if t.area else None,
        agency_name=t.agency.name if t.agency else None,
        received_at=t.received_at, updated_at=t.updated_at,
        due_at=t.due_at if t.status in _OPEN else None,
        published_at=t.published_at if published else None, listed=listed,
        summary=(t.public_summary or "") if published else None,
        result=(t.public_result or "") if published else None,
        rating=t.rating if published else None, lat=lat, lon=lon,
        photos=pictures if published else [], timeline=lines if listed else [])


def public_entries(ticket_ids: list[int]) -> dict[int, list[PublicEntry]]:
    """The public timelines of several tickets, oldest first, in fixed words only."""
    out: dict[int, list[PublicEntry]] = {tid: [] for tid in ticket_ids}
    if not ticket_ids:
        return out
    rows = db.session.execute(
        select(TicketEvent.ticket_id, TicketEvent.at, TicketEvent.type, TicketEvent.to_status,
               Agency.name.label("agency"))
        .outerjoin(Agency, Agency.id == TicketEvent.agency_id)
        .where(TicketEvent.ticket_id.in_(ticket_ids), TicketEvent.public.is_(True),
               TicketEvent.type.in_(list(_ENTRY_TEXT)))
        .order_by(TicketEvent.ticket_id, TicketEvent.id)).all()
    for r in rows:
        words = _ENTRY_TEXT[r.type].format(agency=r.agency or "cơ quan có thẩm quyền")
        out[r.ticket_id].append(PublicEntry(r.at, r.type, words, r.to_status))
    return out


def public_photo_ids(ticket_ids: list[int]) -> dict[int, list[int]]:
    """Ids of the photos a moderator published (EXIF-free copies), per ticket."""
    out: dict[int, list[int]] = {}
    if not ticket_ids:
        return out
    rows = db.session.execute(
        select(Attachment.ticket_id, Attachment.id)
        .where(Attachment.ticket_id.in_(ticket_ids), Attachment.public.is_(True),
               Attachment.storage_key.is_not(None))
        .order_by(Attachment.ticket_id, Attachment.id)).all()
    for tid, aid in rows:
        out.setdefault(tid, []).append(aid)
    return out


def _loads(entity=Ticket):
    return (joinedload(entity.field), joinedload(entity.area), joinedload(entity.agency))


def get_published(code_text: str | None) -> PublicTicket | None:
    """One published ticket with its photos and timeline (its share page), or ``None``."""
    code = codes.parse_code(code_text)
    if code is None:
        return None
    ticket = db.session.scalar(select(Ticket).options(*_loads())
                               .where(Ticket.code == code, Ticket.published_at.is_not(None),
                                      *listed_conditions()))
    if ticket is None:
        return None
    return project([ticket], timeline=True, photos=True)[0]


def public_photo(code_text: str | None, attachment_id: int) -> Attachment | None:
    """A photo of a published ticket that a moderator made public (an EXIF-free copy)."""
    code = codes.parse_code(code_text)
    if code is None:
        return None
    return db.session.scalar(
        select(Attachment).join(Ticket, Ticket.id == Attachment.ticket_id)
        .where(Ticket.code == code, Ticket.published_at.is_not(None), *listed_conditions(),
               Attachment.id == attachment_id, Attachment.public.is_(True),
               Attachment.storage_key.is_not(None)))


__all__ = ["COORD_DIGITS", "PublicEntry", "PublicTicket", "get_published", "is_listed",
           "is_published", "listed_conditions", "project", "public_entries", "public_photo",
           "public_photo_ids", "round_point"]
