"""The managers' pages, exports and the IOC feed: who may see what, what downloads, bad input."""
from __future__ import annotations

import csv
import io
from datetime import timedelta

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import (ExportLog, QualityReview, ReportTarget, StatsRefresh, Ticket,
                            TicketEvent, utcnow)
from hotline.services import accounts
from tests.services.reports_data import build

PASSWORD = "correct-horse-battery"
NOV = {"period": "month", "on": "2026-11-01"}


@pytest.fixture
def people(org, make_user):
    a = org.agencies
    return {
        "manager": make_user("manager", username="lanhdao"),
        "lead": make_user("agency_lead", username="ld-gt", agency=a["SO-GTVT"]),
        "handler": make_user("handler", username="cb-gt", agency=a["SO-GTVT"]),
        "operator": make_user("operator", username="dtv1"),
        "admin": make_user("admin", username="quantri"),
    }


@pytest.fixture
def data(org, people):
    return build(org, people["operator"])


def login(client, user):
    resp = client.post("/login", data={"username": user.username, "password": PASSWORD})
    assert resp.status_code == 302
    return client


PAGES = ["/manager/", "/manager/?period=week&on=2026-11-25",
         "/manager/?period=quarter&on=2026-11-25",
         "/manager/?period=custom&from=2026-11-01&to=2026-11-30",
         "/manager/overdue", "/manager/overdue?kind=due_soon",
         "/manager/overdue?group=agency_level", "/manager/overdue?group=area:district",
         "/manager/tickets", "/manager/tickets?sla=overdue&group=agency&key=none",
         "/manager/ranking?period=month&on=2026-11-01",
         "/manager/ranking?period=month&on=2026-11-01&sort=median_hours&dir=asc",
         "/manager/monthly?month=11/2026", "/manager/targets", "/manager/approvals",
         "/manager/quality?period=month&on=2026-11-01"]
LEAD_PAGES = PAGES[:13]


def test_every_page_renders_for_a_manager(client, data, people):
    login(client, people["manager"])
    for url in PAGES:
        resp = client.get(url)
        assert resp.status_code == 200, url
        assert 'lang="vi"' in resp.get_data(as_text=True)


def test_dashboard_has_charts_with_their_numbers(client, data, people):
    login(client, people["manager"])
    page = client.get("/manager/", query_string=NOV).get_data(as_text=True)
    assert page.count("<svg") >= 4 and "<table" in page
    assert "Điện thoại" in page and "Phường Tân Bình" in page and "Test operator" in page
    assert "Bảng tổng hợp ngày chưa được dựng" in page


def test_monthly_report_is_printable(client, data, people):
    login(client, people["manager"])
    page = client.get("/manager/monthly?month=11/2026").get_data(as_text=True)
    assert "Kết quả tiếp nhận, xử lý phản ánh, kiến nghị tháng 11/2026" in page
    assert "Tổng đài 1022 tiếp nhận" in page and "<b>18</b>" in page
    assert "@media print" not in page  # the print rules live in the stylesheet
    assert "js/manager-print.js" in page and "<script>" not in page
    assert "UBND Thành phố Đồng Xoài" in page and "Sở Giao thông vận tải" in page


def test_agency_lead_sees_only_own_unit(client, data, people):
    login(client, people["lead"])
    for url in LEAD_PAGES:
        assert client.get(url).status_code == 200, url
    overdue = client.get("/manager/overdue").get_data(as_text=True)
    assert "Sở Giao thông vận tải" in overdue and "UBND Thành phố Đồng Xoài" not in overdue
    ranking = client.get("/manager/ranking", query_string=NOV).get_data(as_text=True)
    assert "UBND Thành phố Đồng Xoài" not in ranking and "Toàn tỉnh" not in ranking
    other = data.org.agencies["UBND-689"].id
    listing = client.get(f"/manager/tickets?agency_id={other}").get_data(as_text=True)
    assert "PA-26-T1<" not in listing and "PA-26-T6" not in listing
    exported = client.get("/manager/export/tickets.csv").get_data(as_text=True)
    codes = {row[0] for row in csv.reader(io.StringIO(exported.lstrip("\ufeff")))}
    assert codes == {"Mã phiếu", "PA-26-T12", "PA-26-T13", "PA-26-T14", "PA-26-T21"}
    book = load_workbook(io.BytesIO(client.get("/manager/export/ranking.xlsx",
                                               query_string=NOV).data))
    assert [row[1] for row in book.active.values] == ["Đơn vị", "Sở Giao thông vận tải"]
    # Manager-only pages.
    for url in ("/manager/targets", "/manager/approvals", "/manager/quality"):
        assert client.get(url).status_code == 403, url
    assert client.post("/manager/targets", data={"on_time_rate": "1"}).status_code == 403


