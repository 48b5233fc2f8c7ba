"""Telegram: the fixtures posted to the webhook make exactly their tickets, once; the
acknowledgement goes back through the Bot API (a local fake of api.telegram.org)."""
from __future__ import annotations

import logging

import pytest
from sqlalchemy import select

from channels.base import PermanentDeliveryError, TransientDeliveryError, get_adapter
from channels.telegram import SECRET_HEADER, TelegramAdapter, parse_update
from channels.webhooks import BadPayload
from hotline import create_app
from hotline.domain.messages import ContactHandle
from hotline.extensions import db
from hotline.models import Attachment, InboundMessage, OutboxMessage, Ticket, TicketEvent
from hotline.services import intake
from tests.channels import fake_telegram
from tests.channels.conftest import CHANNEL_SETTINGS, SIGNATURES, counts, fixture_bytes, outbound
from tests.factories import message

URL = "/channels/telegram/webhook"


@pytest.fixture
def telegram_api():
    fake = fake_telegram.FakeTelegram()
    server = fake_telegram.start(fake)
    yield fake
    server.shutdown()
    server.server_close()


@pytest.fixture
def app_config(telegram_api):
    return {**CHANNEL_SETTINGS, "TELEGRAM_API_BASE_URL": telegram_api.url}


def post(client, name_or_body, secret=SIGNATURES["telegram_secret_token"]):
    body = fixture_bytes(name_or_body) if isinstance(name_or_body, str) else name_or_body
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    return client.post(URL, data=body, headers=headers)


def start_update() -> bytes:
    """The status fixture turned into a /start (its bot_command entity fitted to the text)."""
    return fixture_bytes("telegram_command_status.json").replace(
        b"/status PA-26-000123", b"/start").replace(b'"length":7', b'"length":6')


def test_text_opens_one_ticket_however_often_it_is_delivered(client, org):
    for _ in range(3):
        response = post(client, "telegram_text.json")
        assert response.status_code == 200, response.get_json()
    tickets = db.session.scalars(select(Ticket)).all()
    assert len(tickets) == 1
    ticket = tickets[0]
    assert ticket.channel == "telegram" and ticket.external_id == "914200101"
    assert ticket.description.startswith("Đèn đường trên đường Phú Riềng Đỏ")
    assert ticket.contact.telegram_chat_id == "5012345678"
    assert ticket.contact.name == "Lan Nguyễn"
    assert ticket.received_at.isoformat() == "2025-11-22T07:00:00+00:00"
    ledger = db.session.scalars(select(InboundMessage)).all()
    assert [(m.channel, m.external_id) for m in ledger] == [("telegram", "914200101")]
    acks = db.session.scalars(select(OutboxMessage)).all()
    assert [(a.purpose, a.channel, a.recipient) for a in acks] == \
        [("ack", "telegram", "5012345678")]
    assert ticket.code in acks[0].payload["text"]
    assert response.get_json()["stored"][0] == {"code": ticket.code, "created": False,
                                                "duplicate": True, "pending": False}


def test_the_acknowledgement_goes_back_through_the_bot_api(client, org, app, telegram_api):
    post(client, "telegram_text.json")
    ack = db.session.scalar(select(OutboxMessage))
    # (In-process mode the relay may already have sent it; this checks the adapter alone.)
    telegram_api.calls.clear()
    adapter = get_adapter(ack.channel, app.config)
    assert isinstance(adapter, TelegramAdapter)
    result = adapter.send(outbound(ack))
    [call] = telegram_api.calls_to("sendMessage")
    assert call.path == f"/bot{CHANNEL_SETTINGS['TELEGRAM_BOT_TOKEN']}/sendMessage"
    assert str(call.params["chat_id"]) == "5012345678"
    assert call.params["text"] == ack.payload["text"]
    assert result.provider_id and result.provider_id.isdigit()


def test_send_failures_are_transient_or_permanent(app, telegram_api):
    adapter = TelegramAdapter(app.config)
    msg = outbound(OutboxMessage(key="k", channel="telegram", recipient="5012345678",
                                 payload={"text": "Xin chào"}))
    telegram_api.script("sendMessage", 502, {"ok": False, "error_code": 502,
                                             "description": "Bad Gateway"})
    with pytest.raises(TransientDeliveryError):
        adapter.send(msg)
    telegram_api.script("sendMessage", 429, {"ok": False, "error_code": 429,
                                             "description": "Too Many Requests: retry after 5",
                                             "parameters": {"retry_after": 5}})
    with pytest.raises(TransientDeliveryError):
        adapter.send(msg)
    telegram_api.script("sendMessage", 403, {"ok": False, "error_code": 403,
                                             "description":
                                                 "Forbidden: bot was blocked by the user"})
    with pytest.raises(PermanentDeliveryError, match="blocked"):
        adapter.send(msg)
    telegram_api.script("sendMessage", 400, {"ok": False, "error_code": 400,
                                             "description": "Bad Request: chat not found"})
    with pytest.raises(PermanentDeliveryError, match="(?i)chat not found"):
        adapter.send(msg)


