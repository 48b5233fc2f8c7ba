"""E-mail out: the acknowledgement goes by SMTP to a local aiosmtpd sink, threaded under
``<ticket-CODE@domain>`` with the code in the subject — and the citizen's reply to it
threads back into the ticket."""
from __future__ import annotations

from email import policy
from email.parser import BytesParser

import pytest
from aiosmtpd.controller import Controller
from sqlalchemy import select

from channels.base import PermanentDeliveryError, TransientDeliveryError, get_adapter
from channels.email import EmailAdapter, ingest
from hotline.domain.messages import ContactHandle
from hotline.extensions import db
from hotline.models import OutboxMessage, Ticket, TicketEvent
from hotline.services import intake
from tests.channels.conftest import CHANNEL_SETTINGS, HOTLINE_ADDRESS, free_port, outbound
from tests.factories import message

CITIZEN = "minh.tran@example.com"


class Sink:
    """Records every mail; RCPT answers can be scripted per address."""

    def __init__(self):
        self.mails: list[tuple[str, list[str], bytes]] = []
        self.rcpt_answers: dict[str, str] = {}

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        answer = self.rcpt_answers.get(address)
        if answer:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        self.mails.append((envelope.mail_from, list(envelope.rcpt_tos), envelope.content))
        return "250 OK: queued as 4711"


@pytest.fixture
def sink():
    handler = Sink()
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port)
    controller.start()
    handler.port = port
    yield handler
    controller.stop()


@pytest.fixture
def app_config(sink):
    return {**CHANNEL_SETTINGS, "SMTP_HOST": "127.0.0.1", "SMTP_PORT": str(sink.port),
            "SMTP_STARTTLS": "false"}


def _email_ticket() -> tuple[Ticket, OutboxMessage]:
    result = intake.receive(message(channel="email", external_id="<c1@example.com>",
                                    contact=ContactHandle(email=CITIZEN, name="Trần Văn Minh"),
                                    title="Vỉa hè bị lấn chiếm"))
    db.session.commit()
    ticket = db.session.get(Ticket, result.ticket_id)
    ack = db.session.scalar(select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id))
    return ticket, ack


def test_acknowledgement_is_mailed_threaded_under_the_ticket(org, app, sink):
    ticket, ack = _email_ticket()
    assert (ack.channel, ack.recipient) == ("email", CITIZEN)
    sink.mails.clear()  # (the in-process relay may have sent it already)
    result = get_adapter("email", app.config).send(outbound(ack))
    [(mail_from, rcpt, raw)] = sink.mails
    assert mail_from == HOTLINE_ADDRESS and rcpt == [CITIZEN]
    mail = BytesParser(policy=policy.default).parsebytes(raw)
    assert f"[{ticket.code}]" in str(mail["Subject"])
    assert mail["Message-ID"].startswith(f"<ticket-{ticket.code}.")
    assert mail["Message-ID"].endswith("@hotline.example.gov.vn>")
    assert mail["In-Reply-To"] == f"<ticket-{ticket.code}@hotline.example.gov.vn>"
    assert mail["References"] == mail["In-Reply-To"]
    assert mail["Auto-Submitted"] == "auto-generated"
    assert str(mail["From"]) == f"Tổng đài 1022 <{HOTLINE_ADDRESS}>"
    assert ticket.code in mail.get_content() and "Tra cứu" in mail.get_content()
    assert result.provider_id == mail["Message-ID"]
    # Same outbox key, same Message-ID: a retried send is recognisable downstream.
    get_adapter("email", app.config).send(outbound(ack))
    again = BytesParser(policy=policy.default).parsebytes(sink.mails[-1][2])
    assert again["Message-ID"] == mail["Message-ID"]

    # The citizen answers from their mail client (which quotes our mail): it threads back.
    reply = (f"From: {CITIZEN}\r\nTo: {HOTLINE_ADDRESS}\r\nSubject: Re: Tổng đài 1022\r\n"
             f"Message-ID: <reply-1@example.com>\r\nIn-Reply-To: {mail['Message-ID']}\r\n"
             f"References: {mail['References']} {mail['Message-ID']}\r\n"
             "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"
             "Bổ sung: đoạn gần cổng chợ.\r\n\r\n> Tổng đài 1022 đã tiếp nhận\r\n").encode()
    threaded = ingest(reply, own_addresses=[HOTLINE_ADDRESS])
    assert threaded.threaded and threaded.ticket_id == ticket.id
    notes = db.session.scalars(select(TicketEvent.note).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.type == "citizen_message")).all()
    assert notes == ["Bổ sung: đoạn gần cổng chợ."]


@pytest.mark.parametrize("answer, error", [
    ("550 5.1.1 <minh.tran@example.com>: Recipient address rejected", PermanentDeliveryError),
    ("452 4.2.2 Mailbox full, try later", TransientDeliveryError),
])
def test_refused_recipients(org, app, sink, answer, error):
    _, ack = _email_ticket()
    sink.rcpt_answers[CITIZEN] = answer
    with pytest.raises(error, match=answer[:3]):
        EmailAdapter(app.config).send(outbound(ack))


def test_smtp_server_down_is_transient(org, app):
    _, ack = _email_ticket()
    app.config["SMTP_PORT"] = free_port()  # nothing listens there
    with pytest.raises(TransientDeliveryError):
        EmailAdapter(app.config).send(outbound(ack))


def test_starttls_not_offered_is_a_setting_to_fix(org, app, sink):
    _, ack = _email_ticket()
    app.config["SMTP_STARTTLS"] = "true"
    with pytest.raises(PermanentDeliveryError, match="STARTTLS"):
        EmailAdapter(app.config).send(outbound(ack))


def test_email_without_smtp_settings_is_disabled(app):
    app.config["SMTP_HOST"] = ""
    assert get_adapter("email", app.config) is None
