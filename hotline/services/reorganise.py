"""A reorganisation of administrative units as an operation: merged, split or renamed units,
from the official 2025 table or an administrator's CSV (old code → new code).

``plan_*`` reads and checks the mapping (unknown codes are listed with their line, never
guessed) and counts what would change; ``apply`` does it in one savepoint — a failure
anywhere writes nothing:

- each old unit gets ``valid_to`` (the effective day), becomes inactive and points at its
  successor;
- open tickets on an old unit move to the new one, each with an ``area_moved`` event;
- settled tickets keep the unit they were handled under and gain ``current_area_id``;
- routing rules on an old unit are rewritten to the new unit, or — when the new unit already
  has a rule for the same field and kind — deactivated and flagged for review;
- one audit row says what was done.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from sqlalchemy import func, select, update

from hotline.domain import text
from hotline.domain.errors import ValidationError
from hotline.domain.lifecycle import OPEN_STATUSES
from hotline.extensions import db
from hotline.models import Agency, Area, RoutingRule, Ticket
from hotline.services import area_trees, events
from hotline.services import official_units as official
from hotline.services.admin import csvfile
from hotline.services.admin.audit import Actor, record

OPEN = sorted(s.value for s in OPEN_STATUSES)
BATCH = 1000


@dataclass
class Plan:
    """Old unit id → new unit id, and what applying it would change."""

    moves: dict[int, int]
    effective: date
    source: str
    unknown: list[tuple[int, str]] = field(default_factory=list)
    open_tickets: int = 0
    settled_tickets: int = 0
    rules_rewritten: int = 0
    rules_flagged: int = 0
    agencies_on_old_units: list[str] = field(default_factory=list)

    def describe(self) -> str:
        lines = [f"Sắp xếp đơn vị hành chính ({self.source}), hiệu lực {self.effective:%d/%m/%Y}:",
                 f"  {len(self.moves)} đơn vị cũ → đơn vị mới",
                 f"  {self.open_tickets} phiếu đang xử lý chuyển sang đơn vị mới (kèm sự kiện)",
                 f"  {self.settled_tickets} phiếu đã xong giữ đơn vị cũ, thêm đơn vị mới",
                 (f"  {self.rules_rewritten} quy tắc phân luồng viết lại, "
                  f"{self.rules_flagged} quy tắc cần xem lại (đã tắt)")]
        if self.agencies_on_old_units:
            lines.append("  Cơ quan gắn với đơn vị cũ (cần cập nhật): "
                         + ", ".join(self.agencies_on_old_units[:20]))
        return "\n".join(lines)


def plan_csv(data: bytes, *, effective: date) -> Plan:
    """A plan from ``old_code,new_code`` rows; every bad row is listed by line, nothing guessed."""
    problems = csvfile.Problems()
    pairs: dict[str, tuple[int, str]] = {}
    for row in csvfile.read(data, required=("old_code", "new_code"), what="sắp xếp",
                            aliases={"ma_cu": "old_code", "ma_moi": "new_code"}):
        old, new = (row.get("old_code") or "").strip(), (row.get("new_code") or "").strip()
        if not old or not new:
            problems.add(row.line, "thiếu mã cũ hoặc mã mới")
        elif old in pairs:
            problems.add(row.line, f"mã cũ {old} đã có ở dòng {pairs[old][0]} (đơn vị tách: "
                                   "chọn một đơn vị mới nhận phiếu)")
        elif old == new:
            problems.add(row.line, f"mã cũ và mã mới trùng nhau ({old})")
        else:
            pairs[old] = (row.line, new)
    areas = _by_code({*pairs, *(n for _l, n in pairs.values())})
    moves: dict[int, int] = {}
    unknown: list[tuple[int, str]] = []
    for old, (line, new) in pairs.items():
        if old not in areas:
            unknown.append((line, old))
            problems.add(line, f"mã cũ {old} không có trong danh mục địa bàn")
        if new not in areas:
            problems.add(line, f"mã mới {new} không có trong danh mục địa bàn")
        elif areas[new].valid_to is not None:
            problems.add(line, f"mã mới {new} là đơn vị đã giải thể")
        if old in areas and new in areas:
            moves[areas[old].id] = areas[new].id
    if not pairs and not problems.items:
        raise ValidationError("Tệp sắp xếp không có dòng dữ liệu nào.", code="csv_empty")
    problems.raise_if_any("sắp xếp")
    return _count(Plan(moves, effective, "tệp CSV", unknown))


def plan_official(province: str) -> Plan:
    """The 2025 reform for ``province``: its former units (loaded as ``old.…``) → today's."""
    found = official.find_province(province or "")
    if found is None:
        raise ValidationError(f"Không có tỉnh/thành phố «{province}» trong danh mục 34 tỉnh.",
                              code="unknown_province")
    successors = {old: s.code for old, s in official.successors(found[2]).items()}
    # A former district or province lies whole inside today's province.
    successors.update({u.code: found[0] for u in official.legacy_tree(
        official.merged_into(found[2])) if u.level in ("district", "province")})
    areas = _by_code({*successors, *successors.values()})
    moves = {areas[old].id: areas[new].id for old, new in successors.items()
             if old in areas and new in areas and areas[old].valid_to is None
             and areas[new].valid_to is None}
    return _count(Plan(moves, official.REFORM_2025, "bảng chuyển đổi chính thức 2025"))


