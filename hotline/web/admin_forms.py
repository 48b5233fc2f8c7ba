"""Forms of the admin pages: shape and types only (rules live in services.admin)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf.file import FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    PasswordField,
    SelectField,
    SelectMultipleField,
    StringField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from hotline.domain.lifecycle import KIND_LABELS_VI
from hotline.models import API_SCOPE_LABELS_VI, ROLE_LABELS_VI, ApiScope
from hotline.web.forms import Form


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs → WTForms 3.3 choice objects."""
    return [SelectChoice(value, label) for value, label in pairs]


AGENCY_LEVELS = choices([("province", _l("Cấp tỉnh (Sở, ngành)")), ("district", _l("Cấp huyện")),
                 ("commune", _l("Cấp xã")), ("other", _l("Khác (doanh nghiệp, đơn vị sự nghiệp)"))])
# _l(label): the domain's labels are msgids (marked in hotline.web.labels_i18n).
KINDS = choices([("", _l("— mọi loại —"))] + [(k.value, _l(v)) for k, v in KIND_LABELS_VI.items()])
ROLES = choices([(r.value, _l(label)) for r, label in ROLE_LABELS_VI.items()])


def optional_int(value):
    return int(value) if value not in (None, "", "None") else None


class AgencyForm(Form):
    code = StringField(_l("Mã cơ quan"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Tên cơ quan"), validators=[DataRequired(), Length(max=200)])
    level = SelectField(_l("Cấp"), choices=AGENCY_LEVELS)
    parent_id = SelectField(_l("Cơ quan cấp trên"), coerce=optional_int, validate_choice=False)
    area_code = StringField(_l("Mã địa bàn"), validators=[Optional(), Length(max=32)])
    governs_area = BooleanField(_l("Là UBND quản lý địa bàn này (nhận phiếu theo quy tắc cấp địa bàn)"))
    email = EmailField(_l("E-mail nhận thông báo"), validators=[Optional(), Length(max=254)])
    zalo = StringField(_l("Zalo nhận thông báo"), validators=[Optional(), Length(max=64)])
    requires_result_approval = BooleanField(_l("Kết quả cần lãnh đạo đơn vị duyệt"))
    active = BooleanField(_l("Đang hoạt động"), default=True)


class FieldForm(Form):
    code = StringField(_l("Mã lĩnh vực"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Tên lĩnh vực"), validators=[DataRequired(), Length(max=200)])
    parent_id = SelectField(_l("Thuộc lĩnh vực (để trống nếu là lĩnh vực chính)"),
                            coerce=optional_int, validate_choice=False)
    description = TextAreaField(_l("Mô tả"), validators=[Optional(), Length(max=4000)])
    keywords = StringField(_l("Từ khoá"), validators=[Optional(), Length(max=400)])
    extra_questions = TextAreaField(
        _l("Câu hỏi bổ sung (JSON)"), validators=[Optional(), Length(max=20000)],
        description=_l('Ví dụ: [{"key": "bien_so", "label": "Biển số xe", "type": "text"}]'))
    active = BooleanField(_l("Đang dùng"), default=True)


class AreaForm(Form):
    code = StringField(_l("Mã đơn vị hành chính"), validators=[DataRequired(), Length(max=32)])
    name = StringField(_l("Tên"), validators=[DataRequired(), Length(max=200)])
    level = StringField(_l("Cấp (province / district / commune hoặc Tỉnh / Huyện / Xã)"),
                        validators=[DataRequired(), Length(max=40)])
    parent_code = StringField(_l("Mã đơn vị cấp trên"), validators=[Optional(), Length(max=32)])


class AreaEditForm(Form):
    name = StringField(_l("Tên"), validators=[DataRequired(), Length(max=200)])
    level = StringField(_l("Cấp"), validators=[DataRequired(), Length(max=40)])
    active = BooleanField(_l("Đang dùng (bỏ chọn khi đơn vị bị giải thể/sáp nhập)"))


class ReparentForm(Form):
    parent_code = StringField(_l("Mã đơn vị cấp trên mới (để trống: thành cấp cao nhất)"),
                              validators=[Optional(), Length(max=32)])


class CsvForm(Form):
    file = FileField(_l("Tệp CSV"), validators=[FileRequired(_l("Chọn tệp CSV."))])


class RuleForm(Form):
    field_id = SelectField(_l("Lĩnh vực"), coerce=optional_int, validate_choice=False)
    kind = SelectField(_l("Loại phiếu"), choices=KINDS)
    area_code = StringField(_l("Mã địa bàn cụ thể"), validators=[Optional(), Length(max=32)])
    area_level = StringField(_l("Hoặc cấp địa bàn (vd. commune)"),
                             validators=[Optional(), Length(max=32)])
    agency_id = SelectField(_l("Cơ quan xử lý (để trống: UBND quản lý địa bàn)"),
                            coerce=optional_int, validate_choice=False)
    note = StringField(_l("Ghi chú"), validators=[Optional(), Length(max=400)])
    active = BooleanField(_l("Đang áp dụng"), default=True)


class RuleTestForm(Form):
    class Meta:
        csrf = False  # a GET form that changes nothing

    field_id = SelectField(_l("Lĩnh vực"), coerce=optional_int, validate_choice=False)
    area_code = StringField(_l("Mã địa bàn"), validators=[Optional(), Length(max=32)])
    kind = SelectField(_l("Loại phiếu"), choices=KINDS)


class UserForm(Form):
    username = StringField(_l("Tên đăng nhập"), validators=[DataRequired(), Length(max=64)])
    full_name = StringField(_l("Họ tên"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Vai trò"), choices=ROLES)
    agency_id = SelectField(_l("Cơ quan"), coerce=optional_int, validate_choice=False)
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=254)])
    phone_extension = StringField(_l("Số máy lẻ"), validators=[Optional(), Length(max=16)])
    password = PasswordField(_l("Mật khẩu ban đầu (ít nhất 10 ký tự)"),
                             validators=[DataRequired(), Length(min=10, max=200)])


class UserEditForm(Form):
    full_name = StringField(_l("Họ tên"), validators=[DataRequired(), Length(max=200)])
    role = SelectField(_l("Vai trò"), choices=ROLES)
    agency_id = SelectField(_l("Cơ quan"), coerce=optional_int, validate_choice=False)
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=254)])
    phone_extension = StringField(_l("Số máy lẻ"), validators=[Optional(), Length(max=16)])


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of check boxes."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


