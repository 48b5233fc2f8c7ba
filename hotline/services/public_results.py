"""The published results list (``/`` and ``/results``): filters, search, keyset pages.

Rows are chosen here; what each row shows is :mod:`hotline.services.public_projection`.
The search reads ``public_search_text`` — the folded moderated text — never the
original, so a search for a name cannot tell that a ticket mentioned it.
"""
from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import aliased, joinedload

from hotline.config import local_zone
from hotline.domain import text
from hotline.domain.errors import ValidationError
from hotline.extensions import db
from hotline.models import Agency, Area, Field, Ticket
from hotline.services.public_projection import PublicTicket, listed_conditions, project

PAGE_SIZE = 20
_MAX_SEARCH_WORDS = 6
# How many of the newest matching rows a search first looks through (see _search_recent).
SEARCH_WINDOW = 5000


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
class ResultsPage:
    items: list[PublicTicket]
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
    return datetime.combine(day, time(0), tzinfo=local_zone())


def _filter_conditions(filters: ResultFilters) -> list:
    conds = [Ticket.published_at.is_not(None), *listed_conditions()]
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


def published_conditions(filters: ResultFilters = ResultFilters()) -> list:
    """SQL: published, listed tickets matching ``filters`` (the public map reads these)."""
    return _filter_conditions(filters) + _word_conditions(Ticket.public_search_text,
                                                          search_words(filters.q))


def _word_conditions(column, words: list[str]) -> list:
    return [column.like(f"%{_like_escape(w)}%", escape="\\") for w in words]


def _list_loads(entity):
    return (joinedload(entity.field), joinedload(entity.area), joinedload(entity.agency))


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
    rows = list(rows[:limit])
    nxt = _encode_cursor(rows[-1].published_at, rows[-1].id) if more and rows else None
    return ResultsPage(project(rows), nxt)


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
