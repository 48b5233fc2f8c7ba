"""Report aggregates against hand-computed figures on a small fixed dataset (both backends).

The dataset and the working-hour arithmetic behind every expected number are in
``tests/services/reports_data.py``.
"""
from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select

from hotline.domain.errors import PermissionDenied, ValidationError
from hotline.extensions import db
from hotline.models import ReportTarget, TicketDailyStats
from hotline.services.reports import (
    SYSTEM,
    Scope,
    daily,
    dashboard,
    indicators,
    overdue,
    ranking,
    scope_for,
    tickets,
)
from hotline.services.reports.periods import Period, parse_month, parse_period, period_containing
from hotline.services.reports.workdays import work_clock
from tests.services.reports_data import NOW, at, build

NOVEMBER = Period("month", date(2026, 11, 1), date(2026, 11, 30))


@pytest.fixture
def data(org, make_user):
    operator = make_user("operator", username="dtv1")
    return build(org, operator)


def by_key(report):
    return {row.key: row for row in report.rows}


# --- working time in SQL --------------------------------------------------------------------


def test_sql_working_time_matches_the_calendar(data):
    clock = work_clock()
    cal = clock.calendar
    for a, b in [(at(11, 2, 8), at(11, 5, 8)), (at(11, 23, 8), at(12, 3, 10)),
                 (at(11, 21, 9), at(11, 25, 12, 15)), (at(11, 19, 14), at(11, 19, 12))]:
        from sqlalchemy import literal
        from_, w = clock.join(select(literal(1)).subquery(), literal(a), "a")
        # W(b) - W(a) in Python and in SQL agree with the calendar to the second.
        expected = cal.working_time_between(a, b).total_seconds()
        assert clock.at(b) - clock.at(a) == pytest.approx(expected, abs=1)
        sql_a = db.session.execute(select(w).select_from(from_)).scalar()
        assert float(sql_a) == pytest.approx(clock.at(a), abs=1)


# --- overdue and due soon ------------------------------------------------------------------


def test_overdue_by_agency(data):
    org = data.org
    report = overdue.sla_report(SYSTEM, "overdue", "agency", now=NOW)
    rows = by_key(report)
    a, b = org.agencies["UBND-689"].id, org.agencies["SO-GTVT"].id
    assert set(rows) == {a, b, None}
    # A: T6 (42 h, running), T7 (4.5 h: still marked due_soon), T8 (9 h, frozen at pause).
    assert rows[a].count == 3
    assert rows[a].total_hours == pytest.approx(55.5)
    assert rows[a].max_hours == pytest.approx(42)
    assert rows[a].first_code == "PA-26-T8" and rows[a].first_due == at(11, 9, 8)
    assert (rows[b].count, rows[b].total_hours, rows[b].first_code) == (1, pytest.approx(128),
                                                                         "PA-26-T13")
    assert (rows[None].count, rows[None].total_hours) == (1, pytest.approx(58))
    assert rows[None].label.startswith("Chưa chuyển đơn vị")
    assert report.total.count == 5 and report.total.total_hours == pytest.approx(241.5)
    # Biggest group first.
    assert report.rows[0].key == a


def test_overdue_by_agency_level_and_by_area_level(data):
    org = data.org
    levels = by_key(overdue.sla_report(SYSTEM, "overdue", "agency_level", now=NOW))
    assert {k: r.count for k, r in levels.items()} == {"district": 3, "province": 1, None: 1}
    assert levels["district"].label == "Cấp huyện"
    districts = by_key(overdue.sla_report(SYSTEM, "overdue", "area:district", now=NOW))
    assert {k: r.count for k, r in districts.items()} == {
        org.areas["689"].id: 3, org.areas["691"].id: 1, None: 1}
    assert districts[org.areas["689"].id].total_hours == pytest.approx(55.5)
    assert districts[org.areas["689"].id].label == "Thành phố Đồng Xoài"
    communes = by_key(overdue.sla_report(SYSTEM, "overdue", "area:commune", now=NOW))
    assert {k: r.count for k, r in communes.items()} == {
        org.areas["25432"].id: 1, org.areas["25435"].id: 2, org.areas["25600"].id: 1, None: 1}
    keys = [g.key for g in overdue.groupings()]
    assert keys == ["agency", "agency_level", "area:province", "area:district", "area:commune"]


