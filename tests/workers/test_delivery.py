"""The outbox relay in-process (no Redis): sends after the commit, retries with backoff,
gives up visibly, and never sends one row twice. The SMS gateway is a local fake."""
from __future__ import annotations

import socket
from datetime import timedelta

import pytest
from sqlalchemy import select, update

from hotline.domain.messages import ContactHandle
from hotline.extensions import db
from hotline.models import OutboxMessage, Ticket, TicketEvent, utcnow
from hotline.services import delivery, intake
from hotline.tx import commit
from tests.channels.fake_sms import API_KEY, BODY_TEMPLATE, FakeSmsGateway
from tests.factories import message
from workers import jobs
from workers import queue as job_queue


@pytest.fixture
def gateway():
    fake = FakeSmsGateway().start()
    yield fake
    fake.stop()


@pytest.fixture
def app_config(gateway, request):
    extra = getattr(request, "param", {})
    return gateway.settings(**extra)


def ack_row() -> OutboxMessage:
    row = db.session.scalars(select(OutboxMessage).where(OutboxMessage.purpose == "ack")).one()
    db.session.refresh(row)
    return row


def make_due(row_id: int) -> None:
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == row_id)
                       .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()


def receive_and_commit(**kw):
    result = intake.receive(message(**kw))
    commit()
    return result


def test_the_acknowledgement_goes_out_right_after_the_commit(org, gateway):
    result = receive_and_commit()
    [sms] = gateway.messages
    assert sms["Phone"] == "0912345678" and result.code in sms["Content"]
    assert "Tổng đài 1022 đã tiếp nhận" in sms["Content"]
    row = ack_row()
    assert (row.status, row.attempts, row.provider_id) == ("sent", 1, sms["SMSID"])
    assert row.sent_at is not None and row.last_error is None


def test_nothing_is_sent_before_the_commit(org, gateway):
    intake.receive(message())
    db.session.flush()
    assert gateway.requests == []
    db.session.rollback()
    commit()  # the rolled-back row is gone: nothing to send
    assert gateway.requests == [] and db.session.scalars(select(OutboxMessage)).all() == []


def test_transient_failure_backs_off_then_succeeds(org, gateway):
    gateway.fail_next(1, status=503)
    before = utcnow()
    receive_and_commit()
    row = ack_row()
    assert (row.status, row.attempts) == ("pending", 1)
    assert "HTTP 503" in row.last_error
    assert before + timedelta(seconds=29) < row.next_attempt_at < utcnow() + timedelta(seconds=31)
    assert jobs.relay_outbox() == 0  # not due yet
    make_due(row.id)
    assert jobs.relay_outbox() == 1
    row = ack_row()
    assert (row.status, row.attempts) == ("sent", 2) and len(gateway.messages) == 1


def test_backoff_doubles(org, gateway):
    gateway.fail_next(3, status=502)
    receive_and_commit()
    waits = []
    for _ in range(3):
        row = ack_row()
        waits.append(round((row.next_attempt_at - utcnow()).total_seconds() / 30))
        make_due(row.id)
        jobs.relay_outbox()
    assert waits == [1, 2, 4]
    assert ack_row().status == "sent" and ack_row().attempts == 4


@pytest.mark.parametrize("app_config", [{"SMS_GATEWAY_BODY": BODY_TEMPLATE.replace(API_KEY, "X")}],
                         indirect=True)
def test_permanent_failure_is_shown_on_the_ticket(org, gateway):
    result = receive_and_commit()
    row = ack_row()
    assert (row.status, row.attempts) == ("failed", 1) and "Sai ApiKey" in row.last_error
    event = db.session.scalars(select(TicketEvent).where(
        TicketEvent.ticket_id == result.ticket_id, TicketEvent.type == "delivery_failed")).one()
    assert "Không gửi được tin nhắn cho người dân qua kênh sms" in event.note
    assert event.data["outbox_id"] == row.id and not event.public
    assert jobs.relay_outbox() == 0 and len(gateway.requests) == 1


@pytest.mark.parametrize("app_config", [{"OUTBOX_MAX_ATTEMPTS": "2"}], indirect=True)
def test_gives_up_after_the_maximum_attempts(org, gateway):
    gateway.fail_next(5, status=500)
    result = receive_and_commit()
    make_due(ack_row().id)
    jobs.relay_outbox()
    row = ack_row()
    assert (row.status, row.attempts) == ("failed", 2)
    assert db.session.scalar(select(TicketEvent.type).where(
        TicketEvent.ticket_id == result.ticket_id, TicketEvent.type == "delivery_failed"))
    assert gateway.messages == []


def test_the_same_row_relayed_twice_sends_once(org, gateway):
    gateway.fail_next(1)  # keep the first attempt from succeeding after the commit
    receive_and_commit()
    row = ack_row()
    make_due(row.id)
    assert jobs.deliver(row.id) == "sent"
    assert jobs.deliver(row.id) == "finished"
    assert jobs.relay_outbox() == 0
    assert len(gateway.messages) == 1 and len(gateway.requests) == 2  # the 503, then the send


