"""Zalo OA: signed events in (exactly their tickets, once), customer-service messages out
through a fake of the OA API (``responses``), including access-token expiry and refresh."""
from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from urllib.parse import parse_qs

import pytest
import requests
import responses
from sqlalchemy import select

from channels.base import PermanentDeliveryError, TransientDeliveryError, get_adapter
from channels.zalo import SIGNATURE_HEADER, ZaloAdapter, signature
from hotline.extensions import db
from hotline.models import Attachment, ChannelToken, InboundMessage, OutboxMessage, Ticket
from tests.channels.conftest import CHANNEL_SETTINGS, SIGNATURES, counts, fixture_bytes, outbound

URL = "/channels/zalo/webhook"
SEND_URL = CHANNEL_SETTINGS["ZALO_API_BASE_URL"] + "/v3.0/oa/message/cs"
TOKEN_URL = CHANNEL_SETTINGS["ZALO_OAUTH_BASE_URL"] + "/v4/oa/access_token"
IMAGE_URL = "https://example.invalid/full.jpg"
JPEG = b"\xff\xd8\xff\xe0zalo-image\xff\xd9"
SENT = {"data": {"message_id": "8a2f0bd3b44d5c13055c", "user_id": "2468458835291979221"},
        "error": 0, "message": "Success"}
EXPIRED = {"error": -216, "message": "Access token is invalid"}
REFRESHED = {"access_token": "zalo-access-2", "refresh_token": "zalo-refresh-2",
             "expires_in": "90000"}


@pytest.fixture
def app_config():
    return dict(CHANNEL_SETTINGS)


