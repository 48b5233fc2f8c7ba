"""What an administrator checks on the running system: channels, queues, overdue tickets.

Nothing here reveals a secret: a channel shows whether it is configured and
the *names* of missing settings, never their values.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select

from hotline.domain.messages import CHANNEL_LABELS_VI
from hotline.extensions import db
from hotline.models import InboundMessage, OutboxMessage, Ticket
from hotline.services import staging
from hotline.services.admin import audit
from hotline.services.admin.audit import Actor
from hotline.services.periodic import LastRun, last_runs
from hotline.services.staging import Backlog

# "Receiving" looks at this many newest inbound messages, so the page costs the same at
# ten million messages as at ten.
RECENT_WINDOW = 50_000


@dataclass(frozen=True)
class ChannelStatus:
    kind: str
    label: str
    configured: bool
    missing: list[str]
    last_received_at: datetime | None


def channel_status(config: Mapping[str, object]) -> list[ChannelStatus]:
    """Every registered channel adapter: configured or not, and when it last received."""
    from channels.base import adapter_classes
    last = _last_received()
    out = []
    for kind, cls in sorted(adapter_classes().items()):
        out.append(ChannelStatus(kind=kind, label=_label(kind), configured=cls.configured(config),
                                 missing=list(cls.missing_settings(config)),
                                 last_received_at=last.get(kind)))
    # Inbound-only channels (the web form, Open311, the operator console) have no adapter.
    for kind in ("web", "phone", "open311"):
        if kind not in {s.kind for s in out}:
            out.append(ChannelStatus(kind, _label(kind), True, [], last.get(kind)))
    return out


def _label(kind: str) -> str:
    for channel, label in CHANNEL_LABELS_VI.items():
        if channel.value == kind:
            return label
    return {"sms": "SMS"}.get(kind, kind)


def _last_received() -> dict[str, datetime]:
    top = db.session.scalar(select(func.max(InboundMessage.id)))
    if top is None:
        return {}
    rows = db.session.execute(
        select(InboundMessage.channel, func.max(InboundMessage.stored_at))
        .where(InboundMessage.id > top - RECENT_WINDOW)
        .group_by(InboundMessage.channel)).all()
    return {channel: at for channel, at in rows}


@dataclass(frozen=True)
class QueueDepth:
    outbox: dict[str, int]          # pending / failed (sent rows are not counted: millions)
    rq: dict[str, int] | None       # jobs waiting per rq queue, None without Redis
    overdue: int
    staged: Backlog                 # inbound messages stored, not yet tickets


def queue_depth(config: Mapping[str, object]) -> QueueDepth:
    """Outbox rows waiting or failed, rq queue lengths, overdue tickets, staged inbound
    messages — index-only counts."""
    outbox = dict(db.session.execute(
        select(OutboxMessage.status, func.count())
        .where(OutboxMessage.status.in_(("pending", "failed")))
        .group_by(OutboxMessage.status)).all())
    outbox.setdefault("pending", 0)
    outbox.setdefault("failed", 0)
    overdue = db.session.scalar(select(func.count()).select_from(Ticket)
                                .where(Ticket.sla_state == "overdue")) or 0
    return QueueDepth(outbox=outbox, rq=_rq_depth(config), overdue=overdue,
                      staged=staging.backlog())


def _rq_depth(config: Mapping[str, object]) -> dict[str, int] | None:
    if not config.get("REDIS_URL"):
        return None
    from rq import Queue

    from workers.queue import QUEUES, redis_connection
    try:
        conn = redis_connection()
        return {name: Queue(name, connection=conn).count for name in QUEUES}
    except Exception:  # noqa: BLE001 - Redis down is shown as unknown, not a 500
        return {}


def retry_staged(actor: Actor) -> int:
    """Queue every failed inbound message again (audited); returns how many."""
    count = staging.retry_failed()
    if count:
        audit.record(actor, "retry", "inbound_message", after={"count": count})
    return count


@dataclass(frozen=True)
class Degradation:
    """What runs without Redis right now, as this web process sees it."""

    redis_configured: bool
    redis_error: str | None            # the ping's error now, None when it answers
    outage_since: datetime | None      # when this process first saw Redis fail
    limiter_in_memory: bool            # rate limits counted in this process's memory


def degradation(config: Mapping[str, object]) -> Degradation:
    """Redis now (one ping, bounded by the client's timeouts), this process's outage and
    whether its rate limiter fell back to in-memory counters."""
    from hotline.extensions import limiter
    from workers import queue
    error = None
    if config.get("REDIS_URL"):
        try:
            queue.redis_connection().ping()
            queue.note_redis_up()
        except Exception as exc:  # noqa: BLE001 - shown on the page, never a 500
            error = f"{type(exc).__name__}: {exc}"[:300]
            queue.note_redis_down(exc)
    outage = queue.redis_outage()
    # Flask-Limiter keeps no public flag for its fallback; _storage_dead is the one it
    # switches (flask_limiter/_extension.py) and checks again with a backoff.
    in_memory = bool(getattr(limiter, "_storage_dead", False)) and bool(config.get("REDIS_URL"))
    return Degradation(redis_configured=bool(config.get("REDIS_URL")), redis_error=error,
                       outage_since=outage.since if outage else None,
                       limiter_in_memory=in_memory)


# The schedule's jobs (workers.cron.schedule) as /admin/system names them.
PERIODIC_JOB_LABELS_VI = {
    "drain_intake": "Tạo phiếu từ tin đến còn chờ",
    "sla_scan": "Quét hạn xử lý (SLA)",
    "relay_outbox": "Gửi tin nhắn đang chờ gửi",
    "send_digests": "Thư tổng hợp hằng ngày",
    "refresh_stats": "Cập nhật số liệu báo cáo",
    "anonymise_expired": "Ẩn danh dữ liệu cá nhân hết hạn lưu giữ",
    "satisfaction_followup": "Hỏi người dân đã được khắc phục chưa",
    "train_triage": "Huấn luyện lại mô hình gợi ý phân loại",
}


@dataclass(frozen=True)
class PeriodicJobRow:
    name: str
    interval: int
    last: LastRun | None
    late: bool  # not started for three intervals: no runner is running the schedule


def periodic_jobs(app, now: datetime) -> tuple[str, list[PeriodicJobRow]]:
    """Who runs the schedule here (``auto``, ``in-process``, ``off``) and each job's last run."""
    from workers import cron, periodic
    runs = last_runs(now)
    rows = []
    for entry in cron.schedule(app):
        last = runs.get(entry["name"])
        started = last.started_at if last else None
        late = started is None or (now - started).total_seconds() > 3 * entry["interval"] + 60
        rows.append(PeriodicJobRow(entry["name"], entry["interval"], last, late))
    return periodic.mode(app.config), rows
