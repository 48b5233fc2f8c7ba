"""Maps: the citizens' map of published reports, the ward under a point, the staff's hot
spots by ward, and the administrator's boundary upload.

Leaflet is served from ``static/vendor/leaflet`` (no CDN); tiles come only from the
province's own ``MAP_TILE_URL`` — without one the maps draw ward boundaries and centroids.
"""
from __future__ import annotations

from datetime import date, datetime, time, timedelta

from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_limiter.util import get_remote_address
from flask_login import current_user
from sqlalchemy import select

from hotline.auth import require_role
from hotline.config import local_zone
from hotline.domain.errors import ValidationError
from hotline.extensions import db, limiter
from hotline.models import Field, utcnow
from hotline.services import area_geo, maps, public_results
from hotline.services.admin.audit import Actor
from hotline.tx import commit

bp = Blueprint("maps", __name__)
staff = Blueprint("staff_maps", __name__, url_prefix="/staff/map")
staff.before_request(require_role("operator", "manager", "handler", "agency_lead", "admin"))
MAX_PERIOD_DAYS = 366


def map_settings() -> dict:
    return {"tiles": current_app.config.get("MAP_TILE_URL") or "",
            "attribution": current_app.config.get("MAP_TILE_ATTRIBUTION") or ""}


def _error(exc: ValidationError):
    return {"error": exc.message, "code": exc.code}, 400


def _number(name: str) -> float:
    try:
        return float(request.args.get(name, ""))
    except ValueError:
        raise ValidationError("Tọa độ không hợp lệ.", code="invalid_point") from None


def _day(name: str) -> date | None:
    raw = (request.args.get(name) or "").strip()
    if not raw:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        raise ValidationError(f"Ngày không hợp lệ: «{raw[:20]}».", code="invalid_date") from None


# --- public ------------------------------------------------------------------------------


@bp.get("/map")
def public_map():
    """The map of published reports (clustered; filters by field and publication date)."""
    fields = db.session.scalars(select(Field).where(Field.active.is_(True))
                                .order_by(Field.name)).all()
    return render_template("public/map.html", fields=fields, settings=map_settings())


@bp.get("/map/clusters")
@limiter.limit("120 per minute", key_func=lambda: "map-ip:" + get_remote_address())
def public_clusters():
    try:
        box = maps.Box.parse(request.args.get("bbox"))
        raw_zoom = request.args.get("zoom") or ""
        zoom = int(raw_zoom) if raw_zoom.isdigit() else 12
        filters = public_results.ResultFilters(
            field_code=(request.args.get("field") or "").strip()[:32] or None,
            date_from=_day("from"), date_to=_day("to"))
        return {"clusters": maps.public_clusters(box, zoom, filters)}
    except ValidationError as exc:
        return _error(exc)


@bp.get("/map/wards.geojson")
def wards():
    return maps.wards_geojson()


@bp.get("/api/areas/at")
@limiter.limit("60 per minute", key_func=lambda: "at-ip:" + get_remote_address())
def ward_at():
    """The ward under a point: ``boundary`` or ``centroid`` says how it was found."""
    try:
        match = area_geo.ward_at(_number("lat"), _number("lon"))
    except ValidationError as exc:
        return _error(exc)
    return {"id": match.area_id, "code": match.code, "name": match.name, "method": match.method,
            "distance_km": match.distance_km}


# --- staff -------------------------------------------------------------------------------


def _period() -> tuple[date, date]:
    today = utcnow().astimezone(local_zone()).date()
    last = _day("to") or today
    first = _day("from") or last - timedelta(days=29)
    if first > last or (last - first).days > MAX_PERIOD_DAYS:
        raise ValidationError("Khoảng thời gian không hợp lệ (tối đa một năm).",
                              code="invalid_period")
    return first, last


def _agency_scope() -> int | None:
    # Handlers and agency leads see only their agency's tickets.
    return current_user.agency_id if current_user.role in ("handler", "agency_lead") else None


@staff.get("")
def hotspots_page():
    try:
        first, last = _period()
    except ValidationError as exc:
        flash(exc.message, "error")
        first = last = utcnow().astimezone(local_zone()).date()
    return render_template("manager/map.html", first=first, last=last, settings=map_settings(),
                           can_upload=current_user.role == "admin")


@staff.get("/hotspots.json")
def hotspots():
    try:
        first, last = _period()
    except ValidationError as exc:
        return _error(exc)
    tz = local_zone()
    rows = maps.hotspots(since=datetime.combine(first, time(0), tzinfo=tz),
                         until=datetime.combine(last + timedelta(days=1), time(0), tzinfo=tz),
                         now=utcnow(), agency_id=_agency_scope())
    return {"from": first.isoformat(), "to": last.isoformat(), "wards": rows}


@staff.post("/boundaries")
def upload_boundaries():
    """An administrator loads ward boundaries (GeoJSON); all or nothing."""
    if current_user.role != "admin":
        return redirect(url_for(".hotspots_page"))
    upload = request.files.get("file")
    try:
        if upload is None or not upload.filename:
            raise ValidationError(_("Hãy chọn tệp GeoJSON."), code="no_file")
        result = area_geo.load_boundaries(
            Actor(user=current_user._get_current_object(), ip=request.remote_addr),
            upload.read())
        commit()
        flash(result.describe(), "success")
    except ValidationError as exc:
        flash(exc.message, "error")
    return redirect(url_for(".hotspots_page"))
