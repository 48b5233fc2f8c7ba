"""Fault tests against a real Redis, real rq worker processes and a fake SMS gateway.

Each test starts its own ``redis-server`` on a free port (never the machine's
shared 6379: others use it), so it can stop and restart it. Workers and the
cron scheduler run as ``flask --app hotline worker|scheduler`` subprocesses
on the test's database; the test process plays the web side (intake + commit).

(a) Redis stops while tickets arrive: intake still succeeds and the acknowledgements go
    out from the web side meanwhile; after Redis returns none is sent twice;
(b) a worker is killed with SIGKILL in the middle of sending: the job is
    retried and the citizen gets exactly one message;
(c) the same outbox row relayed twice is sent once;
and a 5xx from the gateway is retried with backoff.
"""
from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from contextlib import suppress
from pathlib import Path

import pytest
from redis import Redis
from rq import Queue
from sqlalchemy import select

from hotline.domain.messages import ContactHandle
from hotline.extensions import db
from hotline.models import OutboxMessage
from hotline.services import intake
from hotline.tx import commit
from tests.channels.fake_sms import FakeSmsGateway
from tests.conftest import missing_service
from tests.factories import message
from workers import jobs
from workers import queue as job_queue

ROOT = Path(__file__).resolve().parents[2]
# Short leases and retry intervals so a crash is recovered in seconds, not minutes.
FAST = {"OUTBOX_LEASE_SECONDS": "4", "OUTBOX_BACKOFF_SECONDS": "1",
        "OUTBOX_REQUEUE_SECONDS": "30", "JOB_RETRY_INTERVALS": "1,1,1,2,2,3,3",
        "CRON_SLA_SCAN_SECONDS": "3600", "CRON_DIGEST_SECONDS": "3600",
        "CRON_RELAY_SECONDS": "1", "SMS_GATEWAY_TIMEOUT": "30"}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class RedisServer:
    """A private, non-persistent redis-server we may stop and start at will."""

    def __init__(self, workdir: Path):
        self.binary = shutil.which("redis-server")
        self.port = _free_port()
        self.workdir = workdir
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.process = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", str(self.workdir)],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        conn = Redis(port=self.port, socket_connect_timeout=0.2)
        deadline = time.monotonic() + 10
        while True:
            try:
                conn.ping()
                break
            except Exception:  # not up yet
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.05)
        conn.close()

    def stop(self) -> None:
        if self.process is not None:
            self.process.terminate()
            self.process.wait(timeout=10)
            self.process = None


@pytest.fixture
def redis_server(tmp_path):
    if shutil.which("redis-server") is None:
        missing_service("redis-server binary not found (apt install redis-server)")
    server = RedisServer(tmp_path)
    server.start()
    yield server
    server.stop()


@pytest.fixture
def gateway():
    fake = FakeSmsGateway().start()
    yield fake
    fake.stop()


@pytest.fixture
def app_config(gateway, redis_server):
    return {**gateway.settings(), **FAST, "REDIS_URL": redis_server.url, "REDIS_RETRY_SECONDS": 1}


