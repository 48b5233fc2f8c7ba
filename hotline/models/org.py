"""The province's organisation: areas, agencies, fields, routing rules, SLA policies, calendar."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from hotline.extensions import db
from hotline.models.base import UTCDateTime, utcnow


class Area(db.Model):
    """A node of the administrative tree (province → [district →] commune → …), any depth."""

    __tablename__ = "areas"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    name_folded: Mapped[str] = mapped_column(String(200), index=True)
    level: Mapped[str] = mapped_column(String(32))  # province / district / commune / ...
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    # "/1/7/42/": the ids from the root down to this node, for subtree queries in one index scan.
    path: Mapped[str] = mapped_column(String(400), index=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # The official type as written ("Phường", "Xã", "Đặc khu", "Huyện"...): level says how deep.
    unit_type: Mapped[str | None] = mapped_column(String(32))
    lat: Mapped[float | None] = mapped_column(Float)
    lon: Mapped[float | None] = mapped_column(Float)
    area_km2: Mapped[float | None] = mapped_column(Float)
    # The day the unit ceased to exist (a reorganisation); None while it is in force.
    valid_to: Mapped[date | None] = mapped_column(Date)
    # The unit of today's tree that took it over (for a split, the one the reform names first).
    successor_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    # A GeoJSON geometry (Polygon/MultiPolygon, lon-lat) and its bounding box, when loaded.
    boundary: Mapped[dict | None] = mapped_column(JSON)
    min_lat: Mapped[float | None] = mapped_column(Float)
    min_lon: Mapped[float | None] = mapped_column(Float)
    max_lat: Mapped[float | None] = mapped_column(Float)
    max_lon: Mapped[float | None] = mapped_column(Float)

    parent: Mapped[Area | None] = relationship(remote_side=[id], foreign_keys=[parent_id])
    successor: Mapped[Area | None] = relationship(remote_side=[id], foreign_keys=[successor_id])

    @property
    def historical(self) -> bool:
        return self.valid_to is not None


class Agency(db.Model):
    """A unit that handles tickets: a Sở, a district or commune People's Committee, a company."""

    __tablename__ = "agencies"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    level: Mapped[str] = mapped_column(String(32))  # province / district / commune / other
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"), index=True)
    # The area the agency governs: level rules route "to the commune's committee" through it.
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"), index=True)
    governs_area: Mapped[bool] = mapped_column(Boolean, default=False)
    email: Mapped[str | None] = mapped_column(String(254))
    zalo: Mapped[str | None] = mapped_column(String(64))
    requires_result_approval: Mapped[bool] = mapped_column(Boolean, default=False)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    parent: Mapped[Agency | None] = relationship(remote_side=[id])
    area: Mapped[Area | None] = relationship()


class Field(db.Model):
    """A field of concern (lĩnh vực), optionally a sub-type of another."""

    __tablename__ = "fields"
    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(32), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("fields.id"))
    keywords: Mapped[str | None] = mapped_column(String(400))
    extra_questions: Mapped[list | None] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class RoutingRule(db.Model):
    """(field?, area or area level?, kind?) → agency. See ``hotline.domain.routing``."""

    __tablename__ = "routing_rules"
    id: Mapped[int] = mapped_column(primary_key=True)
    agency_id: Mapped[int | None] = mapped_column(ForeignKey("agencies.id"))
    field_id: Mapped[int | None] = mapped_column(ForeignKey("fields.id"))
    kind: Mapped[str | None] = mapped_column(String(16))
    area_id: Mapped[int | None] = mapped_column(ForeignKey("areas.id"))
    area_level: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(400))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SlaPolicy(db.Model):
    """Resolution and first-response targets, in working minutes, per field/kind/priority."""

    __tablename__ = "sla_policies"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    field_id: Mapped[int | None] = mapped_column(ForeignKey("fields.id"))
    kind: Mapped[str | None] = mapped_column(String(16))
    priority: Mapped[str | None] = mapped_column(String(16))
    resolution_minutes: Mapped[int] = mapped_column(Integer)
    first_response_minutes: Mapped[int] = mapped_column(Integer)
    due_soon_fraction: Mapped[float] = mapped_column(Float, default=0.2)
    due_soon_max_minutes: Mapped[int | None] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CalendarOverride(db.Model):
    """An administrator's change to the working calendar: an extra day off or working day."""

    __tablename__ = "calendar_overrides"
    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[date] = mapped_column(Date, unique=True)
    is_working: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


Index("ix_routing_rules_lookup", RoutingRule.field_id, RoutingRule.area_id)
