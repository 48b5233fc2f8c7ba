"""Administration pages (/admin, administrators only): the province's organisation,
accounts, API keys, knowledge base, the audit log and the system's health.

Views parse the form, call one ``services.admin`` function with an ``Actor``,
commit once, and redirect; a refused change rolls back and re-renders with
the service's Vietnamese message.
"""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, time, timedelta

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import func, select

from hotline.auth import require_role
from hotline.config import local_zone
from hotline.domain.errors import HotlineError
from hotline.extensions import db
from hotline.models import Agency, Area, Field, KbArticle, RoutingRule, Ticket, User, utcnow
from hotline.services import lead_fallback
from hotline.services.admin import areas, audit, kb, ops, org, rules, users
from hotline.services.admin.audit import Actor
from hotline.tx import commit
from hotline.web import admin_forms as forms

bp = Blueprint("admin", __name__, url_prefix="/admin")
bp.before_request(require_role("admin"))


def actor() -> Actor:
    return Actor(user=current_user._get_current_object(), ip=request.remote_addr)


def _attempt(action: Callable[[], object]) -> tuple[object | None, str | None]:
    """Run a service call; on a refusal roll back and return its message."""
    try:
        return action(), None
    except HotlineError as exc:
        db.session.rollback()
        return None, exc.message


def _agency_choices(blank: str, *, exclude: int | None = None) -> list:
    return forms.choices([("", blank)] + [
        (a.id, f"{a.name} ({a.code})" + ("" if a.active else " — ngừng"))
        for a in org.list_agencies() if a.id != exclude])


def _field_choices(blank: str, *, top_only: bool = False, exclude: int | None = None) -> list:
    return forms.choices([("", blank)] + [
        (f.id, f.name if f.parent_id is None else f"— {f.name}")
        for f in org.list_fields() if not (top_only and f.parent_id) and f.id != exclude])


def _area_id(code: str | None) -> int | None:
    """An area code typed in a form → its id; unknown codes are an error the page shows."""
    code = (code or "").strip()
    if not code:
        return None
    area_id = db.session.scalar(select(Area.id).where(Area.code == code))
    if area_id is None:
        from hotline.domain.errors import ValidationError
        raise ValidationError(_("Mã địa bàn không tồn tại: %(code)s", code=code), code="unknown_area")
    return area_id


def _upload() -> bytes:
    file = request.files.get("file")
    return file.read() if file else b""


# Home -----------------------------------------------------------------------------------------

@bp.get("/")
def home():
    counts = {name: db.session.scalar(select(func.count()).select_from(model))
              for name, model in (("agencies", Agency), ("fields", Field), ("areas", Area),
                                  ("rules", RoutingRule), ("users", User), ("kb", KbArticle))}
    steps = [
        (counts["areas"] > 0, _("Nhập danh mục địa bàn (CSV mã đơn vị hành chính)"), "admin.areas"),
        (counts["agencies"] > 0, _("Thêm cơ quan xử lý"), "admin.agencies"),
        (counts["fields"] > 0, _("Khai báo lĩnh vực"), "admin.fields"),
        (counts["rules"] > 0, _("Đặt quy tắc chuyển phiếu"), "admin.rules"),
        (counts["users"] > 1, _("Tạo tài khoản cán bộ"), "admin.users"),
    ]
    recent = audit.entries(limit=10).rows
    return render_template("admin/home.html", counts=counts, steps=steps, recent=recent,
                           depth=ops.queue_depth(current_app.config),
                           leadless=lead_fallback.agencies_without_lead())


# Agencies -------------------------------------------------------------------------------------

def _agency_data(form: forms.AgencyForm) -> org.AgencyData:
    return org.AgencyData(code=form.code.data, name=form.name.data, level=form.level.data,
                          parent_id=form.parent_id.data, area_id=_area_id(form.area_code.data),
                          governs_area=form.governs_area.data, email=form.email.data,
                          zalo=form.zalo.data,
                          requires_result_approval=form.requires_result_approval.data,
                          active=form.active.data)


@bp.route("/agencies", methods=["GET", "POST"])
def agencies():
    form = forms.AgencyForm()
    form.parent_id.choices = _agency_choices(_("— không có —"))
    status = 200
    if form.validate_on_submit():
        row, error = _attempt(lambda: org.create_agency(actor(), _agency_data(form)))
        if error is None:
            commit()
            flash(_("Đã thêm cơ quan %(name)s.", name=row.name), "success")
            return redirect(url_for("admin.agencies"))
        flash(error, "error")
        status = 400
    elif request.method == "POST":
        status = 400
    return render_template("admin/agencies.html", form=form, csv_form=forms.CsvForm(),
                           agencies=org.list_agencies()), status


