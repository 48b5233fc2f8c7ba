"""The personal-data notice on public forms and at /privacy, and no-store on pages that
hold personal data (staff pages, a citizen's status pages)."""
from __future__ import annotations

import pytest

from tests.staff_fixtures import login


@pytest.fixture
def app_config():
    return {"PROVINCE_NAME": "tỉnh Đồng Nai", "RETENTION_DAYS": 730}


def test_the_form_carries_a_short_notice_linked_to_the_full_one(client, org):
    page = client.get("/submit").get_data(as_text=True)
    assert "Thông báo về xử lý dữ liệu cá nhân" in page
    assert "Tổng đài 1022 của tỉnh Đồng Nai" in page        # who
    assert "để tiếp nhận, chuyển cơ quan có thẩm quyền" in page  # why
    assert "730 ngày (khoảng 2 năm)" in page                  # how long (the setting)
    for right in ("xem, sửa, xoá", "phản đối", "rút lại sự đồng ý", "khiếu nại"):
        assert right in page
    assert "91/2025/QH15" in page and "356/2025/NĐ-CP" in page and "13/2023" not in page
    assert 'href="/privacy"' in page
    assert 'href="/privacy"' in client.get("/status").get_data(as_text=True)


def test_the_privacy_page_in_vietnamese_and_english(client, org):
    page = client.get("/privacy").get_data(as_text=True)
    assert "tỉnh Đồng Nai" in page and "730 ngày" in page
    for heading in ("Ai xử lý dữ liệu của bạn", "Để làm gì", "Lưu trong bao lâu",
                    "Quyền của bạn"):
        assert heading in page
    for right in ("chỉnh sửa", "xoá dữ liệu", "hạn chế xử lý", "Rút lại sự đồng ý",
                  "Khiếu nại"):
        assert right in page
    english = client.get("/privacy?lang=en").get_data(as_text=True)
    assert "Who processes your data" in english and "Your rights" in english
    assert "730 days" in english and "withdraw your consent" in english


def test_staff_and_status_pages_are_not_stored(client, staff):
    assert client.get("/status").headers["Cache-Control"] == "no-store"
    assert client.get("/login").headers["Cache-Control"] == "no-store"
    assert "no-store" not in client.get("/privacy").headers.get("Cache-Control", "")
    assert "no-store" not in client.get("/").headers.get("Cache-Control", "")
    login(client, staff.operator)
    for url in ("/operator/", "/operator/tickets"):
        resp = client.get(url)
        assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store", url


def test_manager_pages_are_not_stored(client, staff):
    login(client, staff.manager)
    resp = client.get("/manager/")
    assert resp.status_code == 200 and resp.headers["Cache-Control"] == "no-store"
