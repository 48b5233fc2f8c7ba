"""Periodic jobs' runs: one row per job of the schedule, shared by every process.

The row is both the record (when it last ran, how it ended) and the single-runner lock:
a runner takes the job by a conditional UPDATE of ``lease_owner``/``lease_until``, which
works alike on SQLite and PostgreSQL, so several web processes (or a system cron beside
them) never run the same job at once.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from hotline.extensions import db
from hotline.models.base import UTCDateTime


class PeriodicJob(db.Model):
    """The last run of one periodic job (``workers.cron.schedule``) and who holds it now."""

    __tablename__ = "periodic_jobs"
    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    last_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_seconds: Mapped[float | None] = mapped_column(Float)
    last_ok: Mapped[bool | None] = mapped_column(Boolean)
    last_result: Mapped[str | None] = mapped_column(String(500))
    last_error: Mapped[str | None] = mapped_column(Text)
    last_runner: Mapped[str | None] = mapped_column(String(16))  # in-process, rq, cron
    lease_owner: Mapped[str | None] = mapped_column(String(120))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
