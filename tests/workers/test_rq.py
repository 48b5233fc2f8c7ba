"""Jobs on a real Redis with rq: the relay hands out rows, a worker with the app context
runs them, the cron schedule enqueues the periodic jobs. (Fault tests: test_faults.py.)"""
from __future__ import annotations

from datetime import timedelta

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import select, update

from hotline.extensions import db
from hotline.models import OutboxMessage, TicketEvent, utcnow
from hotline.services import intake
from hotline.tx import commit
from tests.channels.fake_sms import FakeSmsGateway
from tests.factories import message
from workers import cron, jobs
from workers.queue import QUEUES
from workers.runner import AppContextSimpleWorker


@pytest.fixture
def gateway():
    fake = FakeSmsGateway().start()
    yield fake
    fake.stop()


@pytest.fixture
def app_config(gateway, redis_url):
    return gateway.settings(REDIS_URL=redis_url)


@pytest.fixture
def connection(redis_url):
    conn = Redis.from_url(redis_url)
    yield conn
    conn.close()


def work_off(app, connection) -> None:
    """Run every queued job in this process, each in its own app context."""
    # End the test's own transaction: on SQLite it holds the write lock (BEGIN IMMEDIATE).
    db.session.rollback()
    worker = AppContextSimpleWorker(list(QUEUES), connection=connection,
                                    app=app)
    worker.work(burst=True)


def rows() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def test_commit_enqueues_the_relay_and_a_worker_sends(app, org, gateway, connection):
    intake.receive(message())
    commit()
    queued = Queue("notifications", connection=connection)
    assert [job.func_name for job in queued.get_jobs()] == ["workers.jobs.relay_outbox"]
    assert gateway.requests == []  # nothing is sent in the committing request
    work_off(app, connection)
    [row] = rows()
    assert (row.status, row.attempts) == ("sent", 1) and len(gateway.messages) == 1
    assert row.provider_id == gateway.messages[0]["SMSID"]


def test_relay_marks_rows_queued_and_does_not_hand_them_out_twice(app, org, gateway, connection):
    for i in range(3):
        intake.receive(message(external_id=f"c{i}", force_new=True))
    db.session.commit()  # no after-commit relay: the cron's relay does it
    assert jobs.relay_outbox() == 3
    assert {r.status for r in rows()} == {"queued"}
    assert jobs.relay_outbox() == 0  # within the requeue window nothing is handed out again
    deliver_jobs = [j for j in Queue("notifications", connection=connection).get_jobs()
                    if j.func_name == "workers.jobs.deliver"]
    assert len(deliver_jobs) == 3
    work_off(app, connection)
    assert {r.status for r in rows()} == {"sent"}
    # The same phone number: three acknowledgements, one per ticket code.
    assert len(gateway.messages) == 3 and len({m["RequestId"] for m in gateway.messages}) == 3