def test_a_row_held_by_another_attempt_is_left_alone(org, gateway):
    gateway.fail_next(1)
    receive_and_commit()
    row = ack_row()
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id).values(
        status="sending", next_attempt_at=utcnow() + timedelta(minutes=2)))
    db.session.commit()
    assert jobs.deliver(row.id) == "busy"
    assert len(gateway.requests) == 1


def test_an_interrupted_attempt_is_resent_with_the_same_key(org, gateway):
    """A worker died after the gateway accepted the SMS: the retry is deduplicated there."""
    gateway.fail_next(1)
    receive_and_commit()
    row = ack_row()
    make_due(row.id)
    _state, claim = delivery.claim(row.id, utcnow())
    db.session.commit()
    from channels.base import OutboundMessage, get_adapter
    from flask import current_app
    get_adapter("sms", current_app.config).send(OutboundMessage(
        key=claim.key, channel="sms", recipient=claim.recipient, text=claim.text))
    # ... and the worker is killed here: the row stays "sending" until its lease runs out.
    assert ack_row().status == "sending"
    db.session.execute(update(OutboxMessage).where(OutboxMessage.id == row.id)
                       .values(next_attempt_at=utcnow() - timedelta(seconds=1)))
    db.session.commit()
    assert jobs.relay_outbox() == 1
    row = ack_row()
    assert (row.status, row.attempts) == ("sent", 3)
    assert len(gateway.messages) == 1 and len(gateway.requests) == 3


def test_unconfigured_channel_waits_without_counting_attempts(org, gateway, staff_email_row):
    assert jobs.deliver(staff_email_row) == "unconfigured"
    row = db.session.get(OutboxMessage, staff_email_row)
    db.session.refresh(row)
    assert (row.status, row.attempts) == ("pending", 0)
    assert "chưa được cấu hình" in row.last_error
    assert row.next_attempt_at > utcnow() + timedelta(minutes=59)


@pytest.fixture
def staff_email_row(app, org):
    from hotline.services.outbox import queue_staff_message
    from flask import current_app
    # E-mail is not configured in these tests (no SMTP_HOST).
    current_app.config.pop("SMTP_HOST", None)
    queue_staff_message("lanhdao@example.gov.vn", "test", "Chủ đề", "Nội dung", key="t:1")
    db.session.commit()
    return db.session.scalar(select(OutboxMessage.id).where(OutboxMessage.key == "t:1"))


@pytest.mark.parametrize("app_config", [{"SMS_GATEWAY_BODY": BODY_TEMPLATE.replace(API_KEY, "X")}],
                         indirect=True)
def test_a_staff_message_that_fails_is_not_reported_as_a_citizens(org, gateway):
    result = receive_and_commit(external_id="x1")
    db.session.add(OutboxMessage(key="staff:sms:1", purpose="sla_overdue", channel="sms",
                                 ticket_id=result.ticket_id, recipient="+84987654321",
                                 payload={"text": "Phiếu quá hạn", "audience": "staff"}))
    commit()
    jobs.relay_outbox()
    staff_row = db.session.scalars(select(OutboxMessage).where(
        OutboxMessage.key == "staff:sms:1")).one()
    assert staff_row.status == "failed"
    failures = db.session.scalars(select(TicketEvent.data).where(
        TicketEvent.type == "delivery_failed")).all()
    assert [f["key"] for f in failures] == [f"ack:{result.code}"]


def test_failed_messages_can_be_put_back_and_are_counted(org, gateway):
    gateway.fail_next(1, status=400)
    receive_and_commit()
    row = ack_row()
    assert row.status == "failed"
    counts = delivery.outbox_counts(utcnow())
    assert counts["failed"] == 1 and counts["pending"] == 0
    assert delivery.retry_failed(row.id, utcnow())
    commit()  # the relay runs after this commit only if new rows were written: run it
    jobs.relay_outbox()
    assert ack_row().status == "sent" and len(gateway.messages) == 1
    assert delivery.outbox_counts(utcnow())["failed"] == 0


@pytest.fixture
def dead_redis_url():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"redis://127.0.0.1:{port}/0"


def test_with_redis_down_the_acknowledgement_goes_out_in_process(org, app, gateway,
                                                                 dead_redis_url):
    app.config.update(REDIS_URL=dead_redis_url, QUEUE_MODE="rq", REDIS_RETRY_SECONDS=60)
    result = receive_and_commit()  # the after-commit enqueue fails: the relay runs here
    assert db.session.get(Ticket, result.ticket_id) is not None
    row = ack_row()
    assert (row.status, row.attempts) == ("sent", 1)
    assert len(gateway.messages) == 1 and result.code in gateway.messages[0]["Content"]
    outage = job_queue.redis_outage()
    assert outage is not None and "ConnectionError" in outage.error
    # Within REDIS_RETRY_SECONDS the next commit does not ask Redis again.
    receive_and_commit(external_id="call-2", text="Cống thoát nước bị tắc ở ngõ 5.",
                       contact=ContactHandle(name="Trần Văn Nam", phone="0987654321"))
    assert job_queue.redis_outage().failures == 1 and len(gateway.messages) == 2
    assert not job_queue.is_async()