def test_due_soon(data):
    org = data.org
    rows = by_key(overdue.sla_report(SYSTEM, "due_soon", "agency", now=NOW))
    a, b = org.agencies["UBND-689"].id, org.agencies["SO-GTVT"].id
    assert set(rows) == {a, b}
    assert (rows[a].count, rows[a].first_code, rows[a].min_hours) == (1, "PA-26-T10",
                                                                      pytest.approx(6))
    assert (rows[b].count, rows[b].first_code, rows[b].min_hours) == (1, "PA-26-T21",
                                                                      pytest.approx(11.5))


def test_agency_lead_sees_only_own_unit(data, make_user):
    lead = make_user("agency_lead", username="lead-b", agency=data.org.agencies["SO-GTVT"])
    scope = scope_for(lead)
    report = overdue.sla_report(scope, "overdue", "agency", now=NOW)
    assert [(r.key, r.count) for r in report.rows] == [(data.org.agencies["SO-GTVT"].id, 1)]
    page = tickets.ticket_page(scope, tickets.TicketFilter(sla="overdue"), now=NOW)
    assert [r.code for r in page.rows] == ["PA-26-T13"]
    # Asking for another agency's tickets gives nothing, not them.
    other = tickets.TicketFilter(agency_id=data.org.agencies["UBND-689"].id)
    assert tickets.ticket_page(scope, other, now=NOW).rows == []
    result = ranking.unit_ranking(scope, NOVEMBER, now=NOW)
    assert [r.agency_id for r in result.rows] == [data.org.agencies["SO-GTVT"].id]


def test_roles_without_reports_are_refused(data, make_user):
    for role, agency in (("handler", data.org.agencies["SO-GTVT"]), ("operator", None),
                         ("admin", None)):
        with pytest.raises(PermissionDenied):
            scope_for(make_user(role, username=f"u-{role}", agency=agency))


# --- drill-down --------------------------------------------------------------------------


def test_drill_down_is_keyset_paginated_oldest_first(data):
    flt = tickets.TicketFilter(sla="overdue")
    seen, cursor = [], None
    while True:
        page = tickets.ticket_page(SYSTEM, flt, cursor, limit=2, now=NOW)
        seen.extend((r.code, r.hours) for r in page.rows)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert [c for c, _ in seen] == ["PA-26-T8", "PA-26-T13", "PA-26-T20", "PA-26-T6", "PA-26-T7"]
    assert dict(seen)["PA-26-T13"] == pytest.approx(128)
    assert dict(seen)["PA-26-T8"] == pytest.approx(9)


def test_drill_down_of_a_report_row_matches_its_count(data):
    org = data.org
    for group in ("agency", "agency_level", "area:district", "area:commune"):
        for row in overdue.sla_report(SYSTEM, "overdue", group, now=NOW).rows:
            flt = tickets.parse_filter({"sla": "overdue", "group": group, "key": row.url_key})
            page = tickets.ticket_page(SYSTEM, flt, limit=100, now=NOW)
            assert len(page.rows) == row.count, (group, row.key)
            assert sum(r.hours for r in page.rows) == pytest.approx(row.total_hours)
    # The area filter takes the whole subtree.
    flt = tickets.TicketFilter(area_id=org.areas["689"].id, received_from=date(2026, 11, 1),
                               received_to=date(2026, 11, 30))
    codes = {r.code for r in tickets.ticket_page(SYSTEM, flt, limit=100, now=NOW).rows}
    assert codes == {f"PA-26-T{i}" for i in (1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 14, 19)}


