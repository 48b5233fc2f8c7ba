"""SLA over the database: pick the policy, set a ticket's deadlines, pause and resume,
and the scan that moves tickets across thresholds and tells people once.

Extensions live in ``sla_extension``, the daily digest in ``sla_digest``,
recomputing deadlines after a policy change in ``sla_recompute``.
"""
from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app
from sqlalchemy import insert, select, text, update

from hotline.domain import sla as sla_domain
from hotline.extensions import db
from hotline.models import Agency, Field, Role, SlaPolicy, Ticket, TicketEvent, User
from hotline.models.ticket import FIRST_RESPONSE_PENDING
from hotline.services import memo
from hotline.services.calendar import get_calendar
from hotline.services.outbox import StaffMessage, local_time, queue_staff_messages
from hotline.services.settings import setting_float, setting_list

# --- policies and the clock ------------------------------------------------------


def to_domain(row: SlaPolicy, field_code: str | None) -> sla_domain.SlaPolicy:
    """The domain policy for a stored row (targets in working minutes)."""
    return sla_domain.SlaPolicy(
        id=row.id,
        resolution=timedelta(minutes=row.resolution_minutes),
        first_response=timedelta(minutes=row.first_response_minutes),
        field_code=field_code,
        kind=row.kind,
        priority=sla_domain.Priority(row.priority) if row.priority else None,
        due_soon_fraction=row.due_soon_fraction,
        due_soon_max=(timedelta(minutes=row.due_soon_max_minutes)
                      if row.due_soon_max_minutes else None),
    )


def active_policies() -> list[sla_domain.SlaPolicy]:
    """Every active policy (the built-in defaults when the table has none); read once
    inside a ``memo.batch``."""
    return memo.remember("sla_policies", _active_policies)


def _active_policies() -> list[sla_domain.SlaPolicy]:
    rows = db.session.execute(
        select(SlaPolicy, Field.code).outerjoin(Field, SlaPolicy.field_id == Field.id)
        .where(SlaPolicy.active.is_(True))).all()
    return [to_domain(row, code) for row, code in rows] or list(sla_domain.DEFAULT_POLICIES)


def policy_for(field: Field | None, kind: str, priority: str,
               policies: list[sla_domain.SlaPolicy] | None = None) -> sla_domain.SlaPolicy:
    """The most specific active policy for this field, kind and priority."""
    return sla_domain.select_policy(
        active_policies() if policies is None else policies,
        field_code=field.code if field else None, kind=kind,
        priority=sla_domain.Priority(priority))


def start_clock(ticket: Ticket, start: datetime) -> None:
    """Set the first-response and resolution deadlines from ``start`` and run the clock."""
    policy = policy_for(ticket.field, ticket.kind, ticket.priority)
    deadlines = sla_domain.compute_deadlines(get_calendar(), policy, start)
    ticket.sla_policy_id = policy.id
    ticket.first_response_due = deadlines.first_response_due
    ticket.due_at = deadlines.due_at
    ticket.due_soon_at = deadlines.due_soon_at
    ticket.sla_paused_at = None
    ticket.sla_started_at = start
    ticket.sla_paused_seconds = 0
    ticket.escalated_at = None
    ticket.first_response_breached_at = None
    ticket.sla_state = sla_domain.sla_state(
        now=start, due_at=deadlines.due_at, due_soon_at=deadlines.due_soon_at).value


def pause_clock(ticket: Ticket, at: datetime) -> None:
    """Stop the clock while the ticket waits for the citizen."""
    if ticket.sla_state and ticket.sla_paused_at is None:
        ticket.sla_paused_at = at
        ticket.sla_state = "paused"


def resume_clock(ticket: Ticket, at: datetime) -> None:
    """Restart the clock; the deadlines move by the working time spent paused."""
    if ticket.sla_paused_at is None or ticket.due_at is None:
        return
    calendar = get_calendar()
    moved = sla_domain.resume_deadlines(
        calendar,
        sla_domain.Deadlines(first_response_due=ticket.first_response_due or ticket.due_at,
                             due_at=ticket.due_at, due_soon_at=ticket.due_soon_at or ticket.due_at),
        ticket.sla_paused_at, at)
    paused = calendar.working_time_between(ticket.sla_paused_at, at)
    ticket.sla_paused_seconds = (ticket.sla_paused_seconds or 0) + int(paused.total_seconds())
    ticket.first_response_due = moved.first_response_due
    ticket.due_at = moved.due_at
    ticket.due_soon_at = moved.due_soon_at
    ticket.sla_paused_at = None
    ticket.sla_state = sla_domain.sla_state(
        now=at, due_at=moved.due_at, due_soon_at=moved.due_soon_at).value