def test_a_queued_row_whose_job_was_lost_is_handed_out_again(app, org, gateway, connection):
    intake.receive(message())
    db.session.commit()
    jobs.relay_outbox()
    connection.flushdb()  # Redis restarted without persistence: the job is gone
    db.session.execute(update(OutboxMessage)
                       .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert jobs.relay_outbox() == 1
    work_off(app, connection)
    assert [r.status for r in rows()] == ["sent"] and len(gateway.requests) == 1


def test_the_same_row_enqueued_twice_sends_once(app, org, gateway, connection):
    intake.receive(message())
    db.session.commit()
    row_id = rows()[0].id
    queue = Queue("notifications", connection=connection)
    first = queue.enqueue(jobs.deliver, row_id)
    second = queue.enqueue(jobs.deliver, row_id)
    work_off(app, connection)
    assert first.latest_result().return_value == "sent"
    assert second.latest_result().return_value == "finished"
    assert len(gateway.requests) == 1


def test_a_busy_row_makes_rq_retry_the_job(app, org, gateway, connection):
    intake.receive(message())
    db.session.commit()
    row_id = rows()[0].id
    db.session.execute(update(OutboxMessage).values(
        status="sending", next_attempt_at=utcnow() + timedelta(minutes=5)))
    db.session.commit()
    from workers.queue import retry_policy
    job = Queue("notifications", connection=connection).enqueue(jobs.deliver, row_id,
                                                                retry=retry_policy())
    work_off(app, connection)
    job.refresh()
    assert job.get_status() == "scheduled" and job.retries_left == 4  # waits for the lease
    assert gateway.requests == []


def test_jobs_without_an_app_context_of_their_own_still_find_the_database(app, org, connection):
    """Each job runs in a fresh app context and session (the worker's, not the caller's)."""
    job = Queue("maintenance", connection=connection).enqueue(jobs.sla_scan)
    work_off(app, connection)
    assert job.latest_result().return_value == {"due_soon": 0, "overdue": 0, "escalated": 0,
                                  "first_response": 0, "notifications": 0}


def test_cron_schedule_enqueues_the_periodic_jobs(app, org, connection):
    scheduler = cron.build_scheduler(app, connection)
    # Each run goes through the lease and record of workers.periodic, named after its job.
    assert {j.func_name for j in scheduler.get_jobs()} == {"workers.periodic.run_scheduled"}
    names = sorted(j.name for j in scheduler.get_jobs())
    assert names == ["anonymise_expired", "drain_intake", "refresh_stats", "relay_outbox",
                     "satisfaction_followup", "send_digests", "sla_scan", "train_triage"]
    assert all(j.args == (j.name,) for j in scheduler.get_jobs())
    assert {j.interval for j in scheduler.get_jobs()} == {30, 60, 300, 3600, 86400}
    enqueued = scheduler.enqueue_jobs()  # interval jobs run at once on start
    assert len(enqueued) == 8
    assert Queue("maintenance", connection=connection).count == 5
    assert Queue("notifications", connection=connection).count == 2
    assert Queue("intake", connection=connection).count == 1
    assert scheduler.enqueue_jobs() == []  # not due again for a minute
    work_off(app, connection)
    failed = Queue("maintenance", connection=connection).failed_job_registry.count
    assert failed == 0
    from hotline.models import PeriodicJob, StatsRefresh
    assert db.session.scalar(select(StatsRefresh.rows_written)) is not None  # reports' aggregate
    runs = db.session.scalars(select(PeriodicJob)).all()
    assert sorted(r.name for r in runs) == names  # /admin/system shows each last run
    assert {(r.last_ok, r.last_runner, r.lease_owner) for r in runs} == {(True, "rq", None)}


def test_scan_job_notifications_are_relayed_through_the_queue(app, org, connection, staff_lead):
    from tests.factories import MONDAY_9AM
    intake.receive(message())
    db.session.commit()
    from hotline.services import sla
    sla.scan(MONDAY_9AM + timedelta(days=8))
    commit()  # staff e-mails written → relay enqueued after the commit
    assert "workers.jobs.relay_outbox" in [
        j.func_name for j in Queue("notifications", connection=connection).get_jobs()]
    assert db.session.scalar(select(TicketEvent.id).where(TicketEvent.type == "sla_overdue"))


@pytest.fixture
def staff_lead(org):
    from hotline.models import Agency, User
    agency = db.session.scalar(select(Agency).where(Agency.code == "UBND-689"))
    db.session.add(User(username="lead", full_name="Lãnh đạo", role="agency_lead",
                        password_hash="x", agency=agency, email="lead@example.gov.vn"))
    db.session.commit()


def test_worker_command_refuses_without_redis(runner, app):
    app.config["REDIS_URL"] = None
    result = runner.invoke(args=["worker", "--burst"])
    assert result.exit_code != 0 and "REDIS_URL is not set" in result.output
    result = runner.invoke(args=["scheduler"])
    assert result.exit_code != 0 and "REDIS_URL is not set" in result.output


def test_worker_command_rejects_unknown_queues(runner):
    result = runner.invoke(args=["worker", "--burst", "emails"])
    assert result.exit_code != 0 and "Unknown queue(s): emails" in result.output


def test_scheduler_list(runner):
    result = runner.invoke(args=["scheduler", "--list"])
    assert result.exit_code == 0
    assert "workers.jobs.sla_scan" in result.output and "every 60s" in result.output


def test_queue_status_counts_outbox_rows_jobs_and_workers(app, org, connection):
    from hotline.services.queue_status import queue_status
    intake.receive(message())
    db.session.commit()
    jobs.relay_outbox()
    status = queue_status(utcnow())
    assert status.redis == "ok" and status.workers == 0
    assert status.outbox["queued"] == 1 and status.outbox["failed"] == 0
    assert status.queues["notifications"]["queued"] >= 1
    assert status.queues["maintenance"] == {"queued": 0, "started": 0, "scheduled": 0,
                                            "failed": 0}
    assert not status.healthy  # queued work and no worker to run it


def test_queue_status_reports_redis_down_instead_of_failing(app, org):
    from hotline.services.queue_status import queue_status
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    app.extensions.pop("hotline_redis", None)
    status = queue_status(utcnow())
    assert status.redis.startswith("error: ConnectionError") and not status.healthy
    assert status.outbox["pending"] == 0
