"""The operator's call form and ticket page propose today's ward from an address."""
from __future__ import annotations

from datetime import UTC, datetime

from hotline.domain.messages import ContactHandle, IncomingMessage
from hotline.extensions import db
from hotline.models import Ticket
from hotline.services import intake
from tests.staff_fixtures import _user, login


def _operator(client):
    user = _user("operator", "dtv")
    db.session.commit()
    return login(client, user)


def test_call_form_locates_an_old_address(tree, client):
    _operator(client)
    body = client.get("/operator/api/locate",
                      query_string={"address": "ấp 3, xã Minh Hưng, huyện Chơn Thành, Bình Phước"}
                      ).get_json()
    ward = tree.areas["old.25441"].successor
    assert body["match"]["id"] == ward.id and body["match"]["method"] == "old_address"
    assert body["match"]["area_chain"] == [tree.areas["75"].id, ward.id]
    assert client.get("/operator/api/locate", query_string={"address": "???"}).get_json() == \
        {"match": None}
    assert client.get("/operator/").status_code == 200


def test_email_ticket_without_place_gets_a_proposal(tree, client):
    result = intake.receive(IncomingMessage(
        channel="email", external_id="<m1@example.com>", received_at=datetime(2026, 11, 23, 2,
                                                                              tzinfo=UTC),
        text="Rác thải tồn đọng trước chợ nhiều ngày.", address="kp 2, p. Tân Bình, tp Đồng Xoài",
        contact=ContactHandle(email="dan@example.com")))
    db.session.commit()
    ticket = db.session.get(Ticket, result.ticket_id)
    assert ticket.area_id is None
    _operator(client)
    page = client.get(f"/operator/tickets/{ticket.code}").get_data(as_text=True)
    assert "data-area-proposal" in page and "Phường Bình Phước" in page
    assert f'value="{tree.areas["25195"].id}" selected' in page