def test_bad_filters_are_clear_errors(data):
    for args, words in [({"sla": "late"}, "Loại báo cáo"), ({"group": "x"}, "Cách nhóm"),
                        ({"group": "agency", "key": "abc"}, "Mã nhóm"),
                        ({"agency_id": "1; drop"}, "Đơn vị"), ({"from": "31/02/2026"}, "không hợp lệ"),
                        ({"from": "2026-11-30", "to": "2026-11-01"}, "trước")]:
        with pytest.raises(ValidationError) as err:
            tickets.parse_filter(args)
        assert words in err.value.message
    with pytest.raises(ValidationError):
        tickets.ticket_page(SYSTEM, tickets.TicketFilter(), cursor="!!garbage")


# --- ranking -------------------------------------------------------------------------------


def test_unit_ranking_figures(data):
    org = data.org
    result = ranking.unit_ranking(SYSTEM, NOVEMBER, now=NOW)
    rows = {r.agency_id: r for r in result.rows}
    a = rows[org.agencies["UBND-689"].id]
    assert {k: a.value(k) for k in ("received", "resolved", "resolved_on_time", "overdue_now",
                                    "reopened", "returned")} == {
        "received": 10, "resolved": 5, "resolved_on_time": 3, "overdue_now": 3, "reopened": 1,
        "returned": 0}
    assert a.value("on_time_rate") == pytest.approx(60)
    assert a.value("median_hours") == pytest.approx(48)
    assert a.value("p90_hours") == pytest.approx(61.1)
    assert a.value("satisfaction") == pytest.approx(4)
    b = rows[org.agencies["SO-GTVT"].id]
    assert (b.value("received"), b.value("resolved"), b.value("on_time_rate")) == (4, 2, 100)
    assert b.value("median_hours") == pytest.approx(29)
    assert b.value("p90_hours") == pytest.approx(31.4)
    assert b.value("satisfaction") == pytest.approx(3.5)
    c = rows[org.agencies["UBND-25432"].id]
    assert (c.value("received"), c.value("returned"), c.value("on_time_rate")) == (0, 1, None)
    total = result.total
    assert (total.value("received"), total.value("resolved"), total.value("overdue_now")) == (
        18, 9, 5)
    assert total.value("on_time_rate") == pytest.approx(700 / 9)
    # All nine resolved in November: 5 and 10 minutes (direct answers), 24, 26, 32, 40, 48,
    # 50, 68.5 h: median the 5th, p90 at position 7.2 between 50 and 68.5.
    assert total.value("median_hours") == pytest.approx(32)
    assert total.value("p90_hours") == pytest.approx(53.7)
    assert total.cells["median_hours"].previous == pytest.approx(40)  # October: 32 and 48


def test_ranking_against_previous_period_and_targets(data, make_user):
    org = data.org
    manager = make_user("manager", username="ld")
    indicators.set_target(manager, "on_time_rate", "55")
    indicators.set_target(manager, "on_time_rate", "90,5", agency_id=org.agencies["SO-GTVT"].id)
    indicators.set_target(manager, "median_hours", "40")
    db.session.commit()
    result = ranking.unit_ranking(SYSTEM, NOVEMBER, now=NOW)
    assert result.previous == Period("month", date(2026, 10, 1), date(2026, 10, 31))
    a = {r.agency_id: r for r in result.rows}[org.agencies["UBND-689"].id]
    # October for A: 2 received, 2 resolved, 1 on time (50 %), 32 h and 48 h, rating 4.
    cell = a.cells["on_time_rate"]
    assert (cell.previous, cell.trend, cell.good) == (pytest.approx(50), "up", True)
    assert (cell.target, cell.met) == (55, True)
    assert a.cells["median_hours"].previous == pytest.approx(40)
    assert (a.cells["median_hours"].trend, a.cells["median_hours"].good) == ("up", False)
    assert a.cells["median_hours"].met is False  # 48 h > 40 h target
    assert a.cells["satisfaction"].trend == "same"
    assert a.cells["overdue_now"].previous is None  # a snapshot: nothing to compare
    b = {r.agency_id: r for r in result.rows}[org.agencies["SO-GTVT"].id]
    assert (b.cells["on_time_rate"].target, b.cells["on_time_rate"].met) == (90.5, True)
    assert (b.cells["median_hours"].target, b.cells["median_hours"].met) == (40, True)


