"""Administration services: areas (CSV import, re-parenting), agencies, fields, rules and the
routing tester, users, API keys, knowledge base — every change audited, bad input changes nothing."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select, text, update

from hotline.domain.errors import PermissionDenied, ValidationError
from hotline.extensions import db
from hotline.models import (
    Agency,
    ApiKey,
    Area,
    AuditLog,
    Field,
    KbArticle,
    RoutingRule,
    Ticket,
    User,
)
from hotline.models.audit import AppendOnlyError
from hotline.models.user import ApiScope
from hotline.services import accounts, routing
from hotline.services.admin import Actor, areas, audit, kb, rules, users

AREAS_CSV = """code,name,level,parent_code
25432,Phường Tân Phú,Phường,689
70,Tỉnh Bình Phước,Tỉnh,
689,Thành phố Đồng Xoài,Thành phố,70
25435,Phường Tân Bình,Phường,689
691,Huyện Phú Riềng,Huyện,70
25600,Xã Phú Riềng,Xã,691
""".encode()


@pytest.fixture
def admin(make_user):
    return make_user("admin", username="quantri")


@pytest.fixture
def actor(admin):
    return Actor(user=admin, ip="10.0.0.5")


def count(model) -> int:
    return db.session.scalar(select(func.count()).select_from(model))


def audit_rows(entity=None):
    query = select(AuditLog).order_by(AuditLog.id)
    if entity:
        query = query.where(AuditLog.entity == entity)
    return list(db.session.scalars(query))


# Areas ---------------------------------------------------------------------------------------

def test_area_csv_import_builds_the_tree_in_any_order(app, actor):
    result = areas.import_csv(actor, AREAS_CSV)
    db.session.commit()
    assert (result.created, result.updated, result.moved) == (6, 0, 0)
    by_code = {a.code: a for a in db.session.scalars(select(Area))}
    assert by_code["25432"].level == "commune" and by_code["689"].level == "district"
    assert by_code["25432"].path == f"/{by_code['70'].id}/{by_code['689'].id}/{by_code['25432'].id}/"
    assert by_code["70"].parent_id is None
    assert by_code["25600"].name_folded == "xa phu rieng"
    [row] = audit_rows("area")
    assert row.action == "import" and row.after["created"] == 6 and row.ip == "10.0.0.5"
    # The same file again changes nothing.
    again = areas.import_csv(actor, AREAS_CSV)
    assert (again.created, again.updated, again.moved, again.unchanged) == (0, 0, 0, 6)


def test_area_csv_with_bad_lines_imports_nothing_and_names_the_lines(app, actor):
    bad = ("code,name,level,parent_code\n70,Tỉnh Bình Phước,Tỉnh,\n"
           "689,,Huyện,70\n"            # line 3: no name
           "25432,Phường Tân Phú,Làng,689\n"  # line 4: bad level
           "25435,Phường Tân Bình,Phường,999\n"  # line 5: unknown parent
           "70,Trùng,Tỉnh,\n").encode()       # line 6: duplicate code
    with pytest.raises(ValidationError) as err:
        areas.import_csv(actor, bad)
    message = err.value.message
    for fragment in ("dòng 3", "thiếu tên", "dòng 4", "Làng", "dòng 5", "999", "dòng 6", "trùng"):
        assert fragment in message
    assert "chưa nhập dòng nào" in message
    db.session.rollback()
    assert count(Area) == 0 and count(AuditLog) == 0


def test_area_csv_missing_column_and_cycle(app, actor):
    with pytest.raises(ValidationError, match="thiếu cột: level"):
        areas.import_csv(actor, b"code,name\n1,A\n")
    with pytest.raises(ValidationError, match="vòng lặp"):
        areas.import_csv(actor, b"code,name,level,parent_code\n1,A,xa,2\n2,B,xa,1\n")


def test_area_csv_accepts_vietnamese_headers_bom_and_semicolons(app, actor):
    data = "\ufeffMã;Tên;Cấp;Mã cấp trên\n70;Tỉnh Bình Phước;Tỉnh;\n25432;Phường Tân Phú;Phường;70\n"
    result = areas.import_csv(actor, data.encode("utf-8"))
    assert result.created == 2


def test_reparent_moves_the_whole_subtree_in_one_statement(org, actor, receive):
    # Since 1 July 2025 communes sit directly under the province: move Tân Phú up.
    ticket = db.session.get(Ticket, receive(area_code="25432", field_code="TTDT").ticket_id)
    prov, dx, tp = org.areas["70"], org.areas["689"], org.areas["25432"]
    moved = areas.reparent(actor, dx.id, None)
    db.session.commit()
    assert moved == 3  # Đồng Xoài and its two wards
    db.session.expire_all()
    assert dx.path == f"/{dx.id}/" and tp.path == f"/{dx.id}/{tp.id}/"
    moved = areas.reparent(actor, tp.id, prov.id)
    db.session.commit()
    db.session.expire_all()
    assert moved == 1 and tp.path == f"/{prov.id}/{tp.id}/" and tp.parent_id == prov.id
    # The old ticket still points at its ward, and the router follows the new tree.
    assert ticket.area.code == "25432"
    assert [n.name for n in routing.area_chain(tp)] == ["Phường Tân Phú", "Tỉnh Bình Phước"]
    row = audit_rows("area")[-1]
    assert row.action == "reparent" and row.before["parent_id"] == dx.id
    assert row.after["parent_id"] == prov.id


def test_reparent_under_own_subtree_is_refused(org, actor):
    before = org.areas["689"].path
    with pytest.raises(ValidationError, match="chính nó"):
        areas.reparent(actor, org.areas["689"].id, org.areas["25432"].id)
    assert org.areas["689"].path == before and not audit_rows("area")


def test_csv_import_moves_an_existing_area(org, actor):
    data = "code,name,level,parent_code\n25432,Phường Tân Phú,Phường,70\n".encode()
    result = areas.import_csv(actor, data)
    assert result.moved == 1
    db.session.expire_all()
    assert org.areas["25432"].parent_id == org.areas["70"].id


# Agencies and fields -------------------------------------------------------------------------

def test_agency_crud(org, actor):
    from hotline.services.admin import org as org_svc
    agency = org_svc.create_agency(actor, org_svc.AgencyData(
        code="SO-YT", name="Sở Y tế", level="Tỉnh", area_id=org.areas["70"].id,
        email="SOYT@example.gov.vn", requires_result_approval=True))
    assert agency.level == "province" and agency.email == "soyt@example.gov.vn"
    org_svc.update_agency(actor, agency.id, org_svc.AgencyData(
        code="SO-YT", name="Sở Y tế tỉnh", level="province", area_id=org.areas["70"].id,
        email="soyt@example.gov.vn", zalo="0912345678", requires_result_approval=True))
    created, updated = audit_rows("agency")
    assert created.action == "create" and created.after["name"] == "Sở Y tế"
    assert updated.before == {"name": "Sở Y tế", "zalo": None}
    assert updated.after == {"name": "Sở Y tế tỉnh", "zalo": "0912345678"}
    with pytest.raises(ValidationError, match="đã tồn tại"):
        org_svc.create_agency(actor, org_svc.AgencyData(code="SO-YT", name="x", level="province"))
    with pytest.raises(ValidationError, match="Cấp cơ quan"):
        org_svc.create_agency(actor, org_svc.AgencyData(code="X", name="x", level="thôn"))
    with pytest.raises(ValidationError, match="cấp dưới"):
        org_svc.update_agency(actor, org.agencies["SO-XD"].id, org_svc.AgencyData(
            code="SO-XD", name="Sở Xây dựng", level="province", parent_id=org.agencies["SO-XD"].id))


def test_agency_csv_import_is_all_or_nothing(org, actor):
    before = count(Agency)
    bad = ("code,name,level,parent_code,area_code,governs_area,email\n"
           "SO-TNMT,Sở Tài nguyên và Môi trường,province,,70,không,tnmt@example.gov.vn\n"
           "UBND-X,UBND Xã X,commune,,99999,có,\n"
           "SO-Y,Sở Y,province,,70,có lẽ,not-an-email\n").encode()
    from hotline.services.admin import org as org_svc
    with pytest.raises(ValidationError) as err:
        org_svc.import_agencies_csv(actor, bad)
    msg = err.value.message
    assert "dòng 3" in msg and "99999" in msg and "dòng 4" in msg and "not-an-email" in msg
    db.session.rollback()
    assert count(Agency) == before
    good = ("code,name,level,parent_code,area_code,governs_area\n"
            "PHONG-QLDT,Phòng Quản lý đô thị,district,UBND-689,689,không\n"
            "UBND-25600,UBND Xã Phú Riềng,commune,,25600,có\n").encode()
    from hotline.services.admin import org as org_svc
    assert org_svc.import_agencies_csv(actor, good) == 2
    db.session.commit()
    row = db.session.scalar(select(Agency).where(Agency.code == "PHONG-QLDT"))
    assert row.parent.code == "UBND-689" and row.area.code == "689"


def test_fields_with_subtypes_and_extra_questions(org, actor):
    from hotline.services.admin import org as org_svc
    parent = org.fields["GT"]
    sub = org_svc.create_field(actor, org_svc.FieldData(
        code="GT-DEN", name="Đèn tín hiệu giao thông", parent_id=parent.id,
        extra_questions='[{"key": "nut_giao", "label": "Nút giao nào?"}, "Từ khi nào?"]'))
    assert sub.extra_questions == [
        {"key": "nut_giao", "label": "Nút giao nào?", "type": "text", "required": False},
        {"key": "q2", "label": "Từ khi nào?", "type": "text", "required": False}]
    with pytest.raises(ValidationError, match="JSON"):
        org_svc.create_field(actor, org_svc.FieldData(code="Y", name="Y", extra_questions="[{"))
    with pytest.raises(ValidationError, match="hai cấp"):
        org_svc.create_field(actor, org_svc.FieldData(code="Z", name="Z", parent_id=sub.id))
    assert [r.action for r in audit_rows("field")] == ["create"]


# Rules and the tester ------------------------------------------------------------------------

def test_rule_tester_shows_the_choice_and_the_chain(org, actor):
    result = rules.test(field_id=org.fields["CS"].id, area_id=org.areas["25435"].id, kind=None)
    assert result.agency.code == "UBND-689"
    assert result.decision.rule_id == org.rules["cs_dx"].id
    assert [n.name for n in result.area_chain] == ["Phường Tân Bình", "Thành phố Đồng Xoài",
                                                   "Tỉnh Bình Phước"]
    first = result.considered[0]
    assert first.chosen and first.rule.id == org.rules["cs_dx"].id
    by_id = {c.rule.id: c for c in result.considered}
    # The province-wide lighting rule matched too but lost to the nearer one.
    assert by_id[org.rules["cs"].id].matched and not by_id[org.rules["cs"].id].chosen
    # Rules of other fields are not considered at all.
    assert org.rules["gt"].id not in by_id
    outside = rules.test(field_id=org.fields["CS"].id, area_id=org.areas["25600"].id, kind=None)
    assert outside.agency.code == "DIENLUC"
    why = {c.rule.id: c.why for c in outside.considered}
    assert "không chứa" in why[org.rules["cs_dx"].id]


def test_rule_tester_with_no_match_goes_to_triage(org):
    result = rules.test(field_id=None, area_id=None, kind=None)
    assert result.agency is None and "phân loại" in result.decision.reason


def test_rule_create_validates_and_audits(org, actor):
    rule = rules.create(actor, rules.RuleData(agency_id=org.agencies["SO-XD"].id,
                                              field_id=org.fields["TTHC"].id, kind="hoi_dap"))
    assert audit_rows("routing_rule")[0].after["kind"] == "hoi_dap"
    with pytest.raises(ValidationError, match="Chọn cơ quan"):
        rules.create(actor, rules.RuleData(agency_id=None))
    with pytest.raises(ValidationError, match="không chọn cả hai"):
        rules.create(actor, rules.RuleData(agency_id=None, area_id=org.areas["70"].id,
                                           area_level="commune"))
    rules.update(actor, rule.id, rules.RuleData(agency_id=org.agencies["SO-XD"].id,
                                                field_id=org.fields["TTHC"].id, kind="hoi_dap",
                                                active=False))
    assert audit_rows("routing_rule")[-1].after == {"active": False}


# Users and API keys --------------------------------------------------------------------------

def test_users_create_update_deactivate_reset(org, actor, admin):
    user = users.create(actor, username="CanBo1", full_name="Cán bộ Một", role="handler",
                        password="mat-khau-dai-du", agency_id=org.agencies["SO-XD"].id)
    assert user.username == "canbo1"
    assert "password" not in str(audit_rows("user")[0].after)
    with pytest.raises(ValidationError, match="phải thuộc một cơ quan"):
        users.update(actor, user.id, full_name="x", role="handler", agency_id=None, email=None,
                     phone_extension=None)
    users.update(actor, user.id, full_name="Cán bộ Một", role="agency_lead",
                 agency_id=org.agencies["SO-XD"].id, email=None, phone_extension="105")
    assert audit_rows("user")[-1].after == {"role": "agency_lead", "phone_extension": "105"}
    users.set_active(actor, user.id, False)
    assert not user.active and audit_rows("user")[-1].action == "deactivate"
    new_password = users.reset_password(actor, user.id)
    assert accounts.check_password(user, new_password)
    assert new_password not in str(audit_rows("user")[-1].after)
    with pytest.raises(PermissionDenied):
        users.set_active(actor, admin.id, False)
    with pytest.raises(PermissionDenied):
        users.update(actor, admin.id, full_name="x", role="operator", agency_id=None, email=None,
                     phone_extension=None)


def test_api_keys_shown_once_revoked_and_last_used(app, actor):
    new = users.create_key(actor, "Ứng dụng Bình Phước Smart", [ApiScope.OPEN311_WRITE.value])
    assert new.key.startswith("h1022_") and new.key not in str(audit_rows("api_key")[0].after)
    assert new.row.scope_list == [ApiScope.OPEN311_WRITE.value]
    assert accounts.verify_api_key(new.key).id == new.row.id
    assert new.row.last_used_at is not None
    users.revoke_key(actor, new.row.id)
    users.revoke_key(actor, new.row.id)  # twice: one audit row
    assert accounts.verify_api_key(new.key) is None
    assert [r.action for r in audit_rows("api_key")] == ["create", "revoke"]
    assert db.session.get(ApiKey, new.row.id).revoked_at is not None


# Knowledge base ------------------------------------------------------------------------------

def test_kb_create_search_and_csv(org, actor):
    article = kb.create(actor, kb.ArticleData(title="Cấp giấy phép xây dựng",
                                              body="Hồ sơ gồm đơn đề nghị…",
                                              field_id=org.fields["XD"].id,
                                              source_url="https://dichvucong.gov.vn/p/1"))
    assert article.search_text == "cap giay phep xay dung ho so gom don de nghi…"
    assert kb.search("giay phep") == [article]
    db.session.commit()
    bad = ("title,body,field_code,source_url,reviewed_on\n"
           "Đăng ký khai sinh,Hồ sơ…,TTHC,https://x.gov.vn,01/10/2026\n"
           ",Thiếu tiêu đề,,,\n"
           "Đăng ký kết hôn,Hồ sơ…,NOPE,ftp://x,32/13/2026\n").encode()
    with pytest.raises(ValidationError) as err:
        kb.import_csv(actor, bad)
    assert "dòng 3" in err.value.message and "dòng 4" in err.value.message
    assert "NOPE" in err.value.message
    db.session.rollback()
    assert count(KbArticle) == 1
    good = ("title,body,field_code,reviewed_on\n"
            "Đăng ký khai sinh,Hồ sơ…,TTHC,01/10/2026\n"
            "Cấp giấy phép xây dựng,Nội dung mới,XD,\n").encode()
    assert kb.import_csv(actor, good) == 2
    db.session.commit()
    assert count(KbArticle) == 2  # the second row updated the existing article
    assert db.session.get(KbArticle, article.id).body == "Nội dung mới"


# The audit log itself ------------------------------------------------------------------------

def test_audit_rows_cannot_be_changed_through_the_orm(app, actor):
    row = audit.record(actor, "create", "area", 1, after={"x": 1})
    db.session.commit()
    row.action = "tampered"
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()
    db.session.delete(db.session.get(AuditLog, row.id))
    with pytest.raises(AppendOnlyError):
        db.session.flush()
    db.session.rollback()


def test_database_trigger_refuses_update_and_delete(app, actor):
    """Below the ORM guard, the database itself refuses (PostgreSQL and SQLite triggers)."""
    audit.record(actor, "create", "area", 1)
    db.session.commit()
    from sqlalchemy.exc import DBAPIError
    for statement in ("UPDATE audit_log SET action = 'x'", "DELETE FROM audit_log"):
        with pytest.raises(DBAPIError, match="append-only"):
            db.session.execute(text(statement))
        db.session.rollback()
    assert count(AuditLog) == 1


def test_audit_viewer_filters_and_keyset_pages(org, actor, make_user):
    other = Actor(user=make_user("admin", username="quantri2"))
    for i in range(7):
        audit.record(actor if i % 2 else other, "update", "agency" if i < 5 else "field", i)
    db.session.commit()
    page = audit.entries(limit=3)
    assert [r.entity_id for r in page.rows] == ["6", "5", "4"] and page.next_cursor
    page2 = audit.entries(limit=3, cursor=page.next_cursor)
    assert [r.entity_id for r in page2.rows] == ["3", "2", "1"]
    page3 = audit.entries(limit=3, cursor=page2.next_cursor)
    assert [r.entity_id for r in page3.rows] == ["0"] and page3.next_cursor is None
    assert {r.entity_id for r in audit.entries(entity="field").rows} == {"5", "6"}
    assert {r.entity_id for r in audit.entries(actor_id=actor.user.id).rows} == {"1", "3", "5"}


def test_inactive_user_filter(app):
    # Guard against a regression where admin lists leaked password hashes into templates.
    assert "password_hash" not in users.FIELDS
    assert db.session.execute(update(User).values(active=True)).rowcount == 0
    assert count(Field) == 0 and count(RoutingRule) == 0