class Processes:
    """Worker and scheduler subprocesses on the test's database and Redis."""

    def __init__(self, app, tmp_path: Path):
        self.env = {**os.environ, "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"],
                    "SECRET_KEY": "test-secret", "HOTLINE_ENV": "development",
                    "HOTLINE_PUBLIC_URL": app.config["PUBLIC_URL"],
                    "PYTHONUNBUFFERED": "1"}
        for key in list(FAST) + ["REDIS_URL", "SMS_GATEWAY_URL", "SMS_GATEWAY_METHOD",
                                 "SMS_GATEWAY_BODY", "SMS_GATEWAY_SUCCESS",
                                 "SMS_GATEWAY_ID_FIELD", "SMS_SENDER_NAME"]:
            self.env[key] = str(app.config[key])
        self.tmp_path = tmp_path
        self.running: list[subprocess.Popen] = []

    def spawn(self, *args: str) -> subprocess.Popen:
        path = self.tmp_path / f"{args[0]}-{uuid.uuid4().hex[:6]}.log"
        with open(path, "w") as log:  # the child keeps its own copy of the descriptor
            proc = subprocess.Popen([sys.executable, "-m", "flask", "--app", "hotline", *args],
                                    cwd=ROOT, env=self.env, stdout=log,
                                    stderr=subprocess.STDOUT, start_new_session=True)
        proc.log_path = path
        self.running.append(proc)
        return proc

    def worker(self) -> subprocess.Popen:
        return self.spawn("worker", "notifications", "maintenance",
                          "--name", f"test-{uuid.uuid4().hex[:8]}")

    def scheduler(self) -> subprocess.Popen:
        return self.spawn("scheduler")

    def scheduler_pid(self, worker: subprocess.Popen, timeout: float = 20) -> int:
        """The pid of the scheduler process rq forks beside the worker (from its log)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = re.search(r"Scheduler for .* started with PID (\d+)",
                              Path(worker.log_path).read_text())
            if found:
                return int(found.group(1))
            time.sleep(0.1)
        pytest.fail(f"the worker's scheduler did not start\n{self.logs()}")

    @staticmethod
    def kill_group(proc: subprocess.Popen) -> None:
        """SIGKILL the process and everything it forked (horse, rq's scheduler)."""
        with suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)

    def logs(self) -> str:
        return "\n".join(f"--- {p.args[4:]}\n" + Path(p.log_path).read_text()
                         for p in self.running)

    def stop_all(self) -> None:
        for proc in self.running:
            if proc.poll() is None:
                with suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.kill_group(proc)


@pytest.fixture
def procs(app, tmp_path):
    p = Processes(app, tmp_path)
    yield p
    p.stop_all()


def children(pid: int) -> set[int]:
    try:
        return {int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()}
    except FileNotFoundError:
        return set()


