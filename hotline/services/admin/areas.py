"""The area tree: import official administrative-unit codes, re-parent, rename, deactivate.

Areas are never deleted: a ticket keeps pointing at the commune it was filed
in, so its history stays readable after a merger. Re-parenting rewrites the
materialised ``path`` of the whole subtree in one UPDATE (a province-wide
reform moves thousands of communes in one statement per moved node).
"""
from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import func, literal, select, update

from hotline.domain import text
from hotline.domain.errors import NotFound, ValidationError
from hotline.extensions import db
from hotline.models import Area
from hotline.services.admin import csvfile
from hotline.services.admin.audit import Actor, record, snapshot

FIELDS = ("code", "name", "level", "parent_id", "path", "active")
# Vietnamese unit types as written in the GSO list → the level names rules use.
LEVEL_ALIASES = {
    "province": "province", "tinh": "province", "thanh_pho_truc_thuoc_trung_uong": "province",
    "district": "district", "huyen": "district", "quan": "district", "thi_xa": "district",
    "thanh_pho": "district", "thanh_pho_thuoc_tinh": "district",
    "commune": "commune", "xa": "commune", "phuong": "commune", "thi_tran": "commune",
    "dac_khu": "commune",
    "hamlet": "hamlet", "thon": "hamlet", "ap": "hamlet", "to_dan_pho": "hamlet",
    "khu_pho": "hamlet", "ban": "hamlet",
}
LEVELS = frozenset(LEVEL_ALIASES.values())
_CODE = re.compile(r"^[0-9A-Za-z._-]{1,32}$")
CSV_ALIASES = {"ma": "code", "ma_don_vi": "code", "ten": "name", "ten_don_vi": "name",
               "cap": "level", "ma_cap_tren": "parent_code", "ma_cha": "parent_code",
               "parent": "parent_code"}


def normalise_level(raw: str) -> str:
    """"Phường" → "commune"; an unknown unit type → ``ValueError``."""
    level = LEVEL_ALIASES.get(text.fold(raw).replace(" ", "_"))
    if level is None:
        raise ValueError(raw)
    return level


def get(area_id: int) -> Area:
    area = db.session.get(Area, area_id)
    if area is None:
        raise NotFound("Không tìm thấy địa bàn.")
    return area


def children(parent_id: int | None, *, limit: int = 500) -> list[Area]:
    """One level of the tree, by name (the page opens nodes one at a time)."""
    cond = Area.parent_id.is_(None) if parent_id is None else Area.parent_id == parent_id
    return list(db.session.scalars(select(Area).where(cond).order_by(Area.name_folded, Area.id)
                                   .limit(limit)))


def search(q: str, *, limit: int = 50) -> list[Area]:
    folded = text.fold(q)
    if not folded:
        return []
    return list(db.session.scalars(
        select(Area).where(Area.name_folded.contains(folded) | (Area.code == q.strip()))
        .order_by(Area.name_folded).limit(limit)))


def create(actor: Actor, *, code: str, name: str, level: str, parent_id: int | None) -> Area:
    """One new area under ``parent_id`` (None: a root)."""
    code = _check_code(code)
    name = text.clean_text(name, max_length=200, field="tên địa bàn", required=True,
                           multiline=False)
    try:
        level = normalise_level(level)
    except ValueError:
        raise ValidationError(f"Cấp địa bàn không hợp lệ: {level}", code="invalid_level") from None
    if db.session.scalar(select(Area.id).where(Area.code == code)):
        raise ValidationError(f"Mã địa bàn đã tồn tại: {code}", code="duplicate")
    parent = get(parent_id) if parent_id else None
    area = _insert(code, name, level, parent)
    record(actor, "create", "area", area.id, after=snapshot(area, FIELDS))
    return area


def _check_code(code: str) -> str:
    code = (code or "").strip()
    if not _CODE.match(code):
        raise ValidationError(f"Mã địa bàn không hợp lệ: «{code}» (chữ số/chữ cái, tối đa 32 ký tự).",
                              code="invalid_code")
    return code


