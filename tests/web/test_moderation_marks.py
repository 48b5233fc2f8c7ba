"""The moderation page marks what is still personal or suspicious in the text about to go public."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Ticket
from tests.services.test_public import give_result
from tests.web.test_public import login, submit


@pytest.fixture
def waiting(client, org, make_user):
    submit(client)
    ticket = give_result(db.session.scalar(select(Ticket)))
    make_user("manager", username="kiemduyet")
    login(client, "kiemduyet")
    return ticket


def _marks(page: str) -> list[tuple[str, str]]:
    return re.findall(r'<mark class="pd pd-([a-z_]+)"[^>]*>([^<]*)</mark>', page)


def test_the_redacted_proposal_keeps_no_personal_mark(client, waiting):
    page = client.get(f"/manager/publication/{waiting.code}").get_data(as_text=True)
    assert "mark-preview" in page
    assert [kind for kind, _ in _marks(page) if kind != "suspicious"] == []


def test_checking_an_edited_text_marks_what_is_left_and_saves_nothing(client, waiting):
    summary = ("Đèn hỏng trước chợ Tân Bình. Gọi chị LAN 0 9 1 2 3 4 5 6 7 8, "
               "hoặc lan [at] gmail . com; mã hồ sơ 20251234567890123456789.")
    resp = client.post(f"/manager/publication/{waiting.code}",
                       data={"summary": summary, "result": "Đã thay bóng đèn.", "action": "check"})
    page = resp.get_data(as_text=True)
    assert resp.status_code == 200
    marks = _marks(page)
    assert ("name", "LAN") in marks
    assert ("phone", "0 9 1 2 3 4 5 6 7 8") in marks
    assert ("email", "lan [at] gmail . com") in marks
    assert ("suspicious", "20251234567890123456789") in marks
    assert ("name", "Tân Bình") not in marks  # the market's name is a place
    db.session.refresh(waiting)
    assert waiting.published_at is None and waiting.public_summary is None
