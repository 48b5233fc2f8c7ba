"""Worker and queue depth, for the managers' and administrators' operations page.

Outbox rows by state (never the sent ones: they are most of the table) and how
late the oldest due message is; per rq queue the jobs waiting, running,
scheduled for a retry and failed; live workers and cron schedulers. Redis being
down is reported, not raised: the page must work exactly when things break.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from flask import current_app

from hotline.services.delivery import outbox_counts


@dataclass(frozen=True)
class QueueStatus:
    outbox: dict[str, int]
    queues: dict[str, dict[str, int]] = field(default_factory=dict)
    workers: int | None = None
    cron_schedulers: int | None = None
    redis: str = "not configured"   # "ok", "not configured" or the error

    @property
    def healthy(self) -> bool:
        """Nothing failed, nothing waits for long, and (with Redis) someone is working."""
        if self.outbox.get("failed") or self.outbox.get("oldest_due_seconds", 0) > 600:
            return False
        if self.redis == "not configured":
            return True
        return self.redis == "ok" and bool(self.workers)


def queue_status(now: datetime) -> QueueStatus:
    """Counts from the database, and from Redis when it is configured."""
    outbox = outbox_counts(now)
    if not current_app.config.get("REDIS_URL"):
        return QueueStatus(outbox=outbox)
    from rq import Queue, Worker
    from rq.cron import CronScheduler

    from workers.queue import QUEUES, redis_connection
    try:
        conn = redis_connection()
        queues = {}
        for name in QUEUES:
            queue = Queue(name, connection=conn)
            queues[name] = {
                "queued": queue.count,
                "started": queue.started_job_registry.count,
                "scheduled": queue.scheduled_job_registry.count,
                "failed": queue.failed_job_registry.count,
            }
        return QueueStatus(outbox=outbox, queues=queues, workers=Worker.count(connection=conn),
                           cron_schedulers=len(CronScheduler.all(conn)), redis="ok")
    except Exception as exc:  # Redis down: say so on the page
        return QueueStatus(outbox=outbox, redis=f"error: {type(exc).__name__}: {exc}")
