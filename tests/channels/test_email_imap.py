"""The IMAP poller against a tiny IMAP4rev1 server written here (just the commands
imaplib sends): new mail is stored once and flagged; flagged mail is never taken again."""
from __future__ import annotations

import re
import socketserver
import threading
from dataclasses import dataclass, field

import pytest
from sqlalchemy import select

from channels.mail_inbound import poll_imap
from hotline.domain.messages import ContactHandle
from hotline.extensions import db
from hotline.models import Ticket, TicketEvent
from hotline.services import intake
from tests.channels.conftest import CHANNEL_SETTINGS, counts, fixture_bytes, settle
from tests.factories import message

USER, PASSWORD = "1022@hotline.example.gov.vn", "imap-test-password"


@dataclass
class Mail:
    uid: int
    raw: bytes
    flags: set[str] = field(default_factory=set)


@dataclass
class Mailbox:
    mails: list[Mail] = field(default_factory=list)
    commands: list[str] = field(default_factory=list)
    fail_store: bool = False   # pretend the connection dies before the flag is set

    def add(self, raw: bytes) -> None:
        self.mails.append(Mail(uid=len(self.mails) + 1, raw=raw.replace(b"\r\n", b"\n")
                               .replace(b"\n", b"\r\n")))


class IMAPHandler(socketserver.StreamRequestHandler):
    mailbox: Mailbox

    def send(self, line: str | bytes) -> None:
        self.wfile.write((line if isinstance(line, bytes) else line.encode()) + b"\r\n")

    def handle(self):
        self.send("* OK [CAPABILITY IMAP4rev1] fake IMAP ready")
        while True:
            line = self.rfile.readline()
            if not line:
                return
            tag, _, rest = line.decode().rstrip("\r\n").partition(" ")
            self.mailbox.commands.append(rest)
            command, _, args = rest.partition(" ")
            command = command.upper()
            if command == "CAPABILITY":
                self.send("* CAPABILITY IMAP4rev1")
            elif command == "LOGIN":
                if [a.strip('"') for a in args.split(" ")] != [USER, PASSWORD]:
                    self.send(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials")
                    continue
            elif command == "SELECT":
                self.send(f"* {len(self.mailbox.mails)} EXISTS")
                self.send("* FLAGS (\\Seen \\Answered \\Flagged \\Deleted \\Draft)")
                self.send("* OK [PERMANENTFLAGS (\\Seen \\Deleted \\*)] Flags permitted")
                self.send("* OK [UIDVALIDITY 1] UIDs valid")
                self.send(f"{tag} OK [READ-WRITE] SELECT completed")
                continue
            elif command == "UID":
                self.uid(tag, args)
                continue
            elif command == "LOGOUT":
                self.send("* BYE logging out")
                self.send(f"{tag} OK LOGOUT completed")
                return
            self.send(f"{tag} OK {command} completed")

    def uid(self, tag: str, args: str) -> None:
        sub, _, rest = args.partition(" ")
        sub = sub.upper()
        by_uid = {m.uid: m for m in self.mailbox.mails}
        if sub == "SEARCH":
            keyword = re.fullmatch(r"UNKEYWORD (\S+)", rest, re.IGNORECASE)
            found = [m.uid for m in self.mailbox.mails
                     if (keyword and keyword.group(1) not in m.flags)
                     or (rest.upper() == "UNSEEN" and "\\Seen" not in m.flags)]
            self.send("* SEARCH" + "".join(f" {u}" for u in found))
        elif sub == "FETCH":
            uid, _, items = rest.partition(" ")
            mail = by_uid[int(uid)]
            assert "BODY.PEEK[]" in items  # never mark staff's mail read
            head = (f'* {mail.uid} FETCH (UID {mail.uid} INTERNALDATE '
                    f'"20-Nov-2026 09:15:03 +0700" BODY[] {{{len(mail.raw)}}}\r\n')
            self.wfile.write(head.encode())
            self.wfile.write(mail.raw + b")\r\n")
        elif sub == "STORE":
            if self.mailbox.fail_store:
                self.send(f"{tag} NO [UNAVAILABLE] try again")
                return
            uid, _, change = rest.partition(" ")
            flags = re.search(r"\((.*)\)", change).group(1).split()
            by_uid[int(uid)].flags.update(flags)
            now = " ".join(sorted(by_uid[int(uid)].flags))
            self.send(f"* {uid} FETCH (UID {uid} FLAGS ({now}))")
        self.send(f"{tag} OK UID {sub} completed")


@pytest.fixture
def mailbox():
    box = Mailbox()
    handler = type("Handler", (IMAPHandler,), {"mailbox": box})
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    box.port = server.server_address[1]
    yield box
    server.shutdown()
    server.server_close()


@pytest.fixture
def app_config(mailbox):
    return {**CHANNEL_SETTINGS, "IMAP_HOST": "127.0.0.1", "IMAP_PORT": str(mailbox.port),
            "IMAP_SSL": "false", "IMAP_USERNAME": USER, "IMAP_PASSWORD": PASSWORD}


AUTO_REPLY = (b"From: hoa@example.com\nTo: 1022@hotline.example.gov.vn\nSubject: Out of office\n"
              b"Message-ID: <ooo-1@example.com>\nAuto-Submitted: auto-replied\n\nI am away.\n")
EMPTY = (b"From: hoa@example.com\nTo: 1022@hotline.example.gov.vn\nSubject: \n"
         b"Message-ID: <empty-1@example.com>\n\n   \n")


def _existing_ticket() -> Ticket:
    result = intake.receive(message(channel="email", external_id="<earlier@example.com>",
                                    contact=ContactHandle(email="minh.tran@example.com")))
    ticket = db.session.get(Ticket, result.ticket_id)
    ticket.code = "PA-26-000123"
    db.session.commit()
    return ticket


def test_poll_stores_new_mail_once_and_flags_it(app, org, mailbox):
    earlier = _existing_ticket()
    for raw in (fixture_bytes("email_complaint.eml"), fixture_bytes("email_followup.eml"),
                AUTO_REPLY, EMPTY):
        mailbox.add(raw)
    before = counts()
    settle()
    report = poll_imap(app)
    assert (report.stored, report.dropped, report.refused) == (2, 1, 1)
    after = counts()
    assert after["tickets"] == before["tickets"] + 1          # the complaint
    assert after["inbound_messages"] == before["inbound_messages"] + 2
    new = db.session.scalar(select(Ticket).where(Ticket.id != earlier.id))
    assert new.external_id == "<20261120091500.4711@example.com>"
    # INTERNALDATE (the server's receipt time) is when the SLA clock starts.
    assert new.received_at.isoformat() == "2026-11-20T02:15:03+00:00"
    assert db.session.scalar(select(TicketEvent.note).where(
        TicketEvent.ticket_id == earlier.id, TicketEvent.type == "citizen_message")).startswith(
        "Tôi bổ sung thêm")
    assert [sorted(m.flags) for m in mailbox.mails] == [
        ["$Hotline1022"], ["$Hotline1022"], ["$Hotline1022"],
        ["$Hotline1022", "$Hotline1022Refused"]]
    settle()
    # Nothing is taken twice.
    again = poll_imap(app)
    assert (again.stored, again.dropped, again.refused) == (0, 0, 0)
    assert counts() == after


def test_a_flag_lost_after_the_commit_re_reads_without_doubling(app, org, mailbox):
    mailbox.add(fixture_bytes("email_complaint.eml"))
    mailbox.fail_store = True
    settle()
    poll_imap(app)
    assert counts()["tickets"] == 1 and mailbox.mails[0].flags == set()
    mailbox.fail_store = False
    settle()
    poll_imap(app)
    assert counts()["tickets"] == 1 and counts()["inbound_messages"] == 1
    assert mailbox.mails[0].flags == {"$Hotline1022"}


def test_seen_flag_mode_for_servers_without_keywords(app, org, mailbox):
    app.config["IMAP_PROCESSED_FLAG"] = "\\Seen"
    mailbox.add(fixture_bytes("email_complaint.eml"))
    settle()
    assert poll_imap(app).stored == 1
    assert mailbox.mails[0].flags == {"\\Seen"}
    assert any(c.upper().startswith("UID SEARCH UNSEEN") for c in mailbox.commands)


def test_cli_polls_and_refuses_without_settings(app, runner, org, mailbox):
    mailbox.add(fixture_bytes("email_complaint.eml"))
    settle()
    result = runner.invoke(args=["channels", "imap-poll"])
    assert result.exit_code == 0, result.output
    assert "1 stored" in result.output
    app.config["IMAP_PASSWORD"] = ""
    result = runner.invoke(args=["channels", "imap-poll"])
    assert result.exit_code != 0 and "IMAP_PASSWORD" in result.output


def test_wrong_password_fails_loudly(app, org, mailbox):
    import imaplib
    app.config["IMAP_PASSWORD"] = "wrong"
    with pytest.raises(imaplib.IMAP4.error):
        poll_imap(app)
