"""Fixture `tree`: today's Đồng Nai with Bình Phước's former units, a field and one rule per ward's committee
(used by the area tests and the map's browser test)."""
from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import select

from hotline.domain import text
from hotline.extensions import db
from hotline.models import Agency, Area, Field, RoutingRule
from hotline.services import area_trees
from hotline.services.admin.audit import Actor


@dataclass
class Tree:
    areas: dict[str, Area]
    agencies: dict[str, Agency]
    field: Field
    rule: RoutingRule


@pytest.fixture
def tree(app) -> Tree:
    area_trees.import_official(Actor(user=None, label="test"), "Đồng Nai",
                               legacy_provinces=["Bình Phước"])
    areas = {a.code: a for a in db.session.scalars(select(Area))}
    agencies = {}
    for area in areas.values():
        if area.level == "commune" and area.valid_to is None:
            agencies[area.code] = Agency(code=f"UBND-{area.code}", name=f"UBND {area.name}",
                                         level="commune", area_id=area.id, governs_area=True,
                                         active=True)
    db.session.add_all(agencies.values())
    field = Field(code="MT", name="Môi trường", keywords="rác", active=True)
    db.session.add(field)
    db.session.flush()
    rule = RoutingRule(field_id=field.id, area_level="commune", note="UBND cấp xã", active=True)
    db.session.add(rule)
    db.session.commit()
    assert text.fold(areas["75"].name) == "tinh dong nai"
    db.session.commit()  # end the read: a live server's SQLite writes must not wait for it
    return Tree(areas, agencies, field, rule)