def test_ranking_sorts_with_empty_values_last(data):
    result = ranking.unit_ranking(SYSTEM, NOVEMBER, sort="on_time_rate", descending=True, now=NOW)
    names = [r.name for r in result.rows]
    assert names[:2] == ["Sở Giao thông vận tải", "UBND Thành phố Đồng Xoài"]
    assert [r.rank for r in result.rows] == list(range(1, len(names) + 1))
    ascending = ranking.unit_ranking(SYSTEM, NOVEMBER, sort="on_time_rate", descending=False,
                                     now=NOW)
    assert [r.name for r in ascending.rows][:2] == ["UBND Thành phố Đồng Xoài",
                                                   "Sở Giao thông vận tải"]
    with pytest.raises(ValidationError):
        ranking.unit_ranking(SYSTEM, NOVEMBER, sort="drop table")


def test_targets_are_validated_and_managers_only(data, make_user):
    manager = make_user("manager", username="ld")
    lead = make_user("agency_lead", username="lead", agency=data.org.agencies["SO-GTVT"])
    for raw in ("abc", "101", "-1"):
        with pytest.raises(ValidationError):
            indicators.set_target(manager, "on_time_rate", raw)
    with pytest.raises(ValidationError):
        indicators.set_target(manager, "received", "10")  # a volume has no target
    with pytest.raises(PermissionDenied):
        indicators.set_target(lead, "on_time_rate", "80")
    assert db.session.scalar(select(func.count()).select_from(ReportTarget)) == 0
    indicators.set_target(manager, "satisfaction", "4")
    indicators.set_target(manager, "satisfaction", "4.5")  # the same row, updated
    assert indicators.all_targets() == {("satisfaction", None): 4.5}
    indicators.set_target(manager, "satisfaction", "")  # removed
    assert indicators.all_targets() == {}


# --- dashboard and the daily aggregate -----------------------------------------------------


def test_dashboard_figures(data):
    board = dashboard.dashboard(SYSTEM, NOVEMBER, now=NOW)
    kpis = {c.key: c for c in board.kpis}
    assert kpis["received"].value == 18
    assert kpis["resolved"].value == 9
    assert kpis["direct_rate"].value == pytest.approx(100 * 2 / 16)
    assert kpis["overdue_now"].value == 5
    assert board.due_soon_now == 2
    assert {b.key: b.value for b in board.by_channel} == {
        "phone": 13, "web": 1, "zalo": 2, "facebook": 1, "email": 1}
    fields = {b.label: b.value for b in board.by_field}
    assert fields["Chiếu sáng đô thị"] == 10 and fields["Giao thông"] == 3
    assert fields["Thủ tục hành chính"] == 2 and fields["Chưa phân loại lĩnh vực"] == 2
    spots = {b.label: (b.value, b.extra) for b in board.hot_spots}
    assert spots["Phường Tân Bình"] == (9, "Thành phố Đồng Xoài")
    assert spots["Phường Tân Phú"] == (2, "Thành phố Đồng Xoài")
    assert spots["Xã Phú Riềng"] == (3, "Huyện Phú Riềng")
    assert board.series_unit == "day" and len(board.series) == 30
    series = {day: (r, s) for day, r, s in board.series}
    assert series[date(2026, 11, 2)] == (3, 0)        # T1, T8, T12
    assert series[date(2026, 11, 5)] == (1, 1)        # T18 received; T1 resolved
    ops = {o["name"]: o for o in board.operators}
    assert ops["Test operator"]["direct"] == 2 and ops["Test operator"]["forwarded"] == 1


