"""What the staff console adds to tickets: co-handling agencies, PBX call events, and the
trigram index that makes the staff search fast on PostgreSQL."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import DDL, ForeignKey, Index, String, Text, UniqueConstraint, event, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.extensions import db
from hotline.models.base import BigId, UTCDateTime, utcnow
from hotline.models.org import Agency
from hotline.models.ticket import Ticket


class TicketCohandler(db.Model):
    """An agency that handles part of a ticket (phối hợp) beside the lead agency."""

    __tablename__ = "ticket_cohandlers"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    agency_id: Mapped[int] = mapped_column(ForeignKey("agencies.id"))
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending / done
    note: Mapped[str | None] = mapped_column(Text)          # the co-handler's part
    request_note: Mapped[str | None] = mapped_column(Text)  # what the lead asked of it
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    agency: Mapped[Agency] = relationship()

    __table_args__ = (
        UniqueConstraint("ticket_id", "agency_id", name="uq_ticket_cohandlers_ticket_id"),
        # A co-handling agency's inbox: its tickets, by the one index.
        Index("ix_ticket_cohandlers_agency", "agency_id", "status", "ticket_id"),
    )


class CallEvent(db.Model):
    """A call the PBX reported ringing at an operator's extension (kept a few days)."""

    __tablename__ = "call_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    extension: Mapped[str] = mapped_column(String(16))
    caller_raw: Mapped[str] = mapped_column(String(64))
    caller_phone: Mapped[str | None] = mapped_column(String(20))  # E.164 when valid
    call_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    __table_args__ = (Index("ix_call_events_extension", "extension", "id"),)


# The agency inbox: one agency's open tickets in due order, so a page is a short index walk
# however many tickets the agency has (the status list matches tickets.AGENCY_OPEN).
_AGENCY_OPEN_SQL = ("status IN ('assigned', 'in_progress', 'waiting_citizen', 'resolved', "
                    "'reopened')")
Index("ix_tickets_agency_open_due", Ticket.agency_id, Ticket.due_at, Ticket.id,
      postgresql_where=text(_AGENCY_OPEN_SQL), sqlite_where=text(_AGENCY_OPEN_SQL))
# Duplicates merged into a ticket (its page, and who hears its result).
Index("ix_tickets_merged_into", Ticket.merged_into_id,
      postgresql_where=text("merged_into_id IS NOT NULL"),
      sqlite_where=text("merged_into_id IS NOT NULL"))

# Accent-free search over tickets: LIKE '%…%' uses a trigram GIN index on PostgreSQL.
# SQLite has no pg_trgm; there the search scans (the embedded default is small).
Index("ix_tickets_search_trgm", Ticket.search_text, postgresql_using="gin",
      postgresql_ops={"search_text": "gin_trgm_ops"},
      info={"migration_only": True}).ddl_if(dialect="postgresql")
event.listen(Ticket.__table__, "before_create",
             DDL("CREATE EXTENSION IF NOT EXISTS pg_trgm").execute_if(dialect="postgresql"))
