"""Vietnam's official administrative units, read from the ``vietnamadminunits`` package's data.

The package ships a SQLite file with both trees — ``admin_units`` (34 provinces, two levels,
since 1 July 2025: codes, names, types, centroids, areas) and ``admin_units_legacy`` (63
provinces, three levels: codes, names, types, centroids) — and ``converter_2025.json``, the
official old → new mapping (an old commune whole in one new ward, or split between several
with the one the reform names as default). We read those files directly, read-only, with
bound parameters; nothing here calls the package's geocoder (it would send addresses to an
outside service).
"""
from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from datetime import date
from functools import cache
from importlib.util import find_spec
from pathlib import Path

# Located, not imported: importing the package loads its parsers' 4 MB of patterns.
DATA = Path(find_spec("vietnamadminunits").origin).parent / "data"
# The reorganisation's effective day: units of the legacy tree were valid before it.
REFORM_2025 = date(2025, 7, 1)
# Codes of former units carry this prefix: the 2025 tree reuses many old commune codes.
LEGACY_PREFIX = "old."


@dataclass(frozen=True)
class Unit:
    """One unit of either tree, as the package holds it (codes already namespaced)."""

    code: str
    name: str
    unit_type: str | None
    level: str                  # province / district / commune
    parent_code: str | None
    lat: float | None
    lon: float | None
    area_km2: float | None = None
    key: str = ""               # the package's accent-free key ("phuongphuoclong")


def _rows(sql: str, params: tuple = ()) -> list[sqlite3.Row]:
    conn = sqlite3.connect(f"file:{DATA / 'dataset.db'}?mode=ro", uri=True)
    try:
        conn.row_factory = sqlite3.Row
        return conn.execute(sql, params).fetchall()
    finally:
        conn.close()


def _fold_key(name: str) -> str:
    from hotline.domain import text
    return text.fold(name).replace(" ", "")


def provinces() -> list[tuple[str, str]]:
    """(code, short name) of the 34 current provinces."""
    return [(r["provinceCode"], r["provinceShort"]) for r in _rows(
        "SELECT DISTINCT provinceCode, provinceShort FROM admin_units ORDER BY provinceShort")]


def find_province(name: str) -> tuple[str, str, str] | None:
    """A current province by name or code ("Đồng Nai", "dong nai", "75") → (code, name, key)."""
    wanted = _fold_key(name.removeprefix("Tỉnh ").removeprefix("Thành phố "))
    for r in _rows("SELECT DISTINCT provinceCode, province, provinceShort, provinceKey "
                   "FROM admin_units"):
        if wanted in (r["provinceCode"], _fold_key(r["provinceShort"]), _fold_key(r["province"])):
            return r["provinceCode"], r["province"], r["provinceKey"]
    return None


def current_tree(province_code: str) -> list[Unit]:
    """The province and its wards/communes today, province first."""
    rows = _rows("SELECT * FROM admin_units WHERE provinceCode = ? ORDER BY wardCode",
                 (province_code,))
    if not rows:
        return []
    p = rows[0]
    out = [Unit(code=p["provinceCode"], name=p["province"], unit_type=_type_of(p["province"]),
                level="province", parent_code=None, lat=p["provinceLat"], lon=p["provinceLon"],
                key=p["provinceKey"])]
    for r in rows:
        out.append(Unit(code=r["wardCode"], name=r["ward"], unit_type=r["wardType"],
                        level="commune", parent_code=p["provinceCode"], lat=r["wardLat"],
                        lon=r["wardLon"], area_km2=r["wardAreaKm2"], key=r["wardKey"]))
    return out


def merged_into(province_key: str) -> list[str]:
    """The legacy province keys a current province was formed from."""
    return list(_converter()["DICT_PROVINCE"].get(province_key, []))


