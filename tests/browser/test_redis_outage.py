"""A Redis outage in the middle of the day: a private redis-server is stopped while staff
and a citizen use the site in a real browser and a burst of Open311 reports arrives.

The app is served for real (werkzeug, threads) with rq workers and the rq scheduler as
subprocesses, all on that private Redis. While it is down, every page and every report
must answer below 500 (rate limits count in memory, jobs run in the web process), and
every acknowledged report must be in the database. Once it is back, every report is a
ticket, every acknowledgement has gone out exactly once, and the rq scheduler runs the
periodic jobs again. On SQLite and PostgreSQL; runs in CI (.ci/run), never skipped.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

import pytest
import requests
from sqlalchemy import func, select

from hotline.extensions import db, limiter
from hotline.models import InboundMessage, OutboxMessage, PeriodicJob, Ticket
from hotline.services import accounts
from tests.browser.conftest import screenshot
from tests.channels.fake_sms import FakeSmsGateway
from tests.staff_fixtures import PASSWORD
from tests.workers.test_faults import FAST, Processes, redis_server  # noqa: F401 - fixture
from workers import periodic

BURST = 48          # Open311 reports, four clients
STOP_AFTER = 16     # acknowledged reports before Redis is stopped


@pytest.fixture
def gateway():
    fake = FakeSmsGateway().start()
    yield fake
    fake.stop()


@pytest.fixture
def app_config(gateway, redis_server):  # noqa: F811 - the fixture imported above
    return {**gateway.settings(), **FAST, "REDIS_URL": redis_server.url,
            "OUTBOX_REQUEUE_SECONDS": "5",  # rows handed to jobs Redis lost: out again soon
            "RATELIMIT_ENABLED": True, "WTF_CSRF_ENABLED": True,
            "SUBMIT_LIMIT_PER_IP": "500 per minute",
            "PERIODIC_JOBS": "auto", "PERIODIC_TICK_SECONDS": 1, "REDIS_RETRY_SECONDS": 1}


@pytest.fixture
def procs(app, tmp_path):
    p = Processes(app, tmp_path)
    p.env["CRON_INTAKE_SECONDS"] = "2"
    yield p
    p.stop_all()


@pytest.fixture(autouse=True)
def _fresh_limiter():
    limiter._storage_dead = False  # one limiter object for every app of the test run
    yield
    limiter._storage_dead = False


def settle() -> None:
    db.session.rollback()  # never hold SQLite's write lock while the server works


def count(model, *where) -> int:
    n = db.session.scalar(select(func.count()).select_from(model).where(*where))
    settle()
    return n


def wait_until(condition, what: str, procs: Processes, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        finally:
            settle()
        time.sleep(0.25)
    pytest.fail(f"timed out waiting for {what}\n{procs.logs()[-6000:]}")


class Burst(threading.Thread):
    """Clients posting Open311 reports one after another; every answer is kept."""

    def __init__(self, base_url: str, api_key: str, numbers: range):
        super().__init__(daemon=True)
        self.base_url, self.api_key, self.numbers = base_url, api_key, numbers
        self.answers: list[tuple[int, str | None]] = []

    def run(self) -> None:
        session = requests.Session()
        for n in self.numbers:
            resp = session.post(f"{self.base_url}/open311/v2/requests.json", timeout=60, data={
                "api_key": self.api_key, "service_code": "CS", "lat": "11.5349",
                "long": "106.8823", "phone": f"0913{n:06d}", "first_name": f"Người gửi {n}",
                "description": f"Đèn đường số {n} trước chợ Tân Bình không sáng."})
            code = resp.json()[0].get("service_request_id") if resp.status_code == 201 else None
            self.answers.append((resp.status_code, code))
            time.sleep(0.05)


def sign_in(page, username: str) -> None:
    page.goto(page.base_url + "/login")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.get_by_role("button", name="Đăng xuất").wait_for()


def citizen_reports(p, n: int) -> str:
    """The web form in the browser, then the status link it leads to; returns the code."""
    p.goto(p.base_url + "/submit")
    p.get_by_label("Lĩnh vực").select_option("CS")
    p.get_by_label("Nội dung phản ánh, kiến nghị").fill(
        f"Cống thoát nước số {n} đường Phú Riềng Đỏ bị tắc, nước tràn lên mặt đường.")
    p.get_by_label("Xã, phường nơi xảy ra").select_option("25435")
    p.get_by_label("Địa chỉ, địa điểm cụ thể").fill("Đường Phú Riềng Đỏ")
    p.get_by_label("Họ và tên").fill("Nguyễn Thị Lan")
    p.get_by_role("textbox", name="Số điện thoại", exact=True).fill(f"0988 000 {n:03d}")
    p.get_by_role("button", name="Gửi phản ánh").click()
    p.get_by_text("Đã gửi phản ánh thành công").wait_for()
    code = p.locator("#ticket-code").inner_text().strip()
    p.reload()  # the status link itself
    p.get_by_text(code).first.wait_for()
    return code


def test_every_page_answers_and_nothing_is_lost_while_redis_is_down(
        app, org, make_user, gateway, redis_server, procs, browser, live_server):  # noqa: F811
    _key_row, api_key = accounts.create_api_key("Ứng dụng phản ánh")
    make_user("operator", username="dtv1")
    make_user("admin", username="quantri")
    db.session.commit()
    procs.spawn("worker", "--name", "outage-test")  # intake, notifications, maintenance
    procs.scheduler()

    answers: list[tuple[int, str]] = []
    staff_ctx = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh")
    citizen_ctx = browser.new_context(locale="vi-VN", timezone_id="Asia/Ho_Chi_Minh",
                                      viewport={"width": 390, "height": 844}, is_mobile=True)
    for ctx in (staff_ctx, citizen_ctx):
        ctx.on("response", lambda r: answers.append((r.status, r.url)))
    staff, citizen = staff_ctx.new_page(), citizen_ctx.new_page()
    for p in (staff, citizen):
        p.set_default_timeout(30_000)
        p.base_url = live_server
    try:
        # Before: all on Redis. Staff signed in, a citizen files a report.
        sign_in(staff, "dtv1")
        staff.goto(live_server + "/operator/")
        web_codes = [citizen_reports(citizen, 1)]
        bursts = [Burst(live_server, api_key, range(k, BURST, 4)) for k in range(4)]
        for b in bursts:
            b.start()
        wait_until(lambda: sum(len(b.answers) for b in bursts) >= STOP_AFTER,
                   "the first reports of the burst", procs)

        redis_server.stop()  # midway: the burst goes on
        outage_started = datetime.now(timezone.utc)
        web_codes.append(citizen_reports(citizen, 2))
        citizen.goto(live_server + "/status")
        citizen.get_by_label("Mã phiếu").fill(web_codes[1])
        citizen.get_by_label("4 số cuối điện thoại đã dùng khi gửi").fill("0002")
        citizen.get_by_role("button", name="Tra cứu").click()
        citizen.get_by_role("heading", name=f"Phiếu {web_codes[1]}").wait_for()
        citizen.goto(live_server + "/results")
        staff.goto(live_server + "/operator/")
        staff.get_by_role("button", name="Đăng xuất").click()
        sign_in(staff, "quantri")  # POST /login with Redis down
        staff.goto(live_server + "/admin/system")
        staff.get_by_text("Redis không trả lời — hệ thống đang chạy ở chế độ suy giảm.").wait_for()
        screenshot(staff, "admin-system-redis-down")
        for b in bursts:
            b.join(120)
        assert not any(b.is_alive() for b in bursts)

        # Every answer below 500; every report acknowledged and in the database.
        burst_answers = [a for b in bursts for a in b.answers]
        assert len(burst_answers) == BURST
        assert {status for status, _ in burst_answers} == {201}
        assert [a for a in answers if a[0] >= 500] == []
        codes = sorted({code for _, code in burst_answers} | set(web_codes))
        assert len(codes) == BURST + 2
        stored = set(db.session.scalars(select(InboundMessage.ticket_code)
                                        .where(InboundMessage.ticket_code.in_(codes))))
        settle()
        assert stored == set(codes)
        # The web processes stood in for rq meanwhile: jobs ran here, recorded as such.
        wait_until(lambda: count(PeriodicJob, PeriodicJob.last_runner == "in-process",
                                 PeriodicJob.last_started_at >= outage_started) > 0,
                   "a periodic job run in-process during the outage", procs, timeout=30)

        redis_server.start()  # empty: jobs queued before the outage are gone
        back = datetime.now(timezone.utc)
        wait_until(lambda: count(Ticket, Ticket.code.in_(codes)) == len(codes),
                   "every report to become a ticket", procs)
        assert count(InboundMessage, InboundMessage.state != "done") == 0
        wait_until(lambda: count(OutboxMessage, OutboxMessage.status != "sent") == 0
                   and count(OutboxMessage) >= len(codes), "every acknowledgement sent", procs)
        for code in codes:  # exactly once each
            assert sum(code in m["Content"] for m in gateway.messages) == 1, code
        # rq's scheduler runs the periodic jobs again.
        wait_until(lambda: count(PeriodicJob, PeriodicJob.last_runner == "rq",
                                 PeriodicJob.last_started_at >= back,
                                 PeriodicJob.last_ok.is_(True)) >= 2,
                   "the rq scheduler's periodic jobs after Redis returned", procs)
        # The limiter checks Redis again on a limited request, at a growing interval: then
        # /admin/system no longer warns.
        def recovered() -> bool:
            requests.get(live_server + "/submit/nearby?field=CS&lat=11.5&lon=106.8", timeout=30)
            staff.goto(live_server + "/admin/system")
            return staff.get_by_text("Giới hạn tần suất và hàng đợi việc nền dùng Redis.").count()
        wait_until(recovered, "the system page to show Redis in use again", procs)
        assert [a for a in answers if a[0] >= 500] == []
    finally:
        periodic.stop(app)  # the served app's thread, before the database goes away
        staff_ctx.close()
        citizen_ctx.close()
