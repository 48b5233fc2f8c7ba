"""Mail threading that a forged ``From:`` cannot hijack, over a real SMTP conversation: a
mail joins a ticket only by a reply to a Message-ID we sent for it, or by the ticket's code
from that ticket's own citizen; the sender's address alone opens a new ticket, which staff
can merge into the first."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from channels.email import EmailAdapter
from channels.mail_inbound import smtp_controller
from hotline.domain.messages import ContactHandle
from hotline.extensions import db
from hotline.models import OutboxMessage, Ticket, TicketEvent
from hotline.services import handling, intake
from tests.channels.conftest import CHANNEL_SETTINGS, counts, free_port, outbound, settle
from tests.channels.test_email_smtp import CITIZEN, _mail, send
from tests.factories import message


@pytest.fixture
def app_config():
    return dict(CHANNEL_SETTINGS)


@pytest.fixture
def smtp_port(app, org):
    """Our SMTP receiver on a free port (smtplib talks to it)."""
    port = free_port()
    controller = smtp_controller(app, "127.0.0.1", port)
    controller.start()
    yield port
    controller.stop()


def victim_ticket() -> Ticket:
    """The citizen's open ticket, opened by an earlier mail (its acknowledgement queued)."""
    result = intake.receive(message(channel="email", external_id="<earlier@example.com>",
                                    contact=ContactHandle(email=CITIZEN),
                                    text="Vỉa hè bị lấn chiếm."))
    db.session.commit()
    return db.session.get(Ticket, result.ticket_id)


def citizen_messages(ticket: Ticket) -> list[str]:
    return db.session.scalars(select(TicketEvent.note).where(
        TicketEvent.ticket_id == ticket.id, TicketEvent.type == "citizen_message")).all()


def mail_from_victim(subject: str, **headers) -> bytes:
    raw = _mail(subject, text="Tôi muốn huỷ phản ánh này, đã tự giải quyết.",
                message_id=headers.pop("message_id", "<forged-1@attacker.example>"), **headers)
    return raw.replace(b"hoa@example.com", CITIZEN.encode())


@pytest.mark.parametrize("subject, headers", [
    ("Phản ánh mới", {}),                                        # the address alone
    ("Re: [PA-26-999999] bổ sung", {}),                          # a code of no ticket
    ("Re: bổ sung", {"In_Reply_To": "<ticket-{code}@hotline.example.gov.vn>"}),
    ("Re: bổ sung", {"In_Reply_To": "<ticket-{code}." + "0" * 20 + "@hotline.example.gov.vn>"}),
], ids=["address-alone", "unknown-code", "guessable-root-reference", "forged-token"])
def test_a_forged_sender_does_not_join_the_victims_open_ticket(smtp_port, subject, headers):
    victim = victim_ticket()
    headers = {k: v.format(code=victim.code) for k, v in headers.items()}
    before = counts()["tickets"]
    assert send(smtp_port, mail_from_victim(subject, **headers), sender=CITIZEN) == {}
    assert counts()["tickets"] == before + 1
    assert citizen_messages(victim) == []
    newest = db.session.scalars(select(Ticket).order_by(Ticket.id.desc())).first()
    assert newest.id != victim.id and newest.contact.email == CITIZEN
    settle()


def test_a_reply_to_the_mail_we_sent_joins_even_from_another_address(smtp_port, app):
    ticket = victim_ticket()
    ack = db.session.scalar(select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id,
                                                        OutboxMessage.channel == "email"))
    # The Message-ID our acknowledgement carries (what the citizen's client answers to).
    ours = EmailAdapter(app.config).build(outbound(ack))["Message-ID"]
    reply = _mail("Re: Tổng đài 1022", text="Bổ sung: ảnh chụp lúc 7 giờ sáng.",
                  message_id="<reply-from-work@example.net>", In_Reply_To=ours,
                  References=f"<ticket-{ticket.code}@hotline.example.gov.vn> {ours}")
    raw = reply.replace(b"hoa@example.com", b"minh.work@example.net")
    before = counts()["tickets"]
    assert send(smtp_port, raw, sender="minh.work@example.net") == {}
    assert counts()["tickets"] == before
    assert citizen_messages(ticket) == ["Bổ sung: ảnh chụp lúc 7 giờ sáng."]
    settle()


def test_a_recorded_message_id_of_ours_is_followed_too(smtp_port):
    ticket = victim_ticket()
    ack = db.session.scalar(select(OutboxMessage).where(OutboxMessage.ticket_id == ticket.id))
    ack.status, ack.provider_id = "sent", f"<ticket-{ticket.code}.{'ab' * 10}@old.example.gov.vn>"
    db.session.commit()
    reply = _mail("Re: phản ánh", text="Vẫn chưa sửa.", message_id="<r2@example.com>",
                  In_Reply_To=ack.provider_id)
    send(smtp_port, reply, sender="hoa@example.com")
    assert citizen_messages(ticket) == ["Vẫn chưa sửa."]
    settle()


def test_the_citizen_quoting_the_code_in_the_body_joins_their_ticket(smtp_port):
    ticket = victim_ticket()
    raw = _mail("Bổ sung thông tin", message_id="<body-code@example.com>",
                text=f"Về phiếu {ticket.code}: tôi muốn huỷ phản ánh này.")
    raw = raw.replace(b"hoa@example.com", CITIZEN.encode())
    send(smtp_port, raw, sender=CITIZEN)
    assert len(citizen_messages(ticket)) == 1
    settle()


def test_staff_merge_the_new_ticket_into_the_first(smtp_port, make_user):
    first = victim_ticket()
    send(smtp_port, mail_from_victim("Phản ánh mới"), sender=CITIZEN)
    second = db.session.scalars(select(Ticket).order_by(Ticket.id.desc())).first()
    operator = make_user("operator", username="tongdaivien")
    handling.merge_duplicate(operator, second, into_code=first.code)
    db.session.commit()
    assert second.merged_into_id == first.id and second.status == "rejected"
    settle()


def test_our_message_ids_cannot_be_derived_from_the_outbox_key(app):
    import hashlib

    from channels.email import mail_token
    assert mail_token(app.config["SECRET_KEY"], "ack:PA-26-000123")[:20] != \
        hashlib.sha256(b"ack:PA-26-000123").hexdigest()[:20]
    assert mail_token("another-secret", "k") != mail_token(app.config["SECRET_KEY"], "k")


def test_the_shared_follow_up_fixture_from_a_forged_sender_opens_its_own_ticket(smtp_port):
    """email_followup.eml names PA-26-000123 (no ticket of the victim's): before, the
    victim's address alone made it join their latest open ticket."""
    from tests.channels.conftest import fixture_bytes
    victim = victim_ticket()
    assert victim.code != "PA-26-000123"
    assert send(smtp_port, fixture_bytes("email_followup.eml"), sender=CITIZEN) == {}
    assert citizen_messages(victim) == []
    assert counts()["tickets"] == 2
    settle()
