"""E-mail in by a real SMTP conversation: smtplib talks to our aiosmtpd receiver on a free
port; the fixtures' mails become (or thread into) exactly their tickets."""
from __future__ import annotations

import smtplib
from email.message import EmailMessage

import pytest
from sqlalchemy import select

from channels.email import html_to_text, mail_token, parse_email
from channels.mail_inbound import smtp_controller
from hotline.domain.messages import ContactHandle
from hotline.extensions import db
from hotline.models import Attachment, InboundMessage, Ticket, TicketEvent, utcnow
from hotline.services import intake
from tests.channels.conftest import (
    CHANNEL_SETTINGS,
    HOTLINE_ADDRESS,
    counts,
    fixture_bytes,
    free_port,
    settle,
)
from tests.factories import message

CITIZEN = "minh.tran@example.com"


@pytest.fixture
def app_config():
    return dict(CHANNEL_SETTINGS)


@pytest.fixture
def smtp_port(app, org):
    port = free_port()
    controller = smtp_controller(app, "127.0.0.1", port)
    controller.start()
    yield port
    controller.stop()


def wire(raw: bytes) -> bytes:
    """The message as it travels over SMTP: lines end in CRLF (RFC 5321 §2.3.8)."""
    return raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")


def send(port: int, raw: bytes, to=(HOTLINE_ADDRESS,), sender=CITIZEN):
    settle()  # the receiver writes from its own thread: hold no lock meanwhile
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as smtp:
        refused = smtp.sendmail(sender, list(to), wire(raw))
    settle()
    return refused


def existing_ticket(code: str = "PA-26-000123") -> Ticket:
    """The ticket the follow-up refers to, opened earlier for the same citizen."""
    result = intake.receive(message(channel="email", external_id="<earlier@example.com>",
                                    contact=ContactHandle(email=CITIZEN),
                                    text="Vỉa hè bị lấn chiếm."))
    ticket = db.session.get(Ticket, result.ticket_id)
    ticket.code = code
    db.session.commit()
    return ticket


def test_complaint_becomes_one_ticket_with_its_attachment(smtp_port):
    for _ in range(3):
        assert send(smtp_port, fixture_bytes("email_complaint.eml")) == {}
    [ticket] = db.session.scalars(select(Ticket)).all()
    assert ticket.channel == "email"
    assert ticket.external_id == "<20261120091500.4711@example.com>"
    assert ticket.title == "Phản ánh: lấn chiếm vỉa hè tại chợ Đồng Xoài"
    assert ticket.description.startswith("Kính gửi Tổng đài 1022,")
    assert "đường Lê Quý Đôn quanh chợ Đồng Xoài" in ticket.description
    assert (ticket.contact.email, ticket.contact.name) == (CITIZEN, "Trần Văn Minh")
    [png] = db.session.scalars(select(Attachment)).all()
    assert (png.filename, png.content_type, png.size) == ("via-he.png", "image/png", 70)
    assert png.storage_key and png.remote_ref is None
    assert len(db.session.scalars(select(InboundMessage)).all()) == 1
    settle()


def test_follow_up_threads_into_the_ticket_named_by_its_code(smtp_port):
    earlier = existing_ticket()
    before = counts()
    for _ in range(3):
        assert send(smtp_port, fixture_bytes("email_followup.eml")) == {}
    after = counts()
    assert after["tickets"] == before["tickets"]
    assert after["inbound_messages"] == before["inbound_messages"] + 1
    notes = db.session.scalars(select(TicketEvent.note).where(
        TicketEvent.ticket_id == earlier.id, TicketEvent.type == "citizen_message")).all()
    assert notes == ["Tôi bổ sung thêm: tình trạng diễn ra chủ yếu từ 6 giờ đến 9 giờ sáng."]
    # A fresh mail from the same citizen is a fresh report, not part of PA-26-000123.
    send(smtp_port, fixture_bytes("email_complaint.eml"))
    assert counts()["tickets"] == before["tickets"] + 1
    settle()


def test_a_stranger_quoting_the_code_opens_their_own_ticket(smtp_port):
    existing_ticket()
    raw = fixture_bytes("email_followup.eml").replace(CITIZEN.encode(), b"other@example.org")
    send(smtp_port, raw, sender="other@example.org")
    tickets = db.session.scalars(select(Ticket).order_by(Ticket.id)).all()
    assert len(tickets) == 2 and tickets[1].contact.email == "other@example.org"
    settle()


def test_relaying_elsewhere_is_refused(smtp_port):
    before = counts()
    with pytest.raises(smtplib.SMTPRecipientsRefused) as refused:
        send(smtp_port, fixture_bytes("email_complaint.eml"), to=("someone@gmail.example",))
    code, text = refused.value.recipients["someone@gmail.example"]
    assert code == 550 and b"Relaying denied" in text
    assert counts() == before
    # With one good recipient the mail is taken for it only.
    partly = send(smtp_port, fixture_bytes("email_complaint.eml"),
                  to=("someone@gmail.example", "TiepNhan@hotline.example.gov.vn"))
    assert partly["someone@gmail.example"][0] == 550
    assert counts()["tickets"] == before["tickets"] + 1
    settle()


