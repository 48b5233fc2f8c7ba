"""Rating a result from a chat (issue 5): ``/rate CODE N`` and ``đánh giá CODE N`` on
Telegram, Zalo and Facebook rate the sender's own ticket through the status page's rule,
answer through the outbox, and never open or thread into a ticket."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest
import responses
from sqlalchemy import select

from channels.facebook import SIGNATURE_HEADER as FB_HEADER
from channels.facebook import signature as fb_signature
from channels.telegram import SECRET_HEADER
from channels.zalo import SIGNATURE_HEADER as ZALO_HEADER
from channels.zalo import signature as zalo_signature
from hotline.domain.messages import ContactHandle
from hotline.extensions import db
from hotline.models import OutboxMessage, Ticket, TicketEvent, utcnow
from hotline.services import chat_rating, events, intake, satisfaction, status
from tests.channels import fake_telegram
from tests.channels.conftest import CHANNEL_SETTINGS, SIGNATURES, counts, fixture_bytes
from tests.factories import message

CHAT_ID = "5012345678"                 # the Telegram fixture's chat
ZALO_USER = "2468458835291979221"      # the Zalo fixture's sender
PSID = "7012345678901234"
CODE = "PA-26-7K3M9Q"


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


@pytest.fixture(autouse=True)
def other_apis():
    """Zalo's and Meta's hosts, faked (the relay may send the replies right away)."""
    with responses.RequestsMock(assert_all_requests_are_fired=False) as rsps:
        rsps.add(responses.POST, CHANNEL_SETTINGS["ZALO_API_BASE_URL"] + "/v3.0/oa/message/cs",
                 json={"data": {"message_id": "m1", "user_id": ZALO_USER}, "error": 0,
                       "message": "Success"})
        rsps.add(responses.POST, CHANNEL_SETTINGS["FACEBOOK_GRAPH_BASE_URL"] + "/me/messages",
                 json={"recipient_id": PSID, "message_id": "m_1"})
        yield rsps


@pytest.fixture
def resolved(org) -> Ticket:
    """A ticket of the fixtures' citizen with an approved result, not rated yet."""
    result = intake.receive(message(channel="telegram", external_id="u1",
                                    contact=ContactHandle(telegram_chat_id=CHAT_ID,
                                                          zalo_user_id=ZALO_USER,
                                                          facebook_psid=PSID)))
    ticket = db.session.get(Ticket, result.ticket_id)
    ticket.code = CODE
    ticket.status = "approved"
    ticket.result = "Đã thay bóng đèn."
    ticket.resolved_at = utcnow() - timedelta(days=1)
    events.record(ticket, "resolved", actor_label="handler", public=True,
                  at=ticket.resolved_at, to_status="approved", note="Đã có kết quả.")
    db.session.commit()
    return ticket


def telegram(client, update_id: int, text: str, *, chat_id: str = CHAT_ID, command=False):
    data = json.loads(fixture_bytes("telegram_text.json"))
    data["update_id"] = update_id
    data["message"]["text"] = text
    data["message"]["chat"]["id"] = data["message"]["from"]["id"] = int(chat_id)
    if command:
        data["message"]["entities"] = [{"type": "bot_command", "offset": 0,
                                        "length": len(text.split()[0])}]
    return client.post("/channels/telegram/webhook", data=json.dumps(data).encode(),
                       headers={"Content-Type": "application/json",
                                SECRET_HEADER: SIGNATURES["telegram_secret_token"]})


def zalo(client, msg_id: str, text: str, *, sender: str = ZALO_USER):
    data = json.loads(fixture_bytes("zalo_user_send_text.json"))
    data["message"] = {"msg_id": msg_id, "text": text}
    data["sender"] = {"id": sender}
    body = json.dumps(data).encode()
    sig = zalo_signature(SIGNATURES["zalo_app_id"], body, str(data["timestamp"]),
                         SIGNATURES["zalo_oa_secret_key"])
    return client.post("/channels/zalo/webhook", data=body,
                       headers={"Content-Type": "application/json", ZALO_HEADER: sig})


def facebook(client, mid: str, text: str, *, psid: str = PSID):
    body = json.dumps({"object": "page", "entry": [{"id": "1", "time": 1763797200000, "messaging": [
        {"sender": {"id": psid}, "recipient": {"id": "1"}, "timestamp": 1763797200000,
         "message": {"mid": mid, "text": text}}]}]}).encode()
    return client.post("/channels/facebook/webhook", data=body,
                       headers={"Content-Type": "application/json",
                                FB_HEADER: fb_signature(SIGNATURES["facebook_app_secret"], body)})


def reply(key: str) -> OutboxMessage:
    return db.session.scalar(select(OutboxMessage).where(OutboxMessage.key == key))


def rated_events(ticket_id: int) -> int:
    return len(db.session.scalars(select(TicketEvent).where(
        TicketEvent.ticket_id == ticket_id, TicketEvent.type == "rated")).all())


