"""In a real browser: an operator types a citizen's words into the new-call form and sees
the suggested fields (with the words that decided them) and the scope banner, live."""
from __future__ import annotations

from playwright.sync_api import expect

from hotline.extensions import db
from tests.browser.conftest import screenshot
from tests.browser.test_staff_flow import sign_in
from tests.triage.conftest import (  # noqa: F401 - fixtures used by name
    app_config,
    corpus_model,
    corpus_model_file,
    model_path,
    with_model,
)


def test_operator_sees_field_and_scope_suggestions_while_typing(page, staff, org, with_model):
    page.set_default_timeout(30_000)   # the first suggestion loads the model
    operator, lamp_field = staff.operator.username, str(org.fields["CS"].id)
    # SQLite takes its write lock when a transaction begins: hold none while the server works.
    db.session.rollback()
    sign_in(page, operator)
    page.goto(page.base_url + "/operator/")
    box = page.locator("[data-triage-live]")
    expect(box).to_be_hidden()
    page.get_by_label("Nội dung cuộc gọi").fill("Đèn đường trong hẻm nhà tôi hư hết, tối om mấy bữa nay")
    chip = box.locator(".triage-chip").first
    expect(chip).to_have_attribute("data-field-code", "CS")
    expect(chip).to_contain_text("Chiếu sáng đô thị")
    expect(box.locator("[data-triage-words]")).to_contain_text("đèn đường", ignore_case=True)
    expect(box.locator("[data-triage-banner]")).to_be_hidden()
    chip.click()
    expect(page.locator("#field_id")).to_have_value(lamp_field)

    page.get_by_label("Nội dung cuộc gọi").fill("Alo, cháy nhà ở ấp 3 rồi, lửa đang bốc cao lắm, cứu với")
    banner = box.locator("[data-triage-banner]")
    expect(banner).to_be_visible()
    expect(banner).to_have_attribute("data-scope", "emergency")
    expect(banner).to_contain_text("114")
    screenshot(page, "operator-triage-emergency")

    page.get_by_label("Nội dung cuộc gọi").fill("Tôi tố cáo cán bộ địa chính xã nhận tiền làm sổ đỏ")
    expect(banner).to_have_attribute("data-scope", "to_cao")
    expect(banner).to_contain_text("Luật Tố cáo 2018")
