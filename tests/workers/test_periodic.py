"""Periodic jobs without Redis: one schedule run by a thread inside the web process (or the
system cron), each job taken by one runner at a time through the ``periodic_jobs`` table,
its last run shown on /admin/system. On SQLite and PostgreSQL."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from hotline.extensions import db
from hotline.models import PeriodicJob, Ticket, utcnow
from hotline.services import periodic as table
from tests.web.test_admin import login
from workers import cron, periodic

JOBS = ["drain_intake", "sla_scan", "relay_outbox", "send_digests", "refresh_stats",
        "anonymise_expired", "satisfaction_followup", "train_triage"]


def rows() -> dict[str, PeriodicJob]:
    """The table as it is now; the read ends its transaction (SQLite: runners must write)."""
    db.session.expire_all()
    found = {r.name: r for r in db.session.scalars(select(PeriodicJob))}
    db.session.expunge_all()
    db.session.rollback()
    return found


def wait_for(predicate, timeout: float = 20.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return predicate()


@pytest.fixture
def admin_client(client, make_user):
    make_user("admin", username="quantri")
    login(client, "quantri")
    return client


def test_one_schedule_for_every_runner(app):
    assert [e["name"] for e in cron.schedule(app)] == JOBS
    assert set(periodic.schedule_by_name(app)) == set(JOBS)


def test_due_jobs_run_once_per_interval_and_are_recorded(app, org):
    db.session.commit()
    assert periodic.run_due(periodic.RUNNER_THREAD) == {name: "ran" for name in JOBS}
    # Nothing is due again straight away, whoever asks.
    assert periodic.run_due(periodic.RUNNER_CRON) == {name: "skipped" for name in JOBS}
    recorded = rows()
    assert sorted(recorded) == sorted(JOBS)
    for row in recorded.values():
        assert row.last_ok is True and row.last_runner == "in-process"
        assert row.lease_owner is None and row.lease_until is None
        assert row.last_started_at <= row.last_finished_at and row.last_seconds >= 0
    assert "overdue" in recorded["sla_scan"].last_result


def test_a_held_lease_keeps_other_runners_out_until_it_expires(app):
    now = utcnow()
    assert table.claim("sla_scan", "web-1", now, lease_seconds=600)
    assert not table.claim("sla_scan", "web-2", now, lease_seconds=600)  # held, due or not
    assert periodic.run_job("sla_scan", runner="cron", due_only=False) == "skipped"
    # A runner that died: its lease runs out after the job's timeout and another takes over.
    later = now + periodic_timeout(app, "sla_scan")
    assert table.claim("sla_scan", "web-2", later, lease_seconds=600)
    # The dead runner's late finish does not clobber the new holder's lease.
    table.finish("sla_scan", "web-1", later, seconds=1, ok=True, runner="in-process")
    assert rows()["sla_scan"].lease_owner == "web-2"


def periodic_timeout(app, name):
    return timedelta(seconds=periodic.schedule_by_name(app)[name]["job_timeout"] + 1)


def test_concurrent_runners_run_a_due_job_exactly_once(app, org):
    """Eight processes' threads wake at the same moment: one of them runs the scan."""
    db.session.commit()
    # The job's row exists and its last run is an interval old: the race is on the UPDATE.
    assert periodic.run_job("sla_scan", runner="in-process", due_only=True) == "ran"
    db.session.execute(update(PeriodicJob).where(PeriodicJob.name == "sla_scan")
                       .values(last_started_at=utcnow() - timedelta(hours=1)))
    db.session.commit()
    outcomes: list[str] = []
    barrier = threading.Barrier(8)

    def runner():
        with app.app_context():
            barrier.wait()
            outcomes.append(periodic.run_job("sla_scan", runner="in-process", due_only=True))
            db.session.remove()

    threads = [threading.Thread(target=runner) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert sorted(outcomes) == ["ran"] + ["skipped"] * 7


def test_a_failing_job_is_recorded_and_the_others_still_run(app, org):
    app.config["DIGEST_LOCAL_TIME"] = "không phải giờ"  # a misconfiguration the job trips on
    db.session.commit()
    outcomes = periodic.run_due(periodic.RUNNER_THREAD)
    assert outcomes.pop("send_digests") == "failed"
    assert set(outcomes.values()) == {"ran"}
    row = rows()["send_digests"]
    assert row.last_ok is False and row.last_error and row.lease_owner is None


def test_the_thread_moves_sla_states_without_redis(app, org, receive):
    """What `make demo` shows: a ticket past its deadline turns overdue with no Redis and
    no command run by hand."""
    ticket_id = receive().ticket_id  # received Monday 23/11/2026, due 01/12/2026
    assert db.session.get(Ticket, ticket_id).sla_state == "on_track"
    db.session.commit()
    app.config.update(PERIODIC_JOBS="auto", PERIODIC_TICK_SECONDS=0.2)
    assert periodic.THREAD_KEY not in app.extensions  # not started by the factory
    try:
        app.test_client().get("/")  # the first request starts it
        db.session.rollback()
        thread = app.extensions[periodic.THREAD_KEY]
        assert thread.is_alive()

        def overdue():
            db.session.rollback()
            state = db.session.get(Ticket, ticket_id).sla_state
            db.session.rollback()
            return state == "overdue"
        assert wait_for(overdue)
        assert wait_for(lambda: rows().get("sla_scan") is not None
                        and rows()["sla_scan"].last_finished_at is not None)
        assert rows()["sla_scan"].last_runner == "in-process"
        app.test_client().get("/")
        db.session.rollback()  # the test client shares this context's session (SQLite's lock)
        assert app.extensions[periodic.THREAD_KEY] is thread  # one thread per process
    finally:
        periodic.stop(app)
    assert not thread.is_alive()


def test_the_factory_starts_no_thread_under_testing_or_when_off(app):
    app.config["PERIODIC_JOBS"] = None
    assert periodic.mode(app.config) == "off"  # TESTING
    app.config.update(TESTING=False, PERIODIC_JOBS="off")
    assert periodic.start(app) is None
    app.test_client().get("/")
    assert periodic.THREAD_KEY not in app.extensions
    app.config["PERIODIC_JOBS"] = "auto"
    assert periodic.mode(app.config) == "auto"


def test_with_redis_the_thread_stands_in_only_while_redis_is_away(app, redis_url):
    app.config.update(PERIODIC_JOBS="auto", REDIS_URL=redis_url, QUEUE_MODE="rq")
    assert not periodic.jobs_run_here(app)  # rq's scheduler runs them
    app.config["REDIS_URL"] = "redis://127.0.0.1:1/0"
    app.extensions.pop("hotline_redis", None)
    assert periodic.jobs_run_here(app)  # it cannot now: this process does
    app.config["PERIODIC_JOBS"] = "in-process"
    app.config["REDIS_URL"] = redis_url
    app.extensions.pop("hotline_redis", None)
    assert periodic.jobs_run_here(app)


def test_crontab_command_runs_what_is_due_and_lists_last_runs(app, org, runner):
    db.session.commit()
    out = runner.invoke(args=["periodic-jobs"])
    assert out.exit_code == 0, out.output
    assert all(f"{name}" in out.output for name in JOBS) and "ran" in out.output
    again = runner.invoke(args=["periodic-jobs"])
    assert again.exit_code == 0 and "ran" not in again.output  # nothing due a second later
    forced = runner.invoke(args=["periodic-jobs", "--job", "sla_scan"])
    assert forced.exit_code == 0 and "sla_scan" in forced.output and "ran" in forced.output
    listed = runner.invoke(args=["periodic-jobs", "--list"])
    assert "sla_scan" in listed.output and " ok" in listed.output
    assert rows()["sla_scan"].last_runner == "cron"
    bad = runner.invoke(args=["periodic-jobs", "--job", "nope"])
    assert bad.exit_code != 0 and "Unknown job" in bad.output


def test_system_page_shows_each_jobs_last_run(app, org, admin_client):
    app.config["DIGEST_LOCAL_TIME"] = "không phải giờ"
    db.session.commit()
    page = admin_client.get("/admin/system").get_data(as_text=True)
    assert "Việc định kỳ" in page and page.count("không chạy theo lịch") == len(JOBS)
    db.session.rollback()  # the test client shares this context's session (SQLite's lock)
    periodic.run_due(periodic.RUNNER_THREAD)
    page = admin_client.get("/admin/system").get_data(as_text=True)
    assert "Quét hạn xử lý (SLA)" in page and "(in-process)" in page
    assert "không chạy theo lịch" not in page
    assert page.count(">xong<") == len(JOBS) - 1 and ">lỗi<" in page  # the digest failed
    english = admin_client.get("/admin/system?lang=en").get_data(as_text=True)
    assert "Periodic jobs" in english and "SLA scan" in english


def test_two_processes_started_together_run_each_due_job_once(app, org):
    """Two gunicorn workers, or a crontab line beside a web process: separate processes on
    the same database, each running what is due; every job runs in exactly one of them."""
    db.session.commit()
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env.update(DATABASE_URL=app.config["SQLALCHEMY_DATABASE_URI"], SECRET_KEY="test-secret",
               HOTLINE_ENV="development", PYTHONUNBUFFERED="1")
    root = Path(__file__).resolve().parents[2]
    runs = [subprocess.Popen([sys.executable, "-m", "flask", "--app", "hotline", "periodic-jobs"],
                             cwd=root, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                             text=True) for _ in range(2)]
    outputs = [proc.communicate(timeout=300)[0] for proc in runs]
    assert [proc.returncode for proc in runs] == [0, 0], outputs
    outcomes = [dict(line.split() for line in out.splitlines() if line.strip())
                for out in outputs]
    for name in JOBS:
        assert sorted(o[name] for o in outcomes) == ["ran", "skipped"], (name, outputs)
    assert {r.last_runner for r in rows().values()} == {"cron"}
