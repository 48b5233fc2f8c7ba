"""Facebook Messenger: handshake, signed batches in (each message once), Send API out
through a fake of the Graph API (``responses``)."""
from __future__ import annotations

import json

import pytest
import requests
import responses
from sqlalchemy import select

from channels.base import PermanentDeliveryError, TransientDeliveryError, get_adapter
from channels.facebook import SIGNATURE_HEADER, FacebookAdapter, signature
from hotline.extensions import db
from hotline.models import Attachment, InboundMessage, OutboxMessage, Ticket
from tests.channels.conftest import CHANNEL_SETTINGS, SIGNATURES, counts, fixture_bytes, outbound

URL = "/channels/facebook/webhook"
SEND_URL = CHANNEL_SETTINGS["FACEBOOK_GRAPH_BASE_URL"] + "/me/messages"
PSID = "7012345678901234"
SENT = {"recipient_id": PSID, "message_id": "m_Xy9ReplyMid0001"}


@pytest.fixture
def app_config():
    return dict(CHANNEL_SETTINGS)


@pytest.fixture(autouse=True)
def graph_api():
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        yield rsps


def post(client, body: bytes, sig: str | None = "auto"):
    headers = {"Content-Type": "application/json"}
    if sig == "auto":
        sig = signature(SIGNATURES["facebook_app_secret"], body)
    if sig is not None:
        headers[SIGNATURE_HEADER] = sig
    return client.post(URL, data=body, headers=headers)


def test_handshake_echoes_the_challenge_only_for_our_verify_token(client):
    ok = client.get(URL, query_string={"hub.mode": "subscribe", "hub.challenge": "1158201444",
                                       "hub.verify_token": "test-facebook-verify-token"})
    assert ok.status_code == 200 and ok.get_data(as_text=True) == "1158201444"
    for params in ({"hub.mode": "subscribe", "hub.challenge": "1", "hub.verify_token": "nope"},
                   {"hub.mode": "unsubscribe", "hub.challenge": "1",
                    "hub.verify_token": "test-facebook-verify-token"}, {}):
        assert client.get(URL, query_string=params).status_code == 403


def test_fixture_opens_one_ticket(client, org):
    body = fixture_bytes("facebook_message.json")
    sig = SIGNATURES["facebook_signatures"]["facebook_message.json"]
    for _ in range(3):
        assert post(client, body, sig).status_code == 200
    [ticket] = db.session.scalars(select(Ticket)).all()
    assert ticket.channel == "facebook" and ticket.external_id == "m_AbCdEf0123456789"
    assert ticket.description == "Nước sinh hoạt khu phố 3 phường Tân Phú có mùi lạ mấy hôm nay"
    assert ticket.contact.facebook_psid == PSID
    assert len(db.session.scalars(select(InboundMessage)).all()) == 1
    [ack] = db.session.scalars(select(OutboxMessage)).all()
    assert (ack.channel, ack.recipient) == ("facebook", PSID)


def _batch() -> bytes:
    """Two entries, three messages (two from one person, threading), an echo and a read."""
    def event(psid, mid, text, ts, **extra):
        return {"sender": {"id": psid}, "recipient": {"id": "104512345678901"}, "timestamp": ts,
                "message": {"mid": mid, "text": text, **extra}}
    data = {"object": "page", "entry": [
        {"id": "104512345678901", "time": 1763798400000, "messaging": [
            event("7000000000000001", "m_batch_1", "Cây đổ chắn đường", 1763798400000),
            event("7000000000000001", "m_batch_2", "Ở gần chợ Tân Phú", 1763798401000),
            event("104512345678901", "m_echo", "Tổng đài đã nhận", 1763798402000, is_echo=True),
        ]},
        {"id": "104512345678901", "time": 1763798500000, "messaging": [
            event("7000000000000002", "m_batch_3", "Mất nước từ sáng", 1763798500000),
            {"sender": {"id": "7000000000000002"}, "recipient": {"id": "104512345678901"},
             "timestamp": 1763798501000, "read": {"watermark": 1763798500000}},
            {"sender": {"id": "7000000000000003"}, "recipient": {"id": "104512345678901"},
             "timestamp": 1763798502000, "message": {"mid": "m_photo", "attachments": [
                 {"type": "image", "payload": {"url": "https://scontent.example.invalid/p.jpg"}}]}},
            {"sender": {"id": "7000000000000004"}, "recipient": {"id": "104512345678901"},
             "timestamp": 1763798503000, "message": {"mid": "m_like", "sticker_id": 369239263222822,
                                                     "attachments": [{"type": "image", "payload": {
                                                         "url": "https://x.invalid/like.png",
                                                         "sticker_id": 369239263222822}}]}},
        ]},
    ]}
    return json.dumps(data, ensure_ascii=False).encode()


