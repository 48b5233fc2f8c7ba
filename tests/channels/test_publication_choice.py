"""The citizen's say on publication on every channel: default publish (redacted), one step
to refuse — chat and e-mail by replying «KHONG CONG KHAI», web and phone by one box, any
channel from the private status page — and a refusal takes down what was published."""
from __future__ import annotations

import json
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from channels import email as email_channel
from channels.telegram import SECRET_HEADER
from hotline.extensions import db
from hotline.models import InboundMessage, OutboxMessage, Ticket, TicketEvent
from hotline.services import public, publication_choice
from tests.channels import fake_telegram
from tests.channels.conftest import CHANNEL_SETTINGS, SIGNATURES, fixture_bytes
from tests.services.test_public import give_result

TELEGRAM = "/channels/telegram/webhook"


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


def telegram(client, update_id: int, text: str):
    data = json.loads(fixture_bytes("telegram_text.json"))
    data["update_id"] = update_id
    data["message"]["message_id"] = update_id % 1000
    data["message"]["text"] = text
    return client.post(TELEGRAM, data=json.dumps(data, ensure_ascii=False).encode(),
                       headers={"Content-Type": "application/json",
                                SECRET_HEADER: SIGNATURES["telegram_secret_token"]})


def outbox(purpose: str) -> list[OutboxMessage]:
    return list(db.session.scalars(select(OutboxMessage).where(OutboxMessage.purpose == purpose)
                                   .order_by(OutboxMessage.id)))


def test_parse_command():
    assert publication_choice.parse_command("KHONG CONG KHAI") == ""
    assert publication_choice.parse_command("  không công khai! ") == ""
    assert publication_choice.parse_command("Không Công Khai pa-26-7k3m9q") == "PA-26-7K3M9Q"
    assert publication_choice.parse_command("Không công khai số nhà của tôi") is None
    assert publication_choice.parse_command("Đèn đường hỏng") is None
    assert publication_choice.parse_command(None) is None


def test_telegram_citizen_refuses_by_replying(client, org, make_user):
    assert telegram(client, 914200101, "Đèn đường trên đường Phú Riềng Đỏ bị hỏng 3 bóng, "
                                       "buổi tối rất tối.").status_code == 200
    ticket = db.session.scalar(select(Ticket))
    assert ticket.consent_publish  # the default: published once redacted and moderated
    [ack] = outbox("ack")
    assert f"KHONG CONG KHAI {ticket.code}" in ack.payload["text"]
    assert "sau khi ẩn thông tin cá nhân" in ack.payload["text"]
    # The result is published; then the citizen refuses: it comes down at once.
    give_result(ticket)
    manager = make_user("manager", username="lanhdao")
    draft = public.prepare_publication(ticket)
    public.approve_publication(manager, ticket, draft.summary, draft.result)
    db.session.commit()
    assert client.get(f"/results/{ticket.code}").status_code == 200
    for _ in range(2):  # a redelivery changes nothing more
        assert telegram(client, 914200102, "Không công khai").status_code == 200
    db.session.expire_all()
    ticket = db.session.get(Ticket, ticket.id)
    assert db.session.scalars(select(Ticket)).all() == [ticket]     # not a new report
    assert not ticket.consent_publish and ticket.published_at is None
    assert client.get(f"/results/{ticket.code}").status_code == 404
    [confirm] = outbox("publication_refused")
    assert confirm.channel == "telegram" and ticket.code in confirm.payload["text"]
    refusals = db.session.scalars(select(TicketEvent).where(
        TicketEvent.type == "publication_refused")).all()
    assert len(refusals) == 1 and refusals[0].data["was_published"] is True
    assert db.session.scalar(select(InboundMessage.ticket_id).where(
        InboundMessage.external_id == "914200102")) == ticket.id
    assert public.publication_queue(manager).tickets == []


def test_another_chat_cannot_refuse_someone_elses_ticket(client, org):
    telegram(client, 914200101, "Đèn đường hỏng 3 bóng trên đường Phú Riềng Đỏ.")
    ticket = db.session.scalar(select(Ticket))
    data = json.loads(fixture_bytes("telegram_text.json"))
    data.update(update_id=914200199)
    data["message"].update(text=f"KHONG CONG KHAI {ticket.code}",
                           chat={"id": 777, "type": "private", "first_name": "X"})
    data["message"]["from"]["id"] = 777
    client.post(TELEGRAM, data=json.dumps(data).encode(),
                headers={"Content-Type": "application/json",
                         SECRET_HEADER: SIGNATURES["telegram_secret_token"]})
    db.session.expire_all()
    assert db.session.get(Ticket, ticket.id).consent_publish


def _mail(subject: str, body: str, *, msg_id: str, in_reply_to: str | None = None) -> bytes:
    msg = EmailMessage()
    msg["From"] = "Trần Văn Bảy <bay.tran@example.vn>"
    msg["To"] = "1022@hotline.example.gov.vn"
    msg["Subject"] = subject
    msg["Message-ID"] = msg_id
    if in_reply_to:
        msg["In-Reply-To"] = in_reply_to
    msg.set_content(body)
    return msg.as_bytes()


def test_email_citizen_refuses_by_replying_or_in_the_first_mail(app, org):
    first = email_channel.ingest(_mail("Rác ùn ứ ở chợ Tân Bình", "Rác thải ùn ứ hai ngày nay "
                                       "ở cổng chợ Tân Bình, bốc mùi.", msg_id="<m1@example.vn>"))
    ticket = db.session.get(Ticket, first.ticket_id)
    assert ticket.consent_publish
    assert "KHONG CONG KHAI" in outbox("ack")[0].payload["text"]
    reply = email_channel.ingest(_mail(f"Re: [{ticket.code}] Tổng đài 1022",
                                       "KHÔNG CÔNG KHAI\n\n> Tổng đài 1022 đã tiếp nhận...",
                                       msg_id="<m2@example.vn>"))
    assert reply.ticket_id == ticket.id and not reply.created
    db.session.refresh(ticket)
    assert not ticket.consent_publish and outbox("publication_refused")
    # A new report that says so on a line of its own is never published either.
    other = email_channel.ingest(_mail("Đường hư", "Ổ gà lớn trước trường học.\nKhông công khai",
                                       msg_id="<m3@example.vn>"))
    assert other.created and not db.session.get(Ticket, other.ticket_id).consent_publish
    assert "không được công khai" in outbox("ack")[-1].payload["text"]


def test_greeting_and_help_say_how_to_refuse(app):
    from hotline.services import chat_replies
    for channel in ("telegram", "zalo", "facebook"):
        assert "KHONG CONG KHAI <mã phiếu>" in chat_replies.welcome_text(channel)
    assert "KHONG CONG KHAI <mã phiếu>" in chat_replies.help_text("telegram")
