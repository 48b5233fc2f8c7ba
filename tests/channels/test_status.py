"""Status answers for chats: only for the ticket's own contact, one text for "no"."""
from __future__ import annotations

import pytest

from hotline.domain.messages import ContactHandle
from hotline.extensions import db
from hotline.models import Ticket
from hotline.services import intake
from hotline.services.status import NOT_FOUND_TEXT, status_text_for_chat
from tests.channels.conftest import CHANNEL_SETTINGS
from tests.factories import message


@pytest.fixture
def app_config():
    return dict(CHANNEL_SETTINGS)


@pytest.fixture
def lan_ticket(org) -> Ticket:
    result = intake.receive(message(channel="telegram", external_id="u1",
                                    contact=ContactHandle(telegram_chat_id="5012345678",
                                                          zalo_user_id="z-lan")))
    ticket = db.session.get(Ticket, result.ticket_id)
    ticket.code = "PA-26-000123"
    db.session.commit()
    return ticket


def test_owner_gets_status_agency_and_due_time(lan_ticket):
    text = status_text_for_chat("pa-26-000123", "telegram", "5012345678")
    assert text.startswith("Phiếu PA-26-000123: Đã chuyển cơ quan xử lý.")
    assert "UBND Thành phố Đồng Xoài" in text and "Hạn xử lý:" in text
    assert f"/status/PA-26-000123/{lan_ticket.status_token}" in text
    # The same contact asking from another of its chats is still the owner.
    assert status_text_for_chat("PA-26-000123", "zalo", "z-lan").startswith("Phiếu PA-26-000123")


@pytest.mark.parametrize("code, channel, handle", [
    ("PA-26-000123", "telegram", "999"),       # someone else
    ("PA-26-000124", "telegram", "5012345678"),  # no such ticket
    ("hello", "telegram", "5012345678"),       # not a code
    (None, "telegram", "5012345678"),
    ("PA-26-000123", "sms", "5012345678"),     # not a chat channel
    ("PA-26-000123", "telegram", ""),
])
def test_everyone_else_gets_the_same_not_found(lan_ticket, code, channel, handle):
    assert status_text_for_chat(code, channel, handle) == NOT_FOUND_TEXT