def stop_clock(ticket: Ticket) -> None:
    """The agency's work is done (or the ticket left its hands): the clock stops."""
    ticket.sla_state = None
    ticket.sla_paused_at = None


def request_extension(ticket: Ticket, actor: User, new_due_at: datetime, reason: str, *,
                      now: datetime | None = None) -> TicketEvent:
    """The agency asks for a later due time (see ``sla_extension.request_extension``)."""
    from hotline.services import sla_extension
    return sla_extension.request_extension(ticket, actor, new_due_at, reason, now=now)


def decide_extension(ticket: Ticket, actor: User, approve: bool, reason: str | None, *,
                     now: datetime | None = None) -> TicketEvent:
    """A manager approves or refuses it (see ``sla_extension.decide_extension``)."""
    from hotline.services import sla_extension
    return sla_extension.decide_extension(ticket, actor, approve, reason, now=now)


# --- the scan ---------------------------------------------------------------------


@dataclass(frozen=True)
class ScanReport:
    """What one SLA scan changed (ticket ids per crossing) and how many e-mails it queued."""

    due_soon: list[int]
    overdue: list[int]
    escalated: list[int] = field(default_factory=list)
    first_response: list[int] = field(default_factory=list)
    notifications: int = 0

    def describe(self) -> str:
        return (f"SLA scan: {len(self.due_soon)} ticket(s) became due soon, "
                f"{len(self.overdue)} became overdue, {len(self.escalated)} escalated to the "
                f"province, {len(self.first_response)} missed the first-response deadline; "
                f"{self.notifications} notification(s) queued.")


@dataclass(frozen=True)
class _Crossed:
    """A ticket that just crossed, with what the notifications need."""

    id: int
    code: str
    title: str
    agency_id: int | None
    assignee_id: int | None
    due_at: datetime | None
    first_response_due: datetime | None
    from_state: str | None


class _People:
    """Who to tell, loaded per batch in a few queries (never per ticket)."""

    def __init__(self) -> None:
        self._managers: list[tuple[str, str]] | None = None
        self._agencies: dict[int, str] | None = None

    def managers(self) -> list[tuple[str, str]]:
        if self._managers is None:
            self._managers = [(str(uid), email) for uid, email in db.session.execute(
                select(User.id, User.email).where(User.role == Role.MANAGER.value,
                                                  User.active.is_(True),
                                                  User.email.is_not(None))
                .order_by(User.id))]
        return self._managers

    def escalation(self) -> list[tuple[str, str]]:
        configured = setting_list("SLA_ESCALATION_EMAILS")
        return [(email.lower(), email) for email in configured] or self.managers()

    def agency_name(self, agency_id: int | None) -> str:
        if self._agencies is None:
            self._agencies = dict(db.session.execute(select(Agency.id, Agency.name)).all())
        unassigned = "(chưa phân công)"
        return self._agencies.get(agency_id, unassigned) if agency_id else unassigned

    @staticmethod
    def leads(agency_ids: Iterable[int]) -> dict[int, list[tuple[str, str]]]:
        ids = sorted({a for a in agency_ids if a})
        out: dict[int, list[tuple[str, str]]] = {}
        if not ids:
            return out
        for uid, email, agency_id in db.session.execute(
                select(User.id, User.email, User.agency_id)
                .where(User.role == Role.AGENCY_LEAD.value, User.active.is_(True),
                       User.email.is_not(None), User.agency_id.in_(ids)).order_by(User.id)):
            out.setdefault(agency_id, []).append((str(uid), email))
        return out

    @staticmethod
    def users(user_ids: Iterable[int]) -> dict[int, tuple[str, str]]:
        ids = sorted({u for u in user_ids if u})
        if not ids:
            return {}
        return {uid: (str(uid), email) for uid, email in db.session.execute(
            select(User.id, User.email).where(User.id.in_(ids), User.active.is_(True),
                                              User.email.is_not(None)))}


def escalate_after() -> timedelta:
    """Working time past due after which an overdue ticket goes to the province."""
    hours = setting_float("SLA_ESCALATE_AFTER_HOURS")
    if hours < 0:
        raise ValueError("SLA_ESCALATE_AFTER_HOURS must not be negative")
    return timedelta(hours=hours)