def _by_code(codes: set[str]) -> dict[str, Area]:
    out: dict[str, Area] = {}
    items = sorted(codes)
    for i in range(0, len(items), 900):
        out.update({a.code: a for a in db.session.scalars(
            select(Area).where(Area.code.in_(items[i:i + 900])))})
    return out


def _count(plan: Plan) -> Plan:
    old_ids = list(plan.moves)
    if not old_ids:
        return plan
    t = Ticket.__table__.c
    plan.open_tickets = db.session.scalar(select(func.count()).where(
        t.area_id.in_(old_ids), t.status.in_(OPEN))) or 0
    plan.settled_tickets = db.session.scalar(select(func.count()).where(
        t.area_id.in_(old_ids), t.status.not_in(OPEN))) or 0
    for rule, target in _rules(plan):
        if target is None:
            plan.rules_flagged += 1
        else:
            plan.rules_rewritten += 1
    plan.agencies_on_old_units = list(db.session.scalars(
        select(Agency.code).where(Agency.area_id.in_(old_ids)).order_by(Agency.code)))
    return plan


def _rules(plan: Plan) -> list[tuple[RoutingRule, int | None]]:
    """Each rule on an old unit with its new unit, or None when that would clash."""
    rules = list(db.session.scalars(select(RoutingRule).where(
        RoutingRule.area_id.in_(list(plan.moves)), RoutingRule.active.is_(True))
        .order_by(RoutingRule.id)))
    taken = {(r.field_id, r.kind, r.area_level, r.area_id) for r in db.session.scalars(
        select(RoutingRule).where(RoutingRule.area_id.in_(set(plan.moves.values())),
                                  RoutingRule.active.is_(True)))}
    out = []
    for rule in rules:
        key = (rule.field_id, rule.kind, rule.area_level, plan.moves[rule.area_id])
        if key in taken:
            out.append((rule, None))
        else:
            taken.add(key)
            out.append((rule, key[3]))
    return out


