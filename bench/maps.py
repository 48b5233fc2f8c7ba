"""Benchmark of the map endpoints on a generated PostgreSQL database.

    .venv/bin/python -m bench.maps [--sizes 100000,1000000] [--repeat 30] [--keep]

Creates the scratch database ``hotline_bench_maps``, builds the schema, loads the demo
organisation (today's Đồng Nai, 95 wards, with Bình Phước's former units), grows the ticket
table with the ``generate-tickets`` generator, then gives every ticket a point near its
ward's official centroid (one UPDATE; the generator has no coordinates) and measures,
through the Flask app (routing, JSON) at each size:

- ``GET /map/clusters`` over the whole province, then a 1366 × 900 px screen at zoom 11, 14
  and 16, and with a field filter;
- ``GET /staff/map/hotspots.json`` for 30 days and for a year (signed-in manager);
- ``GET /map/wards.geojson`` and ``GET /api/areas/at``.

Results: ``bench/results/maps.json`` and a table on stdout, with ``EXPLAIN (ANALYZE)`` of
the cluster query at zoom 11.
"""
from __future__ import annotations

import argparse
from datetime import UTC

from sqlalchemy import text

from bench.common import (
    Measurement,
    measure,
    print_table,
    progress,
    scratch_database,
    timed,
    write_results,
)
from bench.reports import _grow, _vacuum

DB_NAME = "hotline_bench_maps"
PROVINCE_BBOX = "10.4,106.3,12.4,107.7"


def _place_points() -> None:
    """Each published ticket at its ward's centroid ± ~1.5 km, deterministic by id (only the
    public map reads points; the hot spots count by ward)."""
    from hotline.extensions import db
    db.session.execute(text(
        "UPDATE tickets SET lat = a.lat + ((tickets.id * 7919) % 1000 - 500) / 33000.0, "
        "lon = a.lon + ((tickets.id * 104729) % 1000 - 500) / 33000.0 "
        "FROM areas a WHERE a.id = tickets.area_id AND a.lat IS NOT NULL "
        "AND tickets.published_at IS NOT NULL"))
    db.session.commit()
    _vacuum("tickets")


def measure_at(app, size: int, repeat: int, results: list[Measurement], explains: dict) -> None:
    from hotline.extensions import db
    from hotline.models import Field, Ticket, User
    from tests.staff_fixtures import PASSWORD, _user

    with app.app_context():
        published = db.session.query(Ticket).filter(Ticket.published_at.is_not(None),
                                                     Ticket.lat.is_not(None)).count()
        field = db.session.query(Field.code).order_by(Field.id).first()[0]
        if not db.session.query(User).filter_by(username="bench.map").first():
            _user("manager", "bench.map")
            db.session.commit()
    client = app.test_client()
    client.post("/login", data={"username": "bench.map", "password": PASSWORD})

    def get(url, **params):
        def call():
            resp = client.get(url, query_string=params)
            assert resp.status_code == 200, resp.get_data(as_text=True)[:200]
            return resp.get_json()
        return call

    def bench(name, fn, **extra):
        body = fn()
        results.append(measure(name, size, timed(fn, repeat), **extra,
                               **({"clusters": len(body["clusters"])} if "clusters" in body else {}),
                               **({"wards": len(body["wards"])} if "wards" in body else {})))

    bench("GET /map/clusters whole province", get("/map/clusters", bbox=PROVINCE_BBOX, zoom=8),
          published_points=published)
    for zoom in (11, 14, 16):  # a 1366 × 900 px screen over Đồng Xoài at that zoom
        bench(f"GET /map/clusters zoom {zoom} (screen)",
              get("/map/clusters", bbox=_screen(zoom), zoom=zoom))
    bench("GET /map/clusters zoom 11 + field", get("/map/clusters", bbox=_screen(11), zoom=11,
                                                   field=field))
    bench("GET /staff/map/hotspots.json 30 days", get("/staff/map/hotspots.json"))
    bench("GET /staff/map/hotspots.json 365 days",
          get("/staff/map/hotspots.json", **{"from": _days_ago(364)}))
    bench("GET /map/wards.geojson", get("/map/wards.geojson"))
    bench("GET /api/areas/at", get("/api/areas/at", lat=11.52, lon=106.9))
    with app.app_context():
        from hotline.services import maps, public_results
        sql = _cluster_sql(maps, public_results)
        plan = db.session.execute(text("EXPLAIN (ANALYZE, BUFFERS) " + sql)).scalars().all()
        explains[f"clusters_zoom11@{size}"] = plan
        db.session.rollback()


def _screen(zoom: int, lat: float = 11.53, lon: float = 106.9) -> str:
    import math
    deg = 360 / 256 / 2 ** zoom
    half_w, half_h = 1366 / 2 * deg, 900 / 2 * deg * math.cos(math.radians(lat))
    return f"{lat - half_h:.5f},{lon - half_w:.5f},{lat + half_h:.5f},{lon + half_w:.5f}"


def _days_ago(n: int) -> str:
    from datetime import datetime, timedelta
    from zoneinfo import ZoneInfo
    today = datetime.now(UTC).astimezone(ZoneInfo("Asia/Ho_Chi_Minh")).date()
    return (today - timedelta(days=n)).isoformat()


def _cluster_sql(maps, public_results) -> str:
    from sqlalchemy import Integer, cast, func, literal, select

    from hotline.extensions import db
    from hotline.models import Ticket
    box = maps.Box.parse(PROVINCE_BBOX)
    cell = maps.cell_degrees(11)
    t = Ticket.__table__.c
    gy = cast((t.lat - literal(box.south)) / literal(cell), Integer).label("gy")
    gx = cast((t.lon - literal(box.west)) / literal(cell), Integer).label("gx")
    stmt = (select(gy, gx, func.count(), func.avg(t.lat), func.avg(t.lon))
            .where(*public_results.published_conditions(public_results.ResultFilters()),
                   t.lat.is_not(None), t.lat.between(box.south, box.north),
                   t.lon.between(box.west, box.east)).group_by(gy, gx))
    return str(stmt.compile(db.engine, compile_kwargs={"literal_binds": True}))


def run(sizes: list[int], keep: bool, repeat: int) -> None:
    from flask_migrate import upgrade

    from hotline import create_app
    from hotline.extensions import db
    from hotline.services import demo

    results: list[Measurement] = []
    explains: dict = {}
    with scratch_database(DB_NAME, keep=keep) as url:
        app = create_app({"SQLALCHEMY_DATABASE_URI": url, "REDIS_URL": None, "TESTING": True,
                          "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
                          "SECRET_KEY": "bench"})
        with app.app_context():
            progress("schema: flask db upgrade")
            upgrade()
            progress("demo organisation (no tickets)")
            demo.seed(tickets=0)
            db.session.commit()
        have = 0
        for size in sizes:
            with app.app_context():
                _grow(have, size)
                progress("points near each ward's centroid")
                _place_points()
            have = size
            measure_at(app, size, repeat, results, explains)
    print_table(results)
    path = write_results("maps", results, sizes=sizes, database="PostgreSQL (local)",
                         explain=explains)
    progress(f"results written to {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--repeat", type=int, default=30)
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    run(sorted(int(s.replace("_", "")) for s in args.sizes.split(",")), args.keep, args.repeat)


if __name__ == "__main__":
    main()
