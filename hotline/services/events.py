"""Writing the timeline: every change to a ticket is one appended event."""
from __future__ import annotations

from datetime import datetime

from hotline.extensions import db
from hotline.models import Ticket, TicketEvent, User, utcnow


def record(ticket: Ticket, type_: str, *, actor: User | None = None, actor_label: str | None = None,
           note: str | None = None, public: bool = False, from_status: str | None = None,
           to_status: str | None = None, data: dict | None = None,
           at: datetime | None = None) -> TicketEvent:
    """Append one event to ``ticket``'s timeline (the ticket must have an id or be flushed)."""
    if ticket.id is None:
        db.session.flush()
    event = TicketEvent(
        ticket_id=ticket.id, type=type_, actor_id=actor.id if actor else None,
        actor_label=actor_label or (actor.username if actor else "system"),
        note=note, public=public, from_status=from_status, to_status=to_status,
        agency_id=ticket.agency_id, data=data, at=at or utcnow(),
    )
    db.session.add(event)
    return event
