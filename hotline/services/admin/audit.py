"""The audit log: append a row for every admin change, read it back with filters.

Rows are only ever inserted (``AuditLog`` refuses updates and deletes in the
ORM; PostgreSQL refuses them with a trigger). ``before``/``after`` hold plain
JSON snapshots of the fields that matter — never password hashes or key
material, and for personal-data exports only counts, never the data.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import and_, or_, select

from hotline.extensions import db
from hotline.models import AuditLog, User, utcnow
from hotline.services import lookups

PAGE_SIZE = 50


@dataclass(frozen=True)
class Actor:
    """Who does an admin action and from where; ``user`` is None for commands and jobs."""

    user: User | None
    ip: str | None = None
    label: str | None = None

    @property
    def name(self) -> str:
        if self.user is not None:
            return self.user.username
        return self.label or "system"


def _jsonable(value: Any) -> Any:
    if isinstance(value, (datetime, date)):
        return value.isoformat()
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    return value


def snapshot(obj: Any, fields: tuple[str, ...]) -> dict[str, Any]:
    """The named attributes of ``obj`` as JSON-ready values (for before/after)."""
    return {f: _jsonable(getattr(obj, f)) for f in fields}


# Entities that services.lookups keeps per process.
CACHED_ENTITIES = frozenset({"api_key", "field", "area", "agency"})


def record(actor: Actor, action: str, entity: str, entity_id: Any = None, *,
           before: dict | None = None, after: dict | None = None) -> AuditLog:
    """Append one audit row (flushed with the caller's transaction).

    Every administrator's change comes through here, so this is where the process's cached
    lookups of reference data are dropped (``services.lookups``).
    """
    if entity in CACHED_ENTITIES:
        lookups.forget()
    row = AuditLog(at=utcnow(), actor_id=actor.user.id if actor.user else None,
                   actor_label=actor.name[:64], action=action[:40], entity=entity[:40],
                   entity_id=None if entity_id is None else str(entity_id)[:64],
                   before=_jsonable(before) if before is not None else None,
                   after=_jsonable(after) if after is not None else None,
                   ip=(actor.ip or None) and actor.ip[:45])
    db.session.add(row)
    return row


def changes(before: dict, after: dict) -> tuple[dict, dict]:
    """Only the keys whose values differ, for a compact before → after."""
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


@dataclass(frozen=True)
class AuditPage:
    rows: list[AuditLog]
    next_cursor: str | None


def encode_cursor(row: AuditLog) -> str:
    return f"{row.at.isoformat()}_{row.id}"


def decode_cursor(cursor: str | None) -> tuple[datetime, int] | None:
    if not cursor:
        return None
    try:
        at, _, ident = cursor.rpartition("_")
        return datetime.fromisoformat(at), int(ident)
    except ValueError:
        return None


def entries(*, actor_id: int | None = None, entity: str | None = None,
            entity_id: str | None = None, since: datetime | None = None,
            until: datetime | None = None, cursor: str | None = None,
            limit: int = PAGE_SIZE) -> AuditPage:
    """Newest first, filtered; keyset on (at, id) so page 10 000 costs what page 1 does."""
    query = select(AuditLog).order_by(AuditLog.at.desc(), AuditLog.id.desc())
    if actor_id is not None:
        query = query.where(AuditLog.actor_id == actor_id)
    if entity:
        query = query.where(AuditLog.entity == entity)
    if entity_id:
        query = query.where(AuditLog.entity_id == entity_id)
    if since is not None:
        query = query.where(AuditLog.at >= since)
    if until is not None:
        query = query.where(AuditLog.at < until)
    position = decode_cursor(cursor)
    if position is not None:
        at, ident = position
        query = query.where(or_(AuditLog.at < at, and_(AuditLog.at == at, AuditLog.id < ident)))
    rows = list(db.session.scalars(query.limit(limit + 1)))
    more = len(rows) > limit
    rows = rows[:limit]
    return AuditPage(rows, encode_cursor(rows[-1]) if more and rows else None)


ENTITIES = ("agency", "field", "area", "routing_rule", "user", "api_key", "kb_article",
            "contact", "ticket", "sla_policy", "calendar", "inbound_message")
