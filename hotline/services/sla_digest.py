"""The daily SLA digest: each agency lead gets their unit's overdue and due-soon
tickets, each manager the overdue counts by agency.

``send_digests(now)`` is called every few minutes by the cron; it does
something only on a working day (the working calendar: weekends, holidays, Tết
and make-up days, administrator overrides) at or after ``DIGEST_LOCAL_TIME``
(local time, default 07:30), and only once that day — every e-mail's key is
``digest:{date}:{user}``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from flask import current_app
from sqlalchemy import func, select, text

from hotline.config import local_time
from hotline.domain.lifecycle import OPEN_STATUSES
from hotline.extensions import db
from hotline.models import Agency, OutboxMessage, Role, Ticket, User
from hotline.services.calendar import get_calendar
from hotline.services.outbox import StaffMessage, queue_staff_messages
from hotline.services.settings import setting_time

#: Tickets listed in a lead's digest; the rest are counted.
LIST_LIMIT = 50
_WATCHED = "sla_state IN ('overdue', 'due_soon')"


@dataclass(frozen=True)
class DigestReport:
    """What a call did: the local day, how many e-mails were queued, or why none."""

    day: date | None
    sent: int = 0
    skipped: str | None = None
    recipients: list[str] = field(default_factory=list)


def send_digests(now: datetime) -> DigestReport:
    """Queue today's digests if it is time and they have not been queued yet."""
    calendar = get_calendar()
    local = now.astimezone(calendar.tz)
    day = local.date()
    if not calendar.is_working_day(day):
        return DigestReport(day=day, skipped="not a working day")
    if local.time() < setting_time("DIGEST_LOCAL_TIME"):
        return DigestReport(day=day, skipped="before the digest time")
    leads = db.session.execute(
        select(User.id, User.email, User.agency_id)
        .where(User.role == Role.AGENCY_LEAD.value, User.active.is_(True),
               User.email.is_not(None), User.agency_id.is_not(None)).order_by(User.id)).all()
    managers = db.session.execute(
        select(User.id, User.email)
        .where(User.role == Role.MANAGER.value, User.active.is_(True),
               User.email.is_not(None)).order_by(User.id)).all()
    keys = {f"digest:{day.isoformat()}:{uid}" for uid, *_ in [*leads, *managers]}
    if not keys:
        return DigestReport(day=day, skipped="nobody to send to")
    done = set(db.session.scalars(select(OutboxMessage.key).where(OutboxMessage.key.in_(keys))))
    if done >= keys:
        return DigestReport(day=day, skipped="already sent today")

    counts = _counts_by_agency()
    names = dict(db.session.execute(select(Agency.id, Agency.name)).all())
    messages: list[StaffMessage] = []
    listed: dict[int, list] = {}
    for uid, email, agency_id in leads:
        key = f"digest:{day.isoformat()}:{uid}"
        if key in done:
            continue
        if agency_id not in listed:
            listed[agency_id] = _agency_tickets(agency_id)
        subject, body = _lead_digest(day, names.get(agency_id, ""), counts.get(agency_id, {}),
                                     listed[agency_id])
        messages.append(StaffMessage(key=key, purpose="digest_lead", recipient=email,
                                     subject=subject, text=body))
    for uid, email in managers:
        key = f"digest:{day.isoformat()}:{uid}"
        if key in done:
            continue
        subject, body = _manager_digest(day, counts, names)
        messages.append(StaffMessage(key=key, purpose="digest_manager", recipient=email,
                                     subject=subject, text=body))
    sent = queue_staff_messages(messages)
    return DigestReport(day=day, sent=sent, recipients=[m.recipient for m in messages])


def _counts_by_agency() -> dict[int | None, dict[str, int]]:
    """Overdue and due-soon open tickets per agency: one aggregate over ``ix_tickets_sla_due``."""
    out: dict[int | None, dict[str, int]] = {}
    for agency_id, state, n in db.session.execute(
            select(Ticket.agency_id, Ticket.sla_state, func.count())
            .where(text(_WATCHED)).group_by(Ticket.agency_id, Ticket.sla_state)):
        out.setdefault(agency_id, {})[state] = n
    return out


def _agency_tickets(agency_id: int) -> list:
    """The agency's first overdue/due-soon tickets by due time (``ix_tickets_agency_inbox``)."""
    return db.session.execute(
        select(Ticket.code, Ticket.title, Ticket.sla_state, Ticket.due_at)
        .where(Ticket.agency_id == agency_id,
               Ticket.status.in_([s.value for s in OPEN_STATUSES]), text(_WATCHED))
        .order_by(Ticket.due_at, Ticket.id).limit(LIST_LIMIT)).all()


def _footer() -> str:
    return f"\n\n— Hệ thống Tổng đài 1022, {current_app.config['PROVINCE_NAME']}"


def _lead_digest(day: date, agency_name: str, counts: dict[str, int],
                 tickets: list) -> tuple[str, str]:
    overdue, soon = counts.get("overdue", 0), counts.get("due_soon", 0)
    lines = [f"Tình hình xử lý phiếu của {agency_name}, ngày {day:%d/%m/%Y}:",
             f"- Quá hạn: {overdue} phiếu", f"- Sắp đến hạn: {soon} phiếu"]
    if tickets:
        lines.append("")
        for code, title, state, due_at in tickets:
            label = "QUÁ HẠN" if state == "overdue" else "sắp đến hạn"
            lines.append(f"{code} [{label}] hạn {local_time(due_at)} — {title}")
        rest = overdue + soon - len(tickets)
        if rest > 0:
            lines.append(f"… và {rest} phiếu khác.")
    else:
        lines.append("Không có phiếu quá hạn hoặc sắp đến hạn.")
    return f"Tổng hợp phiếu quá hạn, sắp đến hạn ngày {day:%d/%m/%Y}", "\n".join(lines) + _footer()


def _manager_digest(day: date, counts: dict[int | None, dict[str, int]],
                    names: dict[int, str]) -> tuple[str, str]:
    rows = sorted(((names.get(a, "(chưa phân công)") if a else "(chưa phân công)",
                    c.get("overdue", 0), c.get("due_soon", 0))
                   for a, c in counts.items()), key=lambda r: (-r[1], -r[2], r[0]))
    total = sum(r[1] for r in rows)
    lines = [f"Phiếu quá hạn theo đơn vị, ngày {day:%d/%m/%Y}: tổng cộng {total} phiếu."]
    for name, overdue, soon in rows:
        if overdue or soon:
            lines.append(f"- {name}: {overdue} quá hạn, {soon} sắp đến hạn")
    if total == 0 and len(lines) == 1:
        lines.append("Không có phiếu quá hạn.")
    return f"Báo cáo phiếu quá hạn theo đơn vị ngày {day:%d/%m/%Y}", "\n".join(lines) + _footer()
