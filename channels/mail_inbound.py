"""Receiving citizens' mail: an SMTP server (aiosmtpd) and an IMAP poller (imaplib).

Both hand every message to ``channels.email.ingest`` and only then acknowledge it: the
SMTP server answers ``250`` after the commit (a failure is a ``451``, so the sending
server retries), the poller flags a message as processed after the commit (a crash in
between re-reads it next time, and intake's Message-ID ledger makes that a no-op).
"""
from __future__ import annotations

import asyncio
import imaplib
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from aiosmtpd.controller import Controller
from flask import Flask

from channels import email as email_channel
from channels.settings import as_bool, as_int, mail_addresses, own_addresses
from hotline.domain.errors import ValidationError
from hotline.extensions import db

log = logging.getLogger(__name__)
MAX_MESSAGE_BYTES = 30 * 1024 * 1024


class MailChannelDisabled(RuntimeError):
    """The receiver lacks its settings (no hotline address, no IMAP account)."""


# -- SMTP ------------------------------------------------------------------------------------

class HotlineSMTPHandler:
    """aiosmtpd handler: accept mail for the hotline addresses only, store it, then say 250."""

    def __init__(self, app: Flask):
        self.app = app
        self.addresses = mail_addresses(app.config)
        if not self.addresses:
            raise MailChannelDisabled(
                "HOTLINE_MAIL_ADDRESSES is not set: the mail channel is disabled")

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower() not in self.addresses:
            # Never an open relay: mail for anyone else is refused outright.
            return "550 5.7.1 Relaying denied: this server only accepts mail for the hotline"
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server, session, envelope):
        if not envelope.mail_from or envelope.mail_from == "<>":
            log.info("dropping a bounce (empty return path)")
            return "250 2.0.0 OK: bounce dropped"
        raw = envelope.original_content or envelope.content
        # Intake is blocking database work: keep it off the event loop.
        return await asyncio.get_running_loop().run_in_executor(None, self._store, raw)

    def _store(self, raw: bytes) -> str:
        with self.app.app_context():
            try:
                result = email_channel.ingest(raw, own_addresses=own_addresses(self.app.config))
            except ValidationError as exc:
                db.session.rollback()
                log.warning("mail refused by intake: %s", exc.code)
                return f"554 5.6.0 Message refused ({exc.code})"
            except Exception:
                db.session.rollback()
                log.exception("storing a received mail failed")
                return "451 4.3.0 Temporary failure, please retry"
            finally:
                db.session.remove()
        if result is None:
            return "250 2.0.0 OK: automatic reply dropped"
        return f"250 2.0.0 OK: stored as {result.code}"


def smtp_controller(app: Flask, host: str, port: int) -> Controller:
    """An aiosmtpd controller (not started) serving the hotline addresses on host:port."""
    handler = HotlineSMTPHandler(app)
    return Controller(handler, hostname=host, port=port, data_size_limit=MAX_MESSAGE_BYTES,
                      enable_SMTPUTF8=True, ident="Hotline 1022 ESMTP")


# -- IMAP ------------------------------------------------------------------------------------

@dataclass
class PollReport:
    stored: int = 0
    dropped: int = 0
    refused: int = 0

    def describe(self) -> str:
        return (f"IMAP poll: {self.stored} stored, {self.dropped} automatic mail dropped, "
                f"{self.refused} refused.")


def imap_settings(config: Mapping[str, Any]) -> dict[str, Any]:
    missing = [k for k in ("IMAP_HOST", "IMAP_USERNAME", "IMAP_PASSWORD") if not config.get(k)]
    if missing:
        raise MailChannelDisabled("IMAP polling is disabled: missing " + ", ".join(missing))
    use_ssl = as_bool(config, "IMAP_SSL", True)
    return {"host": str(config["IMAP_HOST"]), "ssl": use_ssl,
            "port": as_int(config, "IMAP_PORT", 993 if use_ssl else 143),
            "username": str(config["IMAP_USERNAME"]), "password": str(config["IMAP_PASSWORD"]),
            "folder": str(config.get("IMAP_FOLDER") or "INBOX"),
            "flag": str(config.get("IMAP_PROCESSED_FLAG") or "$Hotline1022")}


def poll_imap(app: Flask) -> PollReport:
    """One pass over the mailbox: store every message not yet flagged as processed."""
    cfg = imap_settings(app.config)
    flag = cfg["flag"]
    # \Seen can be used where the server refuses custom keywords (then staff must not
    # open the mailbox with a client that marks mail read).
    criteria = ("UNSEEN",) if flag.lower() == "\\seen" else ("UNKEYWORD", flag)
    report = PollReport()
    conn = (imaplib.IMAP4_SSL if cfg["ssl"] else imaplib.IMAP4)(cfg["host"], cfg["port"],
                                                              timeout=60)
    try:
        conn.login(cfg["username"], cfg["password"])
        typ, _ = conn.select(_quote(cfg["folder"]))
        if typ != "OK":
            raise imaplib.IMAP4.error(f"cannot open folder {cfg['folder']}")
        typ, data = conn.uid("SEARCH", None, *criteria)
        if typ != "OK":
            raise imaplib.IMAP4.error("SEARCH failed")
        for uid in (data[0] or b"").split():
            _process_one(app, conn, uid.decode(), flag, report)
    finally:
        try:
            conn.logout()
        except (imaplib.IMAP4.error, OSError):
            pass
    return report


def _process_one(app: Flask, conn: imaplib.IMAP4, uid: str, flag: str, report: PollReport) -> None:
    typ, data = conn.uid("FETCH", uid, "(INTERNALDATE BODY.PEEK[])")
    if typ != "OK":
        raise imaplib.IMAP4.error(f"FETCH {uid} failed")
    raw, received_at = _fetched(data)
    if raw is None:
        return  # expunged meanwhile
    addresses = own_addresses(app.config)
    extra_flags = ""
    with app.app_context():
        try:
            result = email_channel.ingest(raw, received_at=received_at, own_addresses=addresses)
        except ValidationError as exc:
            db.session.rollback()
            log.warning("IMAP uid %s refused by intake: %s", uid, exc.code)
            report.refused += 1
            extra_flags = f" {flag}Refused" if flag.startswith("$") else ""
            result = None
        finally:
            db.session.remove()
    if result is not None:
        report.stored += 1
    elif not extra_flags:
        report.dropped += 1
    # Only after the commit: a crash before this line means a harmless re-read.
    conn.uid("STORE", uid, "+FLAGS", f"({flag}{extra_flags})")


def _fetched(data: list) -> tuple[bytes | None, datetime]:
    for item in data:
        if isinstance(item, tuple) and len(item) == 2:
            header, body = item
            parsed = imaplib.Internaldate2tuple(header)
            when = (datetime.fromtimestamp(time.mktime(parsed), UTC) if parsed
                    else datetime.now(UTC))
            return bytes(body), when
    return None, datetime.now(UTC)


def _quote(folder: str) -> str:
    return folder if folder.isalnum() else '"' + folder.replace('"', '\\"') + '"'
