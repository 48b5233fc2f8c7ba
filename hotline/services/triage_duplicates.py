"""Duplicates by meaning, place and time: open tickets that say the same thing about the
same place lately.

Candidates are open tickets received within ``WINDOW_DAYS`` in the same ward, or within
``NEARBY_METRES`` when both have coordinates; the newest ``MAX_CANDIDATES`` are compared
by the cosine of their triage vectors (``THRESHOLD`` is measured by ``bench/triage.py``:
two writings of one problem against two problems of one field). ``similar_open`` takes a
text, not a ticket, so a citizen's draft can be checked the same way (the public hint
applies the publication rules on top).
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

from sklearn.feature_extraction.text import TfidfVectorizer
from sqlalchemy import and_, or_, select

from hotline.extensions import db
from hotline.models import Ticket
from hotline.services import triage
from hotline.triage.textprep import has_content, prepare

OPEN = ("new", "assigned", "in_progress", "returned", "waiting_citizen", "resolved")
WINDOW_DAYS = 30
NEARBY_METRES = 300
MAX_CANDIDATES = 300
# bench/triage.py: the best cut on held-out pairs is 0.34 (99.3 % of re-writings of one
# problem found, 0.4 % of other problems of the same field); a little above it, so that a
# street name shared by two different problems does not make them one.
THRESHOLD = 0.4
LIMIT = 5


@dataclass(frozen=True)
class Duplicate:
    ticket: Ticket
    score: float
    metres: float | None


def _metres(lat1, lon1, lat2, lon2) -> float:
    dlat = math.radians(lat2 - lat1)
    dlon = math.radians(lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    return 6_371_000 * math.hypot(dlat, dlon)


def _similarities(text: str, others: list[str]) -> list[float]:
    model = triage.current_model()
    if model is not None:
        x = model.vectors([text, *others])
    else:   # no model: a TF-IDF of these texts alone still compares them by their words
        x = TfidfVectorizer(token_pattern=r"\S+", ngram_range=(1, 2)).fit_transform(
            [prepare(t) for t in (text, *others)])
    return (x[1:] @ x[0].T).toarray().ravel().tolist()


def similar_open(text: str, *, area_id: int | None, lat: float | None, lon: float | None,
                 received_at: datetime, exclude_id: int | None = None,
                 threshold: float = THRESHOLD, limit: int = LIMIT) -> list[Duplicate]:
    """Open tickets near ``area_id`` / ``lat, lon`` in the window that say what ``text`` says."""
    if not has_content(prepare(text)) or (area_id is None and lat is None):
        return []
    place = []
    if area_id is not None:
        place.append(Ticket.area_id == area_id)
    if lat is not None and lon is not None:
        dlat = NEARBY_METRES / 111_320
        dlon = dlat / max(math.cos(math.radians(lat)), 0.1)
        place.append(and_(Ticket.lat.between(lat - dlat, lat + dlat),
                          Ticket.lon.between(lon - dlon, lon + dlon)))
    window = timedelta(days=WINDOW_DAYS)
    stmt = (select(Ticket).where(Ticket.status.in_(OPEN), or_(*place),
                                 Ticket.received_at.between(received_at - window,
                                                            received_at + window))
            .order_by(Ticket.received_at.desc()).limit(MAX_CANDIDATES))
    if exclude_id is not None:
        stmt = stmt.where(Ticket.id != exclude_id)
    rows = list(db.session.scalars(stmt))
    if not rows:
        return []
    scores = _similarities(text, [f"{t.title}. {t.description}" for t in rows])
    found = []
    for t, score in zip(rows, scores, strict=True):
        if score < threshold:
            continue
        metres = (_metres(lat, lon, t.lat, t.lon)
                  if None not in (lat, lon, t.lat, t.lon) else None)
        if metres is not None and metres > NEARBY_METRES and t.area_id != area_id:
            continue
        found.append(Duplicate(t, round(score, 3), None if metres is None else round(metres)))
    found.sort(key=lambda d: -d.score)
    return found[:limit]


def for_ticket(ticket: Ticket) -> list[Duplicate]:
    """Open tickets that may be the same report as ``ticket`` (for the triage screen)."""
    return similar_open(f"{ticket.title}. {ticket.description}", area_id=ticket.area_id,
                        lat=ticket.lat, lon=ticket.lon, received_at=ticket.received_at,
                        exclude_id=ticket.id)
