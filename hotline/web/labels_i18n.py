"""Vietnamese labels kept outside Flask, marked here so ``pybabel extract`` finds them.

The domain, the models and the services hold their labels as plain Vietnamese
strings (the domain must not import Flask-Babel). The web layer translates them at
render time — the template filters in ``hotline.web.filters`` call ``gettext(label)``
and some templates write ``_(label)`` — and a label can only be translated if it is
a msgid in the catalog. The extractor reads literals, not dictionaries, so every
such label is repeated below inside ``N_()``. ``tests/web/test_i18n.py`` checks that
each source dictionary's values appear here, so a new status or role is not
silently left in Vietnamese on the English pages.
"""
from __future__ import annotations


def N_(message: str) -> str:
    """Mark ``message`` for extraction; translation happens where it is shown."""
    return message


# hotline.domain.lifecycle.LABELS_VI (filter status_label, status_badge)
STATUS_LABELS = (
    N_("Mới tiếp nhận"), N_("Đã trả lời trực tiếp"), N_("Từ chối"),
    N_("Đã chuyển cơ quan xử lý"), N_("Đang xử lý"), N_("Chờ người dân bổ sung"),
    N_("Trả lại tổng đài (sai thẩm quyền)"), N_("Đã có kết quả, chờ duyệt"),
    N_("Đã có kết quả"), N_("Đã công khai kết quả"), N_("Đã đóng"), N_("Mở lại"),
)

# hotline.domain.lifecycle.KIND_LABELS_VI (filter kind_label)
KIND_LABELS = (N_("Phản ánh"), N_("Kiến nghị"), N_("Hỏi đáp"))

# hotline.domain.messages.CHANNEL_LABELS_VI (filter channel_label)
CHANNEL_LABELS = (
    N_("Điện thoại"), N_("Cổng thông tin"), N_("E-mail"), N_("Telegram"), N_("Zalo"),
    N_("Facebook"), N_("Ứng dụng (Open311)"),
)

# hotline.models.user.ROLE_LABELS_VI (filter role_label)
ROLE_LABELS = (
    N_("Điện thoại viên"), N_("Cán bộ xử lý"), N_("Lãnh đạo đơn vị"), N_("Lãnh đạo / IOC"),
    N_("Quản trị hệ thống"), N_("Cán bộ bảo vệ dữ liệu cá nhân"),
)

# hotline.models.user.API_SCOPE_LABELS_VI (the API key form)
API_SCOPE_LABELS = (N_("Open311: gửi phản ánh"), N_("IOC: đọc số liệu tổng hợp"))

# hotline.web.filters.SLA_LABELS_VI and PRIORITY_LABELS_VI (filters sla_label, priority_label)
SLA_LABELS = (N_("Trong hạn"), N_("Sắp đến hạn"), N_("Quá hạn"), N_("Tạm dừng (chờ người dân)"))
PRIORITY_LABELS = (N_("Khẩn"), N_("Thường"), N_("Phức tạp"))

# hotline.web.errors.MESSAGES and the rate limits' messages (errors/error.html writes _(message))
ERROR_MESSAGES = (
    N_("Yêu cầu không hợp lệ."), N_("Bạn cần đăng nhập."),
    N_("Bạn không có quyền truy cập trang này."),
    N_("Không tìm thấy trang hoặc phiếu bạn yêu cầu."), N_("Thao tác không được hỗ trợ."),
    N_("Tệp tải lên quá lớn."), N_("Bạn thao tác quá nhanh. Vui lòng thử lại sau ít phút."),
    N_("Hệ thống gặp lỗi. Vui lòng thử lại sau."),
    N_("Quá nhiều lần đăng nhập sai. Vui lòng đợi ít phút rồi thử lại."),
    N_("Bạn đã tra cứu sai quá nhiều lần. Vui lòng thử lại sau ít phút."),
    N_("Bạn đã gửi nhiều phản ánh trong thời gian ngắn. "
       "Vui lòng thử lại sau ít phút hoặc gọi 1022."),
)

# hotline.auth: Flask-Login's login_message (translated through its localize_callback)
LOGIN_MESSAGES = (N_("Vui lòng đăng nhập để tiếp tục."),)

# hotline.web.auth_views.login_limits.TOO_MANY is in ERROR_MESSAGES above.

# hotline.services.reports: indicators.TREND_LABELS / MET_LABELS, periods.KIND_LABELS_VI,
# overdue.KINDS and the groupings, quality.VERDICTS (manager templates write _(label))
REPORT_LABELS = (
    N_("Tăng"), N_("Giảm"), N_("Bằng"), N_("Đạt"), N_("Không đạt"),
    N_("Tuần"), N_("Tháng"), N_("Quý"), N_("Tùy chọn"),
    N_("Quá hạn"), N_("Sắp đến hạn"),
    N_("Theo đơn vị"), N_("Theo cấp đơn vị"), N_("Theo địa bàn cấp tỉnh"),
    N_("Theo địa bàn cấp huyện"), N_("Theo địa bàn cấp xã"),
    N_("Trả lời đúng"), N_("Cần chỉnh sửa"),
)

# hotline.services.handling.REJECT_REASONS (operator/ticket.html writes _(label))
REJECT_REASONS = (
    N_("Tin rác, quấy rối hoặc không có nội dung"),
    N_("Không thuộc phạm vi tiếp nhận của Tổng đài 1022"), N_("Lý do khác"),
)

# hotline.services.admin.ops.PERIODIC_JOB_LABELS_VI (admin/system.html writes _(label))
PERIODIC_JOB_LABELS = (
    N_("Tạo phiếu từ tin đến còn chờ"), N_("Quét hạn xử lý (SLA)"),
    N_("Gửi tin nhắn đang chờ gửi"), N_("Thư tổng hợp hằng ngày"),
    N_("Cập nhật số liệu báo cáo"), N_("Ẩn danh dữ liệu cá nhân hết hạn lưu giữ"),
    N_("Hỏi người dân đã được khắc phục chưa"), N_("Huấn luyện lại mô hình gợi ý phân loại"),
)
