"""Addresses (old or new form) and points to today's ward; points outside are refused."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from hotline.domain.errors import ValidationError
from hotline.extensions import db
from hotline.models import Area, AuditLog
from hotline.services import address_areas, area_geo
from hotline.services.admin.audit import Actor

ACTOR = Actor(user=None, label="test")


def test_old_three_level_address_proposes_todays_ward(tree):
    former = tree.areas["old.25441"]
    match = address_areas.ward_for_address("ấp 3, xã Minh Hưng, huyện Chơn Thành, Bình Phước")
    assert match.code == former.successor.code and match.method == "old_address"
    assert "Chơn Thành" in match.former and match.name in match.explanation
    # Unaccented, abbreviated, no province: still the former Tân Bình → today's Bình Phước.
    loose = address_areas.ward_for_address("to 5, kp 2, p. Tan Binh, tp Dong Xoai")
    assert loose.code == tree.areas["old.25201"].successor.code == "25195"


def test_new_two_level_address(tree):
    match = address_areas.ward_for_address("Số 12 Phú Riềng Đỏ, phường Bình Phước, Đồng Nai")
    assert (match.code, match.method, match.former) == ("25195", "new_address", None)
    assert match.area_id == tree.areas["25195"].id


@pytest.mark.parametrize("address", ["123 Lê Lợi, phường Bến Thành, TP Hồ Chí Minh", "xyz", "",
                                     None, "\x00" * 5])
def test_unknown_or_other_province_proposes_nothing(tree, address):
    assert address_areas.ward_for_address(address) is None


def test_point_nearest_centroid_then_boundary(tree):
    ward = tree.areas["25195"]
    near = area_geo.ward_at(ward.lat + 0.003, ward.lon - 0.002)
    assert (near.code, near.method) == ("25195", "centroid") and near.distance_km < 1

    # A square boundary around a point loaded for another ward wins over the centroid.
    other = tree.areas["25210"]
    lat, lon = ward.lat + 0.003, ward.lon - 0.002
    square = {"type": "Polygon", "coordinates": [[[lon - 0.01, lat - 0.01], [lon + 0.01, lat - 0.01],
                                                  [lon + 0.01, lat + 0.01], [lon - 0.01, lat + 0.01],
                                                  [lon - 0.01, lat - 0.01]]]}
    doc = {"type": "FeatureCollection",
           "features": [{"type": "Feature", "properties": {"code": "25210"}, "geometry": square}]}
    loaded = area_geo.load_boundaries(ACTOR, json.dumps(doc).encode())
    db.session.commit()
    assert (loaded.loaded, loaded.unchanged) == (1, 0)
    inside = area_geo.ward_at(lat, lon)
    assert (inside.code, inside.method) == (other.code, "boundary")
    again = area_geo.load_boundaries(ACTOR, json.dumps(doc).encode())
    assert (again.loaded, again.unchanged) == (0, 1)


@pytest.mark.parametrize("lat,lon", [(21.0285, 105.8542), (10.7769, 106.7009), (12.9, 106.9)])
def test_point_outside_the_province_is_refused(tree, lat, lon):
    with pytest.raises(ValidationError) as err:
        area_geo.ward_at(lat, lon)
    assert err.value.code == "outside_province" and "ngoài địa bàn tỉnh" in err.value.message


def test_bad_boundaries_are_listed_and_nothing_is_written(tree):
    good = {"type": "Polygon", "coordinates": [[[106.8, 11.5], [106.9, 11.5], [106.9, 11.6],
                                                [106.8, 11.5]]]}
    bow = {"type": "Polygon", "coordinates": [[[0, 0], [1, 1], [1, 0], [0, 1], [0, 0]]]}
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "25195"}, "geometry": good},
        {"type": "Feature", "properties": {"code": "99999"}, "geometry": good},
        {"type": "Feature", "properties": {}, "geometry": good},
        {"type": "Feature", "properties": {"code": "25210"}, "geometry": bow},
        {"type": "Feature", "properties": {"code": "25220"}, "geometry": {"type": "Point",
                                                                         "coordinates": [1, 2]}}]}
    with pytest.raises(ValidationError) as err:
        area_geo.load_boundaries(ACTOR, json.dumps(doc).encode())
    message = err.value.message
    for part in ("99999", "vùng 3", "vùng 4 (25210)", "vùng 5 (25220)"):
        assert part in message
    db.session.rollback()
    assert db.session.scalar(select(func.count()).select_from(Area).where(
        Area.boundary.is_not(None))) == 0
    with pytest.raises(ValidationError):
        area_geo.load_boundaries(ACTOR, b"\xff not json")
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "load_boundaries")) == 0
