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