def legacy_tree(province_keys: list[str]) -> list[Unit]:
    """The pre-2025 three-level trees of those provinces, parents before children."""
    if not province_keys:
        return []
    marks = ",".join("?" * len(province_keys))
    rows = _rows(f"SELECT * FROM admin_units_legacy WHERE provinceKey IN ({marks}) "
                 "ORDER BY provinceCode, districtCode, wardCode", tuple(province_keys))
    out: list[Unit] = []
    seen: set[str] = set()
    for r in rows:
        p_code = LEGACY_PREFIX + r["provinceCode"]
        d_code = LEGACY_PREFIX + r["districtCode"]
        if p_code not in seen:
            seen.add(p_code)
            out.append(Unit(code=p_code, name=r["province"], unit_type=_type_of(r["province"]),
                            level="province", parent_code=None, lat=r["provinceLat"],
                            lon=r["provinceLon"], key=r["provinceKey"]))
        if d_code not in seen:
            seen.add(d_code)
            out.append(Unit(code=d_code, name=r["district"], unit_type=r["districtType"],
                            level="district", parent_code=p_code, lat=r["districtLat"],
                            lon=r["districtLon"], key=f"{r['provinceKey']}_{r['districtKey']}"))
        if r["wardCode"] and LEGACY_PREFIX + r["wardCode"] not in seen:
            w_code = LEGACY_PREFIX + r["wardCode"]
            seen.add(w_code)
            out.append(Unit(code=w_code, name=r["ward"], unit_type=r["wardType"],
                            level="commune", parent_code=d_code, lat=r["wardLat"],
                            lon=r["wardLon"],
                            key=f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey']}"))
    return out


def _type_of(name: str) -> str:
    return "Thành phố" if name.startswith("Thành phố") else "Tỉnh"


@dataclass(frozen=True)
class Successor:
    """Where a former commune went: ``code`` is the new ward (the default one for a split)."""

    code: str
    split_into: tuple[str, ...] = ()


def successors(province_key: str) -> dict[str, Successor]:
    """Legacy commune code (prefixed) → its successor in the current province."""
    conv = _converter()
    new_codes = {r["wardKey"]: r["wardCode"] for r in _rows(
        "SELECT wardKey, wardCode FROM admin_units WHERE provinceKey = ?", (province_key,))}
    old_codes = _legacy_codes_by_key(tuple(merged_into(province_key)))
    out: dict[str, Successor] = {}
    for new_key, old_keys in conv["DICT_PROVINCE_WARD_NO_DIVIDED"].get(province_key, {}).items():
        for old_key in old_keys:
            if old_key in old_codes and new_key in new_codes:
                out[old_codes[old_key]] = Successor(new_codes[new_key])
    for old_key, options in conv["DICT_PROVINCE_WARD_DIVIDED"].get(province_key, {}).items():
        if old_key not in old_codes:
            continue
        parts = tuple(new_codes[o["newWardKey"]] for o in options if o["newWardKey"] in new_codes)
        default = next((new_codes[o["newWardKey"]] for o in options
                        if o["isDefaultNewWard"] and o["newWardKey"] in new_codes), None)
        if default:
            out[old_codes[old_key]] = Successor(default, parts)
    return out


def _legacy_codes_by_key(province_keys: tuple[str, ...]) -> dict[str, str]:
    if not province_keys:
        return {}
    marks = ",".join("?" * len(province_keys))
    return {f"{r['provinceKey']}_{r['districtKey']}_{r['wardKey']}": LEGACY_PREFIX + r["wardCode"]
            for r in _rows("SELECT provinceKey, districtKey, wardKey, wardCode FROM "
                           f"admin_units_legacy WHERE provinceKey IN ({marks}) "
                           "AND wardCode IS NOT NULL", province_keys)}


@cache
def _converter() -> dict:
    with open(DATA / "converter_2025.json", encoding="utf-8") as f:
        return json.load(f)


@cache
def ward_centroids() -> tuple[tuple[str, float, float], ...]:
    """(code, lat, lon) of every current ward in the country: whose centroid is nearest tells
    which province a point is in, when no boundary is loaded."""
    return tuple((r["wardCode"], r["wardLat"], r["wardLon"]) for r in _rows(
        "SELECT wardCode, wardLat, wardLon FROM admin_units WHERE wardLat IS NOT NULL"))
