"""The administrators' audit log and the personal-data retention ledger.

``AuditLog`` is append-only: the ORM refuses to update or delete a row (below),
and on PostgreSQL a trigger refuses it in the database too (created by the
migration, and by ``create_all`` for the tests). ``TicketAnonymisation`` marks a
ticket whose citizen data is gone, so the retention scan never does it twice.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DDL, JSON, ForeignKey, Index, String, event
from sqlalchemy.orm import Mapped, mapped_column

from hotline.extensions import db
from hotline.models.base import BigId, UTCDateTime, utcnow
from hotline.models.ticket import Ticket


class AuditLog(db.Model):
    """One administrative change or personal-data access: who, when, what, before → after."""

    __tablename__ = "audit_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The actor's username at the time ("system", "cli" for commands): survives a rename.
    actor_label: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(40))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str | None] = mapped_column(String(64))
    before: Mapped[dict | None] = mapped_column(JSON)
    after: Mapped[dict | None] = mapped_column(JSON)
    ip: Mapped[str | None] = mapped_column(String(45))

    __table_args__ = (
        # The viewer's filters, each with the keyset (at DESC, id DESC) behind it.
        Index("ix_audit_log_at", "at", "id"),
        Index("ix_audit_log_actor", "actor_id", "at", "id"),
        Index("ix_audit_log_entity", "entity", "at", "id"),
    )


class TicketAnonymisation(db.Model):
    """A ticket whose citizen's personal data was removed (retention or the citizen's request)."""

    __tablename__ = "ticket_anonymisations"
    ticket_id: Mapped[int] = mapped_column(BigId, ForeignKey("tickets.id"), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    reason: Mapped[str] = mapped_column(String(16))  # retention / erasure


# The retention scan walks closed tickets by (closed_at, id).
Index("ix_tickets_closed", Ticket.closed_at, Ticket.id,
      postgresql_where=Ticket.closed_at.isnot(None), sqlite_where=Ticket.closed_at.isnot(None))


# The same SQL the migration runs: UPDATE and DELETE on audit_log fail in PostgreSQL.
AUDIT_TRIGGER_SQL = """
CREATE OR REPLACE FUNCTION audit_log_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING MESSAGE = 'audit_log is append-only: ' || TG_OP || ' refused';
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_append_only();
"""
event.listen(AuditLog.__table__, "after_create",
             DDL(AUDIT_TRIGGER_SQL).execute_if(dialect="postgresql"))

# SQLite (the embedded default) refuses them too.
AUDIT_SQLITE_TRIGGERS = tuple(
    f"CREATE TRIGGER IF NOT EXISTS audit_log_no_{op.lower()} BEFORE {op} ON audit_log "
    f"BEGIN SELECT RAISE(ABORT, 'audit_log is append-only: {op} refused'); END"
    for op in ("UPDATE", "DELETE"))
for _sql in AUDIT_SQLITE_TRIGGERS:
    event.listen(AuditLog.__table__, "after_create", DDL(_sql).execute_if(dialect="sqlite"))


class AppendOnlyError(RuntimeError):
    """Code tried to change or delete an audit row."""


@event.listens_for(AuditLog, "before_update")
def _refuse_update(_mapper, _conn, _target):
    raise AppendOnlyError("audit_log is append-only")


@event.listens_for(AuditLog, "before_delete")
def _refuse_delete(_mapper, _conn, _target):
    raise AppendOnlyError("audit_log is append-only")