def test_unreachable_api_is_transient(app):
    app.config["TELEGRAM_API_BASE_URL"] = "http://127.0.0.1:9"  # discard port: refused
    msg = outbound(OutboxMessage(key="k", channel="telegram", recipient="1",
                                 payload={"text": "x"}))
    with pytest.raises(TransientDeliveryError):
        TelegramAdapter(app.config).send(msg)


def test_photo_then_location_make_one_ticket_with_the_largest_photo(client, org, telegram_api):
    for _ in range(3):
        assert post(client, "telegram_photo_location.json").status_code == 200
        assert post(client, "telegram_location.json").status_code == 200
    [ticket] = db.session.scalars(select(Ticket)).all()
    assert ticket.description == "Rác thải đổ trộm bên lề đường ĐT741, xã Tiến Hưng"
    assert (ticket.lat, ticket.lon) == (11.5349, 106.8832)
    [photo] = db.session.scalars(select(Attachment)).all()
    assert photo.remote_ref == "AgACAgUAAxkBAAIBQ2dummy-large"
    assert db.session.scalar(select(InboundMessage.external_id).where(
        InboundMessage.external_id == "914200104")) == "914200104"
    assert len(db.session.scalars(select(InboundMessage)).all()) == 2
    # In-process mode: the getFile job ran right after the commit, once.
    [get_file] = telegram_api.calls_to("getFile")
    assert get_file.params["file_id"] == "AgACAgUAAxkBAAIBQ2dummy-large"
    db.session.refresh(photo)
    assert photo.size == len(fake_telegram.PHOTO_BYTES) and photo.sha256 and photo.storage_key
    types = db.session.scalars(select(TicketEvent.type).where(TicketEvent.ticket_id == ticket.id)
                               .order_by(TicketEvent.id)).all()
    assert types.count("location") == 1


def test_fetch_job_is_idempotent_and_retries_transient_failures(client, org, app, telegram_api):
    from channels.telegram import fetch_file
    telegram_api.script("getFile", 502, {"ok": False, "error_code": 502,
                                         "description": "Bad Gateway"})
    assert post(client, "telegram_photo_location.json").status_code == 200  # job failed, logged
    [photo] = db.session.scalars(select(Attachment)).all()
    assert photo.storage_key is None
    with pytest.raises(TransientDeliveryError):
        telegram_api.script("getFile", 502, {"ok": False, "error_code": 502,
                                             "description": "Bad Gateway"})
        fetch_file(photo.id)  # what rq sees: an exception, so it retries with backoff
    fetch_file(photo.id)
    fetch_file(photo.id)  # stored already: no second download
    db.session.refresh(photo)
    assert photo.storage_key
    assert len(telegram_api.calls_to("file")) == 1


def test_status_command_answers_only_the_tickets_own_chat(client, org):
    lan = ContactHandle(telegram_chat_id="5012345678")
    result = intake.receive(message(channel="telegram", external_id="earlier", contact=lan))
    db.session.get(Ticket, result.ticket_id).code = "PA-26-000123"
    db.session.commit()
    before = counts()
    for _ in range(3):
        assert post(client, "telegram_command_status.json").status_code == 200
    after = counts()
    assert after["tickets"] == before["tickets"]
    assert after["inbound_messages"] == before["inbound_messages"]
    assert after["outbox"] == before["outbox"] + 1
    reply = db.session.scalar(select(OutboxMessage).where(OutboxMessage.purpose == "status"))
    assert reply.recipient == "5012345678" and reply.channel == "telegram"
    assert "PA-26-000123" in reply.payload["text"]
    assert "Đã chuyển cơ quan xử lý" in reply.payload["text"]  # routed to the lighting agency
    # Someone else asking about Lan's code learns nothing.
    other = fixture_bytes("telegram_command_status.json").replace(
        b'"update_id":914200102', b'"update_id":914200999').replace(b"5012345678", b"5099911122")
    assert post(client, other).status_code == 200
    stranger = db.session.scalar(select(OutboxMessage)
                                 .where(OutboxMessage.recipient == "5099911122"))
    assert "PA-26-000123" not in stranger.payload["text"]
    assert stranger.payload["text"].startswith("Không tìm thấy phiếu")


def test_start_greets_without_a_ticket(client, org):
    body = start_update()
    for _ in range(2):
        assert post(client, body).status_code == 200
    assert counts()["tickets"] == 0
    [greeting] = db.session.scalars(select(OutboxMessage)).all()
    assert greeting.purpose == "welcome" and greeting.recipient == "5012345678"
    assert "Tổng đài 1022" in greeting.payload["text"] and "/status" in greeting.payload["text"]