@pytest.mark.parametrize("role", ["handler", "operator", "admin"])
def test_other_roles_are_refused(client, data, people, role):
    login(client, people[role])
    for url in ("/manager/", "/manager/overdue", "/manager/ranking", "/manager/tickets",
                "/manager/monthly", "/manager/export/tickets.csv", "/manager/export/ranking.xlsx"):
        assert client.get(url).status_code == 403, url


def test_signed_out_goes_to_login(client, data):
    resp = client.get("/manager/overdue")
    assert resp.status_code == 302 and "/login" in resp.headers["Location"]


# --- exports -------------------------------------------------------------------------------


def test_csv_and_xlsx_exports(client, data, people):
    login(client, people["manager"])
    resp = client.get("/manager/export/tickets.csv?sla=overdue")
    assert resp.status_code == 200 and resp.content_type == "text/csv; charset=utf-8"
    assert "attachment" in resp.headers["Content-Disposition"]
    rows = list(csv.reader(io.StringIO(resp.get_data(as_text=True).lstrip("\ufeff"))))
    assert rows[0][0] == "Mã phiếu" and rows[0][-1] == "Giờ LV quá hạn"
    # The export is as of the real now: every open ticket whose due time passed before now
    # (or before its clock was paused), the longest-due first — T8 and T13 whatever today is.
    codes = [r[0] for r in rows[1:]]
    assert codes[:2] == ["PA-26-T8", "PA-26-T13"]
    now = utcnow()
    running = {"new", "assigned", "in_progress", "waiting_citizen"}
    assert set(codes) == {t.code for t in data.tickets.values()
                          if t.status in running and t.due_at is not None
                          and t.due_at < (t.sla_paused_at or now)}

    resp = client.get("/manager/export/ranking.xlsx", query_string=NOV)
    assert resp.content_type == \
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(resp.data)).active
    values = list(sheet.values)
    assert values[0][:3] == ("Hạng", "Đơn vị", "Tiếp nhận")
    names = [v[1] for v in values[1:]]
    assert "UBND Thành phố Đồng Xoài" in names and names[-1] == "Toàn tỉnh"
    # Units with nothing in either month and nothing overdue are left out unless all=1.
    assert len(values) == 1 + 3 + 1
    resp = client.get("/manager/export/ranking.xlsx", query_string={**NOV, "all": "1"})
    assert len(list(load_workbook(io.BytesIO(resp.data)).active.values)) == \
        1 + len(data.org.agencies) + 1

    for report, args in [("overdue", {"group": "area:district"}), ("dashboard", NOV),
                         ("monthly", {"month": "11/2026"}), ("overdue", {"kind": "due_soon"})]:
        for fmt in ("csv", "xlsx"):
            resp = client.get(f"/manager/export/{report}.{fmt}", query_string=args)
            assert resp.status_code == 200, (report, fmt)
    book = load_workbook(io.BytesIO(client.get("/manager/export/monthly.xlsx?month=11/2026").data))
    assert len(book.sheetnames) >= 7
    logged = db.session.scalars(select(ExportLog).order_by(ExportLog.id)).all()
    assert len(logged) == 12
    assert logged[0].report == "tickets" and logged[0].personal_data is True
    assert logged[0].params == {"sla": "overdue"} and logged[0].user_id == people["manager"].id
    assert logged[1].personal_data is False and logged[1].row_count == len(names)


def test_export_cells_never_become_formulas(client, data, people):
    t = db.session.get(Ticket, data.id("T13"))
    t.title = "=HYPERLINK(\"http://evil\")"
    db.session.commit()
    login(client, people["manager"])
    text = client.get("/manager/export/tickets.csv?sla=overdue").get_data(as_text=True)
    assert "'=HYPERLINK" in text
    sheet = load_workbook(io.BytesIO(client.get("/manager/export/tickets.xlsx?sla=overdue").data)
                          ).active
    titles = [row[1] for row in sheet.values]
    assert "'=HYPERLINK(\"http://evil\")" in titles


# --- bad input -----------------------------------------------------------------------------