def scan(now: datetime, *, batch: int = 5000) -> ScanReport:
    """Move tickets whose thresholds passed and tell the people concerned, once.

    Indexed range queries (on partial indexes) find only the tickets that crossed, so
    the cost follows the crossings, not the number of open tickets:

    - on track / due soon → overdue (``ix_tickets_sla_due``): the agency's
      leads and the managers;
    - on track → due soon (``ix_tickets_sla_soon``): the assigned handler and
      the agency's leads;
    - overdue for ``SLA_ESCALATE_AFTER_HOURS`` working hours → escalated
      (``ix_tickets_sla_escalate``): ``SLA_ESCALATION_EMAILS`` or the managers;
    - first-response deadline passed and nobody accepted the ticket
      (``ix_tickets_first_response``): the handler and the leads.

    Each crossing is an UPDATE … RETURNING of the rows still in the old state,
    so two scans running at once never both report a ticket; it writes one
    event and one e-mail per recipient, keyed ``sla:{ticket}:{crossing}:…``.
    Paused tickets (``sla_state = 'paused'``) match none of the queries.
    """
    people = _People()
    counter = [0]
    # Overdue from each running state separately: an equality on sla_state keeps each
    # query a single range of ix_tickets_sla_due, so overdue tickets are never walked.
    overdue = [ticket_id for state in ("due_soon", "on_track") for ticket_id in _run_crossing(
        now, batch=batch, counter=counter, order_by=Ticket.due_at,
        where=[text(f"sla_state = '{state}'"), Ticket.due_at <= now],
        values={"sla_state": "overdue"}, event_type="sla_overdue", to_state="overdue",
        note=lambda c, p: "Phiếu đã quá hạn xử lý.",
        recipients=lambda rows: _leads_and(rows, people, people.managers()),
        message=lambda c, p: _message_overdue(c, p), people=people)]
    due_soon = _run_crossing(
        now, batch=batch, counter=counter, order_by=Ticket.due_soon_at,
        where=[text("sla_state = 'on_track'"), Ticket.due_soon_at <= now],
        values={"sla_state": "due_soon"}, event_type="sla_due_soon", to_state="due_soon",
        note=lambda c, p: "Phiếu sắp đến hạn xử lý.",
        recipients=lambda rows: _assignee_and_leads(rows, people),
        message=lambda c, p: _message_due_soon(c, p), people=people)
    margin = escalate_after()
    cutoff = get_calendar().subtract_working_time(now, margin) if margin else now
    escalated = _run_crossing(
        now, batch=batch, counter=counter, order_by=Ticket.due_at,
        where=[text("sla_state = 'overdue' AND escalated_at IS NULL"), Ticket.due_at <= cutoff],
        values={"escalated_at": now}, event_type="sla_escalated", to_state="escalated",
        note=lambda c, p: (f"Phiếu quá hạn hơn {_hours(margin)} giờ làm việc; "
                           "đã báo cáo lãnh đạo tỉnh."),
        recipients=lambda rows: {c.id: people.escalation() for c in rows},
        message=lambda c, p: _message_escalated(c, p, margin), people=people)
    first_response = _run_crossing(
        now, batch=batch, counter=counter, order_by=Ticket.first_response_due,
        where=[text(FIRST_RESPONSE_PENDING), Ticket.first_response_due <= now],
        values={"first_response_breached_at": now}, event_type="sla_first_response_overdue",
        to_state="first_response", key_stamp=False,
        note=lambda c, p: "Phiếu chưa được đơn vị tiếp nhận đúng hạn.",
        recipients=lambda rows: _assignee_and_leads(rows, people),
        message=lambda c, p: _message_first_response(c, p), people=people)
    return ScanReport(due_soon=due_soon, overdue=overdue, escalated=escalated,
                      first_response=first_response, notifications=counter[0])


def _run_crossing(now, *, batch, counter, order_by, where, values, event_type, to_state, note,
                  recipients, message, people, key_stamp=True) -> list[int]:
    crossed_ids: list[int] = []
    while True:
        rows = _move_batch(where, order_by, values, batch)
        if not rows:
            return crossed_ids
        by_ticket = recipients(rows)
        mails: list[StaffMessage] = []
        notified: dict[int, int] = {}
        for c in rows:
            subject, body = message(c, people)
            stamp = f":{c.due_at:%Y%m%d%H%M}" if key_stamp and c.due_at else ""
            for rkey, email in by_ticket.get(c.id, []):
                mails.append(StaffMessage(
                    key=f"sla:{c.id}:{to_state}:{rkey}{stamp}", purpose=f"sla_{to_state}",
                    recipient=email, subject=subject, text=body, ticket_id=c.id,
                    ticket_code=c.code))
                notified[c.id] = notified.get(c.id, 0) + 1
        if rows:
            db.session.execute(insert(TicketEvent), [
                {"ticket_id": c.id, "type": event_type, "actor_label": "system", "at": now,
                 "from_status": None, "to_status": None, "agency_id": c.agency_id,
                 "note": note(c, people), "public": False,
                 "data": {"from": c.from_state, "to": to_state,
                          "notified": notified.get(c.id, 0)}}
                for c in rows])
        counter[0] += queue_staff_messages(mails)
        crossed_ids.extend(c.id for c in rows)
        if len(rows) < batch:
            return crossed_ids


_RETURNED = ("id", "code", "title", "agency_id", "assignee_id", "due_at", "first_response_due")


