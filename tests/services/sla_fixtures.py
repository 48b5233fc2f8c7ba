"""Shared pieces of the SLA tests: staff with e-mail addresses, the instants of one
ticket's life, and readers for what the scan wrote. Import the fixtures by name."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import Agency, OutboxMessage, Ticket, TicketEvent, User
from hotline.services import accounts
from tests.factories import MONDAY_9AM

# A normal-priority ticket received Monday 23/11/2026 09:00 (Hà Nội); Tuesday 24/11 is a
# public holiday (Ngày Văn hóa Việt Nam), so in working time:
FIRST_RESPONSE_DUE = MONDAY_9AM + timedelta(days=2)   # Wed 25/11 09:00
DUE_SOON_AT = MONDAY_9AM + timedelta(days=7)          # Mon 30/11 09:00 (1 working day before)
DUE_AT = MONDAY_9AM + timedelta(days=8)               # Tue 01/12 09:00
ESCALATE_AT = MONDAY_9AM + timedelta(days=9)          # Wed 02/12 09:00 (8 working hours later)
MINUTE = timedelta(minutes=1)


@dataclass
class Staff:
    handler: User
    lead: User
    lead2: User
    other_handler: User
    other_lead: User
    manager: User
    manager2: User
    operator: User
    admin: User


_HASH: list[str] = []


def _user(username: str, role: str, agency: str | None = None) -> User:
    # One argon2 hash for everyone: nine fresh hashes per test would dominate the run time.
    if not _HASH:
        _HASH.append(accounts.hash_password("correct-horse-battery"))
    agency_row = db.session.scalar(select(Agency).where(Agency.code == agency)) if agency else None
    user = User(username=username, password_hash=_HASH[0], role=role,
                full_name=f"Cán bộ {username}", agency=agency_row,
                email=f"{username}@example.gov.vn")
    db.session.add(user)
    db.session.flush()
    return user


@pytest.fixture
def staff(org) -> Staff:
    """Staff of UBND Đồng Xoài (where street-lighting tickets go), another agency, the province."""
    people = Staff(
        handler=_user("xuly.dx", "handler", "UBND-689"),
        lead=_user("lanhdao.dx", "agency_lead", "UBND-689"),
        lead2=_user("phophong.dx", "agency_lead", "UBND-689"),
        other_handler=_user("xuly.sxd", "handler", "SO-XD"),
        other_lead=_user("lanhdao.sxd", "agency_lead", "SO-XD"),
        manager=_user("ioc.truong", "manager"),
        manager2=_user("ioc.pho", "manager"),
        operator=_user("dtv.lan", "operator"),
        admin=_user("quantri", "admin"),
    )
    db.session.commit()
    return people


def outbox_rows(purpose_prefix: str = "") -> list[OutboxMessage]:
    return list(db.session.scalars(
        select(OutboxMessage).where(OutboxMessage.purpose.startswith(purpose_prefix))
        .order_by(OutboxMessage.id)))


def recipients(purpose: str, ticket_id: int | None = None) -> list[str]:
    query = select(OutboxMessage.recipient).where(OutboxMessage.purpose == purpose)
    if ticket_id is not None:
        query = query.where(OutboxMessage.ticket_id == ticket_id)
    return sorted(db.session.scalars(query))


def event_types(ticket_id: int) -> list[str]:
    return list(db.session.scalars(
        select(TicketEvent.type).where(TicketEvent.ticket_id == ticket_id)
        .order_by(TicketEvent.id)))


def counts() -> tuple[int, int]:
    return (db.session.scalar(select(func.count()).select_from(OutboxMessage)),
            db.session.scalar(select(func.count()).select_from(TicketEvent)))


def ticket(ticket_id: int) -> Ticket:
    row = db.session.get(Ticket, ticket_id)
    db.session.refresh(row)
    return row
