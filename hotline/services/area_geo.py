"""Where a point falls: today's ward by its boundary where one is loaded, else the nearest
official centroid — and a point outside the province is refused, not forced onto a ward.

Boundaries come from an administrator's GeoJSON (``load_boundaries``: features whose
``code`` property is an area code; all or nothing). The wards' shapes and centroids are kept
a few seconds per process (``services.lookups``; an admin change drops them at once).
"""
from __future__ import annotations

import json
import math
from dataclasses import dataclass

from shapely.geometry import Point, shape
from shapely.prepared import prep
from sqlalchemy import select

from hotline.domain.errors import ValidationError
from hotline.extensions import db
from hotline.models import Area
from hotline.services import lookups
from hotline.services import official_units as official
from hotline.services.admin.audit import Actor, record

CODE_KEYS = ("code", "ma", "ma_xa", "wardCode", "ward_code", "MA_XA")
# A point farther from every centroid than this many "radii" of that ward is outside.
OUTSIDE_RADII = 2.5
MIN_OUTSIDE_KM = 6.0
EARTH_KM = 6371.0


@dataclass(frozen=True)
class PointMatch:
    """The ward a point falls in, and how we know (``boundary`` or ``centroid``)."""

    area_id: int
    code: str
    name: str
    method: str
    distance_km: float | None = None


@dataclass(frozen=True)
class _Ward:
    id: int
    code: str
    name: str
    lat: float
    lon: float
    radius_km: float
    shape: object | None
    bbox: tuple[float, float, float, float] | None


def _load_wards() -> tuple[_Ward, ...]:
    rows = db.session.execute(select(
        Area.id, Area.code, Area.name, Area.lat, Area.lon, Area.area_km2, Area.boundary,
        Area.min_lat, Area.min_lon, Area.max_lat, Area.max_lon).where(
        Area.valid_to.is_(None), Area.level == "commune", Area.active.is_(True),
        Area.lat.is_not(None) | Area.boundary.is_not(None)))
    out = []
    for r in rows:
        geom = prep(shape(r.boundary)) if r.boundary else None
        radius = math.sqrt((r.area_km2 or 30.0) / math.pi)
        lat, lon = r.lat, r.lon
        if lat is None and r.boundary:
            c = shape(r.boundary).representative_point()
            lat, lon = c.y, c.x
        bbox = (r.min_lat, r.min_lon, r.max_lat, r.max_lon) if r.boundary else None
        out.append(_Ward(r.id, r.code, r.name, lat, lon, radius, geom, bbox))
    return tuple(out)


def wards() -> tuple[_Ward, ...]:
    return lookups.cached("area_geo", "wards", _load_wards) or ()