def _mail(subject: str, *, html: str | None = None, text: str | None = None, **headers) -> bytes:
    mail = EmailMessage()
    mail["From"] = "Nguyễn Thị Hoa <hoa@example.com>"
    mail["To"] = HOTLINE_ADDRESS
    mail["Subject"] = subject
    mail["Message-ID"] = headers.pop("message_id", "<html-only-1@example.com>")
    for name, value in headers.items():
        mail[name.replace("_", "-")] = value
    if html is not None:
        mail.set_content(html, subtype="html")
    else:
        mail.set_content(text or "")
    return mail.as_bytes()


def test_html_only_mail_becomes_text(smtp_port):
    raw = _mail("Cống thoát nước bị tắc", html=(
        "<html><head><style>p {color: red}</style><title>x</title></head><body>"
        "<p>Cống trên đường Hùng Vương bị tắc &amp; bốc mùi.</p>"
        "<ul><li>Từ 3 ngày nay</li><li>Gần số nhà 45</li></ul>"
        "<p>Xin cảm ơn,<br>Hoa</p><script>alert(1)</script></body></html>"))
    send(smtp_port, raw, sender="hoa@example.com")
    [ticket] = db.session.scalars(select(Ticket)).all()
    assert ticket.description == ("Cống trên đường Hùng Vương bị tắc & bốc mùi.\n\n"
                                  "- Từ 3 ngày nay\n- Gần số nhà 45\n\nXin cảm ơn,\nHoa")
    assert ticket.title == "Cống thoát nước bị tắc"
    settle()


def test_auto_replies_and_bounces_are_taken_and_dropped(smtp_port):
    ooo = _mail("Trả lời tự động: Tổng đài 1022", text="Tôi đang nghỉ phép.",
                Auto_Submitted="auto-replied", message_id="<ooo@example.com>")
    send(smtp_port, ooo, sender="hoa@example.com")
    send(smtp_port, _mail("Undelivered", text="bounce", message_id="<b@x>"), sender="")
    assert counts()["tickets"] == 0
    settle()


def test_mail_intake_refuses_gets_a_5xx_and_stores_nothing(smtp_port):
    with pytest.raises(smtplib.SMTPDataError) as err:
        send(smtp_port, _mail("", text="   ", message_id="<empty@example.com>"),
             sender="hoa@example.com")
    assert err.value.smtp_code == 554 and b"required" in err.value.smtp_error
    assert counts()["tickets"] == 0
    settle()


def test_parse_email_reads_codes_from_references_and_strips_the_quote():
    token = mail_token("s", "ack:PA-26-7K3M9Q")
    raw = _mail("Re: phản ánh của tôi", text=(
        "Đã sửa xong, cảm ơn.\n\nVào 10:00 21/11/2026, Tổng đài 1022 đã viết:\n> Mã phiếu ..."),
        In_Reply_To=f"<ticket-PA-26-7K3M9Q.{token}@hotline.example.gov.vn>",
        References="<ticket-PA-26-7K3M9Q@hotline.example.gov.vn>")
    ours = [("PA-26-7K3M9Q", token)]
    msg = parse_email(raw, received_at=utcnow(),
                      verify=lambda code, tok, _id: (code, tok) in ours)
    assert msg.reply_to_code == "PA-26-7K3M9Q" and not msg.force_new
    # Not one of ours (or no way to check): the references are not followed.
    assert parse_email(raw, received_at=utcnow(), verify=lambda *_: False).force_new
    assert parse_email(raw, received_at=utcnow()).reply_to_code is None
    assert msg.text == "Đã sửa xong, cảm ơn."
    assert msg.title == "phản ánh của tôi"
    fresh = parse_email(fixture_bytes("email_complaint.eml"), received_at=utcnow())
    assert fresh.thread_code is None and fresh.force_new
    assert parse_email(raw, received_at=utcnow(), own_addresses=["HOA@example.com"]) is None


def test_html_to_text_of_the_complaint_matches_its_text_part():
    html = ("<html><body><p>Kính gửi Tổng đài 1022,</p><p>Các hộ <b>lấn chiếm</b> vỉa hè.</p>"
            "<p>Trân trọng,<br>Trần Văn Minh</p></body></html>")
    assert html_to_text(html) == ("Kính gửi Tổng đài 1022,\n\nCác hộ lấn chiếm vỉa hè.\n\n"
                                  "Trân trọng,\nTrần Văn Minh")


def test_smtp_serve_refuses_to_start_without_hotline_addresses(app, runner):
    app.config["HOTLINE_MAIL_ADDRESSES"] = ""
    result = runner.invoke(args=["channels", "smtp-serve", "--port", str(free_port())])
    assert result.exit_code != 0 and "HOTLINE_MAIL_ADDRESSES" in result.output
