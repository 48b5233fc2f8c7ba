"""Routing rules: create, edit, deactivate, and the "which agency would get this?" tester.

The tester runs the real router (``services.routing.suggest``) and, beside its
choice, lists every rule it considered for that field: whether each one
matched and, if not, why — so an administrator sees the chain, not a verdict.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import or_, select

from hotline.domain import routing as routing_domain
from hotline.domain.errors import NotFound, ValidationError
from hotline.domain.lifecycle import Kind
from hotline.extensions import db
from hotline.models import Agency, Area, Field, RoutingRule
from hotline.services import routing
from hotline.services.admin.audit import Actor, changes, record, snapshot

FIELDS = ("agency_id", "field_id", "kind", "area_id", "area_level", "note", "active")
MAX_CONSIDERED = 300


@dataclass(frozen=True)
class RuleData:
    agency_id: int | None
    field_id: int | None = None
    kind: str | None = None
    area_id: int | None = None
    area_level: str | None = None
    note: str | None = None
    active: bool = True


def get(rule_id: int) -> RoutingRule:
    rule = db.session.get(RoutingRule, rule_id)
    if rule is None:
        raise NotFound("Không tìm thấy quy tắc.")
    return rule


def list_rules(*, field_id: int | None = None, agency_id: int | None = None,
               limit: int = 1000) -> list[RoutingRule]:
    query = select(RoutingRule).order_by(RoutingRule.field_id, RoutingRule.id)
    if field_id is not None:
        query = query.where(RoutingRule.field_id == field_id)
    if agency_id is not None:
        query = query.where(RoutingRule.agency_id == agency_id)
    return list(db.session.scalars(query.limit(limit)))


def _apply(rule: RoutingRule, data: RuleData) -> None:
    if data.agency_id is None and not data.area_level:
        raise ValidationError("Chọn cơ quan xử lý, hoặc chọn cấp địa bàn để chuyển cho "
                              "UBND quản lý địa bàn đó.", code="agency_required")
    if data.area_id and data.area_level:
        raise ValidationError("Chọn một địa bàn cụ thể hoặc một cấp địa bàn, không chọn cả hai.",
                              code="area_conflict")
    if data.agency_id is not None and db.session.get(Agency, data.agency_id) is None:
        raise ValidationError("Cơ quan không tồn tại.", code="unknown_agency")
    if data.field_id is not None and db.session.get(Field, data.field_id) is None:
        raise ValidationError("Lĩnh vực không tồn tại.", code="unknown_field")
    if data.area_id is not None and db.session.get(Area, data.area_id) is None:
        raise ValidationError("Địa bàn không tồn tại.", code="unknown_area")
    if data.kind:
        try:
            Kind(data.kind)
        except ValueError:
            raise ValidationError(f"Loại phiếu không hợp lệ: {data.kind}", code="invalid_kind") from None
    if data.area_level and not db.session.scalar(
            select(Area.id).where(Area.level == data.area_level).limit(1)):
        raise ValidationError(f"Chưa có địa bàn nào ở cấp «{data.area_level}».", code="unknown_level")
    rule.agency_id = data.agency_id
    rule.field_id = data.field_id
    rule.kind = data.kind or None
    rule.area_id = data.area_id
    rule.area_level = data.area_level or None
    rule.note = (data.note or "").strip()[:400] or None
    rule.active = bool(data.active)


def create(actor: Actor, data: RuleData) -> RoutingRule:
    rule = RoutingRule()
    _apply(rule, data)
    db.session.add(rule)
    db.session.flush()
    record(actor, "create", "routing_rule", rule.id, after=snapshot(rule, FIELDS))
    return rule


def update(actor: Actor, rule_id: int, data: RuleData) -> RoutingRule:
    rule = get(rule_id)
    before = snapshot(rule, FIELDS)
    _apply(rule, data)
    db.session.flush()
    b, a = changes(before, snapshot(rule, FIELDS))
    if a:
        record(actor, "update", "routing_rule", rule.id, before=b, after=a)
    return rule


@dataclass(frozen=True)
class Considered:
    """One rule the tester looked at."""

    rule: RoutingRule
    matched: bool
    chosen: bool
    why: str


@dataclass(frozen=True)
class TestResult:
    decision: routing_domain.RoutingDecision
    agency: Agency | None
    area_chain: list[routing_domain.AreaNode]
    considered: list[Considered]


def test(*, field_id: int | None, area_id: int | None, kind: str | None) -> TestResult:
    """Which agency a ticket of this field, area and kind would go to, and the rule chain."""
    field = db.session.get(Field, field_id) if field_id else None
    area = db.session.get(Area, area_id) if area_id else None
    decision = routing.suggest(field=field, area=area, kind=kind or None)
    chain = routing.area_chain(area)
    chain_ids = {n.id for n in chain}
    levels = {n.level for n in chain}
    governing = {}
    if chain_ids:
        governing = dict(db.session.execute(
            select(Agency.area_id, Agency.id).where(Agency.area_id.in_(chain_ids),
                                                    Agency.governs_area.is_(True),
                                                    Agency.active.is_(True))).all())
    field_cond = RoutingRule.field_id.is_(None)
    if field is not None:
        field_cond = or_(field_cond, RoutingRule.field_id == field.id)
    rules = db.session.scalars(select(RoutingRule).where(field_cond)
                               .order_by(RoutingRule.id).limit(MAX_CONSIDERED)).all()
    considered = []
    for rule in rules:
        why = _why_not(rule, kind, chain_ids, levels, chain, governing)
        chosen = rule.id == decision.rule_id
        considered.append(Considered(rule, why is None, chosen,
                                     "được chọn" if chosen else (why or "khớp nhưng kém cụ thể hơn")))
    # The winner first, then the other matches, then the rest.
    considered.sort(key=lambda c: (not c.chosen, not c.matched, c.rule.id))
    agency = db.session.get(Agency, decision.agency_id) if decision.agency_id else None
    return TestResult(decision, agency, chain, considered)


def _why_not(rule, kind, chain_ids, levels, chain, governing) -> str | None:
    if not rule.active:
        return "quy tắc đang tắt"
    if rule.kind and rule.kind != kind:
        return f"chỉ áp dụng cho loại {rule.kind}"
    if rule.area_id is not None and rule.area_id not in chain_ids:
        return "địa bàn của quy tắc không chứa địa bàn này"
    if rule.area_level is not None:
        if rule.area_level not in levels:
            return f"địa bàn này không thuộc cấp {rule.area_level} nào"
        node = next(n for n in chain if n.level == rule.area_level)
        if rule.agency_id is None and node.id not in governing:
            return f"chưa có cơ quan quản lý «{node.name}»"
    if rule.agency_id is not None:
        agency = db.session.get(Agency, rule.agency_id)
        if agency is not None and not agency.active:
            return "cơ quan đang ngừng hoạt động (router vẫn có thể chọn — hãy tắt quy tắc)"
    return None