@pytest.mark.parametrize("text, command", [
    ("/rate pa-26-7k3m9q 5 Đã sửa xong, cảm ơn", True),    # the bot command
    ("Đánh giá PA-26-7K3M9Q 5 Đã sửa xong, cảm ơn", False),  # typed text
    ("danh gia PA-26-7K3M9Q 5 Đã sửa xong, cảm ơn", False),  # without accents
])
def test_telegram_owner_rates_once_and_no_ticket_is_opened(client, resolved, text, command):
    before = counts()
    for _ in range(2):  # a redelivered update rates and answers once
        assert telegram(client, 914200201, text, command=command).status_code == 200
    ticket = db.session.get(Ticket, resolved.id)
    assert ticket.rating == 5 and ticket.rating_comment == "Đã sửa xong, cảm ơn"
    assert ticket.status == "approved" and rated_events(ticket.id) == 1
    answer = reply("telegram:914200201")
    assert (answer.channel, answer.recipient, answer.purpose) == ("telegram", CHAT_ID, "rating")
    assert answer.payload["text"].startswith(f"Cảm ơn bạn đã đánh giá kết quả phiếu {CODE}: 5/5.")
    after = counts()
    assert after["tickets"] == before["tickets"]
    assert after["inbound_messages"] == before["inbound_messages"]
    assert after["outbox"] == before["outbox"] + 1


def test_zalo_owner_rates_and_not_fixed_reopens(client, resolved):
    before = counts()
    assert zalo(client, "z-rate-1", "đánh giá PA-26-7K3M9Q 1 chưa khắc phục, đèn vẫn tắt"
                ).status_code == 200
    ticket = db.session.get(Ticket, resolved.id)
    assert ticket.rating == 1 and ticket.status == "reopened" and ticket.reopened_count == 1
    answer = reply("zalo:z-rate-1")
    assert (answer.channel, answer.recipient) == ("zalo", ZALO_USER)
    assert "mở lại" in answer.payload["text"]
    assert counts()["tickets"] == before["tickets"]


def test_facebook_owner_rates(client, resolved):
    assert facebook(client, "m_rate_1", "/rate PA-26-7K3M9Q 4").status_code == 200
    assert db.session.get(Ticket, resolved.id).rating == 4
    assert reply("facebook:m_rate_1").payload["text"].startswith("Cảm ơn bạn")


@pytest.mark.parametrize("send", [
    lambda c: telegram(c, 914200301, "/rate PA-26-7K3M9Q 5", chat_id="999", command=True),
    lambda c: zalo(c, "z-stranger", "đánh giá PA-26-7K3M9Q 5", sender="111"),
    lambda c: facebook(c, "m_stranger", "Đánh giá PA-26-7K3M9Q 5", psid="222"),
])
def test_a_stranger_gets_not_found_and_changes_nothing(client, resolved, send):
    before = counts()
    assert send(client).status_code == 200
    ticket = db.session.get(Ticket, resolved.id)
    assert ticket.rating is None and ticket.rated_at is None and rated_events(ticket.id) == 0
    [answer] = db.session.scalars(select(OutboxMessage).where(OutboxMessage.purpose == "rating"))
    assert answer.payload["text"] == status.NOT_FOUND_TEXT
    after = counts()
    assert {k: after[k] - before[k] for k in after} == {
        "tickets": 0, "ticket_events": 0, "contacts": 0, "inbound_messages": 0,
        "outbox": 1, "attachments": 0}


@pytest.mark.parametrize("score", ["0", "6", "năm", "4.5"])
def test_an_invalid_score_is_explained_and_changes_nothing(client, resolved, score):
    before = counts()
    assert zalo(client, f"z-bad-{score}", f"đánh giá PA-26-7K3M9Q {score}").status_code == 200
    ticket = db.session.get(Ticket, resolved.id)
    assert ticket.rating is None and rated_events(ticket.id) == 0
    assert reply(f"zalo:z-bad-{score}").payload["text"] == chat_rating.INVALID_SCORE_TEXT
    assert counts()["tickets"] == before["tickets"]
    assert counts()["ticket_events"] == before["ticket_events"]


def test_rating_twice_or_before_a_result_is_refused_with_a_reason(client, resolved):
    telegram(client, 914200401, "/rate PA-26-7K3M9Q 5", command=True)
    telegram(client, 914200402, "/rate PA-26-7K3M9Q 1", command=True)
    assert db.session.get(Ticket, resolved.id).rating == 5
    assert reply("telegram:914200402").payload["text"] == "Bạn đã đánh giá kết quả này. Cảm ơn bạn."
    open_ticket = db.session.get(Ticket, intake.receive(message(
        channel="telegram", external_id="u2", force_new=True,
        contact=ContactHandle(telegram_chat_id=CHAT_ID))).ticket_id)
    db.session.commit()
    telegram(client, 914200403, f"/rate {open_ticket.code} 5", command=True)
    assert reply("telegram:914200403").payload["text"] == \
        chat_rating.NOT_RATEABLE_TEXT.format(code=open_ticket.code)
    assert db.session.get(Ticket, open_ticket.id).rating is None


def test_a_complaint_that_merely_starts_with_danh_gia_opens_a_ticket(client, org):
    text = "Đánh giá thấp thái độ cán bộ phường Tân Bình khi tiếp dân sáng nay."
    assert chat_rating.parse_command(text) is None
    assert zalo(client, "z-complaint", text).status_code == 200
    [ticket] = db.session.scalars(select(Ticket)).all()
    assert ticket.description.startswith("Đánh giá thấp")


def test_parse_command():
    assert chat_rating.parse_command("/rate") == ""
    assert chat_rating.parse_command("/RATE@hotline_bot PA-26-7K3M9Q 3 ok") == "PA-26-7K3M9Q 3 ok"
    assert chat_rating.parse_command("  ĐÁNH  GIÁ pa-26-7k3m9q 3\nTốt") == "pa-26-7k3m9q 3\nTốt"
    assert chat_rating.parse_command("Đèn đường hỏng") is None


def test_the_chat_invitation_says_how_to_rate_by_reply(resolved):
    assert f"trả lời: đánh giá {CODE} 1-5" in satisfaction.followup_text(resolved)