def test_daily_table_gives_the_same_figures_as_live(data):
    live_board = dashboard.dashboard(SYSTEM, NOVEMBER, now=NOW)
    live_rank = ranking.unit_ranking(SYSTEM, NOVEMBER, now=NOW)
    result = daily.refresh(days=None, today=date(2026, 12, 3))
    db.session.commit()
    assert result.day_from == date(2026, 10, 5) and result.day_to == date(2026, 12, 2)
    stored = db.session.scalar(select(func.sum(TicketDailyStats.received)))
    assert stored == 21  # 2 in October, 18 in November, 1 on 2/12; not the merged duplicate
    last = daily.latest_refresh()
    assert (last.covered_from, last.covered_to) == (date(2026, 10, 5), date(2026, 12, 2))
    board = dashboard.dashboard(SYSTEM, NOVEMBER, now=NOW)
    rank = ranking.unit_ranking(SYSTEM, NOVEMBER, now=NOW)
    assert [(c.key, c.value, c.previous) for c in board.kpis] == \
        [(c.key, c.value, c.previous) for c in live_board.kpis]
    assert board.by_channel == live_board.by_channel and board.series == live_board.series
    assert [(r.agency_id, {k: c.value for k, c in r.cells.items()}) for r in rank.rows] == \
        [(r.agency_id, {k: c.value for k, c in r.cells.items()}) for r in live_rank.rows]
    assert board.refreshed_at is not None
    # Refreshing again rewrites the same rows: nothing doubles.
    before = db.session.scalar(select(func.count()).select_from(TicketDailyStats))
    daily.refresh(days=3, today=date(2026, 12, 3))
    db.session.commit()
    assert db.session.scalar(select(func.count()).select_from(TicketDailyStats)) == before
    assert db.session.scalar(select(func.sum(TicketDailyStats.received))) == 21


def test_partly_refreshed_table_is_completed_live(data):
    # The job last ran on 20/11: days after it are counted from the tickets.
    daily.refresh(days=None, today=date(2026, 11, 21))
    db.session.commit()
    board = dashboard.dashboard(SYSTEM, NOVEMBER, now=NOW)
    assert {c.key: c.value for c in board.kpis}["received"] == 18
    rank = ranking.unit_ranking(SYSTEM, NOVEMBER, now=NOW)
    assert rank.total.value("resolved") == 9


# --- periods -------------------------------------------------------------------------------


def test_periods():
    today = date(2026, 11, 25)
    assert parse_period({}, today) == NOVEMBER
    assert parse_period({"period": "week", "on": "25/11/2026"}, today) == Period(
        "week", date(2026, 11, 23), date(2026, 11, 29))
    q = parse_period({"period": "quarter", "on": "2026-11-02"}, today)
    assert (q.first, q.last) == (date(2026, 10, 1), date(2026, 12, 31))
    assert q.previous() == Period("quarter", date(2026, 7, 1), date(2026, 9, 30))
    custom = parse_period({"period": "custom", "from": "2026-11-10", "to": "2026-11-19"}, today)
    assert custom.previous() == Period("custom", date(2026, 10, 31), date(2026, 11, 9))
    assert period_containing("month", date(2026, 3, 15)).previous() == Period(
        "month", date(2026, 2, 1), date(2026, 2, 28))
    assert parse_month("11/2026", today) == NOVEMBER and parse_month("", today).first == date(
        2026, 10, 1)
    for args in ({"period": "year"}, {"period": "custom", "from": "2026-11-10"},
                 {"period": "custom", "from": "2026-11-10", "to": "2026-11-01"},
                 {"period": "custom", "from": "2020-01-01", "to": "2026-11-01"},
                 {"period": "month", "on": "32/11/2026"}, {"period": "week", "on": "hôm qua"}):
        with pytest.raises(ValidationError) as err:
            parse_period(args, today)
        assert err.value.message
    with pytest.raises(ValidationError):
        parse_month("13/2026", today)


def test_scope_object():
    assert Scope(agency_id=3).agency_filter(9) == 3
    assert SYSTEM.agency_filter(9) == 9


def test_concurrent_refreshes_do_not_double_rows(app, data):
    import threading

    errors = []

    def run():
        try:
            with app.app_context():
                daily.refresh(days=None, today=date(2026, 12, 3))
                db.session.commit()
        except Exception as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert errors == []
    db.session.expire_all()
    assert db.session.scalar(select(func.sum(TicketDailyStats.received))) == 21
