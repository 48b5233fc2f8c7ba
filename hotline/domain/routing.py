"""The router: which agency handles a ticket of this field, place and kind.

Rules are plain data. A rule names an area (one node of the tree) or an area
level (e.g. every commune), optionally a field and a kind, and either an agency
or — for level rules — "the agency that governs that area" (the commune's
People's Committee). The most specific rule wins: a nearer area beats a farther
one (commune beats district beats province beats catch-all), then a field rule
beats a catch-all, then a kind rule beats an any-kind rule, then the lower id.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class AreaNode:
    id: int
    parent_id: int | None
    level: str
    name: str


@dataclass(frozen=True)
class Rule:
    id: int
    agency_id: int | None = None
    field_id: int | None = None
    kind: str | None = None
    area_id: int | None = None
    area_level: str | None = None
    active: bool = True


@dataclass(frozen=True)
class RoutingDecision:
    agency_id: int | None
    rule_id: int | None
    reason: str

    @property
    def to_triage(self) -> bool:
        return self.agency_id is None


def route(rules: Iterable[Rule], *, area_chain: Sequence[AreaNode], field_id: int | None,
          kind: str | None, area_agencies: Mapping[int, int] | None = None,
          exclude_agency_ids: Iterable[int] = (),
          field_name: str | None = None) -> RoutingDecision:
    """Pick the agency for a ticket.

    ``area_chain`` runs from the ticket's own area up to the root (empty when
    the place is unknown). ``area_agencies`` maps an area id to the agency that
    governs it, for level rules. Agencies in ``exclude_agency_ids`` (those that
    returned the ticket as misrouted) are never chosen.
    """
    area_agencies = area_agencies or {}
    excluded = set(exclude_agency_ids)
    depth_of = {node.id: i for i, node in enumerate(area_chain)}
    catch_all_depth = len(area_chain)
    candidates: list[tuple[tuple, Rule, int, AreaNode | None]] = []
    for rule in rules:
        if not rule.active:
            continue
        if rule.field_id is not None and rule.field_id != field_id:
            continue
        if rule.kind is not None and rule.kind != kind:
            continue
        node, depth = _match_area(rule, area_chain, depth_of, catch_all_depth)
        if depth is None:
            continue
        agency_id = rule.agency_id
        if agency_id is None:
            agency_id = area_agencies.get(node.id) if node else None
            if agency_id is None:
                continue
        if agency_id in excluded:
            continue
        key = (depth, rule.field_id is None, rule.kind is None, rule.id)
        candidates.append((key, rule, agency_id, node))
    if not candidates:
        why = "không có quy tắc phù hợp"
        if excluded:
            why += " (trừ cơ quan đã trả lại phiếu)"
        return RoutingDecision(None, None, f"Chuyển tổng đài phân loại: {why}.")
    _, rule, agency_id, node = min(candidates, key=lambda c: c[0])
    return RoutingDecision(agency_id, rule.id, _explain(rule, node, field_name))


def _match_area(rule: Rule, chain: Sequence[AreaNode], depth_of: Mapping[int, int],
                catch_all_depth: int) -> tuple[AreaNode | None, int | None]:
    if rule.area_id is not None:
        depth = depth_of.get(rule.area_id)
        return (chain[depth], depth) if depth is not None else (None, None)
    if rule.area_level is not None:
        for depth, node in enumerate(chain):
            if node.level == rule.area_level:
                return node, depth
        return None, None
    return None, catch_all_depth


def _explain(rule: Rule, node: AreaNode | None, field_name: str | None) -> str:
    parts = [f"Quy tắc #{rule.id}"]
    if rule.field_id is not None:
        parts.append(f"lĩnh vực «{field_name}»" if field_name else "theo lĩnh vực")
    else:
        parts.append("mọi lĩnh vực")
    if rule.area_id is not None and node:
        parts.append(f"địa bàn «{node.name}»")
    elif rule.area_level is not None and node:
        parts.append(f"cấp {rule.area_level}: «{node.name}»")
    else:
        parts.append("toàn tỉnh (quy tắc chung)")
    if rule.kind:
        parts.append(f"loại {rule.kind}")
    return ", ".join(parts) + "."