@pytest.mark.parametrize("url, words", [
    ("/manager/ranking?period=custom&from=2026-11-30&to=2026-11-01", "Ngày bắt đầu phải trước"),
    ("/manager/?period=week&on=hom-qua", "không hợp lệ"),
    ("/manager/?period=decade", "Loại kỳ báo cáo"),
    ("/manager/ranking?period=month&on=2026-11-01&sort=;drop", "Không sắp xếp được"),
    ("/manager/overdue?kind=late", "Loại báo cáo"),
    ("/manager/overdue?group=planet", "Cách nhóm"),
    ("/manager/tickets?cursor=%21%21", "tải lại"),
    ("/manager/tickets?agency_id=abc", "Đơn vị không hợp lệ"),
    ("/manager/monthly?month=13/2026", "Tháng không hợp lệ"),
    ("/manager/export/ranking.pdf", "Định dạng"),
    ("/manager/export/secrets.csv", "Không có báo cáo"),
    ("/manager/export/ranking.csv?period=custom&from=x&to=y", "không hợp lệ"),
])
def test_bad_input_is_a_clear_message(client, data, people, url, words):
    login(client, people["manager"])
    resp = client.get(url)
    assert resp.status_code == 400, url
    assert words in resp.get_data(as_text=True)
    assert db.session.scalar(select(func.count()).select_from(ExportLog)) == 0


# --- targets, approvals, quality -------------------------------------------------------------


def test_manager_edits_targets(client, data, people):
    login(client, people["manager"])
    resp = client.post("/manager/targets", data={"scope": "all", "on_time_rate": "85",
                                                 "satisfaction": "4,2"})
    assert resp.status_code == 302
    agency = data.org.agencies["SO-GTVT"].id
    client.post("/manager/targets", data={"scope": "agency", "agency_id": agency,
                                          "indicator": "on_time_rate", "value": "95"})
    targets = {(t.indicator, t.agency_id): t.value for t in db.session.scalars(select(ReportTarget))}
    assert targets == {("on_time_rate", None): 85, ("satisfaction", None): 4.2,
                       ("on_time_rate", agency): 95}
    bad = client.post("/manager/targets", data={"scope": "all", "on_time_rate": "120"})
    assert bad.status_code == 400 and "Tỷ lệ đúng hạn: chỉ tiêu phải từ 0 đến 100" in \
        bad.get_data(as_text=True)
    db.session.expire_all()
    assert db.session.scalar(select(ReportTarget.value).where(
        ReportTarget.indicator == "on_time_rate", ReportTarget.agency_id.is_(None))) == 85
    page = client.get("/manager/ranking", query_string=NOV).get_data(as_text=True)
    assert "Không đạt" in page and "Đạt" in page


def test_manager_decides_extension_requests(client, data, people):
    from hotline.services import sla
    ticket = db.session.get(Ticket, data.id("T21"))
    # The request must be later than the real now (the page decides at the real now), and
    # T21's own due time (4/12/2026) is past from December 2026 on.
    due = utcnow() + timedelta(days=30)
    ticket.due_at = due
    db.session.commit()
    sla.request_extension(ticket, people["handler"], ticket.due_at + timedelta(days=3),
                          "Chờ kết quả kiểm định.")
    db.session.commit()
    login(client, people["manager"])
    page = client.get("/manager/approvals").get_data(as_text=True)
    assert "PA-26-T21" in page and "Chờ kết quả kiểm định." in page
    event_id = db.session.scalar(select(TicketEvent.id).where(
        TicketEvent.type == "extension_requested"))
    # Refusing needs a reason: nothing changes without one.
    resp = client.post(f"/manager/approvals/{event_id}", data={"decision": "refuse"},
                       follow_redirects=True)
    assert "Vui lòng nhập lý do" in resp.get_data(as_text=True)
    resp = client.post(f"/manager/approvals/{event_id}", data={"decision": "approve"},
                       follow_redirects=True)
    assert "Đã đồng ý gia hạn." in resp.get_data(as_text=True)
    db.session.expire_all()
    moved = db.session.get(Ticket, data.id("T21")).due_at
    assert moved > due
    again = client.post(f"/manager/approvals/{event_id}", data={"decision": "approve"},
                        follow_redirects=True).get_data(as_text=True)
    assert "đã được xử lý trước đó" in again
    assert "PA-26-T21" not in client.get("/manager/approvals").get_data(as_text=True)
    approvals = db.session.scalar(select(func.count()).select_from(TicketEvent).where(
        TicketEvent.type == "extension_approved"))
    assert approvals == 1


