"""Load a province's official area tree (and its former units as history) into ``areas``.

``import_official`` is idempotent: units are matched by code, only differences are written,
and a second run reports everything unchanged. Today's tree is two levels (tỉnh → xã/phường);
the former three-level trees of the provinces merged into it come in as historical units
(``valid_to`` = the reform's day, inactive, each commune pointing at the ward that took it
over, a former district or province at today's province), so old
tickets keep the unit they were handled under and still count under today's ward.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select

from hotline.config import local_zone
from hotline.domain import text
from hotline.domain.errors import ValidationError
from hotline.extensions import db
from hotline.models import Area
from hotline.services import official_units as official
from hotline.services.admin import areas as area_admin
from hotline.services.admin.audit import Actor, record

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class TreeImport:
    """What an import did, by count."""

    province: str
    created: int
    updated: int
    unchanged: int
    historical: int

    @property
    def changed(self) -> int:
        return self.created + self.updated

    def describe(self) -> str:
        return (f"{self.province}: {self.created} created, {self.updated} updated, "
                f"{self.unchanged} unchanged ({self.historical} former units as history).")


def import_official(actor: Actor, province: str, *, legacy: bool = True,
                    legacy_provinces: list[str] | None = None,
                    progress: Progress | None = None) -> TreeImport:
    """Upsert ``province``'s current tree and, with ``legacy``, its former units; flushes."""
    found = official.find_province(province or "")
    if found is None:
        raise ValidationError(f"Không có tỉnh/thành phố «{province}» trong danh mục 34 tỉnh "
                              "(sau 1/7/2025).", code="unknown_province")
    code, name, key = found
    units = [(u, None) for u in official.current_tree(code)]
    if legacy:
        keys = official.merged_into(key)
        if legacy_provinces:
            wanted = {text.fold(p).replace(" ", "") for p in legacy_provinces}
            keys = [k for k in keys if k.removeprefix("tinh").removeprefix("thanhpho") in wanted]
            if not keys:
                raise ValidationError("Các tỉnh cũ đã chọn không sáp nhập vào " + name + ".",
                                      code="unknown_legacy_province")
        units += [(u, official.REFORM_2025) for u in official.legacy_tree(keys)]
    successors = official.successors(key) if legacy else {}
    existing = {a.code: a for a in db.session.scalars(
        select(Area).where(Area.code.in_([u.code for u, _ in units])))}
    created: set[str] = set()
    changed: set[str] = set()
    for done, (unit, valid_to) in enumerate(units, start=1):
        parent = existing.get(unit.parent_code) if unit.parent_code else None
        area = existing.get(unit.code)
        if area is None:
            area = Area(code=unit.code, path="")
            _apply(area, unit, valid_to)
            area.parent_id = parent.id if parent else None
            db.session.add(area)
            db.session.flush()  # the id, for the path and the children
            area.path = (parent.path if parent else "/") + f"{area.id}/"
            existing[unit.code] = area
            created.add(unit.code)
        else:
            if _apply(area, unit, valid_to):
                changed.add(unit.code)
            if area.parent_id != (parent.id if parent else None):
                area_admin._move_subtree(area, parent)
                changed.add(unit.code)
        if progress and (done % 50 == 0 or done == len(units)):
            progress(done, len(units))
    historical = 0
    for unit, valid_to in units:
        if valid_to is None:
            continue
        historical += 1
        area = existing[unit.code]
        succ = successors.get(unit.code)
        # A former district or province lies whole inside today's province, no smaller unit.
        target = existing.get(succ.code) if succ else (
            existing.get(code) if unit.level in ("province", "district") else None)
        target_id = target.id if target else None
        if area.successor_id != target_id:
            area.successor_id = target_id
            changed.add(unit.code)
    db.session.flush()
    updated = len(changed - created)
    result = TreeImport(name, len(created), updated, len(units) - len(created) - updated,
                        historical)
    if result.changed:
        record(actor, "import_official", "area", code,
               after={"province": name, "created": len(created), "updated": updated,
                      "historical": historical, "legacy": legacy})
    return result


def _apply(area: Area, unit: official.Unit, valid_to: date | None) -> bool:
    """Copy the official values onto ``area``; whether anything differed."""
    values = {"name": unit.name, "name_folded": text.fold(unit.name), "level": unit.level,
              "unit_type": unit.unit_type, "lat": unit.lat, "lon": unit.lon,
              "area_km2": unit.area_km2, "valid_to": valid_to, "active": valid_to is None}
    changed = False
    for attr, value in values.items():
        if getattr(area, attr) != value:
            setattr(area, attr, value)
            changed = True
    return changed


def current_of(area: Area | None) -> Area | None:
    """The unit of today's tree an area stands for: itself, or its successor's chain."""
    seen = set()
    while area is not None and area.valid_to is not None and area.id not in seen:
        seen.add(area.id)
        area = area.successor
    return area


def filed_under(area: Area | None, received_at: datetime) -> tuple[Area | None, Area | None]:
    """(unit a ticket is filed under, its unit of today if that differs) for a named unit.

    A former unit named for something received after it ceased to exist stands for its
    successor (a citizen still writing "huyện Chơn Thành"); received while it existed, the
    ticket stays under it and also gains today's unit.
    """
    if area is None or area.valid_to is None:
        return area, None
    today = current_of(area)
    if received_at.astimezone(local_zone()).date() >= area.valid_to:
        return (today or area), None
    return area, today
