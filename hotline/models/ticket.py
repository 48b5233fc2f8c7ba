"""Tickets and what hangs off them: contacts, events (timeline = audit log), attachments,
and the inbound-message ledger that makes every channel idempotent."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import (JSON, Boolean, Float, ForeignKey, Index, Integer, SmallInteger, String,
                        Text, UniqueConstraint, text)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.extensions import db
from hotline.models.base import BigId, UTCDateTime, utcnow
from hotline.models.org import Agency, Area, Field
from hotline.models.user import User


class Contact(db.Model):
    """A citizen as we can reach them. Each handle is unique when present."""

    __tablename__ = "contacts"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    name: Mapped[str | None] = mapped_column(String(200))
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    email: Mapped[str | None] = mapped_column(String(254), unique=True)
    telegram_chat_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    zalo_user_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    facebook_psid: Mapped[str | None] = mapped_column(String(64), unique=True)
    default_area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    anonymised_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


# Tickets whose first-response deadline is still to be watched (partial index predicate).
FIRST_RESPONSE_PENDING = ("sla_state IN ('on_track', 'due_soon', 'overdue') "
                          "AND accepted_at IS NULL AND first_response_breached_at IS NULL")


# Published tickets with a point (the public map's partial index predicate).
MAPPED = "published_at IS NOT NULL AND lat IS NOT NULL"


class Ticket(db.Model):
    """One phiếu: a citizen's report, request or question and everything done about it."""

    __tablename__ = "tickets"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    kind: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(200))
    contact_id: Mapped[int | None] = mapped_column(ForeignKey("contacts.id"), index=True)
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text)
    # fold(title + description + address): accent-free text the search indexes.
    search_text: Mapped[str] = mapped_column(Text)
    field_id: Mapped[int | None] = mapped_column(ForeignKey("fields.id"))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    # The unit of today's tree when ``area_id`` is a former unit (the ticket was handled under
    # it): reports by the current tree read ``coalesce(current_area_id, area_id)``.
    current_area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    address: Mapped[str | None] = mapped_column(String(400))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    status: Mapped[str] = mapped_column(String(20))
    priority: Mapped[str] = mapped_column(String(16), default="normal")
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    routing_rule_id: Mapped[int | None] = mapped_column(ForeignKey("routing_rules.id"))
    routing_reason: Mapped[str | None] = mapped_column(String(400))
    sla_policy_id: Mapped[int | None] = mapped_column(ForeignKey("sla_policies.id"))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    assigned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_due: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    due_soon_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # on_track / due_soon / overdue while the clock runs; paused; NULL when it does not run.
    sla_state: Mapped[str | None] = mapped_column(String(12))
    sla_paused_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Where the clock started and the working time spent paused since: enough to
    # recompute the deadlines after a policy or calendar change (sla-recompute).
    sla_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    sla_paused_seconds: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Set once by the SLA scan, so each crossing notifies once.
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_breached_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    result: Mapped[str | None] = mapped_column(Text)
    public_summary: Mapped[str | None] = mapped_column(Text)
    public_result: Mapped[str | None] = mapped_column(Text)
    # Set only while the moderated text is public: clearing it takes every public trace down.
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # False when the citizen asked not to be published (the default is to publish, redacted).
    consent_publish: Mapped[bool] = mapped_column(Boolean, default=True)
    # A manager decided not to publish this ticket (the reason is in its events and the audit log).
    publication_withheld_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    privacy_requested: Mapped[bool] = mapped_column(Boolean, default=False)
    rating: Mapped[int | None] = mapped_column(SmallInteger)
    rating_comment: Mapped[str | None] = mapped_column(Text)
    # When the citizen rated the current result (a reopened ticket can be rated again).
    rated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # fold(public_summary + public_result): what the public search reads. Never the
    # original text, so a search for a name cannot tell that a ticket mentioned it.
    public_search_text: Mapped[str | None] = mapped_column(Text)
    reopened_count: Mapped[int] = mapped_column(Integer, default=0)
    returned_count: Mapped[int] = mapped_column(Integer, default=0)
    merged_into_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"))
    # Agencies that returned this ticket as misrouted: the router never picks them again.
    excluded_agency_ids: Mapped[list | None] = mapped_column(JSON)
    status_token: Mapped[str] = mapped_column(String(64))  # the secret link's token
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    contact: Mapped[Contact | None] = relationship()
    field: Mapped[Field | None] = relationship()
    area: Mapped[Area | None] = relationship(foreign_keys=[area_id])
    current_area: Mapped[Area | None] = relationship(foreign_keys=[current_area_id])
    agency: Mapped[Agency | None] = relationship()
    assignee: Mapped[User | None] = relationship(foreign_keys=[assignee_id])

    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_tickets_channel_external_id"),
        # Agency inbox: open tickets of one agency by due time, keyset on (due_at, id).
        Index("ix_tickets_agency_inbox", "agency_id", "status", "due_at", "id"),
        # SLA scan: only tickets whose clock runs, by the instant they cross a threshold.
        Index("ix_tickets_sla_due", "sla_state", "due_at",
              postgresql_where=text("sla_state IS NOT NULL"),
              sqlite_where=text("sla_state IS NOT NULL")),
        Index("ix_tickets_sla_soon", "sla_state", "due_soon_at",
              postgresql_where=text("sla_state = 'on_track'"),
              sqlite_where=text("sla_state = 'on_track'")),
        # SLA scan: overdue tickets not yet escalated, by due time.
        Index("ix_tickets_sla_escalate", "due_at",
              postgresql_where=text("sla_state = 'overdue' AND escalated_at IS NULL"),
              sqlite_where=text("sla_state = 'overdue' AND escalated_at IS NULL")),
        # SLA scan: running clocks not accepted yet, by first-response due time.
        Index("ix_tickets_first_response", "first_response_due",
              postgresql_where=text(FIRST_RESPONSE_PENDING),
              sqlite_where=text(FIRST_RESPONSE_PENDING)),
        Index("ix_tickets_status_received", "status", "received_at", "id"),
        Index("ix_tickets_received", "received_at", "id"),
        Index("ix_tickets_contact_open", "contact_id", "channel", "status"),
        Index("ix_tickets_field_area", "field_id", "area_id"),
        # A reorganisation finds the tickets of a former unit without a scan.
        Index("ix_tickets_area", "area_id"),
        # Triage's duplicates: one ward's tickets of the last weeks, newest first.
        Index("ix_tickets_area_received", "area_id", "received_at"),
        # The public map: published points in a bounding box, aggregated on a grid by an
        # index-only scan (the filters ride along).
        Index("ix_tickets_map_points", "lat", "lon",
              postgresql_include=["published_at", "field_id", "consent_publish",
                                  "publication_withheld_at"],
              postgresql_where=text(MAPPED), sqlite_where=text(MAPPED)),
        # The staff hot-spot map: a period's tickets by ward, open and overdue, index-only.
        Index("ix_tickets_hotspots", "received_at",
              postgresql_include=["area_id", "current_area_id", "status", "due_at", "agency_id"]),
        Index("ix_tickets_published", "published_at", "id",
              postgresql_where=text("published_at IS NOT NULL"),
              sqlite_where=text("published_at IS NOT NULL")),
    )