@bp.route("/agencies/<int:agency_id>", methods=["GET", "POST"])
def agency_edit(agency_id: int):
    agency = org.get_agency(agency_id)
    form = forms.AgencyForm(obj=agency)
    if request.method == "GET":
        form.area_code.data = agency.area.code if agency.area else ""
    form.parent_id.choices = _agency_choices(_("— không có —"), exclude=agency.id)
    status = 200
    if form.validate_on_submit():
        _row, error = _attempt(lambda: org.update_agency(actor(), agency_id, _agency_data(form)))
        if error is None:
            commit()
            flash(_("Đã lưu."), "success")
            return redirect(url_for("admin.agencies"))
        flash(error, "error")
        status = 400
    return render_template("admin/edit.html", form=form, title=_("Sửa cơ quan: %(n)s", n=agency.name),
                           back=url_for("admin.agencies")), status


@bp.post("/agencies/import")
def agencies_import():
    count, error = _attempt(lambda: org.import_agencies_csv(actor(), _upload()))
    if error:
        flash(error, "error")
        return render_template("admin/agencies.html", form=_blank_agency_form(),
                               csv_form=forms.CsvForm(), agencies=org.list_agencies()), 400
    commit()
    flash(_("Đã nhập %(n)d cơ quan.", n=count), "success")
    return redirect(url_for("admin.agencies"))


def _blank_agency_form() -> forms.AgencyForm:
    form = forms.AgencyForm(formdata=None)
    form.parent_id.choices = _agency_choices(_("— không có —"))
    return form


# Fields ---------------------------------------------------------------------------------------

def _field_data(form: forms.FieldForm) -> org.FieldData:
    return org.FieldData(code=form.code.data, name=form.name.data,
                         description=form.description.data, parent_id=form.parent_id.data,
                         keywords=form.keywords.data, extra_questions=form.extra_questions.data,
                         active=form.active.data)


@bp.route("/fields", methods=["GET", "POST"])
def fields():
    form = forms.FieldForm()
    form.parent_id.choices = _field_choices(_("— lĩnh vực chính —"), top_only=True)
    status = 200
    if form.validate_on_submit():
        row, error = _attempt(lambda: org.create_field(actor(), _field_data(form)))
        if error is None:
            commit()
            flash(_("Đã thêm lĩnh vực %(name)s.", name=row.name), "success")
            return redirect(url_for("admin.fields"))
        flash(error, "error")
        status = 400
    elif request.method == "POST":
        status = 400
    return render_template("admin/fields.html", form=form, fields=org.list_fields()), status


@bp.route("/fields/<int:field_id>", methods=["GET", "POST"])
def field_edit(field_id: int):
    row = org.get_field(field_id)
    form = forms.FieldForm(obj=row)
    if request.method == "GET" and row.extra_questions:
        import json
        form.extra_questions.data = json.dumps(row.extra_questions, ensure_ascii=False, indent=1)
    form.parent_id.choices = _field_choices(_("— lĩnh vực chính —"), top_only=True,
                                            exclude=row.id)
    status = 200
    if form.validate_on_submit():
        _row, error = _attempt(lambda: org.update_field(actor(), field_id, _field_data(form)))
        if error is None:
            commit()
            flash(_("Đã lưu."), "success")
            return redirect(url_for("admin.fields"))
        flash(error, "error")
        status = 400
    return render_template("admin/edit.html", form=form, title=_("Sửa lĩnh vực: %(n)s", n=row.name),
                           back=url_for("admin.fields")), status


# Areas ----------------------------------------------------------------------------------------

@bp.route("/areas", methods=["GET", "POST"], endpoint="areas")
def areas_page():
    form = forms.AreaForm()
    status = 200
    if form.validate_on_submit():
        def create():
            parent = _area_id(form.parent_code.data)
            return areas.create(actor(), code=form.code.data, name=form.name.data,
                                level=form.level.data, parent_id=parent)
        row, error = _attempt(create)
        if error is None:
            commit()
            flash(_("Đã thêm địa bàn %(name)s.", name=row.name), "success")
            return redirect(url_for("admin.areas", parent=row.parent_id or ""))
        flash(error, "error")
        status = 400
    elif request.method == "POST":
        status = 400
    return _areas_render(form, status)