def wait_for(condition, procs: Processes, timeout: float = 45, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if condition():
                return
        finally:
            db.session.rollback()  # never hold the (SQLite) write lock while waiting
        time.sleep(0.1)
    pytest.fail(f"timed out waiting for {what}\n{procs.logs()}")


def outbox() -> list[OutboxMessage]:
    db.session.expire_all()
    return list(db.session.scalars(select(OutboxMessage).order_by(OutboxMessage.id)))


def call(n: int):
    """The n-th caller: their own phone number, their own ticket."""
    return message(external_id=f"call-{n}", force_new=True,
                   contact=ContactHandle(name=f"Người gọi {n}", phone=f"09123450{n:02d}"))


def test_a_redis_outage_loses_no_reply_and_sends_none_twice(app, org, gateway, redis_server,
                                                            procs):
    procs.worker()
    procs.scheduler()
    intake.receive(call(0))
    commit()
    wait_for(lambda: [r.status for r in outbox()] == ["sent"], procs, what="the first reply")

    redis_server.stop()
    codes = []
    for n in range(1, 6):  # tickets keep arriving; Redis cannot take the jobs, so this
        codes.append(intake.receive(call(n)).code)  # process sends the replies itself
        commit()
    assert [r.status for r in outbox()] == ["sent"] * 6
    assert job_queue.redis_outage() is not None and not job_queue.is_async()

    redis_server.start()  # empty: whatever was queued before is gone
    time.sleep(float(app.config["REDIS_RETRY_SECONDS"]))
    codes.append(intake.receive(call(6)).code)  # back on rq: the worker sends this one
    commit()
    assert job_queue.redis_outage() is None
    wait_for(lambda: len(outbox()) == 7 and {r.status for r in outbox()} == {"sent"}, procs,
             timeout=60, what="the reply after Redis returned")
    time.sleep(1.5)  # the cron relay runs every second: it must find nothing to resend
    assert len(gateway.messages) == 7 and len(gateway.requests) == 7  # once each, no retries
    assert sorted(m["Phone"] for m in gateway.messages) == [f"09123450{n:02d}" for n in range(7)]
    for code in codes:
        assert sum(code in m["Content"] for m in gateway.messages) == 1
    assert {r.attempts for r in outbox()} == {1}


def test_a_worker_horse_killed_mid_send_is_retried_and_sends_once(app, org, gateway,
                                                                   redis_server, procs):
    worker = procs.worker()
    scheduler_pid = procs.scheduler_pid(worker)  # rq's own scheduler, a child of the worker
    gateway.block_next()  # the gateway takes the SMS, then hangs before answering
    result = intake.receive(call(1))
    commit()
    assert gateway.blocked.wait(30), procs.logs()
    horses = children(worker.pid) - {scheduler_pid}
    assert len(horses) == 1, (scheduler_pid, children(worker.pid))
    os.kill(horses.pop(), signal.SIGKILL)  # the work-horse dies mid-request

    # rq retries the job; it waits for the lease, then sends again with the same key.
    wait_for(lambda: outbox()[0].status == "sent", procs, what="the retried send")
    row = outbox()[0]
    assert row.attempts == 2
    assert len(gateway.requests) == 2 and len(gateway.messages_for("0912345001")) == 1
    assert result.code in gateway.messages[0]["Content"]
    assert row.provider_id == gateway.messages[0]["SMSID"]
    assert worker.poll() is None  # the worker itself survived its horse


def test_a_whole_worker_killed_mid_send_is_recovered_by_the_relay(app, org, gateway,
                                                                   redis_server, procs):
    worker = procs.worker()
    procs.scheduler()
    gateway.block_next()
    intake.receive(call(2))
    commit()
    assert gateway.blocked.wait(30), procs.logs()
    procs.kill_group(worker)  # the machine running the worker is gone
    gateway.release()
    assert outbox()[0].status == "sending"

    procs.worker()  # a new worker; the cron relay re-enqueues once the lease runs out
    wait_for(lambda: outbox()[0].status == "sent", procs, what="recovery after the lease")
    row = outbox()[0]
    assert row.attempts == 2
    assert len(gateway.messages_for("0912345002")) == 1 and len(gateway.requests) == 2


def test_the_same_row_relayed_twice_is_sent_once(app, org, gateway, redis_server, procs):
    intake.receive(call(3))
    db.session.commit()  # as if the after-commit relay had been lost
    row_id = outbox()[0].id
    conn = Redis.from_url(redis_server.url)
    queue = Queue("notifications", connection=conn)
    queue.enqueue(jobs.deliver, row_id)
    queue.enqueue(jobs.deliver, row_id)
    jobs.relay_outbox()  # and the cron relay hands it out a third time
    db.session.commit()
    assert [j.func_name for j in queue.get_jobs()].count("workers.jobs.deliver") == 3
    procs.worker()
    wait_for(lambda: outbox()[0].status == "sent" and queue.count == 0, procs,
             what="the duplicate jobs")
    time.sleep(0.5)
    assert len(gateway.requests) == 1 and outbox()[0].attempts == 1
    conn.close()


def test_a_gateway_error_is_retried_with_backoff(app, org, gateway, redis_server, procs):
    gateway.fail_next(1, status=503)
    procs.worker()
    procs.scheduler()
    intake.receive(call(4))
    commit()
    wait_for(lambda: outbox()[0].attempts >= 1 and outbox()[0].status != "sending", procs,
             what="the first attempt")
    first = outbox()[0]
    assert first.status in ("pending", "queued", "sent")
    wait_for(lambda: outbox()[0].status == "sent", procs, what="the retry after backoff")
    row = outbox()[0]
    assert row.attempts == 2 and row.last_error is None
    assert len(gateway.requests) == 2 and len(gateway.messages) == 1
