"""Bidi overrides and zero-width characters a citizen sends are shown as visible markers
on the staff screens, never applied to the page."""
from __future__ import annotations

import unicodedata

import pytest

from hotline.domain import bidi
from hotline.domain.messages import ContactHandle
from hotline.extensions import db
from hotline.models import Ticket
from hotline.services import handling
from tests.services.test_public import give_result
from tests.staff_fixtures import login

RLO, PDF, ZWSP, LRI, PDI, ZWJ = "\u202e", "\u202c", "\u200b", "\u2066", "\u2069", "\u200d"
TEXT = f"Đèn đường hỏng, xem ảnh {RLO}gnp.exe{PDF} ở Tân{ZWSP}Bình"
NAME = f"Nguyễn Lan {LRI}0912{PDI}"
NOTE = f"Đã liên hệ {RLO}3456{PDF}"
INVISIBLE = (RLO, PDF, ZWSP, LRI, PDI)


@pytest.fixture
def planted(receive, staff):
    result = receive(text=TEXT, contact=ContactHandle(name=NAME, phone="0912345678"),
                     force_new=True)
    ticket = db.session.get(Ticket, result.ticket_id)
    assert RLO in ticket.description and LRI in ticket.contact.name  # stored as sent
    handling.add_note(staff.handler, ticket, note=NOTE)
    db.session.commit()
    return ticket


def assert_neutralised(page: str, *expected: str) -> None:
    for char in INVISIBLE:
        assert char not in page, f"U+{ord(char):04X} reached the page"
    for text in expected:
        assert text in page, text


def test_operator_pages(client, staff, planted):
    login(client, staff.operator)
    page = client.get(f"/operator/tickets/{planted.code}").get_data(as_text=True)
    assert_neutralised(page, "⟨U+202E⟩gnp.exe⟨U+202C⟩", "Tân⟨U+200B⟩Bình",
                       "⟨U+2066⟩0912⟨U+2069⟩")
    listing = client.get("/operator/tickets", query_string={"q": "den duong"})
    assert_neutralised(listing.get_data(as_text=True), planted.code)


def test_agency_pages(client, staff, planted):
    login(client, staff.handler)
    page = client.get(f"/agency/tickets/{planted.code}").get_data(as_text=True)
    assert_neutralised(page, "⟨U+202E⟩gnp.exe⟨U+202C⟩", "Đã liên hệ ⟨U+202E⟩3456⟨U+202C⟩")
    assert_neutralised(client.get("/agency/").get_data(as_text=True), planted.code)


def test_manager_and_moderation_pages(client, staff, planted):
    give_result(planted, result=f"Đã thay bóng {RLO}đèn{PDF}.")
    login(client, staff.manager)
    listing = client.get("/manager/tickets", query_string={"status": "approved"})
    assert_neutralised(listing.get_data(as_text=True))
    page = client.get(f"/manager/publication/{planted.code}").get_data(as_text=True)
    assert_neutralised(page, "⟨U+202E⟩đèn⟨U+202C⟩")


def test_every_format_character_is_caught():
    for code in range(0x110000):
        char = chr(code)
        if unicodedata.category(char) == "Cf" and char != ZWJ:
            assert bidi.neutralise(f"a{char}b") == f"a{bidi.marker(char)}b", hex(code)


def test_emoji_sequences_and_vietnamese_are_left_alone():
    family = f"👨{ZWJ}👩{ZWJ}👧 ❤️{ZWJ}🔥 Phường Tân Bình, đường Phú Riềng Đỏ"
    assert bidi.neutralise(family) == family
    assert bidi.neutralise(f"a{ZWJ}b") == "a⟨U+200D⟩b"
