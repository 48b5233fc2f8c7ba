"""Tables behind the managers' and the IOC's reports.

``ticket_daily_stats`` holds one row per local day × agency × field × area ×
channel so that a month's ranking or dashboard reads a few thousand narrow
rows instead of every ticket; ``stats_refreshes`` says how far it is complete.
``report_work_days`` is the working calendar laid out per local day with
cumulative working seconds, so SQL can measure working time per row.
Targets, quality reviews and the export log are the managers' own data.

The indexes at the bottom sit on ``tickets`` and ``ticket_events`` because the
reports' queries need them (checked with EXPLAIN on PostgreSQL).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.extensions import db
from hotline.models.base import BigId, UTCDateTime, utcnow
from hotline.models.org import Agency
from hotline.models.ticket import Ticket, TicketEvent
from hotline.models.user import User


class TicketDailyStats(db.Model):
    """Counts of one local day for one (agency, field, area, channel, operator); NULL = none.

    ``received``, ``answered_directly`` and ``forwarded`` count tickets by the day
    they were received; ``resolved``, ``resolved_on_time`` and the rating sums by
    the day they were resolved; ``reopened`` and ``returned`` count events by the
    day they happened (agency = the agency the ticket was with at that moment).
    """

    __tablename__ = "ticket_daily_stats"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    agency_id: Mapped[int | None] = mapped_column(Integer)
    field_id: Mapped[int | None] = mapped_column(Integer)
    area_id: Mapped[int | None] = mapped_column(Integer)
    channel: Mapped[str] = mapped_column(String(16))
    operator_id: Mapped[int | None] = mapped_column(Integer)  # who logged it, if staff
    received: Mapped[int] = mapped_column(Integer, default=0)
    answered_directly: Mapped[int] = mapped_column(Integer, default=0)
    forwarded: Mapped[int] = mapped_column(Integer, default=0)
    resolved: Mapped[int] = mapped_column(Integer, default=0)
    resolved_on_time: Mapped[int] = mapped_column(Integer, default=0)
    reopened: Mapped[int] = mapped_column(Integer, default=0)
    returned: Mapped[int] = mapped_column(Integer, default=0)
    rating_sum: Mapped[int] = mapped_column(Integer, default=0)
    rating_count: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (
        Index("ix_ticket_daily_stats_day_agency", "day", "agency_id"),
    )


class StatsRefresh(db.Model):
    """One run of ``refresh-stats``: which days it rewrote and how far the table is complete.

    ``covered_from``..``covered_to`` (local days, inclusive) is the contiguous span the
    daily table is complete for after this run; reports read it for those days and
    count later days live from the tickets.
    """

    __tablename__ = "stats_refreshes"
    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    day_from: Mapped[date] = mapped_column(Date)
    day_to: Mapped[date] = mapped_column(Date)
    covered_from: Mapped[date] = mapped_column(Date)
    covered_to: Mapped[date] = mapped_column(Date)
    rows_written: Mapped[int] = mapped_column(Integer, default=0)


class ReportWorkDay(db.Model):
    """A local day of the working calendar with the working seconds before it.

    ``cum_seconds`` counts working seconds from the first row's midnight to this
    day's midnight; the working time between two instants is then a subtraction
    (see ``hotline.services.reports.workdays``).
    """

    __tablename__ = "report_work_days"
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    working: Mapped[bool] = mapped_column(Boolean)
    cum_seconds: Mapped[int] = mapped_column(BigInteger)


class ReportMeta(db.Model):
    """Small key → value facts the reports keep (e.g. the calendar the work days were built from)."""

    __tablename__ = "report_meta"
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ReportTarget(db.Model):
    """A target for one indicator: province-wide (``agency_id`` NULL) or for one agency."""

    __tablename__ = "report_targets"
    id: Mapped[int] = mapped_column(primary_key=True)
    indicator: Mapped[str] = mapped_column(String(32))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    value: Mapped[float] = mapped_column(Float)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    agency: Mapped[Agency | None] = relationship()

    __table_args__ = (
        # NULLs are distinct in a plain unique index: one partial index per case.
        Index("uq_report_targets_global", "indicator", unique=True,
              postgresql_where=text("agency_id IS NULL"), sqlite_where=text("agency_id IS NULL")),
        Index("uq_report_targets_agency", "indicator", "agency_id", unique=True,
              postgresql_where=text("agency_id IS NOT NULL"),
              sqlite_where=text("agency_id IS NOT NULL")),
    )


class QualityReview(db.Model):
    """A manager's check of an operator's direct answer: correct or needs correction."""

    __tablename__ = "quality_reviews"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), unique=True)
    operator_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    verdict: Mapped[str] = mapped_column(String(20))  # correct / needs_correction
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    ticket: Mapped[Ticket] = relationship()
    reviewer: Mapped[User] = relationship(foreign_keys=[reviewer_id])

    __table_args__ = (Index("ix_quality_reviews_operator", "operator_id", "created_at", "id"),)


class ExportLog(db.Model):
    """Who exported what, when: every report and ticket-list download is recorded."""

    __tablename__ = "export_log"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    report: Mapped[str] = mapped_column(String(32))
    format: Mapped[str] = mapped_column(String(8))
    params: Mapped[dict | None] = mapped_column(JSON)
    row_count: Mapped[int | None] = mapped_column(Integer)
    personal_data: Mapped[bool] = mapped_column(Boolean, default=False)

    __table_args__ = (Index("ix_export_log_at", "at"),)


# --- indexes the reports need on the ticket tables ---------------------------------------
# Resolved in a period (ranking, percentiles): INCLUDE makes the percentile query an
# index-only scan on PostgreSQL instead of one heap page per resolved ticket.
Index("ix_tickets_resolved", Ticket.resolved_at,
      postgresql_include=["received_at", "agency_id", "merged_into_id"],
      postgresql_where=text("resolved_at IS NOT NULL"), sqlite_where=text("resolved_at IS NOT NULL"))
# One agency's overdue / due-soon tickets oldest due first (drill-down keyset, agency leads);
# carrying the state makes the inbox's overdue and due-soon counts index-only.
Index("ix_tickets_agency_sla", Ticket.agency_id, Ticket.due_at, Ticket.id,
      postgresql_include=["sla_state"],
      postgresql_where=text("sla_state IS NOT NULL"), sqlite_where=text("sla_state IS NOT NULL"))
# Every ticket whose clock runs (or is paused) by due time, with what the overdue report
# groups by: the report is an index-only scan, the province-wide drill-down an ordered one.
Index("ix_tickets_report_due", Ticket.due_at, Ticket.id,
      postgresql_include=["sla_state", "agency_id", "area_id", "sla_paused_at", "due_soon_at"],
      postgresql_where=text("sla_state IS NOT NULL"), sqlite_where=text("sla_state IS NOT NULL"))
# Reopen and return events by time: the ranking's "reopened" and "returned as misrouted".
Index("ix_ticket_events_report", TicketEvent.to_status, TicketEvent.at,
      postgresql_where=text("to_status IN ('reopened', 'returned')"),
      sqlite_where=text("to_status IN ('reopened', 'returned')"))

# The managers' queue of extension requests still waiting for a decision.
EXTENSION_EVENTS = ("'extension_requested', 'extension_approved', 'extension_rejected', "
                    "'extension_decided'")
Index("ix_ticket_events_extension", TicketEvent.type, TicketEvent.ticket_id, TicketEvent.id,
      postgresql_where=text(f"type IN ({EXTENSION_EVENTS})"),
      sqlite_where=text(f"type IN ({EXTENSION_EVENTS})"))
