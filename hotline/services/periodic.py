"""The periodic jobs' table: who may run a job now, and how its last run ended.

A job is taken by a conditional UPDATE that sets a lease (owner, until) only if nobody
holds one — and, for a runner that keeps its own clock (the in-process thread, the system
cron), only if the job is due. PostgreSQL re-checks the condition after a concurrent
UPDATE commits and SQLite serialises writers, so exactly one runner gets each run. A
runner that dies leaves its lease to expire after the job's timeout.

Each call commits on a connection of its own: the lease must be visible to the other
processes while the job runs in the caller's session.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import or_, select, update

from hotline.database import insert_or_skip
from hotline.extensions import db
from hotline.models import PeriodicJob

TABLE = PeriodicJob.__table__


def claim(name: str, owner: str, now: datetime, *, lease_seconds: float,
          every_seconds: float | None = None) -> bool:
    """Take ``name`` for one run; False if another runner holds it or (with
    ``every_seconds``) it last started less than that long ago."""
    conditions = [TABLE.c.name == name,
                  or_(TABLE.c.lease_until.is_(None), TABLE.c.lease_until < now)]
    if every_seconds is not None:
        conditions.append(or_(TABLE.c.last_started_at.is_(None),
                              TABLE.c.last_started_at <= now - timedelta(seconds=every_seconds)))
    with db.engine.begin() as conn:
        conn.execute(insert_or_skip(TABLE).values(name=name)
                     .on_conflict_do_nothing(index_elements=["name"]))
        taken = conn.execute(
            update(TABLE).where(*conditions)
            .values(lease_owner=owner, lease_until=now + timedelta(seconds=lease_seconds),
                    last_started_at=now))
    return taken.rowcount == 1


def finish(name: str, owner: str, now: datetime, *, seconds: float, ok: bool, runner: str,
           result: str | None = None, error: str | None = None) -> None:
    """Record how the run ended and give the lease back (unless another runner took it
    over after it expired)."""
    with db.engine.begin() as conn:
        conn.execute(
            update(TABLE).where(TABLE.c.name == name, TABLE.c.lease_owner == owner)
            .values(lease_owner=None, lease_until=None, last_finished_at=now,
                    last_seconds=round(seconds, 3), last_ok=ok, last_runner=runner,
                    last_result=(result or "")[:500] or None,
                    last_error=(error or "")[:4000] or None))


@dataclass(frozen=True)
class LastRun:
    name: str
    started_at: datetime | None
    finished_at: datetime | None
    seconds: float | None
    ok: bool | None
    result: str | None
    error: str | None
    runner: str | None
    running: bool


def last_runs(now: datetime) -> dict[str, LastRun]:
    """Every job's last run, by name (one row per job of the schedule)."""
    out = {}
    for row in db.session.scalars(select(PeriodicJob)):
        running = row.lease_until is not None and row.lease_until > now
        out[row.name] = LastRun(row.name, row.last_started_at, row.last_finished_at,
                                row.last_seconds, row.last_ok, row.last_result, row.last_error,
                                row.last_runner, running)
    return out
