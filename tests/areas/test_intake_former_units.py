"""A ticket naming a former unit: filed under today's ward, or kept on the former unit when
it was received before the reform; routed by today's ward either way."""
from __future__ import annotations

from datetime import UTC, datetime

from hotline.domain.messages import ContactHandle, IncomingMessage
from hotline.extensions import db
from hotline.models import Ticket
from hotline.services import handling, intake


def _receive(external_id: str, received_at: datetime, area_code: str) -> Ticket:
    result = intake.receive(IncomingMessage(
        channel="phone", external_id=external_id, received_at=received_at,
        text="Rác thải đổ trộm ven đường nhiều ngày chưa được thu gom.", field_code="MT",
        area_code=area_code, contact=ContactHandle(phone="09123456" + external_id[-2:].zfill(2)),
        force_new=True))
    db.session.commit()
    return db.session.get(Ticket, result.ticket_id)


def test_former_commune_named_today_is_filed_under_its_ward(tree):
    former = tree.areas["old.25441"]  # Phường Minh Hưng, thị xã Chơn Thành (before 2025)
    ward = former.successor
    ticket = _receive("c01", datetime(2026, 11, 23, 2, tzinfo=UTC), "old.25441")
    assert ticket.area_id == ward.id and ticket.current_area_id is None
    assert ticket.agency_id == tree.agencies[ward.code].id


def test_ticket_received_before_the_reform_keeps_its_former_unit(tree):
    former = tree.areas["old.25441"]
    ticket = _receive("c02", datetime(2025, 3, 3, 2, tzinfo=UTC), "old.25441")
    assert ticket.area_id == former.id and ticket.current_area_id == former.successor_id
    # Rules name today's units: the ward's committee, found through the successor.
    assert ticket.agency_id == tree.agencies[former.successor.code].id
    assert handling.suggestion_for(ticket).agency_id == ticket.agency_id
    # 30 June 2025 23:30 in Vietnam is still before the reform; 1 July 00:10 is after.
    late = _receive("c03", datetime(2025, 6, 30, 16, 30, tzinfo=UTC), "old.25441")
    assert late.area_id == former.id
    after = _receive("c04", datetime(2025, 6, 30, 17, 10, tzinfo=UTC), "old.25441")
    assert after.area_id == former.successor_id