def test_quality_review_reaches_the_operator(client, data, people):
    login(client, people["manager"])
    page = client.get("/manager/quality", query_string=NOV).get_data(as_text=True)
    assert "PA-26-T15" in page and "PA-26-T16" in page and "PA-26-T1<" not in page
    t15, t1 = data.id("T15"), data.id("T1")
    resp = client.post(f"/manager/quality/{t15}", data={"verdict": "needs_correction"},
                       follow_redirects=True)
    assert "Cần ghi nhận xét" in resp.get_data(as_text=True)
    resp = client.post(f"/manager/quality/{t15}", data={
        "verdict": "needs_correction", "comment": "Thiếu mẫu tờ khai số 02."},
        follow_redirects=True)
    assert "Đã lưu đánh giá." in resp.get_data(as_text=True)
    twice = client.post(f"/manager/quality/{t15}", data={"verdict": "correct"},
                        follow_redirects=True).get_data(as_text=True)
    assert "đã được đánh giá" in twice
    forwarded = client.post(f"/manager/quality/{t1}", data={"verdict": "correct"},
                            follow_redirects=True).get_data(as_text=True)
    assert "trả lời trực tiếp" in forwarded
    assert db.session.scalar(select(func.count()).select_from(QualityReview)) == 1
    assert db.session.scalar(select(TicketEvent.note).where(
        TicketEvent.type == "quality_review")).endswith("Thiếu mẫu tờ khai số 02.")
    # The operator reads it on their own page; the manager cannot open that page.
    assert client.get("/manager/quality/mine").status_code == 403
    client.post("/logout")
    login(client, people["operator"])
    mine = client.get("/manager/quality/mine").get_data(as_text=True)
    assert "PA-26-T15" in mine and "Thiếu mẫu tờ khai số 02." in mine and "Mới" in mine
    assert "Mới" not in client.get("/manager/quality/mine").get_data(as_text=True)
    assert client.get("/manager/quality").status_code == 403


def test_quality_feedback_is_private_to_its_operator(client, data, people, make_user):
    other = make_user("operator", username="dtv2")
    login(client, people["manager"])
    client.post(f"/manager/quality/{data.id('T16')}", data={"verdict": "correct"})
    client.post("/logout")
    login(client, other)
    assert "PA-26-T16" not in client.get("/manager/quality/mine").get_data(as_text=True)


# --- refresh-stats and the IOC feed ----------------------------------------------------------


def test_refresh_stats_command(runner, data, client, people):
    result = runner.invoke(args=["refresh-stats", "--days", "0"])
    assert result.exit_code == 0, result.output
    assert "refresh-stats:" in result.output
    assert db.session.scalar(select(func.count()).select_from(StatsRefresh)) == 1
    login(client, people["manager"])
    page = client.get("/manager/", query_string=NOV).get_data(as_text=True)
    assert "Số liệu tổng hợp ngày cập nhật lúc" in page
    bad = runner.invoke(args=["refresh-stats", "--days", "-3"])
    assert bad.exit_code != 0


def test_ioc_summary_needs_a_key(client, data):
    resp = client.get("/api/ioc/summary")
    assert resp.status_code == 403 and resp.is_json
    assert resp.get_json()["error"]["code"] == 403
    assert client.get("/api/ioc/summary", headers={"X-API-Key": "h1022_wrong"}).status_code == 403
    _row, open311_key = accounts.create_api_key("Ứng dụng di động", ["open311:write"])
    _row, key = accounts.create_api_key("IOC tỉnh", ["ioc:read"])
    db.session.commit()
    # An Open311 client's key does not open the IOC feed.
    refused = client.get("/api/ioc/summary", headers={"X-API-Key": open311_key})
    assert refused.status_code == 403 and "ioc:read" in refused.get_json()["error"]["message"]
    resp = client.get("/api/ioc/summary", headers={"X-API-Key": key})
    assert resp.status_code == 200 and resp.is_json
    body = resp.get_json()
    for name in ("generated_at", "today", "month", "open", "overdue_now", "due_soon_now",
                 "overdue_by_agency", "stats_refreshed_at", "province"):
        assert name in body
    assert body["overdue_now"] == sum(r["count"] for r in body["overdue_by_agency"])
    assert client.get("/api/ioc/summary", query_string={"api_key": key}).status_code == 200
