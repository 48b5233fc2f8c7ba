"""The duplicate hint leaks nothing: no typed text, distances in buckets, no triangulation."""
from __future__ import annotations

import math

from hotline.extensions import db
from hotline.models import Ticket
from hotline.services import nearby_hint

CENTRE = (11.535, 106.882)           # a point of the public ~100 m grid
# Two reports in the same grid cell, on opposite corners: about 150 m apart.
CORNER_A = (11.53452, 106.88152)
CORNER_B = (11.53548, 106.88248)


def _answers(lat0: float, lon0: float, step_m: float = 25, half: int = 12) -> dict:
    """The hint's answer from every point of a (2·half+1)² grid of queries around a point."""
    out = {}
    dlat = step_m / 111_320
    dlon = step_m / (111_320 * math.cos(math.radians(lat0)))
    for i in range(-half, half + 1):
        for j in range(-half, half + 1):
            found = nearby_hint.nearby_open("CS", lat=lat0 + i * dlat, lon=lon0 + j * dlon)
            out[(i, j)] = tuple((n.code, n.distance) for n in found)
    return out


def test_buckets():
    assert nearby_hint.bucket(0)[1] == "dưới 100 m"
    assert nearby_hint.bucket(99.9)[1] == "dưới 100 m"
    assert nearby_hint.bucket(100)[1] == "100–300 m"
    assert nearby_hint.bucket(450)[1] == "300 m–1 km"
    assert nearby_hint.bucket(1500)[1] == "1–2 km"


def test_no_set_of_queries_locates_a_report_better_than_its_grid_cell(receive):
    """Many queries from many points cannot tell apart two places ~150 m apart in one cell:
    whatever an attacker computes from the answers is at least 30 m off for one of them."""
    assert nearby_hint.distance_m(*CORNER_A, *CORNER_B) > 2 * 30
    result = receive(force_new=True, external_id="private", lat=CORNER_A[0], lon=CORNER_A[1],
                     consent_publish=True, text="Đèn hỏng trước nhà tôi, 0912 345 678.")
    ticket = db.session.get(Ticket, result.ticket_id)
    seen_at_a = _answers(*CENTRE)
    ticket.lat, ticket.lon = CORNER_B
    db.session.commit()
    seen_at_b = _answers(*CENTRE)
    assert seen_at_a == seen_at_b
    # The answers do vary with where one asks (the test is not vacuous).
    kinds = {answer[0][1] if answer else None for answer in seen_at_a.values()}
    assert kinds == {"dưới 100 m", "100–300 m", None}
    assert all("0912" not in str(answer) for answer in seen_at_a.values())


def test_a_refused_report_never_shows(receive):
    receive(force_new=True, external_id="refused", lat=CORNER_A[0], lon=CORNER_A[1],
            consent_publish=False)
    assert nearby_hint.nearby_open("CS", lat=CORNER_A[0], lon=CORNER_A[1]) == []
    assert nearby_hint.nearby_open("CS", area_code="25435") == []
