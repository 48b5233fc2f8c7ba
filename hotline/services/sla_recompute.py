"""Recompute open tickets' deadlines after an SLA policy or calendar change.

A policy or calendar edit applies to new deadlines only; this rebuilds the
existing ones on purpose, and says what it changed. For every ticket whose
clock runs (or is paused), in id order, keyset-batched:

- the policy is chosen again (field, kind, priority);
- deadlines = clock start + target + working time spent paused, on today's
  calendar — exactly what the ticket would have had under the new rules;
- a due time a manager set by approving an extension is kept (only the
  first-response deadline is recomputed).

Recomputing never sends notifications: a ticket whose deadline moved later
goes back to on track / due soon (and may cross again later); one whose
deadline moved earlier keeps its state until the next ``sla-scan``, which
moves it and tells people, once.
"""
from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, select, update

from hotline.config import local_time
from hotline.domain import sla as sla_domain
from hotline.extensions import db
from hotline.models import Field, Ticket, TicketEvent
from hotline.services.calendar import get_calendar
from hotline.services.sla import active_policies
from hotline.services.sla_extension import APPROVED

_RANK = {"on_track": 0, "due_soon": 1, "overdue": 2}


@dataclass(frozen=True)
class Change:
    """One ticket's deadlines before and after."""

    ticket_id: int
    code: str
    due_before: datetime | None
    due_after: datetime
    first_response_before: datetime | None
    first_response_after: datetime
    state_before: str | None
    state_after: str | None
    policy_id: int | None

    def describe(self) -> str:
        parts = []
        if self.due_before != self.due_after:
            parts.append(f"due {_show(self.due_before)} → {_show(self.due_after)}")
        if self.first_response_before != self.first_response_after:
            parts.append(f"first response {_show(self.first_response_before)} → "
                         f"{_show(self.first_response_after)}")
        if self.state_before != self.state_after:
            parts.append(f"state {self.state_before} → {self.state_after}")
        return f"{self.code}: " + "; ".join(parts)


@dataclass
class RecomputeReport:
    examined: int = 0
    changed: int = 0
    kept_extension: int = 0
    changes: list[Change] = field(default_factory=list)


def _show(value: datetime | None) -> str:
    return local_time(value) if value else "—"


def count_open() -> int:
    """Tickets whose clock runs or is paused (the ones recompute looks at)."""
    return db.session.scalar(select(func.count()).select_from(Ticket)
                             .where(Ticket.sla_state.is_not(None))) or 0


def recompute(now: datetime, *, dry_run: bool = False, batch: int = 1000,
              progress: Callable[[int, int], None] | None = None,
              keep_changes: int = 1000) -> RecomputeReport:
    """Recompute deadlines of open tickets; with ``dry_run`` nothing is written.

    ``progress(examined, changed)`` is called after each batch. The first
    ``keep_changes`` changes are kept in the report for printing.
    """
    calendar = get_calendar()
    policies = active_policies()
    field_codes = dict(db.session.execute(select(Field.id, Field.code)).all())
    chosen: dict[tuple, sla_domain.SlaPolicy] = {}
    report = RecomputeReport()
    for rows in _batches(batch):
        extended = set(db.session.scalars(
            select(TicketEvent.ticket_id).where(TicketEvent.ticket_id.in_([r.id for r in rows]),
                                                TicketEvent.type == APPROVED)))
        updates = []
        for r in rows:
            report.examined += 1
            key = (r.field_id, r.kind, r.priority)
            if key not in chosen:
                chosen[key] = sla_domain.select_policy(
                    policies, field_code=field_codes.get(r.field_id), kind=r.kind,
                    priority=sla_domain.Priority(r.priority))
            policy = chosen[key]
            start = r.sla_started_at or r.received_at
            paused = timedelta(seconds=r.sla_paused_seconds or 0)
            first_response = calendar.add_working_time(start, policy.first_response + paused)
            if r.id in extended:
                report.kept_extension += 1
                due_at, due_soon_at = r.due_at, r.due_soon_at
            else:
                due_at = calendar.add_working_time(start, policy.resolution + paused)
                due_soon_at = calendar.add_working_time(
                    start, policy.resolution - sla_domain.due_soon_margin(policy) + paused)
            state = _state_after(r, now, due_at, due_soon_at)
            if (due_at, due_soon_at, first_response, state, policy.id) == (
                    r.due_at, r.due_soon_at, r.first_response_due, r.sla_state, r.sla_policy_id):
                continue
            report.changed += 1
            if len(report.changes) < keep_changes:
                report.changes.append(Change(
                    r.id, r.code, r.due_at, due_at, r.first_response_due, first_response,
                    r.sla_state, state, policy.id))
            values = {"id": r.id, "due_at": due_at, "due_soon_at": due_soon_at,
                      "first_response_due": first_response, "sla_state": state,
                      "sla_policy_id": policy.id}
            if r.escalated_at is not None and state != "overdue":
                values["escalated_at"] = None
            if r.first_response_breached_at is not None and first_response > now:
                values["first_response_breached_at"] = None
            updates.append(values)
        if updates and not dry_run:
            db.session.execute(update(Ticket), updates)
            db.session.flush()
        if progress:
            progress(report.examined, report.changed)
    return report


def _state_after(r, now: datetime, due_at: datetime, due_soon_at: datetime) -> str:
    """Lower the state when the deadline moved later; leave upward moves to the scan."""
    if r.sla_state not in _RANK:
        return r.sla_state  # paused: keeps its state until resumed
    computed = sla_domain.sla_state(now=now, due_at=due_at, due_soon_at=due_soon_at).value
    return computed if _RANK[computed] < _RANK[r.sla_state] else r.sla_state


def _batches(size: int) -> Iterator[list]:
    last_id = 0
    while True:
        rows = db.session.execute(
            select(Ticket.id, Ticket.code, Ticket.field_id, Ticket.kind, Ticket.priority,
                   Ticket.received_at, Ticket.sla_started_at, Ticket.sla_paused_seconds,
                   Ticket.due_at, Ticket.due_soon_at, Ticket.first_response_due,
                   Ticket.sla_state, Ticket.sla_policy_id, Ticket.escalated_at,
                   Ticket.first_response_breached_at)
            .where(Ticket.sla_state.is_not(None), Ticket.id > last_id)
            .order_by(Ticket.id).limit(size)).all()
        if not rows:
            return
        yield rows
        last_id = rows[-1].id
        if len(rows) < size:
            return
