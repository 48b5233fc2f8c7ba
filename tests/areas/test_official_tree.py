"""Official area trees from the vietnamadminunits data: import, history, idempotence."""
from __future__ import annotations

from collections import Counter
from datetime import date

import pytest
from sqlalchemy import func, select

from hotline.domain.errors import ValidationError
from hotline.extensions import db
from hotline.models import Area, AuditLog
from hotline.services import area_trees
from hotline.services.admin.audit import Actor

ACTOR = Actor(user=None, label="test")


def _by_code() -> dict[str, Area]:
    return {a.code: a for a in db.session.scalars(select(Area))}


def test_import_dong_nai_current_tree_and_binh_phuoc_history(app):
    seen: list[tuple[int, int]] = []
    result = area_trees.import_official(ACTOR, "Đồng Nai", legacy_provinces=["Bình Phước"],
                                        progress=lambda d, t: seen.append((d, t)))
    db.session.commit()
    areas = _by_code()
    current = [a for a in areas.values() if a.valid_to is None]
    former = [a for a in areas.values() if a.valid_to is not None]
    assert Counter(a.level for a in current) == {"province": 1, "commune": 95}
    assert Counter(a.level for a in former) == {"province": 1, "district": 11, "commune": 111}
    assert result.created == len(areas) and result.historical == len(former)
    assert seen[-1] == (len(areas), len(areas))

    province = areas["75"]
    assert province.name == "Tỉnh Đồng Nai" and province.parent_id is None
    ward = areas["25195"]
    assert (ward.name, ward.unit_type, ward.level) == ("Phường Bình Phước", "Phường", "commune")
    assert ward.parent_id == province.id and ward.path == f"{province.path}{ward.id}/"
    assert ward.lat == pytest.approx(11.5209) and ward.area_km2 == pytest.approx(86.4)
    assert all(a.active for a in current) and not any(a.active for a in former)

    # Phường Minh Hưng of thị xã Chơn Thành was merged into one of today's wards.
    minh_hung = areas["old.25441"]
    assert (minh_hung.name, minh_hung.parent.name) == ("Phường Minh Hưng", "Thị xã Chơn Thành")
    assert minh_hung.valid_to == date(2025, 7, 1)
    assert minh_hung.successor is not None and minh_hung.successor.valid_to is None
    assert minh_hung.successor.parent_id == province.id
    assert area_trees.current_of(minh_hung) is minh_hung.successor
    assert areas["old.70"].successor_id == province.id
    # Every former commune has a successor in today's tree: none is left to guess.
    assert all(a.successor_id for a in former if a.level == "commune")
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "import_official")) == 1


def test_import_twice_changes_nothing(app):
    area_trees.import_official(ACTOR, "Đồng Nai", legacy_provinces=["Bình Phước"])
    db.session.commit()
    before = {a.code: (a.name, a.path, a.successor_id, a.lat) for a in _by_code().values()}
    again = area_trees.import_official(ACTOR, "dong nai", legacy_provinces=["binh phuoc"])
    db.session.commit()
    assert (again.created, again.updated) == (0, 0) and again.unchanged == len(before)
    assert {a.code: (a.name, a.path, a.successor_id, a.lat) for a in _by_code().values()} == before
    # A renamed unit (an admin's typo) is put back, and only it counts as updated.
    ward = db.session.scalar(select(Area).where(Area.code == "25195"))
    ward.name = "Phường Bình Phướcc"
    db.session.commit()
    fixed = area_trees.import_official(ACTOR, "75", legacy_provinces=["Bình Phước"])
    assert (fixed.created, fixed.updated) == (0, 1)
    assert ward.name == "Phường Bình Phước"


def test_unknown_province_is_refused_and_writes_nothing(app):
    with pytest.raises(ValidationError) as err:
        area_trees.import_official(ACTOR, "Bình Phước")  # no longer a province
    assert "Bình Phước" in err.value.message
    assert db.session.scalar(select(func.count()).select_from(Area)) == 0


def test_cli_import_official(runner):
    result = runner.invoke(args=["areas", "import-official", "--province", "Đồng Nai",
                                 "--no-legacy"])
    assert result.exit_code == 0, result.output
    assert "96 created" in result.output
    again = runner.invoke(args=["areas", "import-official", "--province", "Đồng Nai",
                                "--no-legacy"])
    assert "0 created, 0 updated, 96 unchanged" in again.output
    bad = runner.invoke(args=["areas", "import-official", "--province", "Atlantis"])
    assert bad.exit_code != 0 and "Atlantis" in bad.output
