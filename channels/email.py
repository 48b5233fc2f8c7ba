"""E-mail: turning a received RFC 5322 message into an ``IncomingMessage``, and SMTP out.

Parsing uses the standard library (``email`` with ``policy.default``): RFC 2047 subjects
in Vietnamese, text or HTML-only bodies (HTML becomes text through ``html.parser``),
attachments, the Message-ID as the idempotency key.

Threading cannot be hijacked by a forged ``From:``. A mail joins a ticket only

* by an In-Reply-To/References id that is the Message-ID of a mail we sent for that
  ticket: ``<ticket-CODE.TOKEN@domain>``, TOKEN an HMAC of the outbox key under
  ``SECRET_KEY``, checked against the ticket's outbox (only its recipient can know it), or
* by the ticket's code in the subject or the body (``[PA-26-…]``) — and then only when
  the sender is that ticket's citizen, since codes are public on the results pages.

Anything else, a mail from the address of a citizen with an open ticket included, opens
a new ticket; staff merge duplicates. Auto-replies and bounces are dropped, so an
out-of-office answer to our acknowledgement never opens a ticket (and never loops).

The receivers (SMTP server, IMAP poller) are in ``channels.mail_inbound``.
"""
from __future__ import annotations

import hashlib
import hmac
import re
import smtplib
import ssl
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from email.utils import format_datetime, parseaddr
from html.parser import HTMLParser
from typing import ClassVar

from flask import current_app

from channels.base import (
    ChannelAdapter,
    DeliveryResult,
    OutboundMessage,
    PermanentDeliveryError,
    TransientDeliveryError,
    register,
)
from channels.settings import as_bool, as_int
from hotline import tx
from hotline.domain import codes
from hotline.domain.messages import (
    Channel,
    ContactHandle,
    IncomingAttachment,
    IncomingMessage,
    IntakeResult,
)
from hotline.services import intake, outbox
from hotline.services.attachments import MAX_BYTES
from hotline.services.intake import MAX_ATTACHMENTS

SMTP_TIMEOUT = 30
# Our Message-IDs: <ticket-CODE.TOKEN@domain> (see mail_token).
_OUR_ID_RE = re.compile(r"<ticket-((?:PA|KN|HD)-\d{2}-[0-9A-Z]{6})\.([0-9a-f]{20,64})@[^>\s]+>",
                        re.IGNORECASE)
MAX_REFERENCES = 20  # ids of a References header looked at (the newest ones)
_PREFIX_RE = re.compile(r"^\s*(?:(?:re|fw|fwd|aw|sv|tl|tr|ct|trả lời|chuyển tiếp)\s*:\s*)+",
                        re.IGNORECASE)
_ATTRIBUTION_RE = re.compile(r"^\s*(on .+ wrote:|vào .+ đã viết:|-+\s*original message\s*-+)\s*$",
                             re.IGNORECASE)


# -- inbound: parsing ------------------------------------------------------------------------