def _move_batch(where, order_by, values, batch) -> list[_Crossed]:
    """Move the next ``batch`` crossed tickets; return them with the state they came from."""
    tickets = Ticket.__table__
    returned = [tickets.c[name] for name in _RETURNED]
    if db.session.get_bind().dialect.name == "postgresql":
        # One statement: pick the rows on the partial index, lock them (skipping rows a
        # concurrent scan holds), move them, return them — no id lists back and forth.
        # Ordered by the threshold column alone: each partial index then serves the
        # ORDER BY … LIMIT directly (ties need no order; crossed rows leave the predicate).
        picked = (select(tickets.c.id, tickets.c.sla_state.label("from_state")).where(*where)
                  .order_by(order_by).limit(batch)
                  .with_for_update(skip_locked=True).subquery("picked"))
        moved = db.session.execute(
            update(tickets).where(tickets.c.id == picked.c.id, *where).values(**values)
            .returning(*returned, picked.c.from_state)).all()
        return [_Crossed(*r) for r in moved]
    # SQLite: one writer at a time (BEGIN IMMEDIATE), and RETURNING sees only the updated
    # table: select, then update the same rows.
    picked = dict(db.session.execute(
        select(tickets.c.id, tickets.c.sla_state).where(*where)
        .order_by(order_by).limit(batch)).all())
    if not picked:
        return []
    moved = db.session.execute(
        update(tickets).where(tickets.c.id.in_(list(picked)), *where).values(**values)
        .returning(*returned)).all()
    return [_Crossed(*r, picked[r.id]) for r in moved]


def _leads_and(rows: list[_Crossed], people: _People,
               extra: list[tuple[str, str]]) -> dict[int, list[tuple[str, str]]]:
    leads = people.leads(c.agency_id for c in rows)
    return {c.id: _unique(leads.get(c.agency_id, []) + extra) for c in rows}


def _assignee_and_leads(rows: list[_Crossed], people: _People) -> dict[int, list[tuple[str, str]]]:
    leads = people.leads(c.agency_id for c in rows)
    assignees = people.users(c.assignee_id for c in rows)
    out = {}
    for c in rows:
        mine = [assignees[c.assignee_id]] if c.assignee_id in assignees else []
        out[c.id] = _unique(mine + leads.get(c.agency_id, []))
    return out


def _unique(pairs: list[tuple[str, str]]) -> list[tuple[str, str]]:
    seen: set[str] = set()
    out = []
    for rkey, email in pairs:
        if email.lower() not in seen:
            seen.add(email.lower())
            out.append((rkey, email))
    return out


def _hours(margin: timedelta) -> str:
    hours = margin.total_seconds() / 3600
    return f"{hours:g}"


def _footer() -> str:
    return f"\n\n— Hệ thống Tổng đài 1022, {current_app.config['PROVINCE_NAME']}"


def _message_due_soon(c: _Crossed, people: _People) -> tuple[str, str]:
    return (f"[{c.code}] Phiếu sắp đến hạn xử lý",
            f"Phiếu {c.code} «{c.title}» sắp đến hạn xử lý: hạn {local_time(c.due_at)}.\n"
            f"Đơn vị xử lý: {people.agency_name(c.agency_id)}.\n"
            "Đề nghị khẩn trương xử lý, báo cáo kết quả hoặc đề nghị gia hạn." + _footer())


def _message_overdue(c: _Crossed, people: _People) -> tuple[str, str]:
    return (f"[{c.code}] Phiếu đã quá hạn xử lý",
            f"Phiếu {c.code} «{c.title}» đã quá hạn xử lý (hạn {local_time(c.due_at)}).\n"
            f"Đơn vị xử lý: {people.agency_name(c.agency_id)}." + _footer())


def _message_escalated(c: _Crossed, people: _People, margin: timedelta) -> tuple[str, str]:
    return (f"[{c.code}] Báo cáo phiếu quá hạn kéo dài",
            f"Phiếu {c.code} «{c.title}» đã quá hạn hơn {_hours(margin)} giờ làm việc "
            f"(hạn {local_time(c.due_at)}).\n"
            f"Đơn vị xử lý: {people.agency_name(c.agency_id)}.\n"
            "Đề nghị lãnh đạo tỉnh chỉ đạo đôn đốc." + _footer())


def _message_first_response(c: _Crossed, people: _People) -> tuple[str, str]:
    return (f"[{c.code}] Phiếu chưa được tiếp nhận đúng hạn",
            f"Phiếu {c.code} «{c.title}» chưa được đơn vị tiếp nhận; hạn tiếp nhận "
            f"{local_time(c.first_response_due)}.\n"
            f"Đơn vị: {people.agency_name(c.agency_id)}." + _footer())

