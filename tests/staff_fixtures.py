"""Fixtures for the staff-console tests: one user per role and agency, sign-in, tickets."""
from __future__ import annotations

from dataclasses import dataclass

import functools

import pytest
from sqlalchemy import event

from hotline.extensions import db
from hotline.models import Ticket, User
from hotline.services import accounts

PASSWORD = "correct-horse-battery"


@dataclass
class Staff:
    operator: User
    operator2: User
    manager: User
    admin: User
    handler: User        # UBND Thành phố Đồng Xoài: street lighting in Đồng Xoài goes here
    lead: User
    other_handler: User  # Sở Xây dựng: must never see Đồng Xoài's tickets
    other_lead: User
    co_handler: User     # Điện lực: invited to co-handle in some tests


@functools.cache
def _password_hash() -> str:
    # argon2 is slow on purpose; hash the shared test password once per run.
    return accounts.hash_password(PASSWORD)


def _user(role: str, username: str, agency=None) -> User:
    user = User(username=username, full_name=f"Cán bộ {username}", role=role,
                password_hash=_password_hash(), agency=agency,
                agency_id=agency.id if agency else None)
    db.session.add(user)
    return user


@pytest.fixture
def staff(org) -> Staff:
    a = org.agencies
    people = Staff(
        operator=_user("operator", "dtv"),
        operator2=_user("operator", "dtv2"),
        manager=_user("manager", "lanhdao"),
        admin=_user("admin", "quantri"),
        handler=_user("handler", "cb-dx", agency=a["UBND-689"]),
        lead=_user("agency_lead", "ld-dx", agency=a["UBND-689"]),
        other_handler=_user("handler", "cb-xd", agency=a["SO-XD"]),
        other_lead=_user("agency_lead", "ld-xd", agency=a["SO-XD"]),
        co_handler=_user("handler", "cb-dl", agency=a["DIENLUC"]),
    )
    people.operator.phone_extension = "101"
    db.session.commit()
    return people


def login(client, user: User):
    resp = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert resp.status_code == 302, resp.get_data(as_text=True)[:500]
    return client


def ticket(code_or_id) -> Ticket:
    """A fresh look at a ticket (after the request that changed it)."""
    db.session.expire_all()
    if isinstance(code_or_id, int):
        return db.session.get(Ticket, code_or_id)
    return db.session.query(Ticket).filter_by(code=code_or_id).one()


class QueryCounter:
    """Counts the SQL statements run while it is active (SQLAlchemy's before_cursor_execute)."""

    def __init__(self):
        self.statements: list[str] = []

    def _count(self, conn, cursor, statement, parameters, context, executemany):
        self.statements.append(statement)

    def __enter__(self):
        event.listen(db.engine, "before_cursor_execute", self._count)
        return self

    def __exit__(self, *exc):
        event.remove(db.engine, "before_cursor_execute", self._count)

    @property
    def count(self) -> int:
        # Savepoint and transaction bookkeeping is not a query of the page.
        return sum(1 for s in self.statements
                   if not s.lstrip().upper().startswith(
                       ("SAVEPOINT", "RELEASE", "BEGIN", "PRAGMA")))
