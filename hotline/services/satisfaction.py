"""The "has it been fixed?" follow-up, sent ``SATISFACTION_FOLLOWUP_DAYS`` after a result.

``send_followups(now)`` is the body of a daily job (``flask satisfaction-followup``
or the scheduler): it finds tickets resolved that many days ago — an indexed range
on ``resolved_at`` (``ix_tickets_resolved``), a few days wide so a missed run
catches up — that nobody has rated yet, and writes one outbox message each on the
citizen's own channel. The outbox key names the ticket and the result it asks
about, so a second run, or a retried job, writes nothing new; a ticket reopened
and resolved again is asked again about the new result.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import joinedload

from hotline.domain.lifecycle import DONE_STATUSES
from hotline.extensions import db
from hotline.models import OutboxMessage, Ticket
from hotline.services import outbox

# How far back a run looks beyond the due day, so a few missed days are caught up.
CATCH_UP_DAYS = 3
BATCH = 1000
_CHAT_CHANNELS = ("telegram", "zalo", "facebook")


def followup_key(ticket: Ticket) -> str:
    """One question per ticket and result: the resolution instant is part of the key."""
    stamp = int(ticket.resolved_at.timestamp()) if ticket.resolved_at else 0
    return f"satisfaction:{ticket.code}:{stamp}"


def followup_text(ticket: Ticket) -> str:
    days = int(current_app.config.get("SATISFACTION_REOPEN_DAYS", 7))
    lines = (f"Tổng đài 1022: phản ánh {ticket.code} của bạn đã có kết quả. "
             f"Vấn đề đã được khắc phục chưa? Mời bạn đánh giá (1–5 sao) tại: "
             f"{outbox.status_link(ticket)}\n"
             f"Nếu chưa được khắc phục, hãy chọn «Chưa khắc phục» trong {days} ngày kể từ khi "
             f"có kết quả để phiếu được mở lại.")
    route = outbox.reply_route(ticket, ticket.contact) if ticket.contact else None
    if route is not None and route[0] in _CHAT_CHANNELS:
        # Chats can answer in place (services.chat_rating); SMS and e-mail cannot.
        lines += (f"\nHoặc trả lời: đánh giá {ticket.code} 1-5 (kèm nhận xét; "
                  f"bắt đầu bằng «chưa khắc phục» nếu vấn đề vẫn còn).")
    return lines


def send_followups(now: datetime) -> int:
    """Queue the follow-up question for every ticket now due for one; returns how many."""
    days = int(current_app.config.get("SATISFACTION_FOLLOWUP_DAYS", 3))
    newest = now - timedelta(days=days)
    oldest = newest - timedelta(days=CATCH_UP_DAYS)
    done = [s.value for s in DONE_STATUSES]
    queued = 0
    last_id = 0
    while True:
        rows = db.session.scalars(
            select(Ticket).options(joinedload(Ticket.contact))
            .where(Ticket.resolved_at > oldest, Ticket.resolved_at <= newest,
                   Ticket.id > last_id, Ticket.status.in_(done), Ticket.rated_at.is_(None),
                   Ticket.contact_id.is_not(None))
            .order_by(Ticket.id).limit(BATCH)).all()
        if not rows:
            return queued
        last_id = rows[-1].id
        keys = {followup_key(t): t for t in rows}
        sent = set(db.session.scalars(select(OutboxMessage.key)
                                      .where(OutboxMessage.key.in_(list(keys)))))
        for key, ticket in keys.items():
            if key in sent:
                continue
            if outbox.queue_message(ticket, "satisfaction", followup_text(ticket), key=key,
                                    contact=ticket.contact) is not None:
                queued += 1
        db.session.flush()
        if len(rows) < BATCH:
            return queued