def _insert(code: str, name: str, level: str, parent: Area | None) -> Area:
    area = Area(code=code, name=name, name_folded=text.fold(name), level=level,
                parent_id=parent.id if parent else None, path="", active=True)
    db.session.add(area)
    db.session.flush()
    area.path = (parent.path if parent else "/") + f"{area.id}/"
    return area


def update_area(actor: Actor, area_id: int, *, name: str, level: str, active: bool) -> Area:
    area = get(area_id)
    before = snapshot(area, FIELDS)
    area.name = text.clean_text(name, max_length=200, field="tên địa bàn", required=True,
                                multiline=False)
    area.name_folded = text.fold(area.name)
    try:
        area.level = normalise_level(level)
    except ValueError:
        raise ValidationError(f"Cấp địa bàn không hợp lệ: {level}", code="invalid_level") from None
    area.active = bool(active)
    db.session.flush()
    b, a = _diff(before, snapshot(area, FIELDS))
    if a:
        record(actor, "update", "area", area.id, before=b, after=a)
    return area


def _diff(before, after):
    keys = [k for k in after if before.get(k) != after.get(k)]
    return {k: before.get(k) for k in keys}, {k: after[k] for k in keys}


def reparent(actor: Actor, area_id: int, new_parent_id: int | None) -> int:
    """Move an area (and everything under it) below ``new_parent_id``; returns rows moved.

    The subtree's paths change in one ``UPDATE … WHERE path LIKE 'old/%'``;
    tickets keep their ``area_id``, so they now count under the new parent.
    """
    area = get(area_id)
    parent = get(new_parent_id) if new_parent_id else None
    if parent is not None and parent.path.startswith(area.path):
        raise ValidationError("Không thể chuyển địa bàn vào chính nó hoặc địa bàn cấp dưới của nó.",
                              code="cycle")
    if area.parent_id == (parent.id if parent else None):
        return 0
    before = {"parent_id": area.parent_id, "path": area.path}
    moved = _move_subtree(area, parent)
    record(actor, "reparent", "area", area.id, before=before,
           after={"parent_id": area.parent_id, "path": area.path, "subtree_rows": moved})
    return moved


def _move_subtree(area: Area, parent: Area | None) -> int:
    old_prefix = area.path
    new_prefix = (parent.path if parent else "/") + f"{area.id}/"
    area.parent_id = parent.id if parent else None
    db.session.flush()
    result = db.session.execute(
        update(Area).where(Area.path.like(old_prefix + "%"))
        .values(path=literal(new_prefix) + func.substr(Area.path, len(old_prefix) + 1))
        .execution_options(synchronize_session=False))
    # Loaded areas hold stale paths now.
    for obj in list(db.session.identity_map.values()):
        if isinstance(obj, Area):
            db.session.expire(obj, ["path"])
    return result.rowcount


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    moved: int
    unchanged: int

    def describe(self) -> str:
        return (f"Đã nhập: {self.created} địa bàn mới, {self.updated} cập nhật tên/cấp, "
                f"{self.moved} chuyển địa bàn cấp trên, {self.unchanged} không đổi.")


def _existing_by_code(codes: set[str]) -> dict[str, Area]:
    found: dict[str, Area] = {}
    items = sorted(codes)
    for i in range(0, len(items), 900):  # stay under SQLite's bound-parameter limit
        for area in db.session.scalars(select(Area).where(Area.code.in_(items[i:i + 900]))):
            found[area.code] = area
    return found


