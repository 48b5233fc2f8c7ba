"""Staged intake: store a message before answering, turn it into a ticket in a job.

The HTTP doors that must stay fast in a burst — Open311, the public web form and
the chat webhooks — call ``stage``. It checks the message exactly as intake does
(bad input is refused and nothing is written), reserves the code a new report
will carry, and writes one ledger row (``inbound_messages``, state ``pending``):
the message is durable before the 2xx, and a redelivery finds that row. Its
``message_staged`` signal lets the workers wake the drainer after the commit.

``drain`` runs intake on pending rows in arrival order (so a chat's follow-up
threads into the ticket its first message opened). Each row is claimed by a
conditional UPDATE in its own savepoint, so two drainers never process one row
twice; a row that fails is retried with backoff and, after ``MAX_ATTEMPTS``,
waits as ``failed`` for an administrator — an acknowledged message is never dropped.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from functools import lru_cache

from blinker import Namespace
from flask import current_app
from sqlalchemy import (
    Boolean,
    Integer,
    String,
    TextualSelect,
    bindparam,
    column,
    func,
    or_,
    select,
    text,
    update,
)

from hotline import tx
from hotline.database import is_postgres
from hotline.domain.lifecycle import Status
from hotline.domain.messages import (
    IncomingMessage,
    IntakeResult,
    carries_files,
    from_payload,
    storable,
    to_payload,
)
from hotline.domain.text import normalize_phone
from hotline.extensions import db
from hotline.models import Area, Contact, Field, InboundMessage, Ticket, utcnow
from hotline.models.ticket import inbound_waiting
from hotline.services import intake, memo, remote_attachments

# Sent (the app as sender) when a message is staged, so the workers can wake the drainer
# right after the commit; services never import the workers themselves.
message_staged = Namespace().signal("message-staged")

MAX_ATTEMPTS = 8
BACKOFF_SECONDS = (10, 30, 60, 300, 900, 1800, 3600)


def stage(msg: IncomingMessage, *, alone: bool = False) -> IntakeResult:
    """Store ``msg`` for the drainer and say what the sender is told: flushed in the caller's
    transaction, or committed at once when ``alone`` finds none open.

    ``alone``: the message is all the caller writes (an Open311 POST, a web form post).
    Then, if the request has no transaction open yet, the staging INSERT runs and commits
    on a connection of its own, as a bare single-row INSERT does: building an ORM session
    and its transaction only to commit it cost an intake request a tenth of its CPU.
    Otherwise (a lookup already opened one) it joins the request's transaction.

    A message carrying file bytes is received at once instead (its files go to the
    attachment store in the same transaction). A new report (``force_new``) gets its
    ticket code and status-link token now; a redelivery gets the first delivery's answer.

    The hot path is one INSERT … SELECT: it writes nothing for a redelivery (ON CONFLICT),
    an unknown or inactive field or area, or a code that a ticket or another staged report
    holds (EXISTS), so a burst costs one round trip a message. On PostgreSQL the same
    statement also reads what became of a redelivered message's first delivery, so chat
    platforms resending a burst cost one round trip a message too. Only when it writes and
    finds nothing do we look why — and refuse bad input with intake's own ``ValidationError``.
    """
    msg = storable(msg)
    if carries_files(msg):
        return intake.receive(msg)
    clean = intake.check(msg)
    for _ in range(10):
        if msg.force_new:
            msg = replace(msg, code=intake.new_code(clean.kind, clean.received_at),
                          status_token=secrets.token_urlsafe(16))
        row = _execute(*_insert_pending(msg, clean), alone=alone)
        if row is not None and row.stored:
            message_staged.send(current_app._get_current_object())
            return IntakeResult(ticket_id=None, code=msg.code, created=False, duplicate=False,
                                threaded=False, pending=True, status_token=msg.status_token)
        if row is not None:  # PostgreSQL answered the redelivery in the same statement
            return intake.redelivery(row.ticket_id, row.ticket_code, row.status_token, row.code)
        # Nothing stored: a redelivery (SQLite, or a first delivery committed by another
        # transaction while this statement ran), or bad input, or a code taken meanwhile.
        found = intake.already_received(clean.channel.value, clean.external_id)
        if found is not None:
            return found
        intake.validate(msg)  # raises for an unknown field or area
        # else the random code was taken (about one in 10⁹ × tickets that year): draw again
    raise RuntimeError("could not find a free ticket code")


def _execute(statement: TextualSelect, params: dict, *, alone: bool):
    if alone and not tx.in_transaction():
        # Its own transaction: committed when this block ends, before the sender's answer.
        # (On SQLite, opening it beside an open session transaction would wait on its lock.)
        with db.engine.begin() as conn:
            return conn.execute(statement, params).first()
    return db.session.execute(statement, params).first()


def _insert_pending(msg: IncomingMessage, clean) -> tuple[TextualSelect, dict]:
    """The staging statement and its parameters (the statement is built once per shape).

    Its one row, if any, says ``stored`` (true: the message is now staged) or, on
    PostgreSQL, describes the first delivery of a redelivered message.
    """
    params = {"channel": clean.channel.value, "external_id": clean.external_id,
              "received_at": clean.received_at, "stored_at": utcnow(),
              "payload": to_payload(msg), "ticket_code": msg.code,
              "status_token": msg.status_token, "field_code": msg.field_code,
              "area_code": msg.area_code}
    return _insert_statement(bool(msg.field_code), bool(msg.area_code), bool(msg.code),
                             is_postgres()), params


@lru_cache(maxsize=16)
def _insert_statement(field: bool, area: bool, code: bool, postgres: bool) -> TextualSelect:
    # Plain SQL that PostgreSQL and SQLite (3.35+) read alike; the WHERE also lets SQLite
    # parse INSERT … SELECT … ON CONFLICT.
    conditions = ["TRUE"]
    if field:
        conditions.append("EXISTS (SELECT 1 FROM fields WHERE code = :field_code AND active)")
    if area:
        conditions.append("EXISTS (SELECT 1 FROM areas WHERE code = :area_code)")
    if code:
        conditions += [
            "NOT EXISTS (SELECT 1 FROM tickets WHERE code = :ticket_code)",
            "NOT EXISTS (SELECT 1 FROM inbound_messages WHERE ticket_code = :ticket_code)"]
    table = InboundMessage.__table__
    types = {name: table.c[name].type for name in ("channel", "external_id", "received_at",
                                                   "stored_at", "payload", "ticket_code",
                                                   "status_token")}
    types.update(field_code=String(), area_code=String())
    insert = ("INSERT INTO inbound_messages (channel, external_id, received_at, stored_at,"
              " state, payload, ticket_code, status_token, attempts)"
              " SELECT :channel, :external_id, :received_at, :stored_at, 'pending', :payload,"
              " :ticket_code, :status_token, 0"
              f" WHERE {' AND '.join(conditions)}"
              " ON CONFLICT (channel, external_id) DO NOTHING")
    columns = [column("stored", Boolean)]
    if postgres:
        # The redelivery's first delivery, read by the same statement when nothing was
        # inserted (the columns of intake.already_received, which SQLite asks separately).
        # Its snapshot cannot see a first delivery that another transaction committed
        # while the ON CONFLICT waited for it: then no row, and stage() asks again.
        columns += [column("ticket_id", Integer), column("ticket_code", String),
                    column("status_token", String), column("code", String)]
        sql = (f"WITH staged AS ({insert} RETURNING id)"
               " SELECT TRUE AS stored, NULL AS ticket_id, NULL AS ticket_code,"
               " NULL AS status_token, NULL AS code FROM staged"
               " UNION ALL"
               " SELECT FALSE, m.ticket_id, m.ticket_code, m.status_token, t.code"
               " FROM inbound_messages m LEFT JOIN tickets t ON t.id = m.ticket_id"
               " WHERE m.channel = :channel AND m.external_id = :external_id"
               " AND NOT EXISTS (SELECT 1 FROM staged)")
    else:
        sql = f"{insert} RETURNING TRUE AS stored"
    # Typed parameters: dates and JSON bind as such, and PostgreSQL casts every string alike.
    # The declared result columns let SQLAlchemy keep the result's metadata with the
    # compiled statement instead of reading the cursor's description on every insert.
    return text(sql).bindparams(*(bindparam(name, type_=type_) for name, type_ in types.items()
                                  if f":{name}" in sql)).columns(*columns)


@dataclass
class DrainReport:
    """What one ``drain`` call did."""

    scanned: int = 0
    processed: int = 0
    failed: int = 0
    # (channel, attachment id) of files that arrived as references and wait for download
    to_fetch: list[tuple[str, int]] = field(default_factory=list)


def drain(now: datetime, *, limit: int = 200) -> DrainReport:
    """Process up to ``limit`` due pending rows, oldest first; flushed, the caller commits."""
    report = DrainReport()
    ids = list(db.session.scalars(
        select(InboundMessage.id)
        .where(inbound_waiting(), InboundMessage.state == "pending",
               or_(InboundMessage.next_attempt_at.is_(None),
                   InboundMessage.next_attempt_at <= now))
        .order_by(InboundMessage.id).limit(limit)))
    report.scanned = len(ids)
    with memo.batch():  # one read of rules, policies and calendar for the whole batch
        for row_id in ids:
            _drain_one(row_id, now, report)
    return report


def _drain_one(row_id: int, now: datetime, report: DrainReport) -> None:
    try:
        with db.session.begin_nested():
            if not _claim(row_id):
                return  # another drainer did it
            row = db.session.get(InboundMessage, row_id)
            msg = from_payload(row.payload)
            result = intake.process_staged(row, msg)
            row.payload = None
            if any(a.remote_ref for a in msg.attachments) and result.ticket_id:
                report.to_fetch += [(row.channel, attachment_id) for attachment_id
                                    in remote_attachments.unfetched_ids(result.ticket_id)]
        report.processed += 1
    except Exception as exc:  # noqa: BLE001 - kept and retried, never lost
        current_app.logger.exception("staged message %s could not be processed", row_id)
        _record_failure(row_id, exc, now)
        report.failed += 1


def _claim(row_id: int) -> bool:
    # Blocks behind a concurrent drainer holding the row, then sees it done: 0 rows.
    claimed = db.session.execute(
        update(InboundMessage)
        .where(InboundMessage.id == row_id, InboundMessage.state == "pending")
        .values(state="done", error=None, next_attempt_at=None)
        .execution_options(synchronize_session=False))
    return claimed.rowcount == 1


def _record_failure(row_id: int, exc: Exception, now: datetime) -> None:
    row = db.session.get(InboundMessage, row_id)
    db.session.refresh(row)
    row.attempts += 1
    row.error = f"{type(exc).__name__}: {exc}"[:2000]
    if row.attempts >= MAX_ATTEMPTS:
        row.state, row.next_attempt_at = "failed", None
    else:
        delay = BACKOFF_SECONDS[min(row.attempts, len(BACKOFF_SECONDS)) - 1]
        row.next_attempt_at = now + timedelta(seconds=delay)
    db.session.flush()


@dataclass(frozen=True)
class Backlog:
    pending: int
    failed: int
    oldest_pending_at: datetime | None


def backlog() -> Backlog:
    """How many staged messages wait or failed (for the operations page), from the partial
    index that holds only those rows."""
    counts = dict(db.session.execute(
        select(InboundMessage.state, func.count()).where(inbound_waiting())
        .group_by(InboundMessage.state)).all())
    oldest = db.session.scalar(select(func.min(InboundMessage.stored_at))
                               .where(inbound_waiting(), InboundMessage.state == "pending"))
    return Backlog(counts.get("pending", 0), counts.get("failed", 0), oldest)


def retry_failed() -> int:
    """Put every failed message back in the queue (an administrator fixed the cause)."""
    result = db.session.execute(
        update(InboundMessage).where(inbound_waiting(), InboundMessage.state == "failed")
        .values(state="pending", attempts=0, next_attempt_at=None)
        .execution_options(synchronize_session=False))
    if result.rowcount:
        message_staged.send(current_app._get_current_object())
    return result.rowcount


def preview(code: str | None) -> Ticket | None:
    """The ticket a staged new report will become, unsaved, for the status page and Open311
    while the drainer has not reached it yet; ``None`` if no staged report has this code."""
    if not code:
        return None
    row = db.session.scalar(select(InboundMessage).where(InboundMessage.ticket_code == code,
                                                         InboundMessage.ticket_id.is_(None)))
    if row is None or not row.payload:
        return None
    try:
        msg = from_payload(row.payload)
    except (KeyError, TypeError, ValueError):  # a failed, unreadable message: nothing to show
        return None
    field = db.session.scalar(select(Field).where(Field.code == msg.field_code)) \
        if msg.field_code else None
    area = db.session.scalar(select(Area).where(Area.code == msg.area_code)) \
        if msg.area_code else None
    phone = normalize_phone(msg.contact.phone) if msg.contact.phone else None
    return Ticket(code=row.ticket_code, status_token=row.status_token, kind=msg.kind or "phan_anh",
                  channel=row.channel, status=Status.NEW.value,
                  title=msg.title or intake.title_from(msg.text or "…"),
                  field=field, area=area, lat=msg.lat, lon=msg.lon,
                  consent_publish=msg.consent_publish,
                  privacy_requested=msg.privacy_requested, received_at=row.received_at,
                  updated_at=row.received_at, contact=Contact(phone=phone) if phone else None)
