"""The intake drain on rq: stored before the 2xx, one drain job for a burst, nothing lost
when Redis is away (the cron drain or ``flask intake-drain`` catches up)."""
from __future__ import annotations

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import InboundMessage, Ticket
from hotline.services import accounts
from tests.web.test_open311 import post
from tests.web.test_public import submit
from workers.queue import DRAIN_WAKE_KEY, QUEUES
from workers.runner import AppContextSimpleWorker


@pytest.fixture
def app_config(redis_url):
    return {"REDIS_URL": redis_url}


@pytest.fixture
def connection(redis_url):
    conn = Redis.from_url(redis_url)
    yield conn
    conn.close()


@pytest.fixture
def api_key(org):
    _row, key = accounts.create_api_key("Ứng dụng thử")
    db.session.commit()
    return key


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def work_off(app, connection) -> None:
    db.session.rollback()  # SQLite: the test's open transaction would hold the write lock
    AppContextSimpleWorker(list(QUEUES), connection=connection, app=app).work(burst=True)
    db.session.expire_all()


def test_a_burst_is_answered_at_once_and_drained_by_one_job(app, client, api_key, connection):
    answers = [post(client, api_key, description=f"Đèn đường số {n} hỏng.") for n in range(5)]
    assert [a.status_code for a in answers] == [201] * 5
    codes = [a.get_json()[0]["service_request_id"] for a in answers]
    assert all(a.get_json()[0]["service_notice"].startswith("Tổng đài đang phân loại")
               for a in answers)
    # Stored, not yet tickets; one drain job queued for the five (the wake key holds it).
    assert count(InboundMessage) == 5 and count(Ticket) == 0
    assert Queue("intake", connection=connection).count == 1
    assert connection.exists(DRAIN_WAKE_KEY)
    # Until the drain, GET shows each request as open and being sorted.
    [early] = client.get(f"/open311/v2/requests/{codes[0]}.json").get_json()
    assert early["status"] == "open" and early["service_code"] == "CS"
    assert early["agency_responsible"] is None and early["description"] is None

    work_off(app, connection)
    assert sorted(db.session.scalars(select(Ticket.code))) == sorted(codes)
    assert not connection.exists(DRAIN_WAKE_KEY)
    [late] = client.get(f"/open311/v2/requests/{codes[0]}.json").get_json()
    assert late["agency_responsible"] == "Điện lực Bình Phước" and late["expected_datetime"]
    # The next message after the drain wakes a new job.
    post(client, api_key)
    assert Queue("intake", connection=connection).count == 1


def test_the_web_form_shows_the_code_and_status_before_the_drain(app, client, org, connection):
    resp = submit(client)
    assert resp.status_code == 302 and "new=1" in resp.headers["Location"]
    assert count(Ticket) == 0
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    code = db.session.scalar(select(InboundMessage.ticket_code))
    assert code in page and "Mới tiếp nhận" in page
    work_off(app, connection)
    page = client.get(resp.headers["Location"]).get_data(as_text=True)
    assert db.session.scalar(select(Ticket.code)) == code and "UBND" in page


@pytest.mark.parametrize("app_config", [{"REDIS_URL": "redis://127.0.0.1:1/0"}])
def test_with_redis_away_each_message_is_drained_in_process(app, client, api_key, runner):
    answers = [post(client, api_key, description=f"Rác thải ùn ứ điểm {n}.") for n in range(3)]
    assert [a.status_code for a in answers] == [201] * 3  # acknowledged: stored for sure
    # No drain job could be queued: each request drained after its commit, as without Redis.
    assert count(InboundMessage) == 3
    assert sorted(db.session.scalars(select(Ticket.code))) == \
        sorted(a.get_json()[0]["service_request_id"] for a in answers)
    db.session.rollback()
    out = runner.invoke(args=["intake-drain"])
    assert out.exit_code == 0 and "Processed 0 staged message(s)." in out.output


def test_a_burst_asks_redis_once_and_the_job_it_woke_drains_every_message(
        app, client, api_key, connection):
    first = post(client, api_key, description="Đèn đường số 1 hỏng.")
    assert Queue("intake", connection=connection).count == 1
    # The job starts (it clears the wake key) but has not looked yet; a message staged
    # now, moments after this process's wake, does not ask Redis again...
    connection.delete(DRAIN_WAKE_KEY)
    second = post(client, api_key, description="Đèn đường số 2 hỏng.")
    assert not connection.exists(DRAIN_WAKE_KEY)
    assert Queue("intake", connection=connection).count == 1
    # ...and the job that was woken makes tickets of both.
    work_off(app, connection)
    assert sorted(db.session.scalars(select(Ticket.code))) == sorted(
        r.get_json()[0]["service_request_id"] for r in (first, second))


def test_without_linger_every_staged_message_asks_for_a_drain(app, client, api_key, connection):
    app.config["INTAKE_DRAIN_LINGER_SECONDS"] = 0
    post(client, api_key)
    connection.delete(DRAIN_WAKE_KEY)  # the job started
    post(client, api_key, description="Rác thải ùn ứ trước chợ.")
    assert Queue("intake", connection=connection).count == 2


def test_the_drain_job_lingers_and_takes_what_arrives_meanwhile(
        app, client, api_key, connection, monkeypatch, redis_url):
    from workers import jobs
    polls, late = [], []

    def pause(seconds):
        # A citizen's message lands while the job waits between two looks.
        polls.append(seconds)
        if not late:
            late.append(post(client, api_key, description="Nước ngập đường sau mưa lớn."))
    monkeypatch.setattr(jobs, "sleep", pause)
    first = post(client, api_key, description="Đèn đường số 1 hỏng.")
    work_off(app, connection)
    codes = sorted(db.session.scalars(select(Ticket.code)))
    assert codes == sorted(r.get_json()[0]["service_request_id"] for r in (first, *late))
    # It kept looking only until the queue had been empty for the linger time.
    assert polls and all(p == jobs.DRAIN_POLL_SECONDS for p in polls)
    assert count(InboundMessage) == 2 and not db.session.scalar(
        select(func.count()).select_from(InboundMessage).where(InboundMessage.state != "done"))