def km_between(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 2 * EARTH_KM * math.asin(math.sqrt(min(1.0, a)))


def ward_at(lat: float, lon: float) -> PointMatch:
    """Today's ward containing (``lat``, ``lon``); ``ValidationError`` when outside."""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        raise ValidationError("Tọa độ không hợp lệ.", code="invalid_point")
    known = wards()
    if not known:
        raise ValidationError("Chưa có danh mục xã, phường để xác định vị trí.", code="no_wards")
    point = Point(lon, lat)
    shaped = [w for w in known if w.shape is not None]
    for w in shaped:
        if w.bbox[0] <= lat <= w.bbox[2] and w.bbox[1] <= lon <= w.bbox[3] \
                and w.shape.contains(point):
            return PointMatch(w.id, w.code, w.name, "boundary")
    if shaped and len(shaped) == len(known):
        raise _outside()
    ours = {w.code: w for w in known if w.lat is not None}
    if not ours:
        raise _outside()
    # Official wards: the nearest centroid in the whole country must be one of ours (a point
    # across the provincial border is nearer a neighbour's ward).
    national = official.ward_centroids()
    if any(code in ours for code, _la, _lo in national):
        code, _la, _lo = min(national, key=lambda c: _flat_km2(lat, lon, c[1], c[2]))
        best = ours.get(code)
        if best is None:
            raise _outside()
    else:
        best = min(ours.values(), key=lambda w: _flat_km2(lat, lon, w.lat, w.lon))
    distance = km_between(lat, lon, best.lat, best.lon)
    if distance > max(OUTSIDE_RADII * best.radius_km, MIN_OUTSIDE_KM):
        raise _outside()
    return PointMatch(best.id, best.code, best.name, "centroid", round(distance, 2))


def _flat_km2(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Squared distance on a local flat projection: enough to rank nearby centroids."""
    dx = (lon2 - lon1) * math.cos(math.radians((lat1 + lat2) / 2))
    return dx * dx + (lat2 - lat1) ** 2


def _outside() -> ValidationError:
    return ValidationError("Vị trí này nằm ngoài địa bàn tỉnh; vui lòng chọn lại điểm trên "
                           "bản đồ hoặc nhập địa chỉ.", code="outside_province")


@dataclass(frozen=True)
class BoundaryLoad:
    loaded: int
    unchanged: int

    def describe(self) -> str:
        return f"Đã nạp ranh giới: {self.loaded} xã, phường; {self.unchanged} không đổi."


def load_boundaries(actor: Actor, data: bytes) -> BoundaryLoad:
    """Set ward boundaries from a GeoJSON FeatureCollection; every error listed, nothing partial."""
    try:
        doc = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError):
        raise ValidationError("Tệp ranh giới không phải GeoJSON hợp lệ.", code="geojson") from None
    features = doc.get("features") if isinstance(doc, dict) else None
    if not isinstance(features, list) or not features:
        raise ValidationError("Tệp ranh giới phải là một FeatureCollection có ít nhất một vùng.",
                              code="geojson")
    problems: list[str] = []
    found: dict[str, tuple[dict, tuple[float, float, float, float]]] = {}
    for i, feature in enumerate(features, start=1):
        props = (feature.get("properties") or {}) if isinstance(feature, dict) else {}
        props = props if isinstance(props, dict) else {}
        code = next((str(props[k]).strip() for k in CODE_KEYS if props.get(k) not in (None, "")),
                    None)
        geometry = feature.get("geometry") if isinstance(feature, dict) else None
        if not code:
            problems.append(f"vùng {i}: thiếu mã địa bàn (thuộc tính code)")
            continue
        if not isinstance(geometry, dict) or geometry.get("type") not in ("Polygon",
                                                                           "MultiPolygon"):
            problems.append(f"vùng {i} ({code}): hình phải là Polygon hoặc MultiPolygon")
            continue
        try:
            geom = shape(geometry)
        except (ValueError, TypeError, AttributeError, IndexError):
            problems.append(f"vùng {i} ({code}): tọa độ không đọc được")
            continue
        min_lon, min_lat, max_lon, max_lat = geom.bounds
        if geom.is_empty or not geom.is_valid or not (-90 <= min_lat <= max_lat <= 90) \
                or not (-180 <= min_lon <= max_lon <= 180):
            problems.append(f"vùng {i} ({code}): hình không hợp lệ (tự cắt hoặc ngoài phạm vi)")
            continue
        if code in found:
            problems.append(f"vùng {i}: mã {code} lặp lại")
            continue
        found[code] = (geometry, (min_lat, min_lon, max_lat, max_lon))
    areas = {a.code: a for a in db.session.scalars(select(Area).where(Area.code.in_(list(found))))}
    problems += [f"mã {code} không có trong danh mục địa bàn" for code in found if code not in areas]
    if problems:
        raise ValidationError("Tệp ranh giới có lỗi; chưa nạp vùng nào: " + "; ".join(problems[:20])
                              + ("; …" if len(problems) > 20 else ""), code="geojson")
    loaded = 0
    for code, (geometry, bbox) in found.items():
        area = areas[code]
        if area.boundary == geometry:
            continue
        area.boundary = geometry
        area.min_lat, area.min_lon, area.max_lat, area.max_lon = bbox
        loaded += 1
    db.session.flush()
    if loaded:
        record(actor, "load_boundaries", "area", None, after={"areas": loaded})
    return BoundaryLoad(loaded, len(found) - loaded)