@pytest.mark.parametrize("secret", [None, "", "wrong-secret",
                                    SIGNATURES["telegram_secret_token"] + "x"])
def test_wrong_secret_is_refused_and_stores_nothing(client, org, secret):
    before = counts()
    response = post(client, "telegram_text.json", secret=secret)
    assert response.status_code == 401
    assert response.get_json()["error"]["reason"] == "bad_signature"
    assert counts() == before


@pytest.mark.parametrize("body, reason", [
    (b"{not json", "not valid JSON"),
    (b"[1, 2]", "JSON object"),
    (b'{"message": {"text": "hi"}}', "update_id"),
    (b'{"update_id": "914200101"}', "update_id"),
    (b'{"update_id": 1, "message": {"message_id": 1, "chat": {"id": 1, "type": "private"}}}',
     "not a Telegram Update"),
])
def test_malformed_body_is_a_400_with_a_reason(client, org, body, reason):
    before = counts()
    response = post(client, body)
    assert response.status_code == 400
    assert reason in response.get_json()["error"]["message"]
    assert counts() == before


def test_updates_without_content_are_acknowledged_and_ignored(client, org):
    sticker = (b'{"update_id": 5, "message": {"message_id": 9, "date": 1763794800, '
               b'"chat": {"id": 42, "type": "private"}, "sticker": {"file_id": "s", '
               b'"file_unique_id": "u", "width": 1, "height": 1, "is_animated": false, '
               b'"is_video": false, "type": "regular"}}}')
    edited = (b'{"update_id": 6, "edited_message": {"message_id": 9, "date": 1763794800, '
              b'"chat": {"id": 42, "type": "private"}, "text": "edited"}}')
    for body in (sticker, edited):
        assert post(client, body).status_code == 200
    assert counts()["tickets"] == 0


def test_disabled_channel_is_refused_and_announced(database_url, tmp_path, caplog):
    caplog.set_level(logging.WARNING)
    app = create_app({"TESTING": True, "SQLALCHEMY_DATABASE_URI": database_url,
                      "UPLOAD_FOLDER": str(tmp_path)})
    assert "telegram (missing TELEGRAM_BOT_TOKEN, TELEGRAM_WEBHOOK_SECRET)" in caplog.text
    with app.app_context():
        response = app.test_client().post(URL, data=fixture_bytes("telegram_text.json"),
                                          headers={SECRET_HEADER: ""})
        assert response.status_code == 503
        assert response.get_json()["error"]["reason"] == "channel_disabled"
        assert get_adapter("telegram", app.config) is None
        assert db.session.scalar(select(Ticket.id)) is None
        db.session.remove()
        db.engine.dispose()


def test_parse_update_keeps_the_chat_and_the_largest_photo():
    import json
    data = json.loads(fixture_bytes("telegram_photo_location.json"))
    [msg] = parse_update(data)
    assert msg.external_id == "914200103" and msg.contact.telegram_chat_id == "5099911122"
    assert [a.remote_ref for a in msg.attachments] == ["AgACAgUAAxkBAAIBQ2dummy-large"]
    with pytest.raises(BadPayload):
        parse_update({"update_id": True})
    # What is not a message is acknowledged and left; a message that is not one is refused.
    assert parse_update({"update_id": 5, "edited_message": data["message"]}) == []
    assert parse_update({"update_id": 6, "message": {"message_id": 1, "date": 1763794800}}) == []
    for broken in ("text", {"message_id": 1, "chat": {"id": 1, "type": "private"}}):
        with pytest.raises(BadPayload):
            parse_update({"update_id": 7, "message": broken})
    # A slash without Telegram's bot_command mark is just text.
    text = json.loads(fixture_bytes("telegram_text.json"))
    text["message"]["text"] = "/ đường ngập"
    [msg] = parse_update(text)
    assert msg.text == "/ đường ngập"


def test_set_webhook_command_registers_the_secret(app, runner, telegram_api):
    result = runner.invoke(args=["channels", "telegram-set-webhook",
                                 "https://1022.example.gov.vn/channels/telegram/webhook"])
    assert result.exit_code == 0, result.output
    [call] = telegram_api.calls_to("setWebhook")
    assert call.params["secret_token"] == SIGNATURES["telegram_secret_token"]
    assert call.params["url"].endswith("/channels/telegram/webhook")


def test_without_redis_the_relay_answers_right_after_the_webhook(client, org, telegram_api):
    """End to end in the embedded mode: the acknowledgement and the greeting reach the chat."""
    assert post(client, "telegram_text.json").status_code == 200
    start = start_update()
    assert post(client, start).status_code == 200
    rows = db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)).all()
    assert [(r.purpose, r.status) for r in rows] == [("ack", "sent"), ("welcome", "sent")]
    sent = [c.params["text"] for c in telegram_api.calls_to("sendMessage")]
    assert sent == [r.payload["text"] for r in rows]
