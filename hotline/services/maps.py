"""What the maps draw: today's wards (boundary or centroid), published reports clustered on a
grid in SQL, and the staff's hot spots by ward.

Clustering is a ``GROUP BY`` of grid cells over the map's bounding box, so a million points
come back as a few hundred cells; the public one reads only what ``services.public`` calls
published, and rounds every point to three decimals (about 100 m, as Open311 does for a
citizen who asked for privacy).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Integer, and_, case, cast, func, literal, select, tuple_

from hotline.domain.errors import ValidationError
from hotline.domain.lifecycle import OPEN_STATUSES
from hotline.extensions import db
from hotline.models import Area, Field, Ticket
from hotline.services import lookups, public_results
from hotline.services.public_projection import COORD_DIGITS

PUBLIC_DIGITS = COORD_DIGITS  # ~100 m, as everywhere the public sees a point
MIN_ZOOM, MAX_ZOOM = 5, 18
CELLS_ACROSS = 6           # a cluster cell is about a sixth of a 256-px tile
MAX_SPAN_DEG = 12.0        # a bounding box larger than Vietnam is refused
OPEN = sorted(s.value for s in OPEN_STATUSES)


@dataclass(frozen=True)
class Box:
    south: float
    west: float
    north: float
    east: float

    @classmethod
    def parse(cls, raw: str | None) -> Box:
        """"south,west,north,east" (Leaflet's ``toBBoxString`` is west,south,east,north: we
        take ours explicitly); a clear error for anything else."""
        try:
            s, w, n, e = (float(x) for x in (raw or "").split(","))
        except ValueError:
            raise ValidationError("Khung bản đồ không hợp lệ.", code="invalid_bbox") from None
        if not (-90 <= s < n <= 90 and -180 <= w < e <= 180) or n - s > MAX_SPAN_DEG \
                or e - w > MAX_SPAN_DEG:
            raise ValidationError("Khung bản đồ không hợp lệ.", code="invalid_bbox")
        return cls(s, w, n, e)


def cell_degrees(zoom: int) -> float:
    zoom = max(MIN_ZOOM, min(MAX_ZOOM, int(zoom)))
    return 360.0 / (2 ** zoom) / CELLS_ACROSS


def public_clusters(box: Box, zoom: int, filters: public_results.ResultFilters) -> list[dict]:
    """Published reports in ``box`` grouped in grid cells; a lone report keeps its code."""
    cell = cell_degrees(zoom)
    t = Ticket.__table__.c
    gy = cast((t.lat - literal(box.south)) / literal(cell), Integer).label("gy")
    gx = cast((t.lon - literal(box.west)) / literal(cell), Integer).label("gx")
    conds = [*public_results.published_conditions(filters), t.lat.is_not(None),
             t.lat.between(box.south, box.north), t.lon.between(box.west, box.east)]
    # Only indexed columns: an index-only scan, however many points the box holds.
    rows = db.session.execute(
        select(gy, gx, func.count().label("n"), func.avg(t.lat).label("lat"),
               func.avg(t.lon).label("lon"))
        .where(*conds).group_by(gy, gx)).all()
    out = [{"lat": round(r.lat, PUBLIC_DIGITS), "lon": round(r.lon, PUBLIC_DIGITS),
            "count": r.n, "_at": (r.lat, r.lon)} for r in rows]
    _name_singles([c for c in out if c["count"] == 1][:MAX_NAMED], conds)
    for c in out:
        del c["_at"]
    return out


MAX_NAMED = 400  # lone reports named per answer (beyond, a dot: zoom in to read it)


def _name_singles(singles: list[dict], conds: list) -> None:
    """A lone report's code and field (its exact point is its cell's average)."""
    if not singles:
        return
    t = Ticket.__table__.c
    names = _field_names()
    found = {(r.lat, r.lon): r for r in db.session.execute(
        select(t.lat, t.lon, t.code, t.field_id).where(
            *conds, tuple_(t.lat, t.lon).in_([c["_at"] for c in singles])))}
    for c in singles:
        r = found.get(c["_at"])
        if r is not None:
            c.update(code=r.code, field=names.get(r.field_id))


def _field_names() -> dict[int, str]:
    return lookups.cached("maps", "fields", lambda: dict(db.session.execute(
        select(Field.id, Field.name)).all())) or {}


def wards_geojson() -> dict:
    """Today's wards as GeoJSON: the boundary when loaded, else the centroid with its area."""
    def load() -> dict:
        features = []
        for a in db.session.scalars(select(Area).where(
                Area.valid_to.is_(None), Area.level == "commune",
                Area.lat.is_not(None) | Area.boundary.is_not(None)).order_by(Area.code)):
            props = {"id": a.id, "code": a.code, "name": a.name, "area_km2": a.area_km2,
                     "lat": a.lat, "lon": a.lon}
            geometry = a.boundary or {"type": "Point", "coordinates": [a.lon, a.lat]}
            features.append({"type": "Feature", "properties": props, "geometry": geometry})
        return {"type": "FeatureCollection", "features": features}
    return lookups.cached("maps", "wards", load) or {"type": "FeatureCollection", "features": []}


def hotspots(*, since: datetime, until: datetime, now: datetime,
             agency_id: int | None = None) -> list[dict]:
    """Per ward of today: reports received in [since, until), how many still open, overdue."""
    t = Ticket.__table__.c
    ward = func.coalesce(t.current_area_id, t.area_id).label("ward")
    is_open = t.status.in_(OPEN)
    conds = [t.received_at >= since, t.received_at < until, t.area_id.is_not(None)]
    if agency_id is not None:
        conds.append(t.agency_id == agency_id)
    counts = (select(ward, func.count().label("total"),
                     func.sum(case((is_open, 1), else_=0)).label("open"),
                     func.sum(case((and_(is_open, t.due_at < now), 1), else_=0)).label("overdue"))
              .where(*conds).group_by(ward).subquery())
    a = Area.__table__.c
    rows = db.session.execute(
        select(counts.c.ward, counts.c.total, counts.c.open, counts.c.overdue, a.code, a.name,
               a.lat, a.lon, a.area_km2, a.level)
        .join_from(counts, Area.__table__, a.id == counts.c.ward)
        .order_by(counts.c.total.desc())).all()
    return [{"id": r.ward, "code": r.code, "name": r.name, "lat": r.lat, "lon": r.lon,
             "area_km2": r.area_km2, "level": r.level, "total": r.total, "open": int(r.open or 0),
             "overdue": int(r.overdue or 0)} for r in rows]
