"""A reorganisation as an operation: dry run, open tickets moved, settled ones keep their unit,
rules rewritten or flagged, audited, all or nothing; unknown codes listed."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from hotline.domain.errors import ValidationError
from hotline.domain.messages import ContactHandle, IncomingMessage
from hotline.extensions import db
from hotline.models import Agency, Area, AuditLog, Field, RoutingRule, Ticket, TicketEvent
from hotline.services import intake, reorganise
from hotline.services.admin import areas as area_admin
from hotline.services.admin.audit import Actor

ACTOR = Actor(user=None, label="test")
# A live pre-2025 tree with the official codes, as a province ran it before the reform.
OLD_TREE = ("code,name,level,parent_code\n"
            "70,Tỉnh Bình Phước,province,\n"
            "697,Thị xã Chơn Thành,district,70\n"
            "25432,Phường Hưng Long,commune,697\n"
            "25433,Phường Thành Tâm,commune,697\n"
            "25441,Phường Minh Hưng,commune,697\n")


@pytest.fixture
def old_tree(app):
    area_admin.import_csv(ACTOR, OLD_TREE.encode())
    areas = {a.code: a for a in db.session.scalars(select(Area))}
    field = Field(code="MT", name="Môi trường", active=True)
    agency = Agency(code="UBND-697", name="UBND thị xã Chơn Thành", level="district",
                    area_id=areas["697"].id, governs_area=True, active=True)
    db.session.add_all([field, agency])
    db.session.flush()
    db.session.add_all([
        RoutingRule(field_id=field.id, agency_id=agency.id, area_id=areas["25432"].id,
                    note="Hưng Long", active=True),
        RoutingRule(field_id=field.id, agency_id=agency.id, area_id=areas["25433"].id,
                    note="Thành Tâm", active=True)])
    db.session.commit()
    tickets = {}
    for n, code in enumerate(("25432", "25433", "25441")):
        result = intake.receive(IncomingMessage(
            channel="phone", external_id=f"r{n}", force_new=True,
            received_at=datetime(2025, 5, 5, 2, tzinfo=UTC), text="Rác thải ùn ứ.",
            field_code="MT", area_code=code, contact=ContactHandle(phone=f"091234567{n}")))
        tickets[code] = db.session.get(Ticket, result.ticket_id)
    tickets["25433"].status = "closed"
    db.session.commit()
    return areas, tickets


def _snapshot():
    return (sorted((a.code, a.valid_to, a.successor_id) for a in db.session.scalars(select(Area))),
            sorted((t.id, t.area_id, t.current_area_id) for t in db.session.scalars(select(Ticket))),
            sorted((r.id, r.area_id, r.active) for r in db.session.scalars(select(RoutingRule))),
            db.session.scalar(select(func.count()).select_from(TicketEvent)))


def test_official_reform_dry_run_then_apply(old_tree):
    areas, tickets = old_tree
    before = _snapshot()
    plan = reorganise.migrate_to_2025(ACTOR, "Đồng Nai", dry_run=True)
    db.session.commit()
    assert _snapshot() == before  # a dry run writes nothing
    # Phường Minh Hưng goes on under its code and name: only Hưng Long's open ticket moves.
    assert (plan.open_tickets, plan.settled_tickets) == (1, 1)
    assert (plan.rules_rewritten, plan.rules_flagged) == (1, 1)
    assert plan.agencies_on_old_units == ["UBND-697"]
    assert "1 phiếu đang xử lý" in plan.describe()

    done = reorganise.migrate_to_2025(ACTOR, "Đồng Nai", dry_run=False)
    db.session.commit()
    assert (done.open_tickets, done.settled_tickets) == (1, 1)
    minh_hung = areas["25441"]
    assert minh_hung.code == "25441" and minh_hung.valid_to is None
    assert minh_hung.parent.code == "75" and tickets["25441"].area_id == minh_hung.id
    hung_long = areas["25432"]
    assert hung_long.code == "old.25432" and hung_long.valid_to == date(2025, 7, 1)
    chon_thanh = db.session.scalar(select(Area).where(Area.code == "25432"))
    assert chon_thanh.name == "Phường Chơn Thành" and chon_thanh.valid_to is None
    assert hung_long.successor_id == chon_thanh.id and not hung_long.active

    moved = tickets["25432"]
    assert moved.area_id == chon_thanh.id and moved.current_area_id is None
    event = db.session.scalar(select(TicketEvent).where(TicketEvent.ticket_id == moved.id,
                                                        TicketEvent.type == "area_moved"))
    assert "Phường Hưng Long → Phường Chơn Thành" in event.note
    settled = tickets["25433"]
    assert settled.area_id == areas["25433"].id and settled.current_area_id == chon_thanh.id
    assert db.session.scalar(select(func.count()).select_from(TicketEvent).where(
        TicketEvent.ticket_id == settled.id, TicketEvent.type == "area_moved")) == 0

    rules = {r.note.split("] ")[-1]: r for r in db.session.scalars(select(RoutingRule))}
    assert rules["Hưng Long"].area_id == chon_thanh.id and rules["Hưng Long"].active
    assert not rules["Thành Tâm"].active and rules["Thành Tâm"].note.startswith("[Cần xem lại")
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "reorganise", AuditLog.entity == "area")) == 1

    with pytest.raises(ValidationError) as again:
        reorganise.migrate_to_2025(ACTOR, "Đồng Nai", dry_run=False)
    assert again.value.code == "nothing_to_do"


def test_csv_lists_unknown_codes_and_writes_nothing(old_tree):
    before = _snapshot()
    data = (b"old_code,new_code\n25432,25441\n99999,25441\n25433,12345\n25432,25441\n")
    with pytest.raises(ValidationError) as err:
        reorganise.plan_csv(data, effective=date(2026, 1, 1))
    message = err.value.message
    assert "dòng 3" in message and "99999" in message
    assert "dòng 4" in message and "12345" in message
    assert "dòng 5" in message
    db.session.rollback()
    assert _snapshot() == before


def test_csv_merge_applied(old_tree, runner, tmp_path):
    areas, tickets = old_tree
    path = tmp_path / "merge.csv"
    path.write_text("ma_cu,ma_moi\n25432,25441\n")
    dry = runner.invoke(args=["areas", "reorganise", "--csv", str(path)])
    assert dry.exit_code == 0, dry.output
    assert "Dry run" in dry.output and "1 phiếu đang xử lý" in dry.output
    assert db.session.get(Ticket, tickets["25432"].id).area_id == areas["25432"].id
    done = runner.invoke(args=["areas", "reorganise", "--csv", str(path), "--effective",
                               "2026-01-01", "--apply"])
    assert done.exit_code == 0, done.output
    db.session.expire_all()
    assert db.session.get(Ticket, tickets["25432"].id).area_id == areas["25441"].id
    assert db.session.get(Area, areas["25432"].id).valid_to == date(2026, 1, 1)


def test_reports_group_by_todays_tree_or_the_tree_at_the_time(old_tree):
    from hotline.services.reports import overdue
    from hotline.services.reports import tickets as report_tickets
    from hotline.services.reports.scope import Scope
    areas, tickets = old_tree
    reorganise.migrate_to_2025(ACTOR, "Đồng Nai", dry_run=False)
    db.session.commit()
    chon_thanh = db.session.scalar(select(Area).where(Area.code == "25432"))
    keys = {g.key for g in overdue.groupings()}
    assert {"area:commune", "area_now:commune"} <= keys and "area_now:district" not in keys

    def codes(group, key):
        flt = report_tickets.parse_filter({"group": group, "key": str(key)})
        page = report_tickets.ticket_page(Scope(agency_id=None, is_manager=True), flt)
        return {row.code for row in page.rows}

    settled, moved = tickets["25433"].code, tickets["25432"].code
    # Today's tree: the settled Thành Tâm ticket counts under Phường Chơn Thành with the moved one.
    assert codes("area_now:commune", chon_thanh.id) == {settled, moved}
    # The tree at the time: it stays under the former Phường Thành Tâm.
    assert codes("area:commune", areas["25433"].id) == {settled}
    assert codes("area:commune", chon_thanh.id) == {moved}


def test_a_failure_midway_writes_nothing(old_tree):
    areas, _tickets = old_tree
    before = _snapshot()
    # The first unit moves (its open ticket, its rule), then the second's target is missing.
    plan = reorganise.Plan(moves={areas["25432"].id: areas["25441"].id,
                                  areas["25433"].id: 10**9},
                           effective=date(2026, 1, 1), source="test")
    with pytest.raises((KeyError, IntegrityError)):  # the database refuses the dangling unit
        reorganise.apply(ACTOR, plan)
    db.session.commit()
    db.session.expire_all()
    assert _snapshot() == before
    assert db.session.scalar(select(func.count()).select_from(AuditLog).where(
        AuditLog.action == "reorganise")) == 0