API_SCOPES = choices((s.value, _l(label)) for s, label in API_SCOPE_LABELS_VI.items())


class ApiKeyForm(Form):
    name = StringField(_l("Tên ứng dụng dùng khoá"), validators=[DataRequired(), Length(max=200)])
    scopes = CheckboxesField(_l("Phạm vi (khoá chỉ làm được những việc được chọn)"),
                             choices=API_SCOPES, default=[ApiScope.OPEN311_WRITE.value],
                             validators=[DataRequired(_l("Chọn ít nhất một phạm vi."))])


class ArticleForm(Form):
    title = StringField(_l("Tiêu đề"), validators=[DataRequired(), Length(max=300)])
    field_id = SelectField(_l("Lĩnh vực"), coerce=optional_int, validate_choice=False)
    body = TextAreaField(_l("Nội dung"), validators=[DataRequired(), Length(max=50000)])
    source_url = StringField(_l("Liên kết nguồn (văn bản, cổng dịch vụ công)"),
                             validators=[Optional(), Length(max=500)])
    reviewed_on = DateField(_l("Ngày rà soát gần nhất"), validators=[Optional()])
    active = BooleanField(_l("Hiển thị cho điện thoại viên"), default=True)


class ConfirmForm(Form):
    """A bare POST with CSRF (deactivate, revoke, reset password)."""
