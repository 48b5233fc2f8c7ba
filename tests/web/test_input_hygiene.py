"""Input hygiene at the edges: NUL bytes and lone surrogates, integer path parameters beyond
BIGINT, and platform timestamps no clock ever showed — each answered with a clear 4xx (the
API's own error format on Open311) or cleaned, never a 500, and nothing written on refusal."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from xml.etree import ElementTree as ET

import pytest
from sqlalchemy import func, select

from channels.facebook import SIGNATURE_HEADER, signature
from channels.telegram import SECRET_HEADER
from hotline.extensions import db
from hotline.models import Contact, InboundMessage, Ticket
from hotline.services import accounts
from tests.channels.conftest import CHANNEL_SETTINGS, SIGNATURES, fixture_bytes
from tests.photos import image_bytes
from tests.web.test_public import submit

UNSTORABLE = "Yêu cầu chứa ký tự không hợp lệ"


@pytest.fixture
def app_config():
    return dict(CHANNEL_SETTINGS)


@pytest.fixture
def api_key(org):
    _row, key = accounts.create_api_key("Ứng dụng thử")
    db.session.commit()
    return key


def rows() -> tuple[int, int, int]:
    db.session.rollback()  # see what other connections committed
    return tuple(db.session.scalar(select(func.count()).select_from(m))
                 for m in (Ticket, InboundMessage, Contact))


def open311_post(client, key, **data):
    body = {"api_key": key, "service_code": "CS", "lat": "11.5349", "long": "106.8823",
            "description": "Đèn đường hỏng trước cổng chợ."}
    body.update(data)
    return client.post("/open311/v2/requests.json", data=body)


# --- NUL and lone surrogates ------------------------------------------------------------------

def test_nul_in_an_open311_service_code_is_a_spec_400_and_stores_nothing(client, api_key):
    resp = open311_post(client, api_key, service_code="CS\x00")
    assert resp.status_code == 400
    body = resp.get_json()
    assert body[0]["code"] == 400 and UNSTORABLE in body[0]["description"]
    assert rows() == (0, 0, 0)
    resp = open311_post(client, api_key, description="Đèn\x00 hỏng")
    assert resp.status_code == 400 and rows() == (0, 0, 0)


def test_nul_in_an_open311_path_is_a_spec_400(client, org):
    resp = client.get("/open311/v2/services/%00.json")
    assert resp.status_code == 400 and UNSTORABLE in resp.get_json()[0]["description"]
    resp = client.get("/open311/v2/services/CS%00.xml")
    assert resp.status_code == 400 and resp.mimetype == "text/xml"
    assert ET.fromstring(resp.data).find("error/code").text == "400"
    resp = client.get("/open311/v2/requests.json?service_code=%00")
    assert resp.status_code == 400 and resp.get_json()[0]["code"] == 400


def test_nul_in_the_nearby_hint_query_is_refused(client, org):
    resp = client.get("/submit/nearby?field=%00&lat=11.53&lon=106.88")
    assert resp.status_code == 400
    assert UNSTORABLE in resp.get_data(as_text=True)


def test_nul_in_the_web_form_is_a_vietnamese_400_and_stores_nothing(client, org):
    resp = submit(client, description="Ba bóng đèn\x00 đường trước chợ bị hỏng từ tuần trước.")
    assert resp.status_code == 400
    page = resp.get_data(as_text=True)
    assert UNSTORABLE in page and "<html" in page.lower()
    assert rows() == (0, 0, 0)


def test_nul_in_a_header_or_cookie_is_refused(client, org):
    assert client.get("/", headers={"X-Note": "a\x00b"}).status_code == 400
    client.set_cookie("theme", "a\x00b")
    assert client.get("/").status_code == 400


def test_a_signed_webhook_with_a_lone_surrogate_becomes_a_ticket(client, org):
    update = json.loads(fixture_bytes("telegram_text.json"))
    update["update_id"] = 914299001
    # Valid JSON that no database can store as text: a lone high surrogate, and a NUL.
    body = json.dumps(update, ensure_ascii=False).replace("Phú Riềng", "Phú \\ud800Riềng\\u0000").encode()
    assert b"\\ud800" in body
    resp = client.post("/channels/telegram/webhook", data=body,
                       headers={"Content-Type": "application/json",
                                SECRET_HEADER: SIGNATURES["telegram_secret_token"]})
    assert resp.status_code == 200, resp.get_json()
    db.session.rollback()
    ticket = db.session.scalar(select(Ticket).where(Ticket.external_id == "914299001"))
    assert ticket is not None, "the staged message never became a ticket"
    assert "Phú \ufffdRiềng" in ticket.description and "\x00" not in ticket.description
    ledger = db.session.scalar(select(InboundMessage))
    assert ledger.state == "done" and ledger.error is None


def test_a_json_body_read_by_flask_is_scrubbed(app):
    with app.test_request_context("/", method="POST", data='{"a": "x\\ud800\\u0000y"}',
                                  content_type="application/json"):
        from flask import request
        assert request.get_json() == {"a": "x\ufffdy"}


# --- integer path parameters ------------------------------------------------------------------

@pytest.mark.parametrize("number", ["99999999999999999999999", str(2**63)])
def test_an_integer_path_parameter_beyond_bigint_is_a_404(client, org, number):
    assert client.get(f"/results/PA-26-AAAAAA/photos/{number}").status_code == 404


def test_the_largest_bigint_path_parameter_is_still_looked_up(client, org):
    assert client.get(f"/results/PA-26-AAAAAA/photos/{2**63 - 1}").status_code == 404


# --- platform timestamps ----------------------------------------------------------------------

def _telegram(client, update):
    return client.post("/channels/telegram/webhook", data=json.dumps(update).encode(),
                       headers={"Content-Type": "application/json",
                                SECRET_HEADER: SIGNATURES["telegram_secret_token"]})


@pytest.mark.parametrize("date", [1e20, 10**20, -5, 10**400, 4102444800],
                         ids=["float", "int", "negative", "400-digits", "year-2100"])
def test_a_telegram_date_no_clock_shows_is_stored_with_the_receive_time(client, org, date):
    update = json.loads(fixture_bytes("telegram_text.json"))
    update["message"]["date"] = date
    before = datetime.now(UTC)
    resp = _telegram(client, update)
    assert resp.status_code == 200, resp.get_json()
    db.session.rollback()
    ticket = db.session.scalar(select(Ticket))
    assert before - timedelta(seconds=1) <= ticket.received_at <= datetime.now(UTC)


def test_a_sane_telegram_date_is_kept(client, org):
    update = json.loads(fixture_bytes("telegram_text.json"))
    assert _telegram(client, update).status_code == 200
    db.session.rollback()
    assert db.session.scalar(select(Ticket)).received_at.isoformat() == \
        "2025-11-22T07:00:00+00:00"


@pytest.mark.parametrize("timestamp", [10**20, 10**400, 0], ids=["int", "400-digits", "zero"])
def test_a_facebook_timestamp_no_clock_shows_is_stored_with_the_receive_time(client, org,
                                                                           timestamp):
    payload = json.loads(fixture_bytes("facebook_message.json"))
    payload["entry"][0]["messaging"][0]["timestamp"] = timestamp
    body = json.dumps(payload).encode()
    before = datetime.now(UTC)
    resp = client.post("/channels/facebook/webhook", data=body, headers={
        "Content-Type": "application/json",
        SIGNATURE_HEADER: signature(SIGNATURES["facebook_app_secret"], body)})
    assert resp.status_code == 200, resp.get_json()
    db.session.rollback()
    ticket = db.session.scalar(select(Ticket))
    assert before - timedelta(seconds=1) <= ticket.received_at <= datetime.now(UTC)


# --- Idempotency-Key ----------------------------------------------------------------------------

def test_idempotency_key_alone_files_once_per_api_key(client, api_key):
    def again(key, idem):
        resp = client.post("/open311/v2/requests.json", headers={"Idempotency-Key": idem},
                           data={"api_key": key, "service_code": "CS", "lat": "11.5",
                                 "long": "106.8", "description": "Cây đổ chắn đường."})
        assert resp.status_code == 201, resp.get_json()
        return resp.get_json()[0]["service_request_id"]

    first = {again(api_key, "retry-1") for _ in range(3)}
    assert len(first) == 1 and rows()[0] + rows()[1] >= 1
    assert db.session.scalar(select(func.count()).select_from(InboundMessage)) == 1
    # Another client's same key is another request; another key of ours is too.
    _row, other = accounts.create_api_key("Ứng dụng khác")
    db.session.commit()
    assert again(other, "retry-1") not in first
    assert again(api_key, "retry-2") not in first
    assert db.session.scalar(select(func.count()).select_from(InboundMessage)) == 3


def test_an_overlong_idempotency_key_is_a_spec_400(client, api_key):
    resp = client.post("/open311/v2/requests.json", headers={"Idempotency-Key": "k" * 256},
                       data={"api_key": api_key, "service_code": "CS", "lat": "11.5",
                             "long": "106.8"})
    assert resp.status_code == 400 and resp.get_json()[0]["code"] == 400
    assert rows() == (0, 0, 0)


HUGE = "99999999999999999999999"


@pytest.mark.parametrize("role, url", [
    ("manager", f"/manager/approvals?after={HUGE}"),
    ("manager", f"/manager/quality?before={HUGE}&seed={HUGE}"),
    ("manager", f"/manager/quality/mine?before={HUGE}"),
    ("manager", f"/manager/publication/?after={HUGE}"),
    ("admin", f"/admin/areas?parent={HUGE}"),
    ("admin", f"/admin/calendar?year={HUGE}"),
    ("operator", f"/operator/api/areas?parent={HUGE}"),
    ("operator", f"/operator/tickets?field={HUGE}&area={HUGE}"),
])
def test_an_integer_query_value_beyond_bigint_is_ignored_not_a_500(client, staff, role, url):
    from tests.staff_fixtures import login
    login(client, getattr(staff, role))
    assert client.get(url).status_code < 500


# --- decompression bombs ------------------------------------------------------------------------

def test_a_png_bomb_on_the_web_form_is_refused_in_vietnamese_and_stores_nothing(client, org):
    from io import BytesIO

    from tests.photos import png_bomb
    bomb = png_bomb()
    # One 310 KB bomb (five would make the test client spool the body to a file it never
    # closes); bench/photos.py measures five in one go.
    resp = submit(client, files=[(BytesIO(bomb), "bom.png"), (BytesIO(image_bytes()), "a.jpg")])
    assert resp.status_code == 400
    assert "có kích thước quá lớn" in resp.get_data(as_text=True)
    assert rows() == (0, 0, 0)