@pytest.fixture(autouse=True)
def zalo_api():
    """Zalo's hosts and its image CDN, faked; anything unregistered is a connection error."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.GET, IMAGE_URL, body=JPEG, content_type="image/jpeg")
        yield rsps


def post(client, name: str | None = None, *, body: bytes | None = None, sig: str | None = "auto"):
    body = fixture_bytes(name) if name else body
    headers = {"Content-Type": "application/json"}
    if sig == "auto":
        sig = SIGNATURES["zalo_signatures"][name]
    if sig is not None:
        headers[SIGNATURE_HEADER] = sig
    return client.post(URL, data=body, headers=headers)


def sign(body: bytes) -> str:
    return signature(SIGNATURES["zalo_app_id"], body, str(json.loads(body)["timestamp"]),
                     SIGNATURES["zalo_oa_secret_key"])


def test_text_event_opens_one_ticket(client, org):
    for _ in range(3):
        assert post(client, "zalo_user_send_text.json").status_code == 200
    [ticket] = db.session.scalars(select(Ticket)).all()
    assert ticket.channel == "zalo" and ticket.external_id == "96d3cdf3af150460909a"
    assert ticket.description.startswith("Xin hỏi thủ tục cấp đổi giấy phép lái xe")
    assert ticket.contact.zalo_user_id == "2468458835291979221"
    assert ticket.received_at == datetime(2025, 11, 22, 7, 40, tzinfo=UTC)
    assert [m.external_id for m in db.session.scalars(select(InboundMessage))] == \
        ["96d3cdf3af150460909a"]
    [ack] = db.session.scalars(select(OutboxMessage)).all()
    assert (ack.purpose, ack.channel, ack.recipient) == ("ack", "zalo", "2468458835291979221")


def test_image_then_location_make_one_ticket_with_the_photo_stored(client, org, zalo_api):
    for _ in range(3):
        assert post(client, "zalo_user_send_image.json").status_code == 200
        assert post(client, "zalo_user_send_location.json").status_code == 200
    [ticket] = db.session.scalars(select(Ticket)).all()
    assert ticket.description == "Ổ gà lớn trước cổng trường tiểu học"
    assert (ticket.lat, ticket.lon) == (11.6527, 106.6034)
    [photo] = db.session.scalars(select(Attachment)).all()
    assert photo.remote_ref == IMAGE_URL
    # The download job ran after the commit (in-process mode), once.
    assert photo.size == len(JPEG) and photo.storage_key
    assert sum(c.request.url == IMAGE_URL for c in zalo_api.calls) == 1
    assert len(db.session.scalars(select(InboundMessage)).all()) == 2


def test_follow_sends_a_welcome_and_opens_no_ticket(client, org):
    for _ in range(3):
        assert post(client, "zalo_follow.json").status_code == 200
    assert counts()["tickets"] == 0 and counts()["inbound_messages"] == 0
    [welcome] = db.session.scalars(select(OutboxMessage)).all()
    assert welcome.purpose == "welcome" and welcome.channel == "zalo"
    assert welcome.recipient == "2468458835291979223" and welcome.ticket_id is None
    assert "Tổng đài 1022" in welcome.payload["text"]


@pytest.mark.parametrize("sig", [
    None, "", "mac=", "mac=" + "0" * 64,
    SIGNATURES["zalo_signatures"]["zalo_user_send_image.json"],  # another event's signature
    SIGNATURES["zalo_signatures"]["zalo_user_send_text.json"].removeprefix("mac="),
])
def test_wrong_signature_is_refused_and_stores_nothing(client, org, sig):
    before = counts()
    response = post(client, "zalo_user_send_text.json", sig=sig)
    assert response.status_code == 401
    assert counts() == before


def test_tampered_body_is_refused(client, org):
    body = fixture_bytes("zalo_user_send_text.json").replace(b"0912 345 678",
                                                              b"0999 999 999")
    response = post(client, body=body,
                    sig=SIGNATURES["zalo_signatures"]["zalo_user_send_text.json"])
    assert response.status_code == 401 and counts()["tickets"] == 0


def test_stale_events_are_refused_and_fresh_ones_accepted(client, org, app):
    app.config["ZALO_MAX_AGE_SECONDS"] = 600
    before = counts()
    response = post(client, "zalo_user_send_text.json")  # signed right, but from 2025
    assert response.status_code == 401 and "stale" in response.get_json()["error"]["message"]
    assert counts() == before
    now_ms = str(int(time.time() * 1000))
    fresh = fixture_bytes("zalo_user_send_text.json").replace(b'"1763797200000"',
                                                              f'"{now_ms}"'.encode())
    assert post(client, body=fresh, sig=sign(fresh)).status_code == 200
    assert counts()["tickets"] == before["tickets"] + 1


@pytest.mark.parametrize("body, reason", [
    (b"{oops", "not valid JSON"),
    (b'{"event_name": "user_send_text"}', "timestamp"),
    (b'{"event_name": "user_send_text", "timestamp": "1763797200000", "sender": {"id": "1"},'
     b' "message": {"text": "no id"}}', "msg_id"),
    (b'{"event_name": "user_send_location", "timestamp": "1763797200000", "sender": {"id": "1"},'
     b' "message": {"msg_id": "x", "attachments": [{"type": "location", "payload":'
     b' {"coordinates": {"latitude": "north", "longitude": "1"}}}]}}', "coordinates"),
    (b'{"event_name": "user_send_text", "timestamp": "1763797200000", "sender": {"id": "1"},'
     b' "message": {"msg_id": "y", "text": "   "}}', "text"),
])
def test_malformed_events_are_a_400_and_store_nothing(client, org, body, reason):
    before = counts()
    sig = sign(body) if b"timestamp" in body else "mac=whatever"
    response = post(client, body=body, sig=sig)
    assert response.status_code == 400
    assert reason in response.get_json()["error"]["message"]
    assert counts() == before


def test_other_events_are_acknowledged_and_ignored(client, org):
    body = (b'{"app_id": "3608465249409039670", "event_name": "oa_send_text", "timestamp":'
            b' "1763797200000", "sender": {"id": "3886132808788086452"}, "recipient": {"id": "1"},'
            b' "message": {"msg_id": "echo", "text": "our own reply"}}')
    assert post(client, body=body, sig=sign(body)).status_code == 200
    assert counts()["tickets"] == 0


def test_disabled_channel_is_refused(client, org, app):
    app.config["ZALO_OA_SECRET_KEY"] = ""
    response = post(client, "zalo_user_send_text.json")
    assert response.status_code == 503 and counts()["tickets"] == 0
    assert get_adapter("zalo", app.config) is None


# -- outbound --------------------------------------------------------------------------------

def _ack_row(client) -> OutboxMessage:
    assert post(client, "zalo_user_send_text.json").status_code == 200
    return db.session.scalar(select(OutboxMessage).where(OutboxMessage.purpose == "ack"))


def _sends(rsps):
    return [c for c in rsps.calls if c.request.url == SEND_URL]


def _refreshes(rsps):
    return [c for c in rsps.calls if c.request.url == TOKEN_URL]


def test_acknowledgement_is_sent_as_a_customer_service_message(client, org, app, zalo_api):
    ack = _ack_row(client)
    zalo_api.calls.reset()
    zalo_api.add(responses.POST, SEND_URL, json=SENT)
    result = get_adapter("zalo", app.config).send(outbound(ack))
    assert result.provider_id == "8a2f0bd3b44d5c13055c"
    [call] = _sends(zalo_api)
    assert call.request.headers["access_token"] == "zalo-access-1"
    assert json.loads(call.request.body) == {"recipient": {"user_id": "2468458835291979221"},
                                             "message": {"text": ack.payload["text"]}}


def test_expired_token_is_refreshed_stored_and_the_send_retried_once(client, org, app, zalo_api):
    ack = _ack_row(client)
    db.session.query(ChannelToken).delete()  # whatever the in-process relay did
    db.session.commit()
    zalo_api.calls.reset()
    zalo_api.add(responses.POST, SEND_URL, json=EXPIRED)
    zalo_api.add(responses.POST, SEND_URL, json=SENT)
    zalo_api.add(responses.POST, TOKEN_URL, json=REFRESHED)
    adapter = ZaloAdapter(app.config)
    assert adapter.send(outbound(ack)).provider_id == "8a2f0bd3b44d5c13055c"
    db.session.commit()  # what the relay job does after the send
    first, second = _sends(zalo_api)
    assert first.request.headers["access_token"] == "zalo-access-1"
    assert second.request.headers["access_token"] == "zalo-access-2"
    [refresh] = _refreshes(zalo_api)
    assert refresh.request.headers["secret_key"] == "test-zalo-app-secret"
    assert parse_qs(refresh.request.body) == {"refresh_token": ["zalo-refresh-1"],
                                              "app_id": [SIGNATURES["zalo_app_id"]],
                                              "grant_type": ["refresh_token"]}
    row = db.session.get(ChannelToken, "zalo")
    assert (row.access_token, row.refresh_token) == ("zalo-access-2", "zalo-refresh-2")
    assert timedelta(hours=24) < row.expires_at - datetime.now(UTC) <= timedelta(seconds=90000)
    # The next send uses the stored pair, with no refresh.
    zalo_api.calls.reset()
    adapter.send(outbound(ack))
    [call] = _sends(zalo_api)
    assert call.request.headers["access_token"] == "zalo-access-2" and not _refreshes(zalo_api)


def test_new_environment_tokens_replace_the_stored_pair(client, org, app, zalo_api):
    ack = _ack_row(client)
    db.session.merge(ChannelToken(channel="zalo", access_token="old", refresh_token="old-r",
                                  seed_fingerprint="from-an-earlier-seed"))
    db.session.commit()
    zalo_api.calls.reset()
    zalo_api.add(responses.POST, SEND_URL, json=SENT)
    ZaloAdapter(app.config).send(outbound(ack))
    assert _sends(zalo_api)[0].request.headers["access_token"] == "zalo-access-1"


def test_a_token_about_to_expire_is_refreshed_before_sending(client, org, app, zalo_api):
    ack = _ack_row(client)
    adapter = ZaloAdapter(app.config)
    zalo_api.add(responses.POST, SEND_URL, json=SENT)
    adapter.send(outbound(ack))  # seeds the row from the environment
    row = db.session.get(ChannelToken, "zalo")
    row.expires_at = datetime.now(UTC) + timedelta(seconds=10)
    db.session.commit()
    zalo_api.calls.reset()
    zalo_api.add(responses.POST, TOKEN_URL, json=REFRESHED)
    adapter.send(outbound(ack))
    assert len(_refreshes(zalo_api)) == 1
    assert [c.request.headers["access_token"] for c in _sends(zalo_api)] == ["zalo-access-2"]


def test_still_rejected_after_one_refresh_is_permanent(client, org, app, zalo_api):
    ack = _ack_row(client)
    db.session.query(ChannelToken).delete()
    db.session.commit()
    zalo_api.calls.reset()
    zalo_api.add(responses.POST, SEND_URL, json=EXPIRED)
    zalo_api.add(responses.POST, TOKEN_URL, json=REFRESHED)
    with pytest.raises(PermanentDeliveryError, match="even after a refresh"):
        ZaloAdapter(app.config).send(outbound(ack))
    assert len(_sends(zalo_api)) == 2 and len(_refreshes(zalo_api)) == 1


@pytest.mark.parametrize("refresh_answer, error", [
    (dict(json={"error": -14014, "error_name": "Invalid refresh token",
                "error_description": "Refresh token is invalid or expired"}),
     PermanentDeliveryError),
    (dict(status=502, body="Bad Gateway"), TransientDeliveryError),
    (dict(body=requests.ConnectTimeout("timed out")), TransientDeliveryError),
])
def test_refresh_failures(client, org, app, zalo_api, refresh_answer, error):
    ack = _ack_row(client)
    db.session.query(ChannelToken).delete()
    db.session.commit()
    zalo_api.add(responses.POST, SEND_URL, json=EXPIRED)
    zalo_api.add(responses.POST, TOKEN_URL, **refresh_answer)
    with pytest.raises(error):
        ZaloAdapter(app.config).send(outbound(ack))


def test_refresh_without_the_app_secret_is_permanent(client, org, app, zalo_api):
    ack = _ack_row(client)
    db.session.query(ChannelToken).delete()
    db.session.commit()
    app.config["ZALO_APP_SECRET"] = None
    zalo_api.add(responses.POST, SEND_URL, json=EXPIRED)
    with pytest.raises(PermanentDeliveryError, match="ZALO_APP_SECRET"):
        ZaloAdapter(app.config).send(outbound(ack))


@pytest.mark.parametrize("answer, error", [
    (dict(status=500, json={"error": -500, "message": "Internal error"}), TransientDeliveryError),
    (dict(status=503, body="Service Unavailable"), TransientDeliveryError),
    (dict(body=requests.ReadTimeout("read timed out")), TransientDeliveryError),
    (dict(body=requests.ConnectionError("connection reset")), TransientDeliveryError),
    (dict(json={"error": -230,
                "message": "User has not interacted with the OA in the last 7 days"}),
     PermanentDeliveryError),
    (dict(status=404, body="Not Found"), PermanentDeliveryError),
])
def test_send_failures_are_transient_or_permanent(client, org, app, zalo_api, answer, error):
    ack = _ack_row(client)
    zalo_api.add(responses.POST, SEND_URL, **answer)
    with pytest.raises(error):
        ZaloAdapter(app.config).send(outbound(ack))