def _areas_render(form, status):
    parent_id = request.args.get("parent", type=bigint)
    q = request.args.get("q", "").strip()
    parent = areas.get(parent_id) if parent_id else None
    chain = []
    if parent is not None:
        ids = [int(x) for x in parent.path.strip("/").split("/") if x]
        by_id = {a.id: a for a in db.session.scalars(select(Area).where(Area.id.in_(ids)))}
        chain = [by_id[i] for i in ids if i in by_id]
    rows = areas.search(q) if q else areas.children(parent_id)
    return render_template("admin/areas.html", form=form, csv_form=forms.CsvForm(), rows=rows,
                           parent=parent, chain=chain, q=q), status




@bp.post("/areas/import")
def areas_import():
    result, error = _attempt(lambda: areas.import_csv(actor(), _upload()))
    if error:
        flash(error, "error")
        return _areas_render(forms.AreaForm(formdata=None), 400)
    commit()
    flash(result.describe(), "success")
    return redirect(url_for("admin.areas"))


@bp.route("/areas/<int:area_id>", methods=["GET", "POST"])
def area_edit(area_id: int):
    area = areas.get(area_id)
    form = forms.AreaEditForm(obj=area)
    move = forms.ReparentForm(prefix="move")
    if request.method == "GET" and area.parent_id:
        move.parent_code.data = db.session.get(Area, area.parent_id).code
    status = 200
    if request.form.get("do") == "move" and move.validate_on_submit():
        moved, error = _attempt(lambda: areas.reparent(actor(), area_id,
                                                       _area_id(move.parent_code.data)))
        if error is None:
            commit()
            flash(_("Đã chuyển %(name)s và %(n)d đơn vị thuộc nó.", name=area.name,
                    n=max(0, (moved or 1) - 1)), "success")
            return redirect(url_for("admin.area_edit", area_id=area_id))
        flash(error, "error")
        status = 400
    elif request.form.get("do") == "edit" and form.validate_on_submit():
        _row, error = _attempt(lambda: areas.update_area(actor(), area_id, name=form.name.data,
                                                         level=form.level.data,
                                                         active=form.active.data))
        if error is None:
            commit()
            flash(_("Đã lưu."), "success")
            return redirect(url_for("admin.area_edit", area_id=area_id))
        flash(error, "error")
        status = 400
    tickets = db.session.scalar(select(func.count()).select_from(Ticket)
                                .where(Ticket.area_id == area.id))
    return render_template("admin/area_edit.html", area=area, form=form, move=move,
                           tickets=tickets), status


# Routing rules --------------------------------------------------------------------------------

def _rule_data(form: forms.RuleForm) -> rules.RuleData:
    return rules.RuleData(agency_id=form.agency_id.data, field_id=form.field_id.data,
                          kind=form.kind.data or None, area_id=_area_id(form.area_code.data),
                          area_level=(form.area_level.data or "").strip() or None,
                          note=form.note.data, active=form.active.data)


def _rule_form(obj=None) -> forms.RuleForm:
    form = forms.RuleForm(obj=obj)
    form.field_id.choices = _field_choices(_("— mọi lĩnh vực —"))
    form.agency_id.choices = _agency_choices(_("— UBND quản lý địa bàn —"))
    return form


@bp.route("/rules", methods=["GET", "POST"], endpoint="rules")
def rules_page():
    form = _rule_form()
    status = 200
    if form.validate_on_submit():
        row, error = _attempt(lambda: rules.create(actor(), _rule_data(form)))
        if error is None:
            commit()
            flash(_("Đã thêm quy tắc #%(id)d.", id=row.id), "success")
            return redirect(url_for("admin.rules"))
        flash(error, "error")
        status = 400
    elif request.method == "POST":
        status = 400
    return render_template("admin/rules.html", form=form, rules=rules.list_rules(),
                           names=_names()), status




def _names() -> dict[str, dict[int, str]]:
    return {"agency": dict(db.session.execute(select(Agency.id, Agency.name)).all()),
            "field": dict(db.session.execute(select(Field.id, Field.name)).all())}


@bp.route("/rules/<int:rule_id>", methods=["GET", "POST"])
def rule_edit(rule_id: int):
    rule = rules.get(rule_id)
    form = _rule_form(obj=rule)
    if request.method == "GET" and rule.area_id:
        form.area_code.data = db.session.get(Area, rule.area_id).code
    status = 200
    if form.validate_on_submit():
        _row, error = _attempt(lambda: rules.update(actor(), rule_id, _rule_data(form)))
        if error is None:
            commit()
            flash(_("Đã lưu."), "success")
            return redirect(url_for("admin.rules"))
        flash(error, "error")
        status = 400
    return render_template("admin/edit.html", form=form, title=_("Sửa quy tắc #%(id)d", id=rule.id),
                           back=url_for("admin.rules")), status


