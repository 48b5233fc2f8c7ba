"""Overdue and due-soon reports: what is late (or about to be), grouped by agency, by
agency level or by a level of the area tree, with the working time involved.

A ticket is overdue when its clock runs and ``due_at`` has passed — decided
from ``due_at`` and ``now``, not only from ``sla_state``, so a minute's lag of the
SLA scan hides nothing — or when it was paused (waiting for the citizen) after
its due time; its overdue time then stays frozen at the pause. Due soon: the
clock runs, the due-soon instant has passed and the due time has not.

Working hours overdue (or left) are measured per row in SQL from the day table
(``workdays``), exactly as the working calendar counts them, and summed per
group in the same query; only the overdue rows are read, through the partial
SLA indexes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import and_, case, func, literal, or_, select
from sqlalchemy.sql.elements import ColumnElement

from hotline.domain.errors import ValidationError
from hotline.extensions import db
from hotline.models import Agency, Area, Ticket, utcnow
from hotline.services.reports.scope import Scope
from hotline.services.reports.sqlx import const, in_consts
from hotline.services.reports.workdays import WorkClock, work_clock

RUNNING = ("on_track", "due_soon", "overdue")
KINDS = {"overdue": "Quá hạn", "due_soon": "Sắp đến hạn"}
NO_AGENCY_LABEL = "Chưa chuyển đơn vị (tổng đài đang phân loại)"
NO_AREA_LABEL = "Chưa xác định địa bàn"
AGENCY_LEVEL_LABELS = {"province": "Cấp tỉnh", "district": "Cấp huyện", "commune": "Cấp xã",
                       "other": "Đơn vị khác"}
AREA_LEVEL_LABELS = {"province": "tỉnh", "district": "huyện", "commune": "xã"}


def check_kind(kind: str) -> str:
    if kind not in KINDS:
        raise ValidationError(f"Loại báo cáo không hợp lệ: «{str(kind)[:20]}».",
                              code="invalid_report")
    return kind


def condition(kind: str, now: datetime) -> ColumnElement:
    """Which tickets are ``overdue`` / ``due_soon`` at ``now`` (shaped for the partial indexes)."""
    t = Ticket.__table__.c
    if check_kind(kind) == "overdue":
        return or_(and_(in_consts(t.sla_state, RUNNING), t.due_at <= now),
                   and_(t.sla_state == const("paused"), t.due_at <= t.sla_paused_at))
    return or_(and_(t.sla_state == const("due_soon"), t.due_at > now),
               and_(t.sla_state == const("on_track"), t.due_soon_at <= now, t.due_at > now))


def hours_expr(kind: str, clock: WorkClock, now: datetime, from_):
    """(from_, working hours overdue — or left before due — of each row)."""
    t = Ticket.__table__.c
    from_, w_due = clock.join(from_, t.due_at, "due")
    w_now = literal(clock.at(now))
    if kind == "due_soon":
        return from_, (w_due - w_now) / 3600.0
    from_, w_paused = clock.join(from_, t.sla_paused_at, "paused")
    upto = case((t.sla_state == "paused", w_paused), else_=w_now)
    return from_, (upto - w_due) / 3600.0


# --- grouping ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Grouping:
    """How rows are grouped: ``agency``, ``agency_level`` or ``area:<level>``."""

    key: str
    label: str


def groupings() -> list[Grouping]:
    """By agency, by agency level, and by each level of this province's area tree
    (root first; the tree may have any depth)."""
    out = [Grouping("agency", "Theo đơn vị"), Grouping("agency_level", "Theo cấp đơn vị")]
    depth = func.length(Area.path) - func.length(func.replace(Area.path, "/", ""))
    rows = db.session.execute(
        select(Area.level, func.min(depth), func.count(Area.valid_to), func.count())
        .group_by(Area.level).order_by(func.min(depth))).all()
    reorganised = any(former for _l, _d, former, _n in rows)
    for level, _depth, former, total in rows:
        label = f"Theo địa bàn cấp {AREA_LEVEL_LABELS.get(level, level)}"
        if not reorganised:
            out.append(Grouping(f"area:{level}", label))
            continue
        # After a reorganisation: the unit a ticket was handled under, or today's tree (the
        # former units' tickets counted under the ward that took them over).
        out.append(Grouping(f"area:{level}", label + " (tại thời điểm tiếp nhận)"))
        if total > former:
            out.append(Grouping(f"{NOW_PREFIX}{level}", label + " (theo địa giới hiện hành)"))
    return out


NOW_PREFIX = "area_now:"


def check_group(group: str) -> str:
    if group in ("agency", "agency_level") or (group.startswith("area:") and len(group) > 5) \
            or (group.startswith(NOW_PREFIX) and len(group) > len(NOW_PREFIX)):
        return group
    raise ValidationError(f"Cách nhóm không hợp lệ: «{group[:30]}».", code="invalid_group")


def group_column(group: str, from_):
    """(from_, the group key column) for one grouping."""
    t = Ticket.__table__.c
    if check_group(group) == "agency":
        return from_, t.agency_id
    if group == "agency_level":
        a = Agency.__table__.alias("grp_agency")
        return from_.outerjoin(a, a.c.id == t.agency_id), a.c.level
    level = group.split(":", 1)[1]
    area_id = (func.coalesce(t.current_area_id, t.area_id) if group.startswith(NOW_PREFIX)
               else t.area_id)
    a, anc = Area.__table__.alias("a"), Area.__table__.alias("anc")
    # area id → its ancestor-or-self at that level: a few thousand rows, hash-joined.
    mapping = (select(a.c.id.label("area_id"), anc.c.id.label("ancestor_id"))
               .select_from(a.join(anc, a.c.path.like(anc.c.path + "%")))
               .where(anc.c.level == level).subquery("area_anc"))
    return from_.outerjoin(mapping, mapping.c.area_id == area_id), mapping.c.ancestor_id


def parse_group_key(group: str, raw: str | None):
    """A group key from a URL: ``none`` → None; ids for agency/area groupings."""
    if raw is None or raw == "none":
        return None
    if check_group(group) == "agency_level":
        return raw[:32]
    try:
        return int(raw)
    except ValueError as exc:
        raise ValidationError(f"Mã nhóm không hợp lệ: «{raw[:20]}».", code="invalid_group") from exc


def group_labels(group: str, keys) -> dict:
    """Readable names of the group keys (one small query)."""
    keys = [k for k in keys if k is not None]
    if group == "agency":
        names = dict(db.session.execute(
            select(Agency.id, Agency.name).where(Agency.id.in_(keys))).all())
        names[None] = NO_AGENCY_LABEL
        return names
    if group == "agency_level":
        names = {k: AGENCY_LEVEL_LABELS.get(k, k) for k in keys}
        names[None] = NO_AGENCY_LABEL
        return names
    names = dict(db.session.execute(
        select(Area.id, Area.name).where(Area.id.in_(keys))).all())
    names[None] = NO_AREA_LABEL
    return names


def scope_condition(scope: Scope) -> ColumnElement:
    return Ticket.agency_id == scope.agency_id if scope.agency_id is not None else literal(True)


# --- the report ----------------------------------------------------------------------------


@dataclass
class GroupRow:
    key: object
    label: str
    count: int
    first_due: datetime | None      # oldest due time (overdue) / nearest (due soon)
    first_code: str | None          # the ticket with that due time
    max_hours: float | None         # most working hours overdue / left
    min_hours: float | None
    total_hours: float | None

    @property
    def url_key(self) -> str:
        return "none" if self.key is None else str(self.key)


@dataclass
class SlaReport:
    kind: str
    group: str
    now: datetime
    rows: list[GroupRow] = field(default_factory=list)

    @property
    def total(self) -> GroupRow:
        rows = self.rows
        firsts = [r for r in rows if r.first_due is not None]
        first = min(firsts, key=lambda r: r.first_due) if firsts else None

        def agg(fn, attr):
            values = [getattr(r, attr) for r in rows if getattr(r, attr) is not None]
            return fn(values) if values else None
        return GroupRow(None, "Tổng cộng", sum(r.count for r in rows),
                        first.first_due if first else None, first.first_code if first else None,
                        agg(max, "max_hours"), agg(min, "min_hours"), agg(sum, "total_hours"))


def sla_report(scope: Scope, kind: str = "overdue", group: str = "agency",
               now: datetime | None = None, clock: WorkClock | None = None) -> SlaReport:
    """Open tickets overdue (or due soon) at ``now``, one row per group, biggest first.

    Working hours are summed without a per-ticket lookup: ``Σ (W(now) − W(due))`` is
    ``n·W(now) − Σ W(due)``, and ``Σ W(due)`` is grouped by (group, local due day) first —
    the shift part per row is plain arithmetic — then joined with the day table once per
    (group, day). W is monotonic, so the longest overdue is ``W(now) − W(oldest due)``.
    Tickets paused after their due time (few) are measured row by row up to the pause.
    """
    now = now or utcnow()
    check_kind(kind)
    clock = clock or work_clock()
    t = Ticket.__table__
    w_now = clock.at(now)
    sign = 1.0 if kind == "overdue" else -1.0  # hours overdue = W(now) − W(due); left = −that
    groups: dict = {}

    # Running clocks, aggregated by (group, due day).
    from_, g = group_column(group, t)
    day = clock.d.local_day(t.c.due_at)
    running = and_(in_consts(t.c.sla_state, RUNNING), t.c.due_at <= now) if kind == "overdue" \
        else condition("due_soon", now)
    per_day = (select(g.label("g"), day.label("day"), func.count().label("n"),
                      func.sum(clock.within_day(t.c.due_at)).label("within"),
                      func.min(t.c.due_at).label("first"), func.max(t.c.due_at).label("last"))
               .select_from(from_).where(running, scope_condition(scope))
               .group_by(g, day).subquery("per_day"))
    joined, w_sum = clock.sum_by_day(per_day)
    c = per_day.c
    for key, n, wsum, first, last in db.session.execute(
            select(c.g, func.sum(c.n), func.sum(w_sum), func.min(c.first), func.max(c.last))
            .select_from(joined).group_by(c.g)):
        total = sign * (int(n) * w_now - float(wsum)) / 3600.0 if wsum is not None else None
        a, b = (sign * (w_now - clock.at(x)) / 3600.0 for x in (first, last))
        groups[key] = [int(n), first, max(a, b), min(a, b), total]

    if kind == "overdue":  # paused after the due time: frozen at the pause, row by row
        from_, g = group_column(group, t)
        from_, w_due = clock.join(from_, t.c.due_at, "due")
        from_, w_paused = clock.join(from_, t.c.sla_paused_at, "paused")
        h = (w_paused - w_due) / 3600.0
        for key, n, first, hmax, hmin, hsum in db.session.execute(
                select(g, func.count(), func.min(t.c.due_at), func.max(h), func.min(h),
                       func.sum(h)).select_from(from_)
                .where(t.c.sla_state == const("paused"), t.c.due_at <= t.c.sla_paused_at,
                       scope_condition(scope)).group_by(g)):
            row = groups.setdefault(key, [0, first, None, None, 0.0])
            row[0] += n
            row[1] = min(row[1], first)
            row[2] = _max(row[2], hmax)
            row[3] = _min(row[3], hmin)
            row[4] = (row[4] or 0.0) + float(hsum or 0.0)

    codes = _first_codes(group, kind, now, scope, {k: v[1] for k, v in groups.items()})
    labels = group_labels(group, list(groups))
    report = SlaReport(kind, group, now)
    for key, (n, first, hmax, hmin, total) in sorted(groups.items(),
                                                     key=lambda kv: (-kv[1][0], str(kv[0]))):
        report.rows.append(GroupRow(key, labels.get(key, str(key)), n, first, codes.get(key),
                                    _f(hmax), _f(hmin), _f(total)))
    return report


def _first_codes(group: str, kind: str, now: datetime, scope: Scope, firsts: dict) -> dict:
    """The code of each group's ticket with the earliest due time, in one query: an index
    probe per distinct due instant, not a scan of the group."""
    if not firsts:
        return {}
    t = Ticket.__table__
    from_, g = group_column(group, t)
    out: dict = {}
    for key, code, due in db.session.execute(
            select(g, t.c.code, t.c.due_at).select_from(from_)
            .where(condition(kind, now), scope_condition(scope),
                   t.c.due_at.in_(set(firsts.values())))
            .order_by(t.c.due_at, t.c.id)):
        if key in firsts and key not in out and due == firsts[key]:
            out[key] = code
    return out


def _max(a, b):
    return b if a is None else a if b is None else max(a, b)


def _min(a, b):
    return b if a is None else a if b is None else min(a, b)


def count_by_agency(scope: Scope, kind: str = "overdue", now: datetime | None = None) -> dict:
    """``agency_id → count`` of overdue (due-soon) tickets now; None = not yet forwarded."""
    now = now or utcnow()
    t = Ticket.__table__.c
    return dict(db.session.execute(
        select(t.agency_id, func.count()).where(condition(kind, now), scope_condition(scope))
        .group_by(t.agency_id)).all())


def _f(value) -> float | None:
    return None if value is None else round(float(value), 2)