class _TextExtractor(HTMLParser):
    """HTML → readable text: block elements become line breaks, scripts and styles vanish."""

    BLOCKS: ClassVar[frozenset[str]] = frozenset({
        "p", "div", "li", "tr", "table", "ul", "ol", "blockquote", "section", "article",
        "header", "footer", "h1", "h2", "h3", "h4", "h5", "h6", "pre", "hr"})
    HIDDEN: ClassVar[frozenset[str]] = frozenset({"script", "style", "head", "title", "template"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.hidden = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.HIDDEN:
            self.hidden += 1
        elif tag == "br" or tag in self.BLOCKS:
            self.parts.append("\n")
            if tag == "li":
                self.parts.append("- ")

    def handle_endtag(self, tag):
        if tag in self.HIDDEN:
            self.hidden = max(0, self.hidden - 1)
        elif tag in self.BLOCKS and tag != "li":  # items are separated by their start
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.hidden:
            self.parts.append(data)


def html_to_text(html: str) -> str:
    """The text a reader sees in ``html``, one paragraph per line."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    lines = [" ".join(line.split()) for line in "".join(parser.parts).splitlines()]
    text = "\n".join(lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


def is_automatic(msg: EmailMessage) -> bool:
    """Auto-replies, bulk mail and bounces (RFC 3834 and the common vendor headers)."""
    auto = str(msg.get("Auto-Submitted", "no")).strip().lower()
    precedence = str(msg.get("Precedence", "")).strip().lower()
    return (auto != "no" or precedence in {"bulk", "junk", "auto_reply", "list"}
            or "X-Autoreply" in msg or "X-Autorespond" in msg
            or msg.get_content_type() == "multipart/report")


def _sender(msg: EmailMessage) -> tuple[str | None, str | None]:
    try:
        header = msg["From"]
        addresses = getattr(header, "addresses", ()) if header is not None else ()
    except (IndexError, ValueError):  # an unparsable From header
        addresses = ()
    if addresses:
        return addresses[0].display_name or None, addresses[0].addr_spec or None
    name, addr = parseaddr(str(msg.get("From", "")))
    return name or None, addr or None


def _content(part: EmailMessage) -> str:
    try:
        content = part.get_content()
    except (LookupError, UnicodeError):  # an unknown or lying charset
        content = (part.get_payload(decode=True) or b"").decode("utf-8", "replace")
    return content if isinstance(content, str) else content.decode("utf-8", "replace")


def body_text(msg: EmailMessage) -> str:
    """The message's text: its text/plain part, else its HTML part as text."""
    part = msg.get_body(preferencelist=("plain", "html"))
    if part is None:
        return ""
    content = _content(part)
    if part.get_content_type() == "text/html":
        return html_to_text(content)
    return content.strip()


def strip_quoted(text: str) -> str:
    """A reply without the message it quotes (``>`` lines, "On … wrote:" and after)."""
    kept = []
    for line in text.splitlines():
        if _ATTRIBUTION_RE.match(line):
            break
        if not line.lstrip().startswith(">"):
            kept.append(line)
    result = "\n".join(kept).strip()
    return result or text


def _attachments(msg: EmailMessage) -> tuple[list[IncomingAttachment], list[str]]:
    files, skipped = [], []
    for n, part in enumerate(msg.iter_attachments(), start=1):
        data = part.get_payload(decode=True)
        if data is None:  # a forwarded message/rfc822: keep it whole
            data = part.as_bytes() if part.get_content_type() == "message/rfc822" else None
        filename = part.get_filename() or f"tep-dinh-kem-{n}"
        if data is None:
            continue
        if len(data) > MAX_BYTES or len(files) >= MAX_ATTACHMENTS:
            skipped.append(filename)
            continue
        files.append(IncomingAttachment(filename=filename, content_type=part.get_content_type(),
                                        data=data))
    return files, skipped


def mail_token(secret: str | None, key: str) -> str:
    """The unguessable part of the Message-ID of the outbox message ``key``: the same for a
    retried send (receivers deduplicate), impossible to forge without ``SECRET_KEY``."""
    return hmac.new(str(secret or "").encode(), key.encode(), hashlib.sha256).hexdigest()[:20]


Verifier = Callable[[str, str, str], bool]


def sent_by_us(secret: str | None) -> Verifier:
    """Whether ``message_id`` (of ticket ``code``, with ``token``) is a mail we wrote for it:
    a Message-ID recorded when it was sent, or one its outbox key signs."""
    def verify(code: str, token: str, message_id: str) -> bool:
        return any(provider_id == message_id or hmac.compare_digest(mail_token(secret, key),
                                                                    token.lower())
                   for key, provider_id in outbox.mail_sent_for(code))
    return verify


def reply_to_code(msg: EmailMessage, verify: Verifier) -> str | None:
    """The ticket whose mail (one of ours, ``verify`` says) this message answers."""
    ids = []
    for header in ("In-Reply-To", "References"):
        ids += list(_OUR_ID_RE.finditer(str(msg.get(header, ""))))[-MAX_REFERENCES:]
    for match in ids:
        code = codes.parse_code(match.group(1))
        if code and verify(code, match.group(2), match.group(0)):
            return code
    return None


def clean_subject(subject: str) -> str:
    """A subject as a ticket title: no Re:/Fwd: prefixes, no bracketed code."""
    subject = _PREFIX_RE.sub("", subject)
    subject = re.sub(r"\[\s*(?:PA|KN|HD)-\d{2}-[0-9A-Z]{6}\s*\]", "", subject, flags=re.IGNORECASE)
    return " ".join(_PREFIX_RE.sub("", subject).split())


def external_id(msg: EmailMessage, raw: bytes) -> str:
    """The Message-ID (or, without one, a digest of the bytes: the same mail twice is one)."""
    message_id = " ".join(str(msg.get("Message-ID", "")).split())
    if not message_id:
        return "sha256:" + hashlib.sha256(raw).hexdigest()
    if len(message_id) > 200:
        return "sha256:" + hashlib.sha256(message_id.encode()).hexdigest()
    return message_id


def parse_email(raw: bytes, *, received_at: datetime, own_addresses: Iterable[str] = (),
                verify: Verifier | None = None) -> IncomingMessage | None:
    """The message intake should receive, or ``None`` for mail to drop (auto-replies, loops).

    ``verify`` recognises our own Message-IDs (``sent_by_us``); without it references are
    not followed.
    """
    msg: EmailMessage = BytesParser(policy=policy.default).parsebytes(raw)
    if is_automatic(msg):
        return None
    name, address = _sender(msg)
    if address and address.lower() in {a.lower() for a in own_addresses}:
        return None
    subject = str(msg.get("Subject", "") or "").strip()
    text = body_text(msg)
    replied = reply_to_code(msg, verify) if verify else None
    thread_code = codes.find_code(subject) or codes.find_code(text)
    if (thread_code or replied) and text:
        text = strip_quoted(text)
    files, skipped = _attachments(msg)
    if skipped:
        text = (text + "\n\n" if text else "") + \
            "(Không lưu được tệp đính kèm quá lớn hoặc quá nhiều: " + ", ".join(skipped) + ".)"
    return IncomingMessage(
        channel=Channel.EMAIL, external_id=external_id(msg, raw), received_at=received_at,
        text=text or None, title=clean_subject(subject) or None,
        contact=ContactHandle(name=name, email=address), attachments=tuple(files),
        thread_code=thread_code, reply_to_code=replied,
        # Mail threads explicitly (code or references); a fresh mail is a fresh report.
        force_new=thread_code is None and replied is None,
    )


def ingest(raw: bytes, *, received_at: datetime | None = None,
           own_addresses: Iterable[str] = ()) -> IntakeResult | None:
    """Parse and store one received mail, committing; ``None`` when it was dropped.

    Raises ``ValidationError`` for mail intake refuses (the caller rolls back and bounces).
    """
    msg = parse_email(raw, received_at=received_at or datetime.now(UTC),
                      own_addresses=own_addresses,
                      verify=sent_by_us(current_app.config.get("SECRET_KEY")))
    if msg is None:
        return None
    result = intake.receive(msg)
    tx.commit()
    return result


# -- outbound --------------------------------------------------------------------------------

def mail_domain(mail_from: str) -> str:
    return parseaddr(mail_from)[1].rpartition("@")[2] or "localhost"


@register
class EmailAdapter(ChannelAdapter):
    """Replies by SMTP, threaded under ``<ticket-CODE@domain>`` with the code in the subject."""

    kind = "email"
    required_settings = ("SMTP_HOST", "MAIL_FROM")

    def build(self, message: OutboundMessage) -> EmailMessage:
        """The mail for ``message``; its Message-ID is derived from the outbox key, so a
        retried send after an unclear failure carries the same id (receivers deduplicate)."""
        mail_from = str(self.config["MAIL_FROM"])
        domain = mail_domain(mail_from)
        code = message.ticket_code or codes.find_code(message.subject)
        subject = message.subject or "Tổng đài 1022"
        if code and code not in subject:
            subject = f"[{code}] {subject}"
        token = mail_token(self.config.get("SECRET_KEY"), message.key)
        mail = EmailMessage(policy=policy.SMTP)
        mail["From"] = mail_from
        mail["To"] = message.recipient
        mail["Subject"] = subject
        mail["Date"] = format_datetime(datetime.now(UTC))
        if code:
            root = f"<ticket-{code}@{domain}>"
            mail["Message-ID"] = f"<ticket-{code}.{token}@{domain}>"
            in_reply_to = str(message.extra.get("in_reply_to") or root)
            mail["In-Reply-To"] = in_reply_to
            mail["References"] = root if in_reply_to == root else f"{root} {in_reply_to}"
        else:
            mail["Message-ID"] = f"<hotline.{token}@{domain}>"
        # RFC 3834: auto-responders must not answer this (no out-of-office loops).
        mail["Auto-Submitted"] = "auto-generated"
        mail.set_content(message.text)
        return mail

    def send(self, message: OutboundMessage) -> DeliveryResult:
        mail = self.build(message)
        host = str(self.config["SMTP_HOST"])
        port = as_int(self.config, "SMTP_PORT", 25)
        try:
            with smtplib.SMTP(host, port, timeout=SMTP_TIMEOUT) as smtp:
                if as_bool(self.config, "SMTP_STARTTLS"):
                    smtp.starttls(context=ssl.create_default_context())
                if self.config.get("SMTP_USERNAME"):
                    smtp.login(str(self.config["SMTP_USERNAME"]),
                               str(self.config.get("SMTP_PASSWORD") or ""))
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            code, reply = next(iter(exc.recipients.values()))
            raise _by_code(code, f"smtp: recipient refused: {code} {_text(reply)}") from exc
        except smtplib.SMTPResponseException as exc:
            raise _by_code(exc.smtp_code, f"smtp: {exc.smtp_code} {_text(exc.smtp_error)}") from exc
        except smtplib.SMTPServerDisconnected as exc:
            raise TransientDeliveryError(f"smtp: {type(exc).__name__}: {exc}") from exc
        except smtplib.SMTPException as exc:  # e.g. STARTTLS not offered: a setting to fix
            raise PermanentDeliveryError(f"smtp: {type(exc).__name__}: {exc}") from exc
        except OSError as exc:  # refused, reset, timeout (SMTPException is an OSError too)
            raise TransientDeliveryError(f"smtp: {type(exc).__name__}: {exc}") from exc
        return DeliveryResult(provider_id=str(mail["Message-ID"]))


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _by_code(code: int, detail: str) -> Exception:
    return TransientDeliveryError(detail) if 400 <= code < 500 else PermanentDeliveryError(detail)