def apply(actor: Actor, plan: Plan) -> Plan:
    """Do ``plan`` (counted again inside the transaction); all or nothing. Flushes."""
    if not plan.moves:
        raise ValidationError("Không có đơn vị nào cần sắp xếp (có thể đã áp dụng rồi).",
                              code="nothing_to_do")
    with db.session.begin_nested():
        plan = _count(Plan(plan.moves, plan.effective, plan.source, plan.unknown))
        areas = {a.id: a for a in db.session.scalars(select(Area).where(
            Area.id.in_([*plan.moves, *plan.moves.values()])))}
        for rule, target in _rules(plan):
            before = {"area_id": rule.area_id, "active": rule.active}
            if target is None:
                rule.active = False
                rule.note = (f"[Cần xem lại: {areas[rule.area_id].name} đã sáp nhập vào "
                             f"{areas[plan.moves[rule.area_id]].name}] {rule.note or ''}")[:400]
            else:
                rule.area_id = target
            record(actor, "reorganise", "routing_rule", rule.id, before=before,
                   after={"area_id": rule.area_id, "active": rule.active})
        for old_id, new_id in plan.moves.items():
            old, new = areas[old_id], areas[new_id]
            _move_open_tickets(old, new, plan.effective)
            # Settled tickets keep their unit; today's is beside it (and a former unit's
            # settled tickets that already pointed here follow it on).
            db.session.execute(update(Ticket).where(
                Ticket.area_id == old_id, Ticket.status.not_in(OPEN)).values(
                current_area_id=new_id).execution_options(synchronize_session=False))
            db.session.execute(update(Ticket).where(Ticket.current_area_id == old_id).values(
                current_area_id=new_id).execution_options(synchronize_session=False))
            old.valid_to, old.active, old.successor_id = plan.effective, False, new_id
        db.session.flush()
        record(actor, "reorganise", "area", None, after={
            "source": plan.source, "effective": plan.effective, "units": len(plan.moves),
            "open_tickets": plan.open_tickets, "settled_tickets": plan.settled_tickets,
            "rules_rewritten": plan.rules_rewritten, "rules_flagged": plan.rules_flagged})
    return plan


def _move_open_tickets(old: Area, new: Area, effective: date) -> None:
    last = 0
    while True:
        batch = list(db.session.scalars(select(Ticket).where(
            Ticket.area_id == old.id, Ticket.status.in_(OPEN), Ticket.id > last)
            .order_by(Ticket.id).limit(BATCH)))
        if not batch:
            return
        for ticket in batch:
            ticket.area_id, ticket.current_area_id = new.id, None
            events.record(ticket, "area_moved", actor_label="reorganise",
                          note=f"Sắp xếp đơn vị hành chính: {old.name} → {new.name}.",
                          data={"area_id": [old.id, new.id], "effective": effective.isoformat()})
        db.session.flush()
        last = batch[-1].id


def retire_codes(actor: Actor, province: str) -> int:
    """Before loading today's tree over a live pre-2025 one with plain official codes, give
    those units their ``old.`` code (today's tree reuses many of them); returns how many."""
    found = official.find_province(province or "")
    if found is None:
        raise ValidationError(f"Không có tỉnh/thành phố «{province}».", code="unknown_province")
    legacy = official.legacy_tree(official.merged_into(found[2]))
    plain = {u.code.removeprefix(official.LEGACY_PREFIX): u for u in legacy}
    # A unit that goes on under the same code, name and level is today's unit: left as is.
    today = {(u.code, text.fold(u.name), u.level) for u in official.current_tree(found[0])}
    renamed = 0
    for area in _by_code(set(plain)).values():
        unit = plain[area.code]
        if (area.code, text.fold(area.name), area.level) in today:
            continue
        if area.valid_to is None and text.fold(area.name) == text.fold(unit.name) \
                and area.level == unit.level:
            record(actor, "recode", "area", area.id, before={"code": area.code},
                   after={"code": unit.code})
            area.code = unit.code
            renamed += 1
    db.session.flush()
    return renamed


def migrate_to_2025(actor: Actor, province: str, *, dry_run: bool) -> Plan:
    """A live pre-2025 tree → today's: re-code the old units, load today's tree, apply."""
    with db.session.begin_nested() as savepoint:
        retire_codes(actor, province)
        area_trees.import_official(actor, province, legacy=False)
        plan = plan_official(province)
        if dry_run:
            savepoint.rollback()
            return plan
        return apply(actor, plan)