def import_csv(actor: Actor, data: bytes) -> ImportResult:
    """Create or update areas from ``code,name,level,parent_code`` rows; all or nothing.

    Rows may come in any order (a commune before its district). A code already
    in the database is updated: its name and level, and its parent (moving its
    subtree) when ``parent_code`` differs.
    """
    problems = csvfile.Problems()
    rows: dict[str, tuple[int, str, str, str | None]] = {}
    for row in csvfile.read(data, required=("code", "name", "level"), aliases=CSV_ALIASES,
                            what="địa bàn"):
        code, name, level_raw, parent_code = (row.get("code"), row.get("name"), row.get("level"),
                                              row.get("parent_code") or None)
        if not _CODE.match(code):
            problems.add(row.line, f"mã «{code}» không hợp lệ")
            continue
        if code in rows:
            problems.add(row.line, f"mã {code} trùng với dòng {rows[code][0]}")
            continue
        if not name or len(name) > 200:
            problems.add(row.line, "thiếu tên" if not name else "tên dài quá 200 ký tự")
        try:
            level = normalise_level(level_raw)
        except ValueError:
            problems.add(row.line, f"cấp «{level_raw}» không hợp lệ")
            level = ""
        if parent_code == code:
            problems.add(row.line, "địa bàn không thể là cấp trên của chính nó")
        rows[code] = (row.line, text.nfc(name), level, parent_code)
    if not rows and not problems.items:
        raise ValidationError("Tệp địa bàn không có dòng dữ liệu nào.", code="csv_empty")
    existing = _existing_by_code(set(rows) | {r[3] for r in rows.values() if r[3]})
    for code, (line, _n, _l, parent_code) in rows.items():
        if parent_code and parent_code not in rows and parent_code not in existing:
            problems.add(line, f"mã cấp trên {parent_code} không có trong tệp và trong hệ thống")
    depth = _depths(rows, problems)
    problems.raise_if_any("địa bàn")

    created = updated = moved = unchanged = 0
    by_depth: dict[int, list[str]] = {}
    for code in sorted(rows, key=lambda c: (depth[c], rows[c][0])):
        by_depth.setdefault(depth[code], []).append(code)
    for level_codes in by_depth.values():
        # One flush per depth: a province's ten thousand hamlets insert in batches.
        fresh: list[Area] = []
        for code in level_codes:
            line, name, level, parent_code = rows[code]
            parent = existing.get(parent_code) if parent_code else None
            area = existing.get(code)
            if area is None:
                area = Area(code=code, name=name, name_folded=text.fold(name), level=level,
                            parent_id=parent.id if parent else None, path="", active=True)
                db.session.add(area)
                existing[code] = area
                fresh.append(area)
                continue
            changed = False
            if (area.name, area.level) != (name, level):
                area.name, area.name_folded, area.level = name, text.fold(name), level
                changed = True
            if area.parent_id != (parent.id if parent else None):
                if parent is not None and parent.path.startswith(area.path):
                    raise ValidationError(f"Tệp địa bàn: dòng {line}: chuyển {code} vào địa bàn "
                                          "cấp dưới của nó tạo thành vòng lặp; chưa nhập dòng nào.",
                                          code="cycle")
                _move_subtree(area, parent)
                moved += 1
            elif changed:
                updated += 1
            else:
                unchanged += 1
        if fresh:
            db.session.flush()
            for area in fresh:
                parent = existing.get(rows[area.code][3]) if rows[area.code][3] else None
                area.path = (parent.path if parent else "/") + f"{area.id}/"
            created += len(fresh)
    db.session.flush()
    result = ImportResult(created, updated, moved, unchanged)
    record(actor, "import", "area", None, after={"rows": len(rows), "created": created,
                                                  "updated": updated, "moved": moved})
    return result


def _depths(rows, problems: csvfile.Problems) -> dict[str, int]:
    """How deep each row sits below rows of the same file (parents first); flags cycles."""
    depth: dict[str, int] = {}
    for start in rows:
        chain, code = [], start
        while code in rows and code not in depth:
            if code in chain:
                problems.add(rows[start][0], f"vòng lặp cấp trên: {' → '.join(chain + [code])}")
                for c in chain:
                    depth[c] = 0
                break
            chain.append(code)
            code = rows[code][3]
        base = depth.get(code, -1) if code in rows else -1
        for offset, c in enumerate(reversed(chain)):
            depth.setdefault(c, base + 1 + offset)
    return depth
