"""Results that need a lead's approval never stall: without a lead, managers approve.

An agency set to need its lead's approval (``requires_result_approval``) but with
no active ``agency_lead`` account would leave its results "chờ duyệt" forever.
Its approvals fall to the managers instead (``handling.approve``/``send_back`` accept
a manager for exactly these agencies), the managers see them in their approvals
queue, and the administrators' overview warns about such agencies.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import exists, select
from sqlalchemy.orm import joinedload

from hotline.domain.errors import PermissionDenied
from hotline.domain.lifecycle import Status
from hotline.extensions import db
from hotline.models import Agency, Role, Ticket, User

PAGE = 50


def _lead_exists(agency_id):
    return exists().where(User.agency_id == agency_id, User.role == Role.AGENCY_LEAD.value,
                          User.active.is_(True))


def has_active_lead(agency_id: int | None) -> bool:
    return agency_id is not None and bool(db.session.scalar(select(_lead_exists(agency_id))))


def may_approve_as_manager(actor: User, ticket: Ticket) -> bool:
    """A manager stands in for the lead of an agency that has none (and only then)."""
    return (actor.role == Role.MANAGER.value and ticket.agency_id is not None
            and not has_active_lead(ticket.agency_id))


def agencies_without_lead() -> list[Agency]:
    """Active agencies that need a lead's approval and have no active lead (few: one query)."""
    return list(db.session.scalars(
        select(Agency).where(Agency.active.is_(True), Agency.requires_result_approval.is_(True),
                             ~_lead_exists(Agency.id)).order_by(Agency.name)))


@dataclass(frozen=True)
class FallbackPage:
    tickets: list[Ticket]
    next_after: int | None


def waiting_for_managers(actor: User, *, after_id: int | None = None,
                         limit: int = PAGE) -> FallbackPage:
    """Results of lead-less agencies waiting for approval, oldest first (keyset on id)."""
    if actor is None or actor.role != Role.MANAGER.value:
        raise PermissionDenied("Chỉ lãnh đạo / IOC được xem danh sách này.")
    agency_ids = [a.id for a in agencies_without_lead()]
    if not agency_ids:
        return FallbackPage([], None)
    conds = [Ticket.agency_id.in_(agency_ids), Ticket.status == Status.RESOLVED.value]
    if after_id:
        conds.append(Ticket.id > after_id)
    rows = db.session.scalars(select(Ticket).options(joinedload(Ticket.agency))
                              .where(*conds).order_by(Ticket.id).limit(limit + 1)).all()
    more = len(rows) > limit
    rows = list(rows[:limit])
    return FallbackPage(rows, rows[-1].id if more and rows else None)
