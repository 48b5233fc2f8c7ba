"""Forms of the public pages: shape and length only; the services enforce the rules."""
from __future__ import annotations

import uuid

from flask_babel import lazy_gettext as _l
from wtforms import (
    BooleanField,
    DateField,
    DecimalField,
    EmailField,
    HiddenField,
    MultipleFileField,
    RadioField,
    SelectField,
    StringField,
    TelField,
    TextAreaField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, Regexp

from hotline.domain.lifecycle import KIND_LABELS_VI
from hotline.web import public_submit as sub
from hotline.web.forms import Form


def choices(pairs) -> list[SelectChoice]:
    """(value, label) pairs as WTForms choices."""
    return [SelectChoice(value, label) for value, label in pairs]


class SubmitForm(Form):
    """The citizen's report, as a page. ``submission_id`` makes a double-click file one ticket.

    A POST is read by ``public_submit.read``, not by this form's ``validate``: these
    validators draw the inputs' ``required``/``maxlength``/``min``/``max``, from the limits
    that ``read`` enforces.
    """

    submission_id = HiddenField(default=lambda: uuid.uuid4().hex,
                                validators=[DataRequired(), Regexp(r"^[0-9a-f]{32}$")])
    # _l(v): the domain's labels are msgids (marked in hotline.web.labels_i18n).
    kind = RadioField(_l("Loại"), default="phan_anh", validators=[DataRequired()],
                      choices=choices((k.value, _l(v)) for k, v in KIND_LABELS_VI.items()))
    field_code = SelectField(_l("Lĩnh vực"), choices=[], validate_choice=False)
    area_code = SelectField(_l("Xã, phường nơi xảy ra"), choices=[], validate_choice=False)
    address = StringField(_l("Địa chỉ, địa điểm cụ thể"),
                          validators=[Optional(), Length(max=sub.ADDRESS_MAX)])
    description = TextAreaField(_l("Nội dung phản ánh, kiến nghị *"),
                                validators=[DataRequired(sub.NO_TEXT),
                                            Length(min=sub.DESCRIPTION_MIN,
                                                   max=sub.DESCRIPTION_MAX,
                                                   message=sub.TOO_SHORT)])
    lat = DecimalField(_l("Vĩ độ (không bắt buộc)"), places=None,
                       validators=[Optional(), NumberRange(-90, 90, sub.BAD_LAT)],
                       render_kw={"inputmode": "decimal", "placeholder": "11.5349"})
    lon = DecimalField(_l("Kinh độ (không bắt buộc)"), places=None,
                       validators=[Optional(), NumberRange(-180, 180, sub.BAD_LON)],
                       render_kw={"inputmode": "decimal", "placeholder": "106.8823"})
    photos = MultipleFileField(_l("Ảnh (tối đa 5 ảnh JPEG, PNG hoặc WebP)"),
                               render_kw={"accept": "image/jpeg,image/png,image/webp"})
    anonymous = BooleanField(_l("Gửi ẩn danh (không để lại thông tin liên hệ)"))
    name = StringField(_l("Họ và tên"), validators=[Optional(), Length(max=sub.NAME_MAX)],
                       render_kw={"autocomplete": "name"})
    phone = TelField(_l("Số điện thoại"), validators=[Optional(), Length(max=sub.PHONE_MAX)],
                     render_kw={"autocomplete": "tel"})
    email = EmailField(_l("E-mail"), validators=[Optional(), Length(max=sub.EMAIL_MAX)])
    # The default is to publish, redacted (Decision 31/2021/QĐ-TTg Art. 46): one box refuses.
    no_publish = BooleanField(
        _l("Tôi không đồng ý công khai nội dung và kết quả (mặc định: công khai sau khi ẩn "
           "họ tên, số điện thoại, địa chỉ của bạn)"))
    privacy_requested = BooleanField(_l("Không công khai số nhà, địa chỉ cụ thể"))
    # Honeypot: hidden from people by CSS and from screen readers; bots fill it in.
    website = StringField("Website", validators=[Optional()])


class StatusForm(Form):
    code = StringField(_l("Mã phiếu"), validators=[DataRequired(_l("Nhập mã phiếu.")),
                                                    Length(max=32)],
                       render_kw={"autocapitalize": "characters", "autocomplete": "off",
                                  "spellcheck": "false"})
    phone_last4 = StringField(_l("4 số cuối điện thoại đã dùng khi gửi"),
                              validators=[DataRequired(_l("Nhập 4 số cuối.")),
                                          Regexp(r"^\s*\d{4}\s*$", message=_l("Nhập đúng 4 chữ số."))],
                              render_kw={"inputmode": "numeric", "autocomplete": "off",
                                         "maxlength": 4})


class RatingForm(Form):
    rating = RadioField(_l("Mức độ hài lòng"), choices=choices([
        ("5", _l("5 — Rất hài lòng")), ("4", _l("4 — Hài lòng")), ("3", _l("3 — Bình thường")),
        ("2", _l("2 — Chưa hài lòng")), ("1", _l("1 — Rất không hài lòng"))]),
        validators=[DataRequired(_l("Chọn mức đánh giá."))])
    fixed = RadioField(_l("Vấn đề đã được khắc phục chưa?"), choices=choices([
        ("yes", _l("Đã khắc phục")), ("no", _l("Chưa khắc phục")), ("na", _l("Không áp dụng"))]),
        default="na")
    comment = TextAreaField(_l("Nhận xét (không bắt buộc)"), validators=[Optional(), Length(max=2000)])


class ResultsFilterForm(Form):
    """GET filters of the published results (no CSRF: it changes nothing)."""

    class Meta:
        csrf = False

    q = StringField(_l("Tìm kiếm"), validators=[Optional(), Length(max=200)])
    field = SelectField(_l("Lĩnh vực"), choices=[], validate_choice=False)
    area = SelectField(_l("Địa bàn"), choices=[], validate_choice=False)
    agency = SelectField(_l("Cơ quan xử lý"), choices=[], validate_choice=False)
    date_from = DateField(_l("Từ ngày"), validators=[Optional()])
    date_to = DateField(_l("Đến ngày"), validators=[Optional()])


class ModerationForm(Form):
    summary = TextAreaField(_l("Nội dung công khai"), validators=[DataRequired(), Length(max=10_000)])
    result = TextAreaField(_l("Kết quả công khai"), validators=[DataRequired(), Length(max=10_000)])


class UnpublishForm(Form):
    reason = StringField(_l("Lý do không công khai"), validators=[DataRequired(), Length(max=500)])
