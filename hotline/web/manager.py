"""Managers' and the IOC's pages (``/manager``): dashboard, overdue and due-soon report with
drill-down, unit ranking with targets, extension approvals, quality review of operators'
direct answers, the printable monthly report, and CSV/XLSX exports of each.

Managers see the province; agency leads see their own unit (the services scope
every query); operators may open only their own quality feedback. Views parse,
call one service, render; bad input becomes a Vietnamese message with status 400.
"""
from __future__ import annotations

from datetime import date

from flask import (
    Blueprint,
    Response,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy import select

from hotline.auth import require_role
from hotline.domain.errors import NotFound, PermissionDenied, TransitionError, ValidationError
from hotline.domain.lifecycle import LABELS_VI
from hotline.domain.messages import CHANNEL_LABELS_VI
from hotline.extensions import db
from hotline.models import Agency, Area, Field, utcnow
from hotline.services import handling, lead_fallback
from hotline.services.tickets import get_ticket_for
from hotline.services.reports import (
    approvals,
    dashboard,
    exports,
    indicators,
    monthly,
    overdue,
    quality,
    ranking,
    scope_for,
    tickets,
)
from hotline.services.reports.periods import KIND_LABELS_VI, parse_month, parse_period
from hotline.services.reports.sqlx import dialect
from hotline.tx import commit
from hotline.web import charts, manager_exports
from hotline.web.forms import Form
from hotline.web.hygiene import bigint

bp = Blueprint("manager", __name__, url_prefix="/manager")

REPORT_ROLES = ("manager", "agency_lead")
# Endpoints open to other roles than the default; the services check again.
ENDPOINT_ROLES = {
    "manager.quality_mine": ("operator",),
    "manager.targets": ("manager",),
    "manager.approvals": ("manager",),
    "manager.decide_extension": ("manager",),
    "manager.decide_result": ("manager",),
    "manager.quality": ("manager",),
    "manager.quality_review": ("manager",),
}
_GUARDS = {ep: require_role(*roles) for ep, roles in ENDPOINT_ROLES.items()}
_DEFAULT_GUARD = require_role(*REPORT_ROLES)


@bp.before_request
def _guard():
    return _GUARDS.get(request.endpoint, _DEFAULT_GUARD)()


class CsrfForm(Form):
    """CSRF for the blueprint's small POST forms; the services validate the content."""


@bp.errorhandler(ValidationError)
def _invalid(exc: ValidationError):
    return render_template("manager/invalid.html", message=exc.message), 400


def _today() -> date:
    return utcnow().astimezone(dialect().tz).date()


def _scope():
    return scope_for(current_user)


@bp.app_context_processor
def _helpers():
    return {"ticket_url": ticket_url, "trend_labels": indicators.TREND_LABELS,
            "met_labels": indicators.MET_LABELS, "period_kinds": KIND_LABELS_VI}


def ticket_url(code: str) -> str | None:
    """The staff ticket page for the signed-in role (if that page exists yet)."""
    endpoint = "agency.ticket" if current_user.role == "agency_lead" else "operator.ticket"
    if endpoint not in current_app.view_functions:
        return None
    return url_for(endpoint, code=code)


# --- dashboard ------------------------------------------------------------------------------


@bp.get("/")
def home():
    period = parse_period(request.args, _today())
    board = dashboard.dashboard(_scope(), period)
    commit()  # the working-day table may have been (re)built
    charts_ = {
        "series": charts.column_chart(
            [(f"{d:%d/%m}", (r, s)) for d, r, s in board.series], [_("Tiếp nhận"), _("Giải quyết")],
            _("Tiếp nhận và giải quyết theo ngày") if board.series_unit == "day"
            else _("Tiếp nhận và giải quyết theo tuần")),
        "channel": charts.bar_chart([(b.label, b.value) for b in board.by_channel],
                                    _("Phiếu theo kênh")),
        "field": charts.bar_chart([(b.label, b.value) for b in board.by_field],
                                  _("Phiếu theo lĩnh vực"), color=charts.PALETTE[1]),
        "spots": charts.bar_chart([(b.label, b.value) for b in board.hot_spots],
                                  _("Điểm nóng theo địa bàn"), color=charts.PALETTE[2]),
    }
    return render_template("manager/home.html", board=board, period=period, charts=charts_,
                           scope=_scope())


# --- overdue / due soon ----------------------------------------------------------------------


@bp.get("/overdue", endpoint="overdue")
def overdue_page():
    kind = overdue.check_kind(request.args.get("kind", "overdue"))
    group = overdue.check_group(request.args.get("group", "agency"))
    report = overdue.sla_report(_scope(), kind, group)
    commit()
    groupings = overdue.groupings()
    group_label = next((g.label for g in groupings if g.key == group), group)
    chart = charts.bar_chart(
        [(r.label, r.count) for r in report.rows[:15]],
        _("Số phiếu quá hạn") if kind == "overdue" else _("Số phiếu sắp đến hạn"),
        color=charts.PALETTE[3] if kind == "overdue" else charts.PALETTE[2], label_width=240)
    return render_template("manager/overdue.html", report=report, kind=kind, group=group,
                           groupings=groupings, group_label=group_label, chart=chart,
                           kinds=overdue.KINDS)


@bp.get("/tickets", endpoint="tickets")
def ticket_list():
    flt = tickets.parse_filter(request.args)
    page = tickets.ticket_page(_scope(), flt, request.args.get("cursor") or None)
    commit()
    return render_template("manager/tickets.html", flt=flt, page=page, **_filter_choices())


def _filter_choices() -> dict:
    scope = _scope()
    agencies = db.session.execute(
        select(Agency.id, Agency.name).where(Agency.active.is_(True)).order_by(Agency.name)).all()
    if scope.agency_id is not None:
        agencies = [a for a in agencies if a.id == scope.agency_id]
    fields = db.session.execute(select(Field.id, Field.name).order_by(Field.name)).all()
    areas = db.session.execute(select(Area.id, Area.name, Area.path).order_by(Area.path)).all()
    return {"agencies": agencies, "fields": fields,
            "areas": [(a.id, "· " * (a.path.count("/") - 2) + a.name) for a in areas],
            "channels": CHANNEL_LABELS_VI, "statuses": LABELS_VI, "sla_kinds": overdue.KINDS}


# --- ranking and targets ---------------------------------------------------------------------


@bp.get("/ranking", endpoint="ranking")
def ranking_page():
    period = parse_period(request.args, _today())
    sort = request.args.get("sort", "on_time_rate")
    descending = request.args.get("dir", "desc") != "asc"
    show_all = request.args.get("all") == "1"
    result = ranking.unit_ranking(_scope(), period, sort=sort, descending=descending,
                                  only_busy=not show_all)
    commit()
    top = [r for r in result.rows if r.value("on_time_rate") is not None][:15]
    chart = charts.bar_chart([(r.name, round(r.value("on_time_rate"), 1)) for r in top],
                             _("Tỷ lệ giải quyết đúng hạn"), unit="%", color=charts.PALETTE[1],
                             label_width=240)
    return render_template("manager/ranking.html", result=result, period=period, chart=chart,
                           keys=indicators.RANKING_KEYS, indicators=indicators.INDICATORS,
                           show_all=show_all)


@bp.route("/targets", methods=["GET", "POST"])
def targets():
    form = CsrfForm()
    if request.method == "POST" and form.validate_on_submit():
        agency_id = request.form.get("agency_id", type=bigint)
        try:
            if request.form.get("scope") == "agency":
                if not agency_id:
                    raise ValidationError(_("Hãy chọn đơn vị."), code="agency_required")
                key = request.form.get("indicator", "")
                indicators.set_target(current_user, key, request.form.get("value"), agency_id)
            else:
                for key, ind in indicators.INDICATORS.items():
                    if ind.targetable:
                        indicators.set_target(current_user, key, request.form.get(key))
        except ValidationError as exc:
            db.session.rollback()
            flash(exc.message, "error")
        else:
            commit()
            flash(_("Đã lưu chỉ tiêu."), "success")
            return redirect(url_for("manager.targets"))
    current = indicators.all_targets()
    agencies = dict(db.session.execute(select(Agency.id, Agency.name)).all())
    overrides = sorted(((agencies.get(a, "?"), k, a, v) for (k, a), v in current.items()
                        if a is not None))
    page = render_template("manager/targets.html", form=form, current=current,
                           overrides=overrides, indicators=indicators.INDICATORS,
                           agencies=sorted(agencies.items(), key=lambda x: x[1]))
    return page, 400 if request.method == "POST" else 200


# --- approvals -----------------------------------------------------------------------------


@bp.get("/approvals", endpoint="approvals")
def approvals_page():
    after = request.args.get("after", type=bigint)
    rows = approvals.pending_extensions(current_user, after_id=after)
    results = lead_fallback.waiting_for_managers(
        current_user, after_id=request.args.get("results_after", type=int))
    leadless = lead_fallback.agencies_without_lead()
    commit()
    return render_template("manager/approvals.html", rows=rows, form=CsrfForm(),
                           page_size=approvals.PAGE, results=results, leadless=leadless)


@bp.post("/approvals/results/<code>")
def decide_result(code: str):
    """A manager approves (or sends back) a result for an agency that has no active lead."""
    form = CsrfForm()
    if not form.validate_on_submit():
        flash(_("Phiên làm việc đã hết hạn; vui lòng thử lại."), "error")
        return redirect(url_for("manager.approvals"))
    target = url_for("manager.approvals") + "#results"
    try:
        ticket = get_ticket_for(current_user, code, for_update=True)
        if request.form.get("decision") == "approve":
            handling.approve(current_user, ticket)
            message = _("Đã duyệt kết quả phiếu %(code)s.", code=ticket.code)
        else:
            handling.send_back(current_user, ticket, reason=request.form.get("reason"))
            message = _("Đã trả lại kết quả phiếu %(code)s.", code=ticket.code)
    except (ValidationError, TransitionError, PermissionDenied, NotFound) as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(target)
    commit()
    flash(message, "success")
    return redirect(target)


@bp.post("/approvals/<int:event_id>")
def decide_extension(event_id: int):
    form = CsrfForm()
    if not form.validate_on_submit():
        flash(_("Phiên làm việc đã hết hạn; vui lòng thử lại."), "error")
        return redirect(url_for("manager.approvals"))
    approve = request.form.get("decision") == "approve"
    try:
        approvals.decide(current_user, event_id, approve, request.form.get("reason"))
    except ValidationError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(url_for("manager.approvals"))
    commit()
    flash(_("Đã đồng ý gia hạn.") if approve else _("Đã từ chối đề nghị gia hạn."), "success")
    return redirect(url_for("manager.approvals"))


# --- quality review ------------------------------------------------------------------------


@bp.get("/quality", endpoint="quality")
def quality_page():
    period = parse_period(request.args, _today())
    seed = request.args.get("seed", default=1, type=bigint)
    sample = quality.sample(current_user, period, size=10, seed=seed)
    recent = quality.recent_reviews(current_user, before_id=request.args.get("before", type=bigint))
    return render_template("manager/quality.html", period=period, sample=sample, recent=recent,
                           seed=seed, form=CsrfForm(), verdicts=quality.VERDICTS)


@bp.post("/quality/<int:ticket_id>")
def quality_review(ticket_id: int):
    form = CsrfForm()
    back = request.form.get("next") or url_for("manager.quality")
    if not back.startswith("/"):
        back = url_for("manager.quality")
    if not form.validate_on_submit():
        flash(_("Phiên làm việc đã hết hạn; vui lòng thử lại."), "error")
        return redirect(back)
    try:
        quality.review(current_user, ticket_id, request.form.get("verdict", ""),
                       request.form.get("comment"))
    except ValidationError as exc:
        db.session.rollback()
        flash(exc.message, "error")
        return redirect(back)
    commit()
    flash(_("Đã lưu đánh giá."), "success")
    return redirect(back)


@bp.get("/quality/mine")
def quality_mine():
    rows = quality.my_feedback(current_user, before_id=request.args.get("before", type=bigint))
    commit()  # marks them seen
    return render_template("manager/quality_mine.html", rows=rows, verdicts=quality.VERDICTS,
                           page_size=quality.PAGE)


# --- monthly report ------------------------------------------------------------------------


@bp.get("/monthly", endpoint="monthly")
def monthly_page():
    period = parse_month(request.args.get("month"), _today())
    report = monthly.monthly_report(_scope(), period)
    commit()
    charts_ = {
        "channel": charts.bar_chart([(b.label, b.value) for b in report.board.by_channel],
                                    _("Phiếu theo kênh")),
        "field": charts.bar_chart([(b.label, b.value) for b in report.board.by_field],
                                  _("Phiếu theo lĩnh vực"), color=charts.PALETTE[1]),
        "series": charts.column_chart(
            [(f"{d:%d}", (r, s)) for d, r, s in report.board.series],
            [_("Tiếp nhận"), _("Giải quyết")], _("Tiếp nhận và giải quyết theo ngày")),
    }
    return render_template("manager/monthly.html", report=report, charts=charts_,
                           scope=_scope(), keys=indicators.RANKING_KEYS,
                           indicators=indicators.INDICATORS)


# --- exports -------------------------------------------------------------------------------


@bp.get("/export/<report>.<fmt>")
def export(report: str, fmt: str):
    exports.check_format(fmt)
    built = manager_exports.build(report, request.args, _scope(), _today())
    exports.log_export(current_user, report, fmt, dict(request.args), rows=built.row_count,
                       personal_data=built.personal_data)
    commit()  # the log entry is durable before the file leaves
    tz = dialect().tz
    name = exports.filename(built.name, fmt, on=_today())
    headers = {"Content-Disposition": f'attachment; filename="{name}"',
               "Cache-Control": "no-store"}
    if fmt == "csv":
        return Response(stream_with_context(exports.csv_chunks(built.tables, tz)),
                        mimetype="text/csv", headers=headers,
                        content_type=exports.FORMATS["csv"])
    return Response(exports.xlsx_bytes(built.tables, tz), headers=headers,
                    content_type=exports.FORMATS["xlsx"])

