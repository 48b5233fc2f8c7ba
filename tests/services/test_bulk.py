"""Bulk actions: each ticket gets its event, one bad ticket stops the whole batch, roles enforced."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from hotline.domain.errors import NotFound, PermissionDenied, ValidationError
from hotline.domain.messages import ContactHandle
from hotline.extensions import db
from hotline.models import Ticket, TicketEvent
from hotline.services import bulk


@pytest.fixture
def tickets(receive):
    """Two triage tickets (no rule) and one assigned to UBND Đồng Xoài."""
    a = receive(external_id="t1", field_code=None, area_code=None, text="Rác ở chợ")
    b = receive(external_id="t2", channel="web", field_code=None, area_code=None,
                contact=ContactHandle(phone="0987654321"), text="Rác ở chợ (lần 2)")
    c = receive(external_id="t3", channel="web", contact=ContactHandle(phone="0911111111"))
    return [db.session.get(Ticket, r.ticket_id) for r in (a, b, c)]


def events(ticket, type_):
    return list(db.session.scalars(select(TicketEvent).where(TicketEvent.ticket_id == ticket.id,
                                                             TicketEvent.type == type_)))


def test_reassign_writes_one_event_per_ticket(org, tickets, make_user):
    operator = make_user("operator", username="dtv")
    codes = [t.code for t in tickets]
    result = bulk.reassign(operator, codes, org.agencies["SO-XD"].id, reason="Đúng thẩm quyền")
    db.session.commit()
    assert result.codes == codes
    for t in tickets:
        assert t.agency.code == "SO-XD" and t.status == "assigned"
        [event] = [e for e in events(t, "assigned") if e.actor_id == operator.id]
        assert "Đúng thẩm quyền" in event.data["reason"]


def test_one_bad_ticket_stops_the_batch(org, tickets, make_user):
    manager = make_user("manager", username="ld")
    bulk.close_as_spam(manager, [tickets[0].code])
    db.session.commit()
    with pytest.raises(ValidationError) as err:
        bulk.reassign(manager, [tickets[0].code, tickets[1].code], org.agencies["SO-XD"].id,
                      reason="x")
    assert tickets[0].code in err.value.message and "Chưa phiếu nào" in err.value.message
    db.session.rollback()
    assert db.session.get(Ticket, tickets[1].id).agency_id is None
    with pytest.raises(NotFound, match="PA-00-000000"):
        bulk.change_field(manager, [tickets[1].code, "PA-00-000000"], org.fields["GT"].id)
    with pytest.raises(ValidationError, match="lý do"):
        bulk.reassign(manager, [tickets[1].code], org.agencies["SO-XD"].id, reason=" ")


def test_change_field_merge_and_spam(org, tickets, make_user):
    operator = make_user("operator", username="dtv")
    a, b, c = tickets
    assert bulk.change_field(operator, [a.code, b.code], org.fields["TTDT"].id).codes == [a.code, b.code]
    assert events(a, "classified")[-1].data == {"field_id": [None, org.fields["TTDT"].id]}
    result = bulk.merge(operator, [b.code], a.code)
    db.session.commit()
    assert result.codes == [b.code]
    assert b.status == "rejected" and b.merged_into_id == a.id and b.closed_at is not None
    assert events(b, "merged")[0].data["merged_into_code"] == a.code
    assert events(a, "duplicate_linked")[0].data["code"] == b.code
    with pytest.raises(ValidationError, match="chỉ gộp được"):
        bulk.merge(operator, [c.code], a.code)  # an assigned ticket is not a triage duplicate
    db.session.rollback()
    with pytest.raises(ValidationError, match="đã bị đóng/gộp"):
        bulk.merge(operator, [a.code], b.code)
    db.session.rollback()
    bulk.close_as_spam(operator, [a.code], note="Quảng cáo")
    db.session.commit()
    assert a.status == "rejected" and a.sla_state is None
    assert "Quảng cáo" in events(a, "rejected")[0].note


def test_handlers_cannot_bulk(org, tickets, make_user):
    handler = make_user("handler", username="cb", agency=org.agencies["UBND-689"])
    with pytest.raises(PermissionDenied):
        bulk.close_as_spam(handler, [tickets[2].code])
    with pytest.raises(ValidationError, match="Mỗi lần tối đa"):
        bulk.close_as_spam(make_user("operator", username="o"), [f"PA-{i}" for i in range(201)])


def test_bulk_form_posts_and_comes_back(client, org, tickets, make_user):
    make_user("operator", username="dtv")
    client.post("/login", data={"username": "dtv", "password": "correct-horse-battery"})
    resp = client.post("/bulk/", data={"action": "spam", "codes": [tickets[0].code, tickets[1].code],
                                       "reason": "Tin rác", "next": "/bulk/?x=1"})
    assert resp.status_code == 302 and resp.headers["Location"].endswith("/bulk/?x=1")
    db.session.expire_all()
    assert {t.status for t in (tickets[0], tickets[1])} == {"rejected"}
    resp = client.post("/bulk/", data={"action": "spam", "codes": tickets[2].code})
    assert resp.status_code == 400 and "chỉ đóng được phiếu mới" in resp.get_data(as_text=True)
    resp = client.post("/bulk/", data={"action": "reassign", "codes": tickets[2].code,
                                       "next": "https://evil.example/"})
    assert resp.status_code == 400  # an outside "next" is ignored, the error page shows
