"""The "already reported nearby" hint on the public form: a clean function of public data.

An anonymous visitor asks "what is open in this field near this point (or in this
commune)?". The answer holds, per ticket, only its code, status, date of receipt,
its *published* summary (moderated text, when there is one) and a distance bucket
("dưới 100 m", "100–300 m"...). Everything about where a ticket is comes from its
point snapped to the public grid (:func:`public_projection.round_point`, ~100 m):
which tickets are found, their order and their bucket. So two reports in the same
grid cell give every query the same answer, and no set of queries, from however
many points, places a report closer than its cell (about 110 × 109 m).
Tickets whose citizen refused publication, or that a manager withheld, never appear.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy import text as sql_text

from hotline.domain.errors import ValidationError
from hotline.domain.lifecycle import OPEN_STATUSES
from hotline.extensions import db
from hotline.models import Area, Field, Ticket
from hotline.models.publication import OPEN_WITH_POINT
from hotline.services.public_projection import (
    COORD_DIGITS,
    is_published,
    listed_conditions,
    round_point,
)

_EARTH_M = 6_371_000
_OPEN_STATUSES = tuple(s.value for s in OPEN_STATUSES)
# Half the grid's diagonal and then some: how far a snapped point can be from the true one.
_SNAP_SLACK_M = 0.5 * 10 ** -COORD_DIGITS * 111_320 * math.sqrt(2) + 5
# Upper bounds (metres) of the buckets and their words.
BUCKETS = ((100, "dưới 100 m"), (300, "100–300 m"), (1000, "300 m–1 km"), (2000, "1–2 km"))


@dataclass(frozen=True)
class NearbyTicket:
    code: str
    status: str
    received_at: datetime
    summary: str | None        # the published (moderated) summary, else None
    distance: str | None       # a bucket's words; None when matched by commune
    published: bool


def distance_m(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance in metres."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * _EARTH_M * math.asin(math.sqrt(a))


def bucket(metres: float) -> tuple[int, str]:
    """The bucket a distance falls in: (its index, its words)."""
    for index, (upper, words) in enumerate(BUCKETS):
        if metres < upper:
            return index, words
    return len(BUCKETS), f"trên {BUCKETS[-1][0] // 1000} km"


def nearby_open(field_code: str | None, *, lat: float | None = None, lon: float | None = None,
                area_code: str | None = None, radius_m: int = 300,
                limit: int = 5) -> list[NearbyTicket]:
    """Open, listed tickets of the same field near a point (by snapped point), else in the
    same commune; nearest bucket first, then newest."""
    if not field_code:
        return []
    fid = db.session.scalar(select(Field.id).where(Field.code == field_code))
    if fid is None:
        return []
    radius_m = max(50, min(int(radius_m), BUCKETS[-1][0]))
    query = select(Ticket).where(Ticket.field_id == fid, *listed_conditions())
    if lat is not None and lon is not None:
        if not (math.isfinite(lat) and math.isfinite(lon) and -90 <= lat <= 90
                and -180 <= lon <= 180):
            raise ValidationError("Toạ độ không hợp lệ.", code="invalid_location")
        # The box is widened by the snap so that whether a ticket is a candidate depends
        # on its snapped point only (the exact filter below uses the snapped point).
        reach = radius_m + _SNAP_SLACK_M
        dlat = reach / 111_320
        dlon = reach / (111_320 * max(math.cos(math.radians(lat)), 0.01))
        # The same predicate as ix_tickets_open_point, so both databases use that index.
        query = query.where(sql_text(OPEN_WITH_POINT),
                            Ticket.lat.between(lat - dlat, lat + dlat),
                            Ticket.lon.between(lon - dlon, lon + dlon))
    elif area_code:
        aid = db.session.scalar(select(Area.id).where(Area.code == area_code))
        if aid is None:
            return []
        query = query.where(Ticket.area_id == aid, Ticket.status.in_(_OPEN_STATUSES))
    else:
        return []
    rows = db.session.scalars(query.order_by(Ticket.received_at.desc(), Ticket.id.desc())
                              .limit(50)).all()
    found = []
    for t in rows:
        rank, words = 0, None
        if lat is not None and t.lat is not None:
            slat, slon = round_point(t.lat, t.lon)
            metres = distance_m(lat, lon, slat, slon)
            if metres > radius_m:
                continue
            rank, words = bucket(metres)
        published = is_published(t)
        found.append((rank, NearbyTicket(t.code, t.status, t.received_at,
                                         t.public_summary if published else None,
                                         words, published)))
    found.sort(key=lambda pair: pair[0])  # stable: newest first within a bucket
    return [item for _, item in found[:limit]]
