"""An administrator configures a new province from an empty database, in the browser:
import the areas CSV, add an agency, a routing rule and a user, and check the routing."""
from __future__ import annotations

from sqlalchemy import select

from hotline.extensions import db
from hotline.models import Agency, Area, AuditLog, RoutingRule, User
from tests.browser.conftest import screenshot

AREAS = """code,name,level,parent_code
70,Tỉnh Bình Phước,Tỉnh,
25432,Phường Tân Phú,Phường,70
25435,Phường Tân Bình,Phường,70
25600,Xã Phú Riềng,Xã,70
""".encode()


def test_new_province_from_empty(page, make_user):
    make_user("admin", username="quantri", password="correct-horse-battery")
    base = page.base_url
    page.goto(base + "/login")
    page.get_by_label("Tên đăng nhập").fill("quantri")
    page.get_by_label("Mật khẩu").fill("correct-horse-battery")
    page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_role("heading", name="Quản trị hệ thống").wait_for()
    screenshot(page, "admin-empty-province")

    # 1. Areas from the official codes.
    page.get_by_role("link", name="Nhập danh mục địa bàn").click()
    page.get_by_text("Nhập từ tệp CSV").click()
    page.get_by_label("Tệp CSV").set_input_files(
        files=[{"name": "dia-ban.csv", "mimeType": "text/csv", "buffer": AREAS}])
    page.get_by_role("button", name="Nhập", exact=True).click()
    page.get_by_text("4 địa bàn mới").wait_for()
    page.get_by_role("link", name="Tỉnh Bình Phước", exact=True).click()
    page.get_by_role("link", name="Phường Tân Phú").wait_for()

    # 2. An agency governing a ward.
    page.goto(base + "/admin/agencies")
    page.get_by_label("Mã cơ quan").fill("UBND-25432")
    page.get_by_label("Tên cơ quan").fill("UBND Phường Tân Phú")
    page.get_by_label("Cấp", exact=True).select_option("commune")
    page.get_by_label("Mã địa bàn").fill("25432")
    page.get_by_label("Là UBND quản lý địa bàn này").check()
    page.get_by_label("E-mail nhận thông báo").fill("ubnd.tanphu@example.gov.vn")
    page.get_by_role("button", name="Thêm cơ quan").click()
    page.get_by_text("Đã thêm cơ quan UBND Phường Tân Phú.").wait_for()

    # 3. A rule: everything in the commune level goes to its People's Committee.
    page.goto(base + "/admin/rules")
    page.get_by_label("Hoặc cấp địa bàn").fill("commune")
    page.get_by_role("button", name="Thêm quy tắc").click()
    page.get_by_text("Đã thêm quy tắc").wait_for()
    page.get_by_role("link", name="Thử: phiếu này sẽ chuyển cho ai?").click()
    page.get_by_label("Mã địa bàn").fill("25432")
    page.get_by_role("button", name="Thử").click()
    page.get_by_role("heading", name="Chuyển cho: UBND Phường Tân Phú").wait_for()
    screenshot(page, "admin-rule-tester")

    # 4. A handler account for that committee.
    page.goto(base + "/admin/users")
    page.get_by_label("Tên đăng nhập").fill("canbo.tanphu")
    page.get_by_label("Họ tên").fill("Trần Văn Bình")
    page.get_by_label("Vai trò").select_option("handler")
    page.get_by_label("Cơ quan").select_option(label="UBND Phường Tân Phú (UBND-25432)")
    page.get_by_label("Mật khẩu ban đầu").fill("mat-khau-ban-dau-1")
    page.get_by_role("button", name="Tạo tài khoản").click()
    page.get_by_text("Đã tạo tài khoản canbo.tanphu.").wait_for()

    # 5. The audit log shows all of it; the system page shows the channels.
    page.goto(base + "/admin/audit")
    page.get_by_role("cell", name="routing_rule #1").wait_for()
    screenshot(page, "admin-audit-log")
    page.goto(base + "/admin/system")
    page.get_by_role("heading", name="Kênh tiếp nhận").wait_for()
    screenshot(page, "admin-system")

    db.session.expire_all()
    assert db.session.scalar(select(Area).where(Area.code == "25432")).level == "commune"
    agency = db.session.scalar(select(Agency).where(Agency.code == "UBND-25432"))
    assert agency.governs_area and agency.area.code == "25432"
    assert db.session.scalar(select(RoutingRule)).area_level == "commune"
    assert db.session.scalar(select(User).where(User.username == "canbo.tanphu")).agency_id == agency.id
    assert {r.entity for r in db.session.scalars(select(AuditLog))} == {
        "area", "agency", "routing_rule", "user"}