@bp.get("/rules/test")
def rule_test():
    form = forms.RuleTestForm(request.args)
    form.field_id.choices = _field_choices(_("— không rõ —"))
    result = error = None
    area = None
    if request.args:
        def run():
            nonlocal area
            area_id = _area_id(form.area_code.data)
            area = db.session.get(Area, area_id) if area_id else None
            return rules.test(field_id=form.field_id.data, area_id=area_id,
                              kind=form.kind.data or None)
        result, error = _attempt(run)
        if error:
            flash(error, "error")
    return render_template("admin/rule_test.html", form=form, result=result, area=area,
                           names=_names()), (400 if error else 200)


# Users and API keys ---------------------------------------------------------------------------

@bp.route("/users", methods=["GET", "POST"], endpoint="users")
def users_page():
    form = forms.UserForm()
    form.agency_id.choices = _agency_choices(_("— không thuộc cơ quan —"))
    status = 200
    if form.validate_on_submit():
        row, error = _attempt(lambda: users.create(
            actor(), username=form.username.data, full_name=form.full_name.data,
            role=form.role.data, password=form.password.data, agency_id=form.agency_id.data,
            email=form.email.data, phone_extension=form.phone_extension.data))
        if error is None:
            commit()
            flash(_("Đã tạo tài khoản %(u)s.", u=row.username), "success")
            return redirect(url_for("admin.users"))
        flash(error, "error")
        status = 400
    elif request.method == "POST":
        status = 400
    return render_template("admin/users.html", form=form, users=users.list_users(),
                           confirm=forms.ConfirmForm()), status




@bp.route("/users/<int:user_id>", methods=["GET", "POST"])
def user_edit(user_id: int):
    user = users.get(user_id)
    form = forms.UserEditForm(obj=user)
    form.agency_id.choices = _agency_choices(_("— không thuộc cơ quan —"))
    status = 200
    if form.validate_on_submit():
        _row, error = _attempt(lambda: users.update(
            actor(), user_id, full_name=form.full_name.data, role=form.role.data,
            agency_id=form.agency_id.data, email=form.email.data,
            phone_extension=form.phone_extension.data))
        if error is None:
            commit()
            flash(_("Đã lưu."), "success")
            return redirect(url_for("admin.users"))
        flash(error, "error")
        status = 400
    return render_template("admin/edit.html", form=form,
                           title=_("Tài khoản: %(u)s", u=user.username),
                           back=url_for("admin.users")), status


@bp.post("/users/<int:user_id>/active")
def user_active(user_id: int):
    if not forms.ConfirmForm().validate_on_submit():
        abort(400)
    active = request.form.get("active") == "1"
    _row, error = _attempt(lambda: users.set_active(actor(), user_id, active))
    if error:
        flash(error, "error")
    else:
        commit()
        flash(_("Đã mở khoá tài khoản.") if active else _("Đã khoá tài khoản."), "success")
    return redirect(url_for("admin.users"))


@bp.post("/users/<int:user_id>/password")
def user_password(user_id: int):
    if not forms.ConfirmForm().validate_on_submit():
        abort(400)
    password, error = _attempt(lambda: users.reset_password(actor(), user_id))
    if error:
        flash(error, "error")
        return redirect(url_for("admin.users"))
    commit()
    user = users.get(user_id)
    # Shown once, on this page only: never flashed into the session cookie.
    return render_template("admin/secret.html", title=_("Mật khẩu mới"),
                           label=_("Mật khẩu mới của %(u)s", u=user.username), secret=password,
                           back=url_for("admin.users"))


@bp.route("/api-keys", methods=["GET", "POST"])
def api_keys():
    form = forms.ApiKeyForm()
    status = 200
    if form.validate_on_submit():
        new, error = _attempt(lambda: users.create_key(actor(), form.name.data,
                                                       form.scopes.data))
        if error is None:
            commit()
            return render_template("admin/secret.html", title=_("Khoá API mới"),
                                   label=_("Khoá API cho %(n)s — chỉ hiển thị một lần",
                                           n=new.row.name),
                                   secret=new.key, back=url_for("admin.api_keys"))
        flash(error, "error")
        status = 400
    elif request.method == "POST":
        status = 400
    return render_template("admin/api_keys.html", form=form, keys=users.list_keys(),
                           confirm=forms.ConfirmForm()), status


@bp.post("/api-keys/<int:key_id>/revoke")
def api_key_revoke(key_id: int):
    if not forms.ConfirmForm().validate_on_submit():
        abort(400)
    _row, error = _attempt(lambda: users.revoke_key(actor(), key_id))
    if error:
        flash(error, "error")
    else:
        commit()
        flash(_("Đã thu hồi khoá."), "success")
    return redirect(url_for("admin.api_keys"))


