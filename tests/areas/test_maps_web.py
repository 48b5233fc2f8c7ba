"""Maps: the ward under a point, clustered published reports, hot spots, boundary upload."""
from __future__ import annotations

import io
import json
from datetime import datetime, timedelta

from hotline.domain.messages import ContactHandle, IncomingMessage
from hotline.extensions import db
from hotline.models import Ticket, utcnow
from hotline.services import intake
from hotline.web.security import CSP, csp_for
from tests.staff_fixtures import _user, login


def _ticket(n: int, lat: float, lon: float, *, published: bool, area: str = "25195",
            received: datetime | None = None) -> Ticket:
    result = intake.receive(IncomingMessage(
        channel="web", external_id=f"m{n}", received_at=received or utcnow() - timedelta(days=2),
        text="Rác thải tồn đọng ven đường nhiều ngày.", field_code="MT", area_code=area,
        lat=lat, lon=lon, contact=ContactHandle(phone=f"09123450{n:02d}"), force_new=True,
        consent_publish=published))
    ticket = db.session.get(Ticket, result.ticket_id)
    if published:  # what moderation leaves behind: a published, redacted summary
        ticket.published_at = utcnow() - timedelta(days=1)
        ticket.public_summary, ticket.public_result = "Rác thải ven đường.", "Đã thu gom."
    db.session.commit()
    return ticket


def test_ward_at_a_point(tree, client):
    ward = tree.areas["25195"]
    body = client.get("/api/areas/at", query_string={"lat": ward.lat, "lon": ward.lon}).get_json()
    assert (body["code"], body["name"], body["method"]) == ("25195", "Phường Bình Phước",
                                                            "centroid")
    far = client.get("/api/areas/at", query_string={"lat": 21.03, "lon": 105.85})
    assert far.status_code == 400 and "ngoài địa bàn tỉnh" in far.get_json()["error"]
    bad = client.get("/api/areas/at", query_string={"lat": "abc", "lon": "1"})
    assert bad.status_code == 400 and bad.get_json()["code"] == "invalid_point"


def test_public_clusters_only_published_and_rounded(tree, client):
    ward = tree.areas["25195"]
    a = _ticket(1, ward.lat + 0.00012, ward.lon + 0.00049, published=True)
    _ticket(2, ward.lat + 0.0011, ward.lon + 0.0009, published=True)
    _ticket(3, ward.lat + 0.0005, ward.lon, published=False)
    refused = _ticket(5, ward.lat + 0.0004, ward.lon, published=True)
    refused.consent_publish = False  # the citizen said no: never on a public surface
    db.session.commit()
    far = tree.areas["25217"]
    _ticket(4, far.lat, far.lon, published=True, area="25217")
    bbox = f"{ward.lat - 1},{ward.lon - 1},{ward.lat + 1},{ward.lon + 1}"
    wide = client.get("/map/clusters", query_string={"bbox": bbox, "zoom": 9}).get_json()
    # Neither the unpublished one nor the one whose citizen refused publication is there.
    assert sorted(c["count"] for c in wide["clusters"]) == [1, 2]
    close = client.get("/map/clusters", query_string={"bbox": bbox, "zoom": 18}).get_json()
    singles = [c for c in close["clusters"] if c["count"] == 1]
    assert len(singles) == 3 and a.code in {c["code"] for c in singles}
    for c in close["clusters"]:
        assert c["lat"] == round(c["lat"], 3) and c["lon"] == round(c["lon"], 3)
    mine = next(c for c in singles if c["code"] == a.code)
    assert (mine["lat"], mine["lon"]) == (round(a.lat, 3), round(a.lon, 3))
    filtered = client.get("/map/clusters", query_string={"bbox": bbox, "zoom": 18,
                                                         "field": "XX"}).get_json()
    assert filtered["clusters"] == []
    for bad in ("", "1,2,3", "50,100,10,110", "0,0,40,40"):
        resp = client.get("/map/clusters", query_string={"bbox": bad, "zoom": 10})
        assert resp.status_code == 400 and resp.get_json()["error"]
    assert client.get("/map/clusters", query_string={"bbox": bbox, "from": "2026-13-01"}
                      ).status_code == 400


