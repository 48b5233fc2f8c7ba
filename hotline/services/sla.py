"""SLA over the database: pick the policy, set a ticket's deadlines, pause and resume."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import insert, select, update

from hotline.domain import sla as sla_domain
from hotline.extensions import db
from hotline.models import Field, SlaPolicy, Ticket, TicketEvent
from hotline.services.calendar import get_calendar


def _to_domain(row: SlaPolicy, field_code: str | None) -> sla_domain.SlaPolicy:
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


def policy_for(field: Field | None, kind: str, priority: str) -> sla_domain.SlaPolicy:
    """The most specific active policy for this field, kind and priority."""
    rows = db.session.execute(
        select(SlaPolicy, Field.code).outerjoin(Field, SlaPolicy.field_id == Field.id)
        .where(SlaPolicy.active.is_(True))).all()
    policies = [_to_domain(row, code) for row, code in rows]
    if not policies:
        policies = list(sla_domain.DEFAULT_POLICIES)
    return sla_domain.select_policy(
        policies, field_code=field.code if field else None, kind=kind,
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
    moved = sla_domain.resume_deadlines(
        get_calendar(),
        sla_domain.Deadlines(first_response_due=ticket.first_response_due or ticket.due_at,
                             due_at=ticket.due_at, due_soon_at=ticket.due_soon_at or ticket.due_at),
        ticket.sla_paused_at, at)
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


@dataclass(frozen=True)
class ScanReport:
    """What one SLA scan changed: ticket ids that became due soon and overdue."""

    due_soon: list[int]
    overdue: list[int]


def scan(now: datetime, *, batch: int = 5000) -> ScanReport:
    """Move tickets whose thresholds passed: on_track → due_soon → overdue.

    Two indexed range queries (``ix_tickets_sla_soon``, ``ix_tickets_sla_due``)
    find only the tickets that crossed, so the cost follows the crossings, not
    the number of open tickets. Each crossing writes one event; a ticket that
    already crossed is not selected again, so nobody is told twice.
    """
    overdue = _cross(now, from_states=("on_track", "due_soon"), column=Ticket.due_at,
                     to_state="overdue", batch=batch,
                     note="Phiếu đã quá hạn xử lý.")
    due_soon = _cross(now, from_states=("on_track",), column=Ticket.due_soon_at,
                      to_state="due_soon", batch=batch,
                      note="Phiếu sắp đến hạn xử lý.")
    return ScanReport(due_soon=due_soon, overdue=overdue)


def _cross(now, *, from_states, column, to_state, batch, note) -> list[int]:
    crossed: list[int] = []
    while True:
        rows = db.session.execute(
            select(Ticket.id, Ticket.sla_state, Ticket.agency_id)
            .where(Ticket.sla_state.in_(from_states), column <= now)
            .order_by(column).limit(batch)).all()
        if not rows:
            return crossed
        ids = [r.id for r in rows]
        db.session.execute(update(Ticket).where(Ticket.id.in_(ids),
                                                Ticket.sla_state.in_(from_states))
                           .values(sla_state=to_state))
        db.session.execute(insert(TicketEvent), [
            {"ticket_id": r.id, "type": f"sla_{to_state}", "actor_label": "system", "at": now,
             "from_status": None, "to_status": None, "agency_id": r.agency_id, "note": note,
             "public": False, "data": {"from": r.sla_state, "to": to_state}}
            for r in rows])
        crossed.extend(ids)
        if len(rows) < batch:
            return crossed