# Knowledge base -------------------------------------------------------------------------------

def _article_data(form: forms.ArticleForm) -> kb.ArticleData:
    return kb.ArticleData(title=form.title.data, body=form.body.data, field_id=form.field_id.data,
                          source_url=form.source_url.data, reviewed_on=form.reviewed_on.data,
                          active=form.active.data)


@bp.route("/kb", methods=["GET", "POST"], endpoint="kb")
def kb_page():
    form = forms.ArticleForm()
    form.field_id.choices = _field_choices(_("— chung —"))
    status = 200
    if form.validate_on_submit():
        row, error = _attempt(lambda: kb.create(actor(), _article_data(form)))
        if error is None:
            commit()
            flash(_("Đã thêm bài %(t)s.", t=row.title), "success")
            return redirect(url_for("admin.kb"))
        flash(error, "error")
        status = 400
    elif request.method == "POST":
        status = 400
    return _kb_render(form, status)


def _kb_render(form, status):
    q = request.args.get("q", "")
    return render_template("admin/kb.html", form=form, csv_form=forms.CsvForm(),
                           articles=kb.search(q), q=q), status




@bp.route("/kb/<int:article_id>", methods=["GET", "POST"])
def kb_edit(article_id: int):
    row = kb.get(article_id)
    form = forms.ArticleForm(obj=row)
    if request.method == "GET" and row.reviewed_at:
        form.reviewed_on.data = row.reviewed_at.date()
    form.field_id.choices = _field_choices(_("— chung —"))
    status = 200
    if form.validate_on_submit():
        _row, error = _attempt(lambda: kb.update(actor(), article_id, _article_data(form)))
        if error is None:
            commit()
            flash(_("Đã lưu."), "success")
            return redirect(url_for("admin.kb"))
        flash(error, "error")
        status = 400
    return render_template("admin/edit.html", form=form, title=_("Sửa bài: %(t)s", t=row.title),
                           back=url_for("admin.kb")), status


@bp.post("/kb/import")
def kb_import():
    count, error = _attempt(lambda: kb.import_csv(actor(), _upload()))
    if error:
        flash(error, "error")
        form = forms.ArticleForm(formdata=None)
        form.field_id.choices = _field_choices(_("— chung —"))
        return _kb_render(form, 400)
    commit()
    flash(_("Đã nhập %(n)d bài.", n=count), "success")
    return redirect(url_for("admin.kb"))


# Audit log ------------------------------------------------------------------------------------

def _local_day(value: str | None, *, end: bool = False) -> datetime | None:
    if not value:
        return None
    try:
        day = datetime.strptime(value, "%Y-%m-%d").date()
    except ValueError:
        return None
    if end:
        day += timedelta(days=1)
    tz = local_zone()
    return datetime.combine(day, time(0), tzinfo=tz)


@bp.get("/audit")
def audit_log():
    args = request.args
    actor_id = None
    username = args.get("actor", "").strip().lower()
    if username:
        actor_id = db.session.scalar(select(User.id).where(User.username == username)) or -1
    page = audit.entries(actor_id=actor_id, entity=args.get("entity") or None,
                         entity_id=args.get("entity_id") or None,
                         since=_local_day(args.get("since")),
                         until=_local_day(args.get("until"), end=True),
                         cursor=args.get("after"))
    next_url = None
    if page.next_cursor:
        next_url = url_for("admin.audit_log", **{**args.to_dict(), "after": page.next_cursor})
    return render_template("admin/audit.html", rows=page.rows, next_url=next_url,
                           entities=audit.ENTITIES, args=args)


# System ---------------------------------------------------------------------------------------

@bp.get("/system")
def system():
    from hotline.services import triage
    app = current_app._get_current_object()
    periodic_mode, periodic_jobs = ops.periodic_jobs(app, utcnow())
    return render_template("admin/system.html", channels=ops.channel_status(app.config),
                           depth=ops.queue_depth(app.config),
                           degradation=ops.degradation(app.config),
                           periodic_mode=periodic_mode, periodic_jobs=periodic_jobs,
                           job_labels=ops.PERIODIC_JOB_LABELS_VI, triage=triage.status(),
                           retention_days=app.config["RETENTION_DAYS"])


@bp.post("/system/retry-staged")
def retry_staged():
    count = ops.retry_staged(actor())
    commit()
    flash(_("Đã đưa %(n)d tin đến vào hàng đợi tạo phiếu.", n=count), "success")
    return redirect(url_for("admin.system"))



# SLA policies and the calendar: routes on this blueprint, in their own module.
from hotline.web import admin_sla  # noqa: F401
from hotline.web.hygiene import bigint