def test_public_pages_and_leaflet_from_our_origin(tree, client):
    page = client.get("/map")
    assert page.status_code == 200 and page.headers["Content-Security-Policy"] == CSP
    html = page.get_data(as_text=True)
    assert "/static/vendor/leaflet/leaflet.js" in html and "unpkg" not in html
    static = client.get("/static/vendor/leaflet/leaflet.js")
    assert static.status_code == 200
    static.close()
    submit = client.get("/submit").get_data(as_text=True)
    assert "data-map-pick" in submit and "/api/areas/at" in submit
    geo = client.get("/map/wards.geojson").get_json()
    assert len(geo["features"]) == 95
    assert geo["features"][0]["geometry"]["type"] == "Point"


def test_tile_server_joins_img_src_only():
    assert csp_for(None) == CSP
    custom = csp_for("https://tiles.dongnai.example.gov.vn/{z}/{x}/{y}.png")
    assert "img-src 'self' data: https://tiles.dongnai.example.gov.vn;" in custom
    assert "script-src 'self';" in custom and "connect-src 'self';" in custom
    assert csp_for("javascript:alert(1)") == CSP


def test_hotspots_by_ward_and_scope(tree, client):
    ward, other = tree.areas["25195"], tree.areas["25217"]
    _ticket(1, ward.lat, ward.lon, published=False)
    late = _ticket(2, ward.lat, ward.lon, published=False)
    late.due_at = utcnow() - timedelta(hours=1)
    _ticket(3, other.lat, other.lon, published=False, area="25217")
    _ticket(4, other.lat, other.lon, published=False, area="25217",
            received=utcnow() - timedelta(days=200))  # outside the period
    db.session.commit()
    manager = _user("manager", "lanhdao")
    handler = _user("handler", "cb", agency=tree.agencies["25217"])
    db.session.commit()
    login(client, manager)
    assert client.get("/staff/map").status_code == 200
    body = client.get("/staff/map/hotspots.json").get_json()
    rows = {w["code"]: w for w in body["wards"]}
    assert (rows["25195"]["total"], rows["25195"]["open"], rows["25195"]["overdue"]) == (2, 2, 1)
    assert rows["25217"]["total"] == 1
    bad = client.get("/staff/map/hotspots.json", query_string={"from": "2026-12-01",
                                                               "to": "2026-01-01"})
    assert bad.status_code == 400
    client.post("/logout")
    login(client, handler)
    scoped = client.get("/staff/map/hotspots.json").get_json()
    assert [w["code"] for w in scoped["wards"]] == ["25217"]


def test_admin_uploads_boundaries(tree, client):
    admin = _user("admin", "quantri")
    db.session.commit()
    login(client, admin)
    ward = tree.areas["25195"]
    square = {"type": "Polygon", "coordinates": [[
        [ward.lon - .05, ward.lat - .05], [ward.lon + .05, ward.lat - .05],
        [ward.lon + .05, ward.lat + .05], [ward.lon - .05, ward.lat + .05],
        [ward.lon - .05, ward.lat - .05]]]}
    doc = {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"code": "25195"}, "geometry": square}]}
    resp = client.post("/staff/map/boundaries", data={
        "file": (io.BytesIO(json.dumps(doc).encode()), "ranhgioi.geojson")},
        content_type="multipart/form-data", follow_redirects=True)
    assert "Đã nạp ranh giới: 1" in resp.get_data(as_text=True)
    db.session.expire_all()
    assert tree.areas["25195"].boundary == square
    body = client.get("/api/areas/at", query_string={"lat": ward.lat + .04,
                                                     "lon": ward.lon + .04}).get_json()
    assert (body["code"], body["method"]) == ("25195", "boundary")
