"""Admin pages for SLA policies and the working calendar (/admin/sla, /admin/calendar).

The rules live in ``hotline.services.sla_admin``; these views only
parse forms and call it. Targets are entered in working days and hours and
passed on in working minutes (one working day = 8 hours, as the shifts are).
"""
from __future__ import annotations

from flask import abort, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, DecimalField, IntegerField, SelectField, StringField
from wtforms.validators import DataRequired, Length, NumberRange, Optional

from hotline.extensions import db
from hotline.models import Field
from hotline.tx import commit
from hotline.web import admin_forms as forms
from hotline.web.admin import _attempt, actor, bp
from hotline.web.forms import Form
from hotline.web.hygiene import bigint

MINUTES_PER_DAY = 8 * 60
PRIORITIES = forms.choices([("", _l("— mọi mức —")), ("urgent", _l("Khẩn")),
                            ("normal", _l("Thường")), ("complex", _l("Phức tạp"))])


class PolicyForm(Form):
    name = StringField(_l("Tên chính sách"), validators=[DataRequired(), Length(max=200)])
    field_code = SelectField(_l("Lĩnh vực"), validate_choice=False)
    kind = SelectField(_l("Loại phiếu"), choices=forms.KINDS)
    priority = SelectField(_l("Mức độ ưu tiên"), choices=PRIORITIES)
    resolution_hours = DecimalField(_l("Thời hạn giải quyết (giờ làm việc; 1 ngày = 8 giờ)"),
                                    validators=[DataRequired(), NumberRange(min=0.25)], places=2)
    first_response_hours = DecimalField(_l("Thời hạn tiếp nhận (giờ làm việc)"),
                                        validators=[DataRequired(), NumberRange(min=0.25)],
                                        places=2)
    due_soon_fraction = DecimalField(_l("Cảnh báo sắp đến hạn khi còn (tỷ lệ, vd. 0.2)"),
                                     default=0.2, places=2,
                                     validators=[DataRequired(), NumberRange(min=0, max=1)])
    due_soon_max_hours = IntegerField(_l("…nhưng không sớm hơn (giờ làm việc trước hạn)"),
                                      validators=[Optional(), NumberRange(min=1)])
    active = BooleanField(_l("Đang áp dụng"), default=True)


class OverrideForm(Form):
    day = DateField(_l("Ngày"), validators=[DataRequired()])
    is_working = SelectField(_l("Điều chỉnh"), choices=forms.choices([
        ("0", _l("Nghỉ thêm (không tính thời hạn)")), ("1", _l("Làm bù (tính thời hạn)"))]))
    reason = StringField(_l("Lý do / văn bản"), validators=[DataRequired(), Length(max=200)])


def _field_codes() -> list:
    return forms.choices([("", _("— mọi lĩnh vực —"))] + [
        (f.code, f.name) for f in db.session.scalars(db.select(Field).order_by(Field.name))])


def _policy_data(form: PolicyForm):
    from hotline.services import sla_admin
    return sla_admin.PolicyData(
        name=form.name.data, field_code=form.field_code.data or None,
        kind=form.kind.data or None, priority=form.priority.data or None,
        resolution_minutes=int(form.resolution_hours.data * 60),
        first_response_minutes=int(form.first_response_hours.data * 60),
        due_soon_fraction=float(form.due_soon_fraction.data),
        due_soon_max_minutes=form.due_soon_max_hours.data * 60 if form.due_soon_max_hours.data
        else None, active=form.active.data)


@bp.route("/sla", methods=["GET", "POST"], endpoint="sla")
def sla_page():
    from hotline.services import sla_admin
    form = PolicyForm()
    form.field_code.choices = _field_codes()
    status = 200
    if form.validate_on_submit():
        row, error = _attempt(lambda: sla_admin.create_policy(actor(), _policy_data(form)))
        if error is None:
            commit()
            flash(_("Đã thêm chính sách %(n)s.", n=row.name), "success")
            return redirect(url_for("admin.sla"))
        flash(error, "error")
        status = 400
    elif request.method == "POST":
        status = 400
    names = dict(db.session.execute(db.select(Field.id, Field.name)).all())
    return render_template("admin/sla.html", form=form, names=names,
                           policies=sla_admin.list_policies(actor()),
                           confirm=forms.ConfirmForm(), per_day=MINUTES_PER_DAY), status


@bp.route("/sla/<int:policy_id>", methods=["GET", "POST"])
def sla_edit(policy_id: int):
    from hotline.services import sla_admin
    row = sla_admin.get_policy(actor(), policy_id)
    form = PolicyForm(obj=row)
    form.field_code.choices = _field_codes()
    if request.method == "GET":
        form.field_code.data = db.session.get(Field, row.field_id).code if row.field_id else ""
        form.kind.data, form.priority.data = row.kind or "", row.priority or ""
        form.resolution_hours.data = row.resolution_minutes / 60
        form.first_response_hours.data = row.first_response_minutes / 60
        form.due_soon_max_hours.data = (row.due_soon_max_minutes // 60
                                        if row.due_soon_max_minutes else None)
    status = 200
    if form.validate_on_submit():
        _row, error = _attempt(lambda: sla_admin.update_policy(actor(), policy_id,
                                                               _policy_data(form)))
        if error is None:
            commit()
            flash(_("Đã lưu. Thời hạn của phiếu đang mở đổi khi chạy sla-recompute."), "success")
            return redirect(url_for("admin.sla"))
        flash(error, "error")
        status = 400
    return render_template("admin/edit.html", form=form, title=_("Sửa chính sách: %(n)s", n=row.name),
                           back=url_for("admin.sla")), status


@bp.post("/sla/<int:policy_id>/deactivate")
def sla_deactivate(policy_id: int):
    from hotline.services import sla_admin
    if not forms.ConfirmForm().validate_on_submit():
        abort(400)
    _row, error = _attempt(lambda: sla_admin.deactivate_policy(actor(), policy_id))
    if error:
        flash(error, "error")
    else:
        commit()
        flash(_("Đã ngừng áp dụng chính sách."), "success")
    return redirect(url_for("admin.sla"))


@bp.route("/calendar", methods=["GET", "POST"], endpoint="calendar")
def calendar_page():
    from hotline.services import sla_admin
    form = OverrideForm()
    status = 200
    if form.validate_on_submit():
        row, error = _attempt(lambda: sla_admin.add_override(
            actor(), form.day.data, form.is_working.data == "1", form.reason.data))
        if error is None:
            commit()
            flash(_("Đã thêm ngày %(d)s.", d=row.day.strftime("%d/%m/%Y")), "success")
            return redirect(url_for("admin.calendar"))
        flash(error, "error")
        status = 400
    elif request.method == "POST":
        status = 400
    year = request.args.get("year", type=bigint)
    return render_template("admin/calendar.html", form=form, confirm=forms.ConfirmForm(),
                           overrides=sla_admin.list_overrides(actor(), year=year)), status


@bp.post("/calendar/<int:override_id>/delete")
def calendar_delete(override_id: int):
    from hotline.services import sla_admin
    if not forms.ConfirmForm().validate_on_submit():
        abort(400)
    _row, error = _attempt(lambda: sla_admin.remove_override(actor(), override_id))
    if error:
        flash(error, "error")
    else:
        commit()
        flash(_("Đã bỏ điều chỉnh; ngày đó theo lịch nhà nước."), "success")
    return redirect(url_for("admin.calendar"))
