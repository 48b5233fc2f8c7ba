"""Routing over the database: load the rules and the area chain, ask the domain router."""
from __future__ import annotations

from sqlalchemy import select

from hotline.domain import routing
from hotline.extensions import db
from hotline.models import Agency, Area, Field, RoutingRule
from hotline.services import memo


def area_chain(area: Area | None) -> list[routing.AreaNode]:
    """The area and its ancestors, nearest first, in one query (via the materialised path)."""
    if area is None:
        return []
    ids = [int(x) for x in area.path.strip("/").split("/") if x]
    rows = {a.id: a for a in db.session.scalars(select(Area).where(Area.id.in_(ids)))}
    return [routing.AreaNode(a.id, a.parent_id, a.level, a.name)
            for a in (rows[i] for i in reversed(ids) if i in rows)]


def suggest(*, field: Field | None, area: Area | None, kind: str | None,
            exclude_agency_ids: list[int] | None = None) -> routing.RoutingDecision:
    """Which agency should get a ticket of this field, area and kind, and why (asked once
    per field, area and kind inside a ``memo.batch``)."""
    key = ("route", field.id if field else None, area.id if area else None, kind,
           tuple(exclude_agency_ids or ()))
    return memo.remember(key, lambda: _suggest(field, area, kind, exclude_agency_ids))


def _suggest(field: Field | None, area: Area | None, kind: str | None,
             exclude_agency_ids: list[int] | None) -> routing.RoutingDecision:
    # An area's chain and governing agencies serve every field asked about it in a batch.
    chain = memo.remember(("area_chain", area.id if area else None), lambda: area_chain(area))
    chain_ids = [n.id for n in chain]
    # Only rules that could match: this field or any, these areas or none.
    field_cond = RoutingRule.field_id.is_(None)
    if field is not None:
        field_cond = field_cond | (RoutingRule.field_id == field.id)
    area_cond = RoutingRule.area_id.is_(None)
    if chain_ids:
        area_cond = area_cond | RoutingRule.area_id.in_(chain_ids)
    rules = [
        routing.Rule(id=r.id, agency_id=r.agency_id, field_id=r.field_id, kind=r.kind,
                     area_id=r.area_id, area_level=r.area_level, active=r.active)
        for r in db.session.scalars(
            select(RoutingRule).outerjoin(Agency, Agency.id == RoutingRule.agency_id)
            # A rule naming a deactivated agency routes nothing (the ticket falls through).
            .where(RoutingRule.active.is_(True), field_cond, area_cond,
                   RoutingRule.agency_id.is_(None) | Agency.active.is_(True)))
    ]
    governing = memo.remember(("governing", tuple(chain_ids)), lambda: _governing(chain_ids))
    return routing.route(
        rules, area_chain=chain, field_id=field.id if field else None, kind=kind,
        area_agencies=governing, exclude_agency_ids=exclude_agency_ids or (),
        field_name=field.name if field else None)


def _governing(chain_ids: list[int]) -> dict[int, int]:
    """Active agencies that govern one of these areas, by area."""
    if not chain_ids:
        return {}
    return dict(db.session.execute(
        select(Agency.area_id, Agency.id).where(
            Agency.area_id.in_(chain_ids), Agency.governs_area.is_(True),
            Agency.active.is_(True))).all())