class TicketEvent(db.Model):
    """One thing that happened to a ticket. Append-only: the timeline is the audit log."""

    __tablename__ = "ticket_events"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"))
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    type: Mapped[str] = mapped_column(String(32))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    actor_label: Mapped[str] = mapped_column(String(64))  # "citizen", "system", a channel…
    from_status: Mapped[str | None] = mapped_column(String(20))
    to_status: Mapped[str | None] = mapped_column(String(20))
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    note: Mapped[str | None] = mapped_column(Text)
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    data: Mapped[dict | None] = mapped_column(JSON)

    actor: Mapped[User | None] = relationship()

    __table_args__ = (Index("ix_ticket_events_ticket", "ticket_id", "id"),)


class Attachment(db.Model):
    """A file on a ticket: stored bytes, or a remote reference a job will fetch."""

    __tablename__ = "attachments"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("tickets.id"), index=True)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("ticket_events.id"))
    filename: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(100))
    size: Mapped[int | None] = mapped_column(Integer)
    sha256: Mapped[str | None] = mapped_column(String(64))
    storage_key: Mapped[str | None] = mapped_column(String(400))
    remote_ref: Mapped[str | None] = mapped_column(String(1000))
    # Why the file behind remote_ref could not be fetched (last attempt), for staff.
    fetch_error: Mapped[str | None] = mapped_column(String(300))
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


# Staged messages not yet processed, pending or failed (partial index predicate).
INBOUND_WAITING = "state <> 'done'"


def inbound_waiting():
    """The partial index's own predicate: a query states it beside ``state = '…'`` because
    SQLite (unlike PostgreSQL) only uses a partial index whose WHERE the query repeats."""
    return text(f"inbound_messages.{INBOUND_WAITING}")


class InboundMessage(db.Model):
    """Every message a channel delivered, once: the idempotency ledger of intake.

    A row is written ``done`` by synchronous intake, or ``pending`` by staging, with
    the message as ``payload`` (and, for a new report, the ticket code and status token
    already given to the citizen) until the drainer turns it into a ticket. A message
    that keeps failing ends ``failed`` and waits for an administrator; it is never dropped.
    """

    __tablename__ = "inbound_messages"
    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    channel: Mapped[str] = mapped_column(String(16))
    external_id: Mapped[str] = mapped_column(String(200))
    ticket_id: Mapped[int | None] = mapped_column(ForeignKey("tickets.id"), index=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    stored_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    state: Mapped[str] = mapped_column(String(10), default="done", server_default="done")
    payload: Mapped[dict | None] = mapped_column(JSON)
    ticket_code: Mapped[str | None] = mapped_column(String(16))
    status_token: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(SmallInteger, default=0, server_default="0")
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)

    __table_args__ = (
        UniqueConstraint("channel", "external_id", name="uq_inbound_messages_channel_external_id"),
        Index("uq_inbound_messages_ticket_code", "ticket_code", unique=True),
        Index("ix_inbound_messages_waiting", "state", "id",
              postgresql_where=text(INBOUND_WAITING), sqlite_where=text(INBOUND_WAITING)),
    )