def test_a_batch_stores_each_message_once(client, org, graph_api):
    graph_api.add(responses.GET, "https://scontent.example.invalid/p.jpg", body=b"\xff\xd8jpg",
                  content_type="image/jpeg")
    for _ in range(2):
        response = post(client, _batch())
        assert response.status_code == 200
    ledger = sorted(db.session.scalars(select(InboundMessage.external_id)))
    assert ledger == ["m_batch_1", "m_batch_2", "m_batch_3", "m_photo"]
    tickets = db.session.scalars(select(Ticket).order_by(Ticket.id)).all()
    assert [t.external_id for t in tickets] == ["m_batch_1", "m_batch_3", "m_photo"]
    photo = db.session.scalar(select(Attachment))
    assert photo.remote_ref == "https://scontent.example.invalid/p.jpg" and photo.storage_key


def test_a_bad_message_in_a_batch_stores_none_of_it(client, org):
    data = json.loads(_batch())
    data["entry"][1]["messaging"][0]["message"]["text"] = "x" * 20_000  # over MAX_TEXT_LENGTH
    before = counts()
    response = post(client, json.dumps(data).encode())
    assert response.status_code == 400 and "too_long" in response.get_json()["error"]["message"]
    assert counts() == before


@pytest.mark.parametrize("sig", [None, "", "sha256=" + "0" * 64, "sha1=abc",
                                 SIGNATURES["facebook_signatures"]["facebook_message.json"].upper()])
def test_wrong_signature_is_refused(client, org, sig):
    before = counts()
    assert post(client, fixture_bytes("facebook_message.json"), sig).status_code == 401
    assert counts() == before


@pytest.mark.parametrize("body, reason", [
    (b"not json", "not valid JSON"),
    (b'{"object": "instagram", "entry": []}', "page"),
    (b'{"object": "page", "entry": {}}', "entry"),
    (b'{"object": "page", "entry": [{"messaging": [{"sender": {"id": "1"}, "timestamp": 1,'
     b' "message": {"text": "no mid"}}]}]}', "mid"),
    (b'{"object": "page", "entry": [{"messaging": [{"timestamp": 1, "message": {"mid": "m"}}]}]}',
     "sender"),
])
def test_malformed_body_is_a_400(client, org, body, reason):
    before = counts()
    response = post(client, body)
    assert response.status_code == 400 and reason in response.get_json()["error"]["message"]
    assert counts() == before


def test_disabled_channel_is_refused(client, org, app):
    app.config["FACEBOOK_APP_SECRET"] = None
    response = post(client, fixture_bytes("facebook_message.json"),
                    SIGNATURES["facebook_signatures"]["facebook_message.json"])
    assert response.status_code == 503 and counts()["tickets"] == 0
    assert client.get(URL, query_string={"hub.mode": "subscribe"}).status_code == 503


def test_acknowledgement_goes_out_through_the_send_api(client, org, app, graph_api):
    post(client, fixture_bytes("facebook_message.json"))
    ack = db.session.scalar(select(OutboxMessage))
    graph_api.calls.reset()
    graph_api.add(responses.POST, SEND_URL, json=SENT)
    result = get_adapter("facebook", app.config).send(outbound(ack))
    assert result.provider_id == "m_Xy9ReplyMid0001"
    [call] = graph_api.calls
    assert "access_token=test-facebook-page-token" in call.request.url
    assert json.loads(call.request.body) == {"recipient": {"id": PSID},
                                             "messaging_type": "RESPONSE",
                                             "message": {"text": ack.payload["text"]}}


@pytest.mark.parametrize("answer, error", [
    (dict(status=500, json={"error": {"message": "An unexpected error has occurred.",
                                      "type": "OAuthException", "code": 2, "is_transient": True,
                                      "fbtrace_id": "AbC"}}), TransientDeliveryError),
    (dict(status=503, body="Service Unavailable"), TransientDeliveryError),
    (dict(body=requests.ReadTimeout("timed out")), TransientDeliveryError),
    (dict(status=400, json={"error": {"message": "(#613) Calls to this api have exceeded "
                                                 "the rate limit.",
                                      "type": "OAuthException", "code": 613, "fbtrace_id": "x"}}),
     TransientDeliveryError),
    (dict(status=400, json={"error": {"message": "(#10) This message is sent outside of "
                                                 "allowed window.",
                                      "type": "OAuthException", "code": 10,
                                      "error_subcode": 2018278, "fbtrace_id": "x"}}),
     PermanentDeliveryError),
    (dict(status=400, json={"error": {"message": "Error validating access token",
                                      "type": "OAuthException", "code": 190, "fbtrace_id": "x"}}),
     PermanentDeliveryError),
])
def test_send_failures_are_transient_or_permanent(app, graph_api, answer, error):
    graph_api.add(responses.POST, SEND_URL, **answer)
    msg = outbound(OutboxMessage(key="k", channel="facebook", recipient=PSID,
                                 payload={"text": "Xin chào"}))
    with pytest.raises(error):
        FacebookAdapter(app.config).send(msg)
