"""Demo data: today's Đồng Nai (with Bình Phước's former units), agencies, rules, staff, N tickets.

``seed(tickets=500, seed=1022)`` builds the organisation (areas, agencies,
fields, routing rules, SLA policies, knowledge base, one account per role) and
then plays ``tickets`` citizen messages of the last 90 days through the real
intake (``services.intake.receive``: routing, SLA clock, events, outbox), moves
them along the lifecycle with timestamped events, marks the demo's outbox as
already sent (nobody real is messaged) and runs the SLA scan. It flushes and
never commits: the caller (``flask seed-demo``) commits once.

The same seed gives the same data (names, places, texts, statuses); instants are
relative to the moment of seeding. Ticket codes are random, as in production.
Officials appear only by role title. The area tree is the official one: today's
two-level Đồng Nai (tỉnh → xã/phường, since 1 July 2025) with the former three-level
Bình Phước (tỉnh → huyện → xã) as history. Tickets fall in former Bình Phước, where
the 1022 hotline began: recent ones on today's wards, a share of older ones (received
before the reform) on the former communes, each with its ward of today.
"""
from __future__ import annotations

import random
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache
from zoneinfo import ZoneInfo

from flask import current_app
from sqlalchemy import func, select, update

from hotline.config import local_zone
from hotline.domain import lifecycle, text
from hotline.domain import sla as sla_domain
from hotline.domain.errors import PermissionDenied, ValidationError
from hotline.domain.lifecycle import Kind, Status
from hotline.domain.messages import Channel, ContactHandle, IncomingMessage
from hotline.domain.redact import redact
from hotline.extensions import db
from hotline.models import (
    Agency,
    Area,
    Contact,
    Field,
    InboundMessage,
    KbArticle,
    OutboxMessage,
    Role,
    RoutingRule,
    SlaPolicy,
    Ticket,
    TicketEvent,
    User,
    utcnow,
)
from hotline.services import accounts, area_trees, events, intake, outbox, routing, sla
from hotline.services import official_units as official
from hotline.services.admin.audit import Actor
from hotline.services.calendar import get_calendar

DAYS_BACK = 90
WORK_DAY_MINUTES = 480

# --- The province ---------------------------------------------------------------------------

PROVINCE_CODE = "75"
PROVINCE_NAME = "Tỉnh Đồng Nai"
# The former province whose units the tickets fall in (loaded as history, prefixed "old.").
FORMER_PROVINCE = "Bình Phước"
# One ticket in HISTORY_EVERY was received before the reform, under a former unit.
HISTORY_EVERY = 6

# Former districts of Bình Phước (codes before the reform; areas "old.<code>"):
# (code, name, approximate centre, weight in ticket volume, streets, communes)
DISTRICTS: tuple[tuple[str, str, tuple[float, float], float, tuple[str, ...], tuple[str, ...]], ...] = (
    ("689", "Thành phố Đồng Xoài", (11.534, 106.883), 3.0,
     ("đường Phú Riềng Đỏ", "đường Hùng Vương", "đường Trần Hưng Đạo", "đường Nguyễn Huệ",
      "đường Lê Duẩn", "Quốc lộ 14", "đường Hoàng Văn Thụ"),
     ("Phường Tân Phú", "Phường Tân Bình", "Phường Tân Xuân", "Xã Tiến Hưng", "Xã Tân Thành")),
    ("688", "Thị xã Phước Long", (11.829, 106.996), 1.4,
     ("đường Lê Quý Đôn", "đường Nguyễn Tất Thành", "ĐT 741", "đường Đinh Tiên Hoàng"),
     ("Phường Long Thủy", "Phường Thác Mơ", "Phường Sơn Giang", "Xã Long Giang")),
    ("690", "Thị xã Bình Long", (11.653, 106.601), 1.4,
     ("Quốc lộ 13", "đường Nguyễn Huệ", "đường Trần Hưng Đạo", "đường Lê Lợi"),
     ("Phường An Lộc", "Phường Hưng Chiến", "Phường Phú Thịnh", "Xã Thanh Lương")),
    ("697", "Thị xã Chơn Thành", (11.430, 106.657), 1.6,
     ("Quốc lộ 13", "Quốc lộ 14", "đường Trần Hưng Đạo", "đường 3 Tháng 2"),
     ("Phường Hưng Long", "Phường Thành Tâm", "Phường Minh Long", "Xã Nha Bích")),
    ("695", "Huyện Đồng Phú", (11.480, 106.944), 1.0,
     ("ĐT 741", "đường Lê Duẩn", "đường liên xã"),
     ("Thị trấn Tân Phú", "Xã Tân Lập", "Xã Thuận Lợi", "Xã Đồng Tâm")),
    ("694", "Huyện Hớn Quản", (11.611, 106.680), 0.9,
     ("Quốc lộ 13", "ĐT 757", "đường liên xã"),
     ("Thị trấn Tân Khai", "Xã Tân Hưng", "Xã Minh Đức", "Xã Thanh An")),
    ("698", "Huyện Phú Riềng", (11.711, 106.929), 0.9,
     ("ĐT 741", "đường liên xã", "đường liên ấp"),
     ("Xã Phú Riềng", "Xã Bù Nho", "Xã Long Hưng", "Xã Phước Tân")),
    ("693", "Huyện Bù Đốp", (11.985, 106.823), 0.6,
     ("ĐT 759B", "đường Trần Hưng Đạo", "đường liên xã"),
     ("Thị trấn Thanh Bình", "Xã Thiện Hưng", "Xã Tân Tiến")),
    ("691", "Huyện Bù Gia Mập", (11.933, 107.070), 0.7,
     ("ĐT 759", "ĐT 741", "đường liên thôn"),
     ("Xã Phú Nghĩa", "Xã Đak Ơ", "Xã Bù Gia Mập", "Xã Đức Hạnh")),
    ("692", "Huyện Lộc Ninh", (11.838, 106.588), 1.0,
     ("Quốc lộ 13", "đường Nguyễn Tất Thành", "đường 2 Tháng 9"),
     ("Thị trấn Lộc Ninh", "Xã Lộc Tấn", "Xã Lộc Hưng", "Xã Lộc Thái")),
    ("696", "Huyện Bù Đăng", (11.772, 107.240), 1.0,
     ("Quốc lộ 14", "đường Lê Duẩn", "đường liên thôn"),
     ("Thị trấn Đức Phong", "Xã Minh Hưng", "Xã Đức Liễu", "Xã Bom Bo")),
)


@dataclass(frozen=True)
class FormerCommune:
    """A commune of the former tree, with its ward of today (official codes)."""

    code: str                      # "old.25195"
    name: str
    lat: float
    lon: float
    ward_code: str                 # today's ward that took it over
    ward_name: str


@cache
def commune_codes() -> dict[str, list[FormerCommune]]:
    """Former district code → its demo communes, from the official data (same every time)."""
    former = {(u.parent_code, u.name): u for u in official.legacy_tree(["tinhbinhphuoc"])
              if u.level == "commune"}
    wards = {u.code: u for u in official.current_tree(PROVINCE_CODE)}
    successor = official.successors("tinhdongnai")
    out: dict[str, list[FormerCommune]] = {}
    for d_code, _n, _c, _w, _s, communes in DISTRICTS:
        out[d_code] = []
        for name in communes:
            unit = former[(official.LEGACY_PREFIX + d_code, name)]
            ward = wards[successor[unit.code].code]
            out[d_code].append(FormerCommune(unit.code, name, unit.lat, unit.lon, ward.code,
                                             ward.name))
    return out


def ward_of_former(name: str) -> str:
    """Today's ward code for a demo commune's former name ("Phường Tân Phú" → "25195")."""
    return next(c.ward_code for communes in commune_codes().values() for c in communes
                if c.name == name)


def _lower_unit(name: str) -> str:
    """"Phường Tân Phú" → "phường Tân Phú" (how a sentence names the place)."""
    return name[0].lower() + name[1:]


# (code, name, requires result approval)
PROVINCIAL_AGENCIES: tuple[tuple[str, str, bool], ...] = (
    ("SO-GDDT", "Sở Giáo dục và Đào tạo", False),
    ("SO-CT", "Sở Công Thương", False),
    ("SO-GTVT", "Sở Giao thông vận tải", False),
    ("SO-KHDT", "Sở Kế hoạch và Đầu tư", False),
    ("SO-KHCN", "Sở Khoa học và Công nghệ", False),
    ("SO-LDTBXH", "Sở Lao động - Thương binh và Xã hội", False),
    ("SO-NV", "Sở Nội vụ", False),
    ("SO-NNPTNT", "Sở Nông nghiệp và Phát triển nông thôn", False),
    ("SO-TNMT", "Sở Tài nguyên và Môi trường", True),
    ("SO-TTTT", "Sở Thông tin và Truyền thông", False),
    ("SO-XD", "Sở Xây dựng", True),
    ("SO-YT", "Sở Y tế", True),
    ("SO-VHTTDL", "Sở Văn hóa, Thể thao và Du lịch", False),
    ("SO-TP", "Sở Tư pháp", False),
    ("SO-TC", "Sở Tài chính", False),
    ("SO-NGV", "Sở Ngoại vụ", False),
    ("CA-TINH", "Công an tỉnh", True),
    ("BQL-KKT", "Ban Quản lý Khu kinh tế", False),
    ("VP-UBND", "Văn phòng UBND tỉnh", True),
)
SERVICE_COMPANIES: tuple[tuple[str, str, bool], ...] = (
    ("CTN-BP", "Công ty Cổ phần Cấp thoát nước Bình Phước", False),
    ("DIENLUC-BP", "Điện lực Bình Phước", False),
)
EMAIL_DOMAIN = "dongnai.example.gov.vn"

# (code, name, keywords, extra questions for the operator form)
FIELDS: tuple[tuple[str, str, str, list[str] | None], ...] = (
    ("GT", "Giao thông", "ổ gà, mặt đường, đèn tín hiệu, biển báo, cầu, gờ giảm tốc", None),
    ("TTDT", "Trật tự đô thị, lấn chiếm lòng đường",
     "lấn chiếm, vỉa hè, lòng đường, buôn bán, chợ tự phát, quảng cáo", None),
    ("ON", "Ô nhiễm tiếng ồn", "karaoke, loa kẹo kéo, tiếng ồn, nhạc lớn, xưởng ban đêm",
     ["Tiếng ồn xảy ra vào khung giờ nào?", "Địa chỉ nơi phát ra tiếng ồn?"]),
    ("MT", "Môi trường, rác thải", "rác thải, đổ trộm, mùi hôi, nước thải, khói bụi, chăn nuôi",
     ["Tình trạng kéo dài bao lâu?"]),
    ("NUOC", "Cấp thoát nước", "mất nước, nước yếu, vỡ ống, nước đục, ngập, cống", None),
    ("CS", "Chiếu sáng đô thị, đèn đường", "đèn đường, chiếu sáng công cộng, bóng đèn", None),
    ("DIEN", "Điện sinh hoạt", "mất điện, cúp điện, điện chập chờn, dây điện, trụ điện",
     ["Mã khách hàng sử dụng điện (nếu có)?"]),
    ("DD", "Đất đai", "sổ đỏ, giấy chứng nhận, tách thửa, san lấp, phân lô, bồi thường", None),
    ("XD", "Xây dựng", "xây dựng không phép, giấy phép xây dựng, công trình, vật liệu xây dựng", None),
    ("TTHC", "Thủ tục hành chính", "hồ sơ, một cửa, trễ hẹn, dịch vụ công, cư trú, căn cước", None),
    ("YT", "Y tế", "bệnh viện, trạm y tế, bảo hiểm y tế, an toàn thực phẩm", None),
    ("GD", "Giáo dục", "trường học, học phí, khoản thu, tuyển sinh", None),
    ("LDTBXH", "Lao động - Thương binh và Xã hội",
     "trợ cấp, bảo trợ xã hội, người có công, thất nghiệp, tiền lương", None),
    ("ANTT", "An ninh trật tự", "trộm cắp, đua xe, tụ tập, ma túy, gây rối", None),
    ("TP", "Hộ tịch - Tư pháp", "khai sinh, kết hôn, lý lịch tư pháp, chứng thực", None),
    ("GPLX", "Giấy phép lái xe", "đổi bằng lái, cấp lại giấy phép lái xe, sát hạch", None),
    ("TTTT", "Thông tin - Truyền thông", "sóng điện thoại, internet, tin nhắn rác, cáp viễn thông", None),
    ("CT", "Công Thương", "xăng dầu, hàng giả, giá cả, chợ", None),
    ("NN", "Nông nghiệp", "dịch bệnh gia súc, dịch tả heo, thuốc bảo vệ thực vật, thủy lợi", None),
    ("KCN", "Khu công nghiệp, khu kinh tế", "khu công nghiệp, doanh nghiệp, công nhân, nợ lương", None),
)

# What a routing rule says, by codes; turned into RoutingRule rows once the ids exist.
# (field, agency code or None for "the committee governing the area", area code, area level,
#  kind, note)
RULES: tuple[tuple[str, str | None, str | None, str | None, str | None, str], ...] = (
    ("GT", "SO-GTVT", None, None, None, "Giao thông đường bộ do Sở GTVT xử lý."),
    ("GPLX", "SO-GTVT", None, None, "phan_anh", "Phản ánh về cấp, đổi GPLX."),
    ("GPLX", "SO-GTVT", None, None, "kien_nghi", "Kiến nghị về cấp, đổi GPLX."),
    ("TTHC", "VP-UBND", None, None, "phan_anh",
     "Phản ánh thủ tục hành chính; câu hỏi thủ tục do tổng đài trả lời."),
    ("TTHC", "VP-UBND", None, None, "kien_nghi", "Kiến nghị về thủ tục hành chính."),
    ("TP", "SO-TP", None, None, "phan_anh", "Phản ánh hộ tịch, tư pháp."),
    ("TP", "SO-TP", None, None, "kien_nghi", "Kiến nghị hộ tịch, tư pháp."),
    ("YT", "SO-YT", None, None, None, "Y tế."),
    ("GD", "SO-GDDT", None, None, None, "Giáo dục."),
    ("LDTBXH", "SO-LDTBXH", None, None, None, "Lao động, chính sách xã hội."),
    ("TTTT", "SO-TTTT", None, None, None, "Viễn thông, thông tin."),
    ("CT", "SO-CT", None, None, None, "Thương mại, xăng dầu, thị trường."),
    ("NN", "SO-NNPTNT", None, None, None, "Nông nghiệp, thú y."),
    ("KCN", "BQL-KKT", None, None, None, "Doanh nghiệp trong khu công nghiệp, khu kinh tế."),
    ("ANTT", "CA-TINH", None, None, None, "An ninh trật tự."),
    ("NUOC", "CTN-BP", None, None, None, "Nước sạch đô thị."),
    ("NUOC", "SO-NNPTNT", "25396", None, None,
     "Xã Bù Đăng: cấp nước nông thôn do Trung tâm Nước sạch và VSMT nông thôn quản lý."),
    ("DIEN", "DIENLUC-BP", None, None, None, "Điện sinh hoạt."),
    ("TTDT", None, None, "commune", None, "Trật tự đô thị: UBND cấp xã nơi xảy ra."),
    ("ON", None, None, "commune", None, "Tiếng ồn: UBND cấp xã nơi xảy ra."),
    ("MT", None, None, "commune", None, "Rác thải, vệ sinh môi trường: UBND cấp xã."),
    ("MT", "SO-TNMT", None, "province", None, "Môi trường, khi chưa rõ xã, phường."),
    ("XD", None, None, "commune", None, "Trật tự xây dựng: UBND cấp xã (từ 1/7/2025)."),
    ("XD", "SO-XD", None, None, None, "Xây dựng, khi không gắn với địa bàn cụ thể."),
    ("DD", None, None, "commune", None, "Đất đai: UBND cấp xã (từ 1/7/2025)."),
    ("DD", "SO-TNMT", None, None, None, "Đất đai, khi không gắn với địa bàn cụ thể."),
    ("CS", None, "25195", None, None, "Chiếu sáng đô thị phường Bình Phước: UBND phường."),
    ("CS", None, "25210", None, None, "Chiếu sáng đô thị phường Đồng Xoài: UBND phường."),
    ("CS", "SO-XD", None, None, None, "Chiếu sáng đô thị các địa bàn khác."),
)

# The agency an operator picks by hand for a field when the router has no answer.
FIELD_HOME = {"GT": "SO-GTVT", "GPLX": "SO-GTVT", "TTHC": "VP-UBND", "TP": "SO-TP", "YT": "SO-YT",
              "GD": "SO-GDDT", "LDTBXH": "SO-LDTBXH", "TTTT": "SO-TTTT", "CT": "SO-CT",
              "NN": "SO-NNPTNT", "KCN": "BQL-KKT", "ANTT": "CA-TINH", "NUOC": "CTN-BP",
              "DIEN": "DIENLUC-BP", "MT": "SO-TNMT", "DD": "SO-TNMT", "XD": "SO-XD", "CS": "SO-XD"}

# (name, field, kind, priority, resolution minutes, first response minutes, due-soon fraction,
#  due-soon max minutes) — working time; 1 working day = 480 minutes.
SLA_POLICIES: tuple[tuple, ...] = (
    ("Khẩn cấp (4 giờ làm việc)", None, None, "urgent", 240, 60, 0.25, 60),
    ("Thông thường (5 ngày làm việc)", None, None, "normal", 5 * 480, 480, 0.2, 480),
    ("Phức tạp (10 ngày làm việc)", None, None, "complex", 10 * 480, 2 * 480, 0.2, 480),
    ("Hỏi đáp (3 ngày làm việc)", None, "hoi_dap", "normal", 3 * 480, 480, 0.2, 480),
    ("An ninh trật tự khẩn (2 giờ làm việc)", "ANTT", None, "urgent", 120, 30, 0.25, 30),
)

DEMO_PASSWORD_PREFIX = "Demo@1022-"


def demo_password(username: str) -> str:
    """The documented demo password of a demo account (change it before real use)."""
    return f"{DEMO_PASSWORD_PREFIX}{username}"


# (username, role, full name, agency code, phone extension)
USERS: tuple[tuple[str, str, str, str | None, str | None], ...] = (
    ("dtv01", Role.OPERATOR, "Điện thoại viên 01", None, "101"),
    ("dtv02", Role.OPERATOR, "Điện thoại viên 02", None, "102"),
    ("xuly.soxd", Role.HANDLER, "Cán bộ xử lý Sở Xây dựng", "SO-XD", None),
    ("xuly.binhphuoc", Role.HANDLER, "Cán bộ xử lý UBND phường Bình Phước", "UBND-25195", None),
    ("lanhdao.soxd", Role.AGENCY_LEAD, "Lãnh đạo Sở Xây dựng", "SO-XD", None),
    ("lanhdao.tinh", Role.MANAGER, "Lãnh đạo UBND tỉnh (IOC)", None, None),
    ("quantri", Role.ADMIN, "Quản trị hệ thống", None, None),
    ("baove.dlcn", Role.PRIVACY_OFFICER, "Cán bộ bảo vệ dữ liệu cá nhân", None, None),
)

# --- Knowledge base -------------------------------------------------------------------------

_DVC = "https://dichvucong.gov.vn/p/home/dvc-tthc-thu-tuc-hanh-chinh.html?keyword="
_KB_NOTE = ("\n\n(Dữ liệu mẫu: đối chiếu thủ tục hiện hành trên Cổng Dịch vụ công quốc gia "
            "trước khi trả lời người dân.)")


@dataclass(frozen=True)
class KbEntry:
    key: str
    title: str
    field: str
    slug: str
    answer: str   # what the operator tells the citizen
    body: str     # the full article


KB: tuple[KbEntry, ...] = (
    KbEntry("gplx", "Cấp đổi giấy phép lái xe", "GPLX", "doi+giay+phep+lai+xe",
            "Anh/chị có thể nộp hồ sơ đổi giấy phép lái xe trực tuyến trên Cổng Dịch vụ công quốc gia "
            "hoặc trực tiếp tại Bộ phận một cửa của cơ quan cấp giấy phép lái xe của tỉnh. Hồ sơ gồm "
            "đơn đề nghị đổi theo mẫu, giấy phép lái xe đang dùng và giấy khám sức khỏe (với hạng ô tô). "
            "Thời hạn giải quyết không quá 05 ngày làm việc kể từ khi nhận đủ hồ sơ hợp lệ.",
            "Đối tượng: người có giấy phép lái xe sắp hết hạn, đã hết hạn, bị hỏng hoặc cần đổi sang "
            "mẫu mới.\nHồ sơ: đơn đề nghị đổi giấy phép lái xe theo mẫu; giấy phép lái xe đang sử dụng; "
            "giấy khám sức khỏe của người lái xe do cơ sở y tế có thẩm quyền cấp (đối với hạng xe ô tô).\n"
            "Cách nộp: trực tuyến trên Cổng Dịch vụ công quốc gia (thanh toán lệ phí trực tuyến) hoặc "
            "trực tiếp tại Bộ phận một cửa.\nThời hạn: không quá 05 ngày làm việc kể từ ngày nhận đủ "
            "hồ sơ hợp lệ.\nLệ phí: theo biểu phí hiện hành (135.000 đồng/lần)."),
    KbEntry("khaisinh", "Đăng ký khai sinh", "TP", "dang+ky+khai+sinh",
            "Trong 60 ngày kể từ ngày sinh, cha hoặc mẹ đăng ký khai sinh cho con tại UBND xã, phường, "
            "thị trấn nơi cư trú của cha hoặc mẹ, hoặc nộp trực tuyến trên Cổng Dịch vụ công. Cần tờ khai "
            "theo mẫu và giấy chứng sinh; đăng ký đúng hạn được miễn lệ phí.",
            "Cơ quan giải quyết: UBND cấp xã nơi cư trú của cha hoặc mẹ.\nHồ sơ: tờ khai đăng ký khai "
            "sinh theo mẫu; giấy chứng sinh (nếu không có thì văn bản của người làm chứng hoặc giấy cam "
            "đoan về việc sinh); giấy tờ tùy thân của người đi đăng ký.\nThời hạn: giải quyết ngay trong "
            "ngày; hồ sơ nộp sau 15 giờ được trả trong ngày làm việc tiếp theo.\nLệ phí: miễn lệ phí khi "
            "đăng ký đúng hạn.\nCó thể dùng dịch vụ liên thông: đăng ký khai sinh – đăng ký thường trú – "
            "cấp thẻ bảo hiểm y tế cho trẻ dưới 6 tuổi."),
    KbEntry("lltp", "Cấp Phiếu lý lịch tư pháp", "TP", "ly+lich+tu+phap",
            "Công dân nộp hồ sơ cấp Phiếu lý lịch tư pháp tại Sở Tư pháp nơi thường trú hoặc trực tuyến "
            "trên Cổng Dịch vụ công/ứng dụng VNeID. Thời hạn không quá 10 ngày làm việc; phí 200.000 "
            "đồng/lần (sinh viên, người có công được giảm 50%).",
            "Cơ quan giải quyết: Sở Tư pháp nơi thường trú (hoặc nơi tạm trú) của công dân.\nHồ sơ: tờ "
            "khai yêu cầu cấp Phiếu lý lịch tư pháp theo mẫu; bản chụp giấy tờ tùy thân; giấy tờ chứng "
            "minh nơi cư trú (nếu dữ liệu dân cư chưa có).\nThời hạn: không quá 10 ngày làm việc; trường "
            "hợp phải xác minh thêm không quá 15 ngày.\nPhí: 200.000 đồng/lần; sinh viên, người có công "
            "với cách mạng 100.000 đồng/lần; một số đối tượng được miễn."),
    KbEntry("thuongtru", "Đăng ký thường trú", "TTHC", "dang+ky+thuong+tru",
            "Anh/chị nộp hồ sơ đăng ký thường trú tại Công an xã, phường, thị trấn nơi cư trú hoặc trực "
            "tuyến qua Cổng Dịch vụ công/ứng dụng VNeID. Hồ sơ gồm tờ khai thay đổi thông tin cư trú "
            "và giấy tờ chứng minh chỗ ở hợp pháp; thời hạn 07 ngày làm việc.",
            "Cơ quan giải quyết: Công an cấp xã nơi cư trú.\nHồ sơ: tờ khai thay đổi thông tin cư trú; "
            "giấy tờ, tài liệu chứng minh chỗ ở hợp pháp (giấy chứng nhận quyền sử dụng đất, hợp đồng "
            "thuê, mượn nhà có ý kiến đồng ý của chủ hộ…).\nThời hạn: 07 ngày làm việc kể từ ngày nhận "
            "đủ hồ sơ.\nCách nộp: trực tiếp hoặc trực tuyến; kết quả được cập nhật vào Cơ sở dữ liệu "
            "quốc gia về dân cư."),
    KbEntry("gpxd", "Cấp giấy phép xây dựng nhà ở riêng lẻ", "XD", "giay+phep+xay+dung+nha+o",
            "Giấy phép xây dựng nhà ở riêng lẻ do UBND cấp huyện cấp, nộp tại Bộ phận một cửa cấp huyện "
            "hoặc trực tuyến. Hồ sơ gồm đơn đề nghị, giấy tờ về quyền sử dụng đất và bản vẽ thiết kế; "
            "thời hạn 15 ngày. Nhà ở nông thôn ngoài khu vực có quy hoạch được miễn giấy phép.",
            "Cơ quan giải quyết: UBND cấp huyện nơi có công trình.\nHồ sơ: đơn đề nghị cấp giấy phép xây "
            "dựng theo mẫu; bản sao giấy tờ chứng minh quyền sử dụng đất; 02 bộ bản vẽ thiết kế (mặt "
            "bằng, mặt cắt, mặt đứng, móng, đấu nối hạ tầng).\nThời hạn: 15 ngày kể từ ngày nhận đủ hồ "
            "sơ hợp lệ.\nMiễn giấy phép: nhà ở riêng lẻ ở nông thôn dưới 7 tầng không thuộc khu vực có "
            "quy hoạch đô thị, quy hoạch xây dựng khu chức năng hoặc khu bảo tồn."),
    KbEntry("kethon", "Đăng ký kết hôn", "TP", "dang+ky+ket+hon",
            "Hai bên nam, nữ đến UBND xã, phường, thị trấn nơi cư trú của một trong hai người, mang tờ "
            "khai đăng ký kết hôn và giấy tờ tùy thân (kèm giấy xác nhận tình trạng hôn nhân nếu đăng ký "
            "ngoài nơi thường trú). Giải quyết ngay trong ngày, miễn lệ phí.",
            "Cơ quan giải quyết: UBND cấp xã nơi cư trú của bên nam hoặc bên nữ.\nHồ sơ: tờ khai đăng ký "
            "kết hôn theo mẫu; giấy xác nhận tình trạng hôn nhân (nếu đăng ký ở nơi không phải nơi thường "
            "trú); giấy tờ tùy thân.\nThủ tục: hai bên cùng có mặt khi đăng ký.\nThời hạn: ngay trong ngày "
            "nhận hồ sơ; trường hợp cần xác minh không quá 05 ngày làm việc.\nLệ phí: miễn."),
    KbEntry("bhyt", "Cấp lại thẻ bảo hiểm y tế bị mất, hỏng", "YT", "cap+lai+the+bao+hiem+y+te",
            "Khi mất thẻ bảo hiểm y tế, anh/chị vẫn đi khám bằng thẻ BHYT trên ứng dụng VssID hoặc "
            "VNeID. Muốn cấp lại thẻ giấy, nộp tờ khai tại cơ quan Bảo hiểm xã hội cấp huyện hoặc qua "
            "Cổng Dịch vụ công.",
            "Cơ quan giải quyết: Bảo hiểm xã hội cấp huyện hoặc tỉnh.\nHồ sơ: tờ khai tham gia, điều "
            "chỉnh thông tin BHXH, BHYT theo mẫu.\nThay thế: thẻ BHYT điện tử trên ứng dụng VssID và "
            "VNeID có giá trị sử dụng khi khám, chữa bệnh.\nThời hạn: cấp lại trong ngày làm việc đến "
            "không quá 07 ngày tùy trường hợp."),
    KbEntry("tachthua", "Tách thửa đất", "DD", "tach+thua+dat",
            "Hồ sơ tách thửa nộp tại Bộ phận một cửa cấp huyện hoặc Chi nhánh Văn phòng đăng ký đất đai: "
            "đơn đề nghị tách thửa, giấy chứng nhận quyền sử dụng đất bản gốc. Diện tích tối thiểu được "
            "tách theo quy định của UBND tỉnh.",
            "Cơ quan giải quyết: Chi nhánh Văn phòng đăng ký đất đai cấp huyện.\nHồ sơ: đơn đề nghị tách "
            "thửa, hợp thửa theo mẫu; bản gốc giấy chứng nhận quyền sử dụng đất.\nĐiều kiện: thửa đất "
            "đã có giấy chứng nhận, không có tranh chấp, diện tích sau tách không nhỏ hơn diện tích tối "
            "thiểu theo quyết định của UBND tỉnh.\nThời hạn: không quá 15 ngày làm việc (không kể thời "
            "gian đo đạc và thực hiện nghĩa vụ tài chính)."),
    KbEntry("tracuu", "Tra cứu tình trạng hồ sơ thủ tục hành chính", "TTHC", "tra+cuu+ho+so",
            "Anh/chị tra cứu hồ sơ trên Cổng Dịch vụ công của tỉnh bằng mã hồ sơ in trên giấy tiếp nhận "
            "và hẹn trả kết quả, hoặc quét mã QR trên giấy hẹn. Hồ sơ trễ hẹn thì cơ quan giải quyết phải "
            "có văn bản xin lỗi và hẹn lại.",
            "Cách tra cứu: nhập mã hồ sơ trên giấy tiếp nhận vào ô tra cứu của Cổng Dịch vụ công tỉnh "
            "hoặc quét mã QR trên giấy hẹn; hồ sơ nộp trực tuyến xem trong mục Quản lý hồ sơ của tài "
            "khoản.\nHồ sơ quá hạn: cơ quan giải quyết gửi phiếu xin lỗi và hẹn lại ngày trả kết quả; "
            "người dân có thể phản ánh qua Tổng đài 1022."),
    KbEntry("thatnghiep", "Hưởng trợ cấp thất nghiệp", "LDTBXH", "tro+cap+that+nghiep",
            "Trong 03 tháng kể từ ngày chấm dứt hợp đồng lao động, người lao động nộp hồ sơ tại Trung "
            "tâm Dịch vụ việc làm tỉnh hoặc trực tuyến. Điều kiện: đã đóng bảo hiểm thất nghiệp đủ 12 "
            "tháng trở lên trong 24 tháng trước khi nghỉ việc.",
            "Cơ quan giải quyết: Trung tâm Dịch vụ việc làm tỉnh.\nHồ sơ: đề nghị hưởng trợ cấp thất "
            "nghiệp theo mẫu; bản sao quyết định thôi việc hoặc hợp đồng lao động đã hết hạn; sổ bảo "
            "hiểm xã hội.\nThời hạn nộp: trong 03 tháng kể từ ngày chấm dứt hợp đồng.\nĐiều kiện: đóng "
            "bảo hiểm thất nghiệp từ đủ 12 tháng trở lên trong 24 tháng trước khi chấm dứt hợp đồng."),
    KbEntry("cancuoc", "Cấp thẻ căn cước cho trẻ em dưới 14 tuổi", "TTHC", "cap+can+cuoc",
            "Cha, mẹ hoặc người giám hộ làm thủ tục cấp thẻ căn cước cho trẻ dưới 14 tuổi tại cơ quan "
            "Công an nơi cư trú; trẻ dưới 6 tuổi có thể đăng ký trực tuyến qua ứng dụng VNeID hoặc Cổng "
            "Dịch vụ công mà không cần đến thu nhận sinh trắc học.",
            "Đối tượng: công dân Việt Nam dưới 14 tuổi, cấp theo nhu cầu.\nNgười làm thủ tục: cha, mẹ "
            "hoặc người giám hộ.\nNơi làm: cơ quan Công an nơi cư trú; trẻ dưới 06 tuổi có thể đăng ký "
            "trực tuyến.\nThời hạn: theo quy định của Luật Căn cước, không quá 07 ngày làm việc."),
    KbEntry("matdien", "Báo sự cố mất điện, điện chập chờn", "DIEN", "cung+cap+dien",
            "Khi mất điện, anh/chị kiểm tra thông báo lịch ngừng cung cấp điện trên ứng dụng chăm sóc "
            "khách hàng của ngành điện, rồi báo sự cố qua tổng đài chăm sóc khách hàng của Điện lực kèm "
            "mã khách hàng để được xử lý.",
            "Lịch ngừng, giảm cung cấp điện được thông báo trước ít nhất 05 ngày trên ứng dụng, trang "
            "thông tin của ngành điện và qua tin nhắn.\nBáo sự cố: tổng đài chăm sóc khách hàng của "
            "Điện lực, cung cấp mã khách hàng, địa chỉ và hiện tượng.\nTổng đài 1022 chuyển Điện lực "
            "các sự cố kéo dài hoặc ảnh hưởng an toàn."),
)
KB_BY_KEY = {k.key: k for k in KB}

# --- Ticket templates -----------------------------------------------------------------------


@dataclass(frozen=True)
class Template:
    key: str
    field: str | None
    kind: str
    where: str            # commune / district / province / none: how precisely the place is known
    title: str
    body: str
    result: str = ""      # the agency's answer (placeholders as in body, plus {agency}, {date})
    priority: str = "normal"
    weight: float = 1.0
    kb: str | None = None          # hỏi đáp the operator answers from this article
    reject: str | None = None      # rejected by the operator with this reason
    reply_on_reject: bool = True
    channels: tuple[str, ...] | None = None


T = Template
TEMPLATES: tuple[Template, ...] = (
    # Giao thông
    T("gt_oga", "GT", "phan_anh", "commune", "Ổ gà lớn trên {street}",
      "Mặt đường {street} đoạn qua {place} xuất hiện nhiều ổ gà sâu, trời mưa đọng nước, xe máy đi "
      "qua rất nguy hiểm, đã có người té ngã. Đề nghị cơ quan chức năng sớm sửa chữa.",
      "{agency} đã chỉ đạo đơn vị quản lý, bảo trì đường bộ kiểm tra và vá ổ gà trên {street} đoạn qua "
      "{place} ngày {date}. Mặt đường đã được khắc phục, đảm bảo an toàn giao thông.", weight=2.5),
    T("gt_den", "GT", "phan_anh", "commune", "Đèn tín hiệu giao thông không hoạt động",
      "Đèn tín hiệu giao thông tại nút giao trên {street} ({place}) không hoạt động từ sáng nay, xe cộ "
      "qua lại lộn xộn, dễ xảy ra tai nạn.",
      "Đơn vị quản lý đã thay thế bộ điều khiển đèn tín hiệu bị hỏng ngày {date}; đèn đã hoạt động "
      "bình thường.", priority="urgent", weight=1.0),
    T("gt_gogiam", "GT", "kien_nghi", "commune", "Đề nghị lắp gờ giảm tốc trước cổng trường",
      "Đoạn {street} trước cổng trường tiểu học ở {place} xe tải chạy tốc độ cao, giờ tan học rất nguy "
      "hiểm cho học sinh. Đề nghị lắp gờ giảm tốc và biển báo khu vực trường học.",
      "{agency} đã khảo sát hiện trường; ngày {date} đã bổ sung biển báo khu vực trường học và sơn "
      "vạch giảm tốc trên {street} đoạn trước cổng trường.", weight=0.8),
    T("gt_bienbao", "GT", "phan_anh", "commune", "Biển báo giao thông bị cây che khuất",
      "Biển báo hạn chế tốc độ trên {street} đoạn qua {place} bị cây xanh che khuất, người đi đường "
      "không quan sát được.",
      "Đơn vị quản lý đường bộ đã cắt tỉa cây xanh, biển báo trên {street} đã thông thoáng (ngày {date}).",
      weight=0.6),
    # Trật tự đô thị
    T("ttdt_viahe", "TTDT", "phan_anh", "commune", "Lấn chiếm vỉa hè buôn bán trên {street}",
      "Nhiều hộ kinh doanh trên {street}, {hamlet}, {place} bày hàng hóa, để xe lấn chiếm toàn bộ vỉa "
      "hè, người đi bộ phải đi xuống lòng đường.",
      "{agency} đã lập đoàn kiểm tra, nhắc nhở các hộ kinh doanh trên {street}, lập biên bản các trường "
      "hợp tái phạm; vỉa hè đã được giải tỏa ngày {date}. Địa phương tiếp tục kiểm tra thường xuyên.",
      weight=3.0),
    T("ttdt_quan", "TTDT", "phan_anh", "commune", "Quán nhậu kê bàn ghế lấn chiếm lòng đường",
      "Quán nhậu tại số {n} {street}, {place} kê bàn ghế lấn chiếm lòng đường vào buổi tối, gây cản "
      "trở giao thông.",
      "Lực lượng trật tự đô thị của {agency} đã kiểm tra, yêu cầu chủ quán thu dọn bàn ghế và ký cam kết "
      "không tái phạm (ngày {date}).", weight=1.5),
    T("ttdt_quangcao", "TTDT", "phan_anh", "commune", "Quảng cáo rao vặt dán tràn lan trên cột điện",
      "Tình trạng dán, sơn quảng cáo khoan cắt bê tông, cho vay tiền trên cột điện, tường nhà dọc "
      "{street} ({place}) gây mất mỹ quan đô thị.",
      "{agency} đã tổ chức bóc, xóa quảng cáo rao vặt trên {street} và chuyển Công an xử lý các số điện "
      "thoại quảng cáo trái phép.", weight=1.0),
    T("ttdt_cho", "TTDT", "phan_anh", "commune", "Chợ tự phát họp dưới lòng đường",
      "Chợ tự phát họp từ 5 giờ sáng trên {street} gần {hamlet}, {place}, hàng rong bày cả xuống lòng "
      "đường gây ùn tắc.",
      "{agency} đã bố trí lực lượng ra quân giải tỏa chợ tự phát, vận động tiểu thương vào chợ "
      "truyền thống; duy trì kiểm tra vào buổi sáng.", weight=1.0),
    # Tiếng ồn
    T("on_karaoke", "ON", "phan_anh", "commune", "Hát karaoke gây ồn sau 22 giờ",
      "Một hộ gia đình tại {hamlet}, {place} thường xuyên hát karaoke bằng loa công suất lớn đến sau 23 "
      "giờ, ảnh hưởng giấc ngủ của người già và trẻ nhỏ xung quanh. Đề nghị chính quyền địa phương kiểm "
      "tra, xử lý.",
      "{agency} đã giao Công an {place} xác minh, mời hộ gia đình lên làm việc, nhắc nhở và yêu cầu cam "
      "kết không hát karaoke gây ồn sau 22 giờ; sẽ xử phạt nếu tái phạm.", weight=3.0),
    T("on_cafe", "ON", "phan_anh", "commune", "Quán cà phê mở nhạc quá lớn",
      "Quán cà phê trên {street}, {place} mở nhạc rất lớn từ sáng đến khuya, các hộ xung quanh đã góp ý "
      "nhưng chủ quán không chấp hành.",
      "{agency} đã kiểm tra, lập biên bản vi phạm về tiếng ồn đối với chủ quán cà phê; quán đã giảm âm "
      "lượng và cam kết tuân thủ.", weight=1.2),
    T("on_xuong", "ON", "phan_anh", "commune", "Xưởng gỗ hoạt động gây ồn ban đêm",
      "Xưởng cưa gỗ tại {hamlet}, {place} hoạt động cả ban đêm, tiếng máy cưa gây ồn và bụi gỗ bay vào "
      "nhà dân.",
      "{agency} đã kiểm tra xưởng gỗ, yêu cầu chỉ hoạt động trong giờ hành chính và lắp vách ngăn giảm "
      "ồn, giảm bụi.", weight=0.8),
    # Môi trường
    T("mt_dotrom", "MT", "phan_anh", "commune", "Rác thải bị đổ trộm ven đường",
      "Đoạn {street} gần {hamlet}, {place} bị đổ trộm rác thải sinh hoạt và xà bần thành đống lớn, bốc "
      "mùi hôi thối, ruồi nhặng nhiều.",
      "{agency} đã phối hợp đơn vị thu gom thu dọn toàn bộ rác thải ngày {date}, cắm biển cấm đổ rác và "
      "giao tổ dân phố giám sát.", weight=2.5),
    T("mt_thugom", "MT", "phan_anh", "commune", "Rác không được thu gom nhiều ngày",
      "Rác thải sinh hoạt tại {hamlet}, {place} đã {days} ngày chưa được thu gom, rác tràn ra đường, "
      "mùi hôi.",
      "Đơn vị thu gom đã bố trí xe thu gom bổ sung; {agency} yêu cầu đơn vị thực hiện đúng lịch thu gom "
      "đã công bố.", weight=1.5),
    T("mt_heo", "MT", "phan_anh", "commune", "Trại heo xả nước thải gây mùi hôi",
      "Trại chăn nuôi heo tại {hamlet}, {place} xả nước thải ra suối, gây mùi hôi nồng nặc cho các hộ dân "
      "xung quanh, nhất là vào ban đêm.",
      "{agency} đã phối hợp phòng Tài nguyên và Môi trường kiểm tra, lấy mẫu nước thải, lập biên bản và "
      "yêu cầu chủ trại khắc phục hệ thống xử lý nước thải trong 30 ngày.", priority="complex",
      weight=1.2),
    T("mt_mucaosu", "MT", "phan_anh", "commune", "Cơ sở chế biến mủ cao su gây mùi hôi",
      "Cơ sở sơ chế mủ cao su gần {hamlet}, {place} bốc mùi hôi thối, người dân xung quanh phải đóng "
      "kín cửa cả ngày.",
      "Đoàn kiểm tra đã làm việc với cơ sở, yêu cầu khắc phục hệ thống xử lý mùi và nước thải; kết quả "
      "kiểm tra được công khai tại {place}.", priority="complex", weight=0.8),
    T("mt_dotrac", "MT", "phan_anh", "commune", "Đốt rác gây khói bụi",
      "Tình trạng đốt rác, đốt lá cao su ngay cạnh khu dân cư {hamlet}, {place} gây khói bụi mù mịt.",
      "{agency} đã nhắc nhở các hộ đốt rác, tuyên truyền phân loại và thu gom rác đúng quy định.",
      weight=0.8),
    # Nước
    T("nuoc_mat", "NUOC", "phan_anh", "commune", "Mất nước sinh hoạt không báo trước",
      "Khu vực {hamlet}, {place} bị mất nước sinh hoạt từ {h} giờ sáng nay đến giờ chưa có lại, không "
      "nhận được thông báo trước.",
      "{agency} thông tin: mất nước do sự cố đường ống chính, đã khắc phục và cấp nước trở lại; đơn vị "
      "xin lỗi khách hàng vì chưa kịp thông báo.", weight=2.0),
    T("nuoc_vo", "NUOC", "phan_anh", "commune", "Vỡ đường ống cấp nước",
      "Đường ống cấp nước trên {street} đoạn qua {place} bị vỡ, nước chảy tràn ra mặt đường mấy tiếng "
      "đồng hồ.",
      "{agency} đã cử tổ sửa chữa khóa van, thay đoạn ống bị vỡ và hoàn trả mặt đường ngày {date}.",
      priority="urgent", weight=1.0),
    T("nuoc_duc", "NUOC", "phan_anh", "commune", "Nước máy có màu đục, mùi lạ",
      "Mấy ngày nay nước máy tại {hamlet}, {place} có màu vàng đục, có mùi lạ, người dân không dám dùng "
      "để nấu ăn.",
      "{agency} đã súc xả đường ống, lấy mẫu nước kiểm nghiệm; kết quả đạt quy chuẩn nước sạch sinh hoạt.",
      weight=0.8),
    # Chiếu sáng
    T("cs_hong", "CS", "phan_anh", "commune", "Đèn đường không sáng trên {street}",
      "Hệ thống đèn chiếu sáng công cộng trên {street} đoạn qua {place} bị hỏng khoảng {n2} bóng, buổi "
      "tối đường tối om, tiềm ẩn nguy cơ mất an toàn.",
      "{agency} đã chỉ đạo đơn vị quản lý chiếu sáng thay thế {n2} bóng đèn hỏng trên {street} ngày "
      "{date}; hệ thống chiếu sáng đã hoạt động bình thường.", weight=3.0),
    T("cs_ngay", "CS", "phan_anh", "commune", "Đèn đường sáng cả ban ngày",
      "Đèn đường trên {street} ({place}) sáng cả ban ngày nhiều hôm liền, gây lãng phí điện.",
      "Đơn vị quản lý đã cài đặt lại bộ hẹn giờ của tủ điều khiển chiếu sáng trên {street}.", weight=1.0),
    # Điện
    T("dien_mat", "DIEN", "phan_anh", "commune", "Mất điện không báo trước",
      "Khu vực {hamlet}, {place} bị mất điện từ {h} giờ, không có thông báo lịch cắt điện trước, nhiều "
      "hộ kinh doanh bị thiệt hại.",
      "{agency} thông tin: mất điện do sự cố trên đường dây trung thế, đã khắc phục và cấp điện trở lại; "
      "lịch ngừng cấp điện có kế hoạch được thông báo trước trên ứng dụng chăm sóc khách hàng.",
      weight=2.0, kb=None),
    T("dien_day", "DIEN", "phan_anh", "commune", "Dây điện võng thấp, nguy hiểm",
      "Dây điện hạ thế trước nhà số {n} {street}, {place} bị võng thấp, xe tải đi qua có thể vướng, rất "
      "nguy hiểm.",
      "{agency} đã cử đội quản lý vận hành căng lại dây và bổ sung trụ đỡ ngày {date}.",
      priority="urgent", weight=0.8),
    T("dien_chapchon", "DIEN", "phan_anh", "commune", "Điện chập chờn làm hư thiết bị",
      "Điện ở {hamlet}, {place} chập chờn, điện áp yếu vào buổi tối, nhiều gia đình bị hư tủ lạnh, máy "
      "bơm.",
      "{agency} đã kiểm tra, hoán chuyển máy biến áp có công suất lớn hơn cho khu vực; điện áp đã ổn "
      "định.", weight=1.0),
    # Đất đai
    T("dd_cham", "DD", "kien_nghi", "district", "Chậm cấp giấy chứng nhận quyền sử dụng đất",
      "Tôi nộp hồ sơ cấp giấy chứng nhận quyền sử dụng đất lần đầu tại Bộ phận một cửa {district} từ "
      "{months} tháng trước nhưng đến nay chưa nhận được kết quả, cũng không được giải thích lý do.",
      "{agency} đã kiểm tra: hồ sơ chậm do phải bổ sung trích đo địa chính; đã hoàn tất và hẹn trả kết "
      "quả cho người dân, đồng thời phê bình bộ phận để hồ sơ trễ hạn.", priority="complex", weight=1.5),
    T("dd_phanlo", "DD", "phan_anh", "commune", "San lấp đất nông nghiệp, phân lô bán nền",
      "Một số hộ tại {hamlet}, {place} tự ý san lấp đất trồng cây lâu năm, làm đường nội bộ để phân lô "
      "bán nền.",
      "{agency} đã kiểm tra, lập biên bản vi phạm hành chính về đất đai, buộc khôi phục tình trạng ban "
      "đầu của đất và tạm dừng mọi giao dịch liên quan.", priority="complex", weight=1.2),
    T("dd_tachthua_hd", "DD", "hoi_dap", "commune", "Hỏi thủ tục tách thửa đất",
      "Tôi muốn tách thửa đất ở {place} để chia cho con, xin hỏi cần chuẩn bị hồ sơ gì, nộp ở đâu và "
      "diện tích tối thiểu được tách là bao nhiêu?",
      "{agency} trả lời: hồ sơ tách thửa nộp tại Bộ phận một cửa cấp huyện; diện tích tối thiểu áp dụng "
      "theo quyết định của UBND tỉnh; cán bộ địa chính {place} hướng dẫn cụ thể khi người dân liên hệ.",
      weight=0.8),
    # Xây dựng
    T("xd_khongphep", "XD", "phan_anh", "commune", "Công trình xây dựng không phép",
      "Công trình nhà ở tại {hamlet}, {place} đang xây dựng nhưng không treo biển báo cấp phép, lấn ra "
      "hành lang {street}.",
      "{agency} đã kiểm tra, lập biên bản đình chỉ thi công công trình vi phạm, yêu cầu chủ đầu tư tự "
      "tháo dỡ phần lấn chiếm hành lang đường.", weight=1.5),
    T("xd_giavlxd", "XD", "kien_nghi", "province", "Đề nghị công bố giá vật liệu xây dựng",
      "Giá cát, đá xây dựng trên địa bàn tỉnh thời gian gần đây tăng cao bất thường. Đề nghị cơ quan "
      "chức năng công bố giá và kiểm tra việc găm hàng.",
      "{agency} đã công bố giá vật liệu xây dựng quý này trên Cổng thông tin điện tử của Sở và phối hợp "
      "các đơn vị kiểm tra việc niêm yết giá.", weight=0.6),
    T("xd_hatang", "XD", "phan_anh", "none", "Khu dân cư chậm hoàn thiện hạ tầng",
      "Khu dân cư mới nơi gia đình tôi mua đất đã nhiều năm nhưng chủ đầu tư vẫn chưa hoàn thiện hệ thống "
      "thoát nước, đường nội bộ xuống cấp.",
      "{agency} đã làm việc với chủ đầu tư, yêu cầu hoàn thiện hạ tầng theo tiến độ cam kết và báo cáo "
      "kết quả.", priority="complex", weight=0.6),
    T("xd_gpxd_hd", "XD", "hoi_dap", "none", "Hỏi thủ tục xin giấy phép xây dựng nhà ở",
      "Gia đình tôi chuẩn bị xây nhà 2 tầng, xin hỏi có phải xin giấy phép xây dựng không và hồ sơ gồm "
      "những gì?", kb="gpxd", weight=0.8),
    # Thủ tục hành chính
    T("tthc_trehen", "TTHC", "phan_anh", "commune", "Hồ sơ trễ hẹn tại Bộ phận một cửa",
      "Tôi nộp hồ sơ tại Bộ phận tiếp nhận và trả kết quả của {place}, giấy hẹn trả kết quả đã quá {days} "
      "ngày nhưng vẫn chưa có kết quả, cũng không có phiếu xin lỗi và hẹn lại.",
      "{agency} đã đôn đốc cơ quan giải quyết; hồ sơ đã có kết quả, cơ quan giải quyết đã gửi thư xin lỗi "
      "người dân và chấn chỉnh việc trễ hẹn.", weight=1.2),
    T("tthc_cong", "TTHC", "kien_nghi", "none", "Cổng dịch vụ công thường xuyên bị lỗi",
      "Tôi nộp hồ sơ trực tuyến nhưng Cổng dịch vụ công của tỉnh thường xuyên báo lỗi khi tải tệp đính "
      "kèm, phải làm lại nhiều lần.",
      "{agency} đã chuyển Trung tâm Công nghệ thông tin và Truyền thông khắc phục lỗi tải tệp; hệ thống "
      "đã hoạt động ổn định.", weight=0.7),
    T("tthc_thuongtru_hd", "TTHC", "hoi_dap", "commune", "Hỏi thủ tục đăng ký thường trú",
      "Tôi mới mua nhà ở {place}, muốn chuyển hộ khẩu về đây thì làm thủ tục ở đâu, cần những giấy tờ gì?",
      kb="thuongtru", weight=1.6),
    T("tthc_tracuu_hd", "TTHC", "hoi_dap", "none", "Hỏi cách tra cứu hồ sơ trực tuyến",
      "Tôi nộp hồ sơ ở Bộ phận một cửa tuần trước, làm sao để biết hồ sơ đã giải quyết đến đâu?",
      kb="tracuu", weight=1.2),
    T("tthc_cancuoc_hd", "TTHC", "hoi_dap", "none", "Hỏi thủ tục làm căn cước cho con nhỏ",
      "Con tôi 5 tuổi, muốn làm thẻ căn cước cho cháu thì có bắt buộc không và làm ở đâu?",
      kb="cancuoc", weight=1.0),
    # Giấy phép lái xe
    T("gplx_doi_hd", "GPLX", "hoi_dap", "none", "Hỏi thủ tục đổi giấy phép lái xe",
      "Giấy phép lái xe hạng B2 của tôi sắp hết hạn, tôi muốn hỏi thủ tục cấp đổi, có làm trực tuyến "
      "được không?", kb="gplx", weight=2.0),
    T("gplx_cham", "GPLX", "phan_anh", "none", "Chậm trả giấy phép lái xe sau sát hạch",
      "Tôi đã thi đạt sát hạch lái xe hơn một tháng nhưng vẫn chưa nhận được giấy phép lái xe, gọi điện "
      "hỏi thì không ai trả lời.",
      "{agency} đã kiểm tra: giấy phép lái xe của công dân đã in xong, đã liên hệ để công dân nhận tại Bộ "
      "phận một cửa.", weight=0.6),
    # Hộ tịch - tư pháp
    T("tp_khaisinh_hd", "TP", "hoi_dap", "commune", "Hỏi thủ tục đăng ký khai sinh",
      "Con tôi mới sinh được 2 tuần tại bệnh viện, xin hỏi làm giấy khai sinh ở đâu, cần giấy tờ gì?",
      kb="khaisinh", weight=1.8),
    T("tp_lltp_hd", "TP", "hoi_dap", "none", "Hỏi thủ tục cấp phiếu lý lịch tư pháp",
      "Tôi cần phiếu lý lịch tư pháp để nộp hồ sơ xin việc, xin hỏi làm ở đâu và mất bao lâu?",
      kb="lltp", weight=1.4),
    T("tp_kethon_hd", "TP", "hoi_dap", "commune", "Hỏi thủ tục đăng ký kết hôn",
      "Tôi ở {place}, bạn gái tôi thường trú ở tỉnh khác, chúng tôi muốn đăng ký kết hôn thì làm thủ tục "
      "ở đâu?", kb="kethon", weight=0.8),
    T("tp_chungthuc", "TP", "phan_anh", "commune", "Thu phí chứng thực sai quy định",
      "Bộ phận chứng thực của {place} thu phí chứng thực bản sao cao hơn mức quy định và không xuất "
      "biên lai.",
      "{agency} đã kiểm tra, yêu cầu UBND {place} niêm yết công khai mức phí và hoàn trả khoản thu sai "
      "cho người dân.", weight=0.5),
    # Y tế
    T("yt_thaido", "YT", "phan_anh", "district", "Thái độ phục vụ tại trung tâm y tế",
      "Tôi đưa người nhà đi khám tại Trung tâm Y tế {district}, phải chờ rất lâu, nhân viên có thái độ "
      "thiếu niềm nở với người bệnh.",
      "{agency} đã chỉ đạo Trung tâm Y tế kiểm điểm nhân viên liên quan, bố trí thêm bàn khám giờ cao "
      "điểm và xin lỗi người bệnh.", weight=1.0),
    T("yt_bhyt_hd", "YT", "hoi_dap", "none", "Hỏi cấp lại thẻ bảo hiểm y tế bị mất",
      "Tôi làm mất thẻ bảo hiểm y tế, nay cần đi khám bệnh thì làm sao, cấp lại thẻ ở đâu?",
      "{agency} trả lời: người dân dùng thẻ BHYT điện tử trên ứng dụng VssID hoặc VNeID khi đi khám; "
      "cấp lại thẻ giấy tại cơ quan Bảo hiểm xã hội cấp huyện.", kb="bhyt", weight=1.0),
    T("yt_thucpham", "YT", "phan_anh", "commune", "Cơ sở kinh doanh thực phẩm mất vệ sinh",
      "Một cơ sở bán thức ăn sẵn trên {street}, {place} chế biến thực phẩm mất vệ sinh, để thực phẩm "
      "sống chín lẫn lộn.",
      "Đoàn kiểm tra an toàn thực phẩm đã kiểm tra, xử phạt cơ sở và yêu cầu khắc phục các điều kiện vệ "
      "sinh.", weight=0.7),
    # Giáo dục
    T("gd_khoanthu", "GD", "phan_anh", "commune", "Trường thu các khoản ngoài quy định",
      "Đầu năm học, một trường tiểu học ở {place} thu nhiều khoản đóng góp ngoài quy định, phụ huynh "
      "khó khăn không đóng thì bị nhắc nhở trước lớp.",
      "{agency} đã kiểm tra, yêu cầu nhà trường dừng và hoàn trả các khoản thu không đúng quy định, kiểm "
      "điểm trách nhiệm của hiệu trưởng.", weight=0.9),
    T("gd_tuyensinh_hd", "GD", "hoi_dap", "none", "Hỏi lịch tuyển sinh lớp 10",
      "Con tôi năm nay thi vào lớp 10, xin hỏi lịch thi và cách đăng ký nguyện vọng trực tuyến?",
      "{agency} trả lời: lịch tuyển sinh lớp 10 và hướng dẫn đăng ký nguyện vọng trực tuyến được đăng "
      "trên trang thông tin của Sở; phụ huynh liên hệ trường THCS đang học để được hỗ trợ.", weight=0.6),
    # Lao động - TB&XH
    T("ld_trocap", "LDTBXH", "kien_nghi", "commune", "Chậm chi trả trợ cấp xã hội hằng tháng",
      "Mẹ tôi 82 tuổi ở {hamlet}, {place}, thuộc diện hưởng trợ cấp xã hội hằng tháng nhưng đã {months} "
      "tháng chưa nhận được tiền.",
      "{agency} đã kiểm tra: việc chi trả bị chậm do chuyển đổi phương thức chi trả qua tài khoản; đã chi "
      "trả đủ số tiền còn thiếu ngày {date}.", weight=1.0),
    T("ld_thatnghiep_hd", "LDTBXH", "hoi_dap", "none", "Hỏi thủ tục hưởng trợ cấp thất nghiệp",
      "Tôi vừa nghỉ việc ở công ty trong khu công nghiệp, đã đóng bảo hiểm 3 năm, xin hỏi thủ tục nhận "
      "trợ cấp thất nghiệp?",
      "{agency} trả lời: người lao động nộp hồ sơ tại Trung tâm Dịch vụ việc làm tỉnh trong 03 tháng kể "
      "từ ngày chấm dứt hợp đồng lao động.", kb="thatnghiep", weight=1.0),
    # An ninh trật tự
    T("antt_duaxe", "ANTT", "phan_anh", "commune", "Thanh niên tụ tập đua xe ban đêm",
      "Nhiều đêm gần đây, nhóm thanh niên tụ tập đua xe, nẹt pô trên {street} đoạn qua {place} từ 23 giờ "
      "đến 2 giờ sáng, người dân rất bức xúc.",
      "{agency} đã chỉ đạo Công an {district} tăng cường tuần tra vào ban đêm trên {street}, tạm giữ "
      "phương tiện và xử lý các trường hợp vi phạm.", priority="urgent", weight=1.2),
    T("antt_trom", "ANTT", "phan_anh", "commune", "Trộm cắp tài sản tại khu dân cư",
      "Thời gian gần đây tại {hamlet}, {place} liên tiếp xảy ra trộm xe máy, trộm mủ cao su, người dân "
      "đề nghị tăng cường tuần tra.",
      "{agency} đã chỉ đạo Công an {place} tăng cường tuần tra, vận động người dân lắp camera và thành "
      "lập tổ an ninh tự quản.", weight=1.2),
    # Thông tin - truyền thông
    T("tttt_song", "TTTT", "kien_nghi", "commune", "Sóng điện thoại yếu, không có Internet",
      "Khu vực {hamlet}, {place} sóng điện thoại di động rất yếu, không truy cập được Internet, học sinh "
      "học trực tuyến gặp khó khăn.",
      "{agency} đã làm việc với các doanh nghiệp viễn thông; trạm phát sóng mới phục vụ khu vực đã được "
      "đưa vào kế hoạch lắp đặt.", priority="complex", weight=0.9),
    T("tttt_cap", "TTTT", "phan_anh", "commune", "Cáp viễn thông treo lòng thòng",
      "Dây cáp viễn thông trên {street} ({place}) treo lòng thòng, có đoạn sà xuống sát mặt đường, mất mỹ "
      "quan và nguy hiểm.",
      "{agency} đã yêu cầu các doanh nghiệp viễn thông chỉnh trang, bó gọn cáp trên {street}.", weight=0.8),
    T("tttt_luadao", "TTTT", "phan_anh", "none", "Cuộc gọi giả danh cơ quan nhà nước lừa đảo",
      "Tôi liên tục nhận cuộc gọi tự xưng cán bộ cơ quan nhà nước yêu cầu cài ứng dụng để cập nhật định "
      "danh điện tử.",
      "{agency} đã chuyển số điện thoại cho doanh nghiệp viễn thông ngăn chặn và khuyến cáo người dân "
      "không cài ứng dụng lạ, không cung cấp mã OTP.", weight=0.7),
    # Công Thương, Nông nghiệp, KCN
    T("ct_xangdau", "CT", "phan_anh", "commune", "Cửa hàng xăng dầu ngưng bán",
      "Cửa hàng xăng dầu trên {street}, {place} treo biển hết hàng vào buổi chiều dù vẫn còn xăng trong "
      "bồn.",
      "{agency} đã kiểm tra, xử phạt cửa hàng vì ngừng bán không có lý do chính đáng; cửa hàng đã bán "
      "hàng trở lại.", weight=0.6),
    T("nn_dichta", "NN", "phan_anh", "commune", "Heo chết bất thường, nghi dịch tả heo châu Phi",
      "Một số hộ chăn nuôi tại {hamlet}, {place} có heo chết bất thường, nghi dịch tả heo châu Phi, có hộ "
      "vứt xác heo xuống suối.",
      "{agency} đã chỉ đạo Chi cục Chăn nuôi và Thú y lấy mẫu xét nghiệm, tiêu hủy heo bệnh, khử trùng "
      "khu vực và xử lý hộ vứt xác heo.", priority="urgent", weight=0.7),
    T("kcn_luong", "KCN", "phan_anh", "district", "Công ty trong khu công nghiệp chậm trả lương",
      "Công ty nơi tôi làm việc trong khu công nghiệp tại {district} chậm trả lương hai tháng, công nhân "
      "chưa được giải thích.",
      "{agency} đã làm việc với doanh nghiệp; doanh nghiệp cam kết và đã trả đủ lương tồn đọng cho người "
      "lao động.", weight=0.7),
    # Rejected by the operator
    T("rej_toco", None, "phan_anh", "commune", "Tố cáo cán bộ địa chính xã gây khó khăn",
      "Tôi muốn tố cáo cán bộ địa chính {place} gây khó khăn, đòi tiền khi làm hồ sơ đất đai cho gia đình "
      "tôi.",
      reject="Nội dung thuộc lĩnh vực tố cáo, không thuộc phạm vi tiếp nhận của Tổng đài 1022. Đề nghị "
             "công dân gửi đơn tố cáo đến cơ quan có thẩm quyền theo quy định của Luật Tố cáo (Thanh tra "
             "huyện hoặc UBND cấp huyện).", weight=0.5),
    T("rej_khieunai", None, "kien_nghi", "district", "Khiếu nại quyết định thu hồi đất",
      "Gia đình tôi không đồng ý với quyết định thu hồi đất và mức bồi thường của {district}, đề nghị xem "
      "xét lại.",
      reject="Nội dung thuộc lĩnh vực khiếu nại, không thuộc phạm vi của Tổng đài 1022. Đề nghị công dân "
             "gửi đơn khiếu nại đến người đã ra quyết định theo quy định của Luật Khiếu nại.", weight=0.4),
    T("rej_spam", None, "phan_anh", "none", "Vay tiền nhanh lãi suất thấp",
      "Vay tiền nhanh chỉ cần căn cước, giải ngân trong ngày, lãi suất thấp, liên hệ ngay!",
      reject="Tin nhắn quảng cáo, không có nội dung phản ánh, kiến nghị.", reply_on_reject=False,
      channels=("zalo", "facebook", "email", "telegram"), weight=0.4),
    T("rej_nham", None, "phan_anh", "none", "Cuộc gọi không có nội dung",
      "Người gọi không trình bày nội dung, điện thoại viên đã hỏi lại nhiều lần nhưng không nhận được "
      "phản hồi.",
      reject="Cuộc gọi không có nội dung phản ánh.", reply_on_reject=False, channels=("phone",),
      weight=0.4),
)
TEMPLATE_BY_KEY = {t.key: t for t in TEMPLATES}

CHANNEL_WEIGHTS = (("phone", 52), ("zalo", 16), ("web", 10), ("facebook", 8), ("email", 6),
                   ("telegram", 4), ("open311", 4))
# Local hour of the day a message arrives, 0..23.
HOUR_WEIGHTS = (0.2, 0.1, 0.1, 0.1, 0.2, 0.5, 1, 3, 6, 7, 7, 5, 2.5, 4, 6, 6, 5, 3, 2, 2.5, 2.5, 2,
                1.5, 0.6)

FAMILY = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
          "Hồ", "Ngô", "Dương", "Lý", "Điểu", "Thị")
FAMILY_WEIGHTS = (32, 11, 9, 7, 4, 4, 4, 3, 4, 3, 3, 2, 2, 2, 2, 1, 1, 0.5)
MIDDLE_M = ("Văn", "Hữu", "Đức", "Minh", "Quốc", "Thanh", "Công")
MIDDLE_F = ("Thị", "Ngọc", "Thu", "Kim", "Thanh", "Mỹ", "Thúy")
GIVEN_M = ("Hùng", "Dũng", "Tuấn", "Minh", "Hải", "Phong", "Long", "Nam", "Sơn", "Thắng", "Tài",
           "Lộc", "Phúc", "Khang", "Bình", "Toàn", "Hiếu", "Trung")
GIVEN_F = ("Lan", "Hương", "Hoa", "Mai", "Linh", "Trang", "Thảo", "Hạnh", "Nga", "Yến", "Nhung",
           "Tuyết", "Phượng", "Diễm", "Vy", "Loan")
MOBILE_PREFIXES = ("090", "093", "070", "079", "077", "076", "078", "091", "094", "088",
                   "083", "084", "085", "081", "082", "096", "097", "098", "086", "032", "033",
                   "034", "035", "036", "037", "038", "039")

GOOD_COMMENTS = ("Cảm ơn cơ quan chức năng đã xử lý nhanh.", "Đã khắc phục, gia đình rất hài lòng.",
                 "Cán bộ nhiệt tình, phản hồi rõ ràng.", None, None)
BAD_COMMENTS = ("Chưa xử lý dứt điểm, tình trạng vẫn tiếp diễn.", "Xử lý quá chậm.",
                "Trả lời chung chung, không giải quyết được việc.")
FOLLOWUP_TEXTS = ("Bổ sung: tình trạng vẫn tiếp diễn, đề nghị xử lý sớm.",
                  "Bổ sung: tôi đã gửi kèm vị trí, mong cơ quan chức năng xuống kiểm tra.",
                  "Tối qua tình trạng còn nặng hơn, mong được xử lý.")


# --- The plan: everything the seed decides, without a database ----------------------------


@dataclass(frozen=True)
class TicketPlan:
    """One demo message, fully decided by the seed (times are offsets from the seeding day)."""

    index: int
    template: str
    channel: str
    kind: str
    priority: str
    field_code: str | None     # what the message carries (None: the operator classifies)
    true_field: str | None     # what it is about
    area_code: str | None
    district_code: str
    address: str | None
    title: str
    text: str
    values: dict
    day_offset: int
    seconds_of_day: int
    weekend_u: float
    contact: ContactHandle
    lat: float | None
    lon: float | None
    consent_publish: bool
    privacy_requested: bool
    followup: str | None       # None, "text" or "location"
    followup_minutes: int
    # Received before the 2025 reform: filed under the former unit (area_code is "old.…").
    historical: bool = False


def plan_tickets(n: int, seed: int) -> list[TicketPlan]:
    """The ``n`` demo messages of ``seed``: pure, deterministic, no database."""
    rng = random.Random(seed)
    codes = commune_codes()
    district_weights = [d[3] for d in DISTRICTS]
    templates = _template_choices(rng, n)
    used_phones: set[str] = set()
    used_handles: set[str] = set()
    phone_callers: list[ContactHandle] = []
    plans = []
    for i in range(n):
        tpl = TEMPLATE_BY_KEY[templates[i]]
        # Every draw happens for every ticket, so one ticket's choices never shift another's.
        u_channel, u_area, u_nofield, u_prio = rng.random(), rng.random(), rng.random(), rng.random()
        d_index = rng.choices(range(len(DISTRICTS)), district_weights)[0]
        d_code, d_name, _centre, _w, streets, _communes = DISTRICTS[d_index]
        commune = rng.choice(codes[d_code])
        c_name = commune.name
        street = rng.choice(streets)
        hamlet_no = rng.randint(1, 9)
        values = {
            "street": street,
            "place": _lower_unit(c_name),
            "district": _lower_unit(d_name),
            "hamlet": (f"khu phố {hamlet_no}" if c_name.startswith(("Phường", "Thị trấn"))
                       else f"ấp {hamlet_no}"),
            "n": rng.randint(3, 420),
            "n2": rng.randint(3, 12),
            "h": rng.choice((5, 6, 7, 8, 9, 10)),
            "days": rng.randint(3, 9),
            "months": rng.randint(2, 7),
        }
        channel = _pick_channel(u_channel, tpl)
        # Older tickets (received before the reform) stay on the former units; the rest on
        # today's wards, their addresses written the old way or the new one.
        historical = i % HISTORY_EVERY == HISTORY_EVERY - 1 and not (tpl.kb or tpl.reject)
        area_code, address = _place(tpl.where, u_area, d_code, d_name, commune, values,
                                    house=rng.randint(1, 480), historical=historical)
        field_code = tpl.field if u_nofield >= 0.10 else None
        priority = tpl.priority
        if priority == "normal" and tpl.kind != "hoi_dap" and u_prio < 0.03:
            priority = "urgent"
        day_offset = min(DAYS_BACK - 1, int(rng.random() * DAYS_BACK))
        hour = rng.choices(range(24), HOUR_WEIGHTS)[0]
        seconds_of_day = hour * 3600 + rng.randrange(3600)
        weekend_u = rng.random()
        contact = _contact(rng, channel, used_phones, used_handles, phone_callers, i)
        lat = lon = None
        u_geo = rng.random()
        jitter = (rng.uniform(-0.03, 0.03), rng.uniform(-0.03, 0.03))
        if area_code and (channel == "open311" or (channel in ("zalo", "web") and u_geo < 0.3)):
            # Near the commune's official centroid (a third of the jitter: inside the ward).
            lat = round(commune.lat + jitter[0] / 3, 6)
            lon = round(commune.lon + jitter[1] / 3, 6)
        # Publication is the default (redacted); a few citizens refuse it, on every channel.
        consent = rng.random() < 0.95
        privacy = rng.random() < 0.05
        u_follow = rng.random()
        followup = None
        if channel == "zalo" and u_follow < 0.08 and lat is None and area_code:
            followup = "location"
        elif channel in ("zalo", "telegram", "facebook") and u_follow < 0.05:
            followup = "text"
        followup_minutes = rng.randint(3, 40)
        plans.append(TicketPlan(
            index=i, template=tpl.key, channel=channel, kind=tpl.kind, priority=priority,
            field_code=field_code, true_field=tpl.field, area_code=area_code,
            district_code=d_code, address=address,
            title=tpl.title.format(**values), text=tpl.body.format(**values), values=values,
            day_offset=day_offset, seconds_of_day=seconds_of_day, weekend_u=weekend_u,
            contact=contact, lat=lat, lon=lon, consent_publish=consent, privacy_requested=privacy,
            followup=followup, followup_minutes=followup_minutes, historical=historical,
        ))
    return plans


# Questions the operators answer from the knowledge base are a large share of what 1022 gets.
KB_QUESTION_BOOST = 1.6


def _template_choices(rng: random.Random, n: int) -> list[str]:
    keys = [t.key for t in TEMPLATES]
    weights = [t.weight * (KB_QUESTION_BOOST if t.kb else 1.0) for t in TEMPLATES]
    chosen = rng.choices(keys, weights, k=n)
    if n >= 20:
        # A small demo still shows every path: rejections and questions the operator answers.
        want = {"rej_spam": 1, "rej_toco": 1, "gplx_doi_hd": 1, "tp_khaisinh_hd": 1,
                "tthc_thuongtru_hd": 1}
        counts = Counter(chosen)
        missing = [key for key, minimum in want.items() for _ in range(minimum - counts[key])]
        # Replace ordinary reports (never a question or a rejection), spread over the list.
        slots = [i for i in range(3, n, 7) if not (TEMPLATE_BY_KEY[chosen[i]].kb
                                                   or TEMPLATE_BY_KEY[chosen[i]].reject)]
        for key, i in zip(missing, slots, strict=False):
            chosen[i] = key
    return chosen


def _pick_channel(u: float, tpl: Template) -> str:
    if tpl.channels:
        return tpl.channels[min(int(u * len(tpl.channels)), len(tpl.channels) - 1)]
    total = sum(w for _c, w in CHANNEL_WEIGHTS)
    acc = 0.0
    for channel, weight in CHANNEL_WEIGHTS:
        acc += weight / total
        if u < acc:
            return channel
    return CHANNEL_WEIGHTS[-1][0]


def _place(where, u, d_code, d_name, commune: FormerCommune, values, *, house,
           historical: bool) -> tuple[str | None, str | None]:
    """(area code, address) for a template's precision of place.

    A historical ticket names the former commune or district ("old.…"); a recent one is
    filed under today's ward (or the province, when only a former district is named),
    its address in the old three-level form a third of the time, else the new form.
    """
    place = (f"Số {house} {values['street']}" if commune.name.startswith(("Phường", "Thị trấn"))
             else values["hamlet"].capitalize())
    old_addr = f"{place}, {commune.name}, {d_name}, Bình Phước"
    new_addr = f"{place}, {commune.ward_name}, Đồng Nai"
    former_province = official.LEGACY_PREFIX + "70"
    if where == "commune":
        if u < 0.86:
            if historical:
                return commune.code, old_addr
            return commune.ward_code, old_addr if u < 0.29 else new_addr
        if u < 0.94:
            return (official.LEGACY_PREFIX + d_code if historical else PROVINCE_CODE), d_name
        return None, None
    if where == "district":
        if u >= 0.85:
            return None, None
        return (official.LEGACY_PREFIX + d_code if historical else PROVINCE_CODE), d_name
    if where == "province":
        return ((former_province if historical else PROVINCE_CODE), None) if u < 0.6 else (None, None)
    return ((former_province if historical else PROVINCE_CODE), None) if u < 0.2 else (None, None)


def _person(rng: random.Random) -> tuple[str, str, str]:
    """(full name, given name, family name) of an invented private citizen."""
    family = rng.choices(FAMILY, FAMILY_WEIGHTS)[0]
    if family == "Thị":
        family = "Nguyễn"
    female = rng.random() < 0.5
    middle = rng.choice(MIDDLE_F if female else MIDDLE_M)
    given = rng.choice(GIVEN_F if female else GIVEN_M)
    return f"{family} {middle} {given}", given, family


def _phone(rng: random.Random, used: set[str]) -> str:
    while True:
        number = rng.choice(MOBILE_PREFIXES) + "".join(str(rng.randrange(10)) for _ in range(7))
        if number not in used:
            used.add(number)
            return number


def _unique(rng: random.Random, used: set[str], make: Callable[[], str]) -> str:
    while True:
        value = make()
        if value not in used:
            used.add(value)
            return value


def _contact(rng, channel, used_phones, used_handles, phone_callers, i) -> ContactHandle:
    name, given, family = _person(rng)
    u_named, u_repeat, u_extra = rng.random(), rng.random(), rng.random()
    email_local = text.fold(given + family).replace(" ", "") + str(rng.randint(70, 99))
    if channel == "phone":
        if phone_callers and u_repeat < 0.2:
            return rng.choice(phone_callers)  # a caller who rang before
        handle = ContactHandle(name=name if u_named < 0.6 else None, phone=_phone(rng, used_phones))
        phone_callers.append(handle)
        return handle
    if channel == "zalo":
        return ContactHandle(
            name=name if u_named < 0.85 else None,
            zalo_user_id=_unique(rng, used_handles, lambda: str(rng.randrange(10**17, 10**19))),
            phone=_phone(rng, used_phones) if u_extra < 0.3 else None)
    if channel == "telegram":
        return ContactHandle(
            name=text.fold(name).title() if u_named < 0.7 else None,
            telegram_chat_id=_unique(rng, used_handles, lambda: str(rng.randrange(10**8, 10**10))))
    if channel == "facebook":
        return ContactHandle(
            name=name if u_named < 0.9 else None,
            facebook_psid=_unique(rng, used_handles, lambda: str(rng.randrange(10**15, 10**16))))
    if channel == "email":
        return ContactHandle(name=name if u_named < 0.7 else None,
                             email=_unique(rng, used_handles,
                                           lambda: f"{email_local}.{i}@example.com"))
    if channel == "web":
        if u_named < 0.08:
            return ContactHandle()  # anonymous: no way to answer, the status page only
        return ContactHandle(name=name if u_named < 0.85 else None, phone=_phone(rng, used_phones),
                             email=(_unique(rng, used_handles, lambda: f"{email_local}.{i}@example.com")
                                    if u_extra < 0.4 else None))
    # open311: a mobile app passes a phone or an e-mail
    if u_extra < 0.5:
        return ContactHandle(name=name if u_named < 0.5 else None, phone=_phone(rng, used_phones))
    return ContactHandle(name=name if u_named < 0.5 else None,
                         email=_unique(rng, used_handles, lambda: f"{email_local}.{i}@example.com"))


# --- Summary -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class DemoAccount:
    username: str
    role: str
    full_name: str
    agency: str | None
    password: str


@dataclass
class DemoSummary:
    """What ``seed`` made; ``describe()`` is what ``flask seed-demo`` prints."""

    areas: int = 0
    agencies: int = 0
    fields: int = 0
    rules: int = 0
    sla_policies: int = 0
    kb_articles: int = 0
    users: int = 0
    tickets: int = 0
    by_status: dict[str, int] = field(default_factory=dict)
    by_channel: dict[str, int] = field(default_factory=dict)
    overdue: int = 0
    due_soon: int = 0
    seconds: float = 0.0
    accounts: list[DemoAccount] = field(default_factory=list)

    def describe(self) -> str:
        lines = [
            f"Demo province loaded in {self.seconds:.1f} s.",
            (f"  areas {self.areas}, agencies {self.agencies}, fields {self.fields}, "
             f"routing rules {self.rules}, SLA policies {self.sla_policies}, "
             f"KB articles {self.kb_articles}, users {self.users}"),
            f"  tickets {self.tickets}: " + ", ".join(
                f"{status} {self.by_status[status]}" for status in
                [s.value for s in Status if s.value in self.by_status]),
            "  by channel: " + ", ".join(f"{c} {n}" for c, n in self.by_channel.items()),
            f"  SLA: {self.overdue} overdue, {self.due_soon} due soon",
            "",
            "Demo accounts (documented demo passwords; change or disable them before real use):",
        ]
        header = ("username", "role", "password", "name")
        rows = [(a.username, a.role, a.password, a.full_name + (f" ({a.agency})" if a.agency else ""))
                for a in self.accounts]
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
        for row in [header, tuple("-" * w for w in widths) + ("-" * 4,), *rows]:
            lines.append("  " + "  ".join(row[i].ljust(widths[i]) for i in range(3)) + "  " + row[3])
        return "\n".join(lines)


# --- Seeding ----------------------------------------------------------------------------------


def refuse_in_production() -> None:
    """The demo creates an administrator whose password is published: never in production."""
    if current_app.config.get("HOTLINE_ENV") == "production":
        raise PermissionDenied("Không nạp dữ liệu mẫu khi HOTLINE_ENV=production: dữ liệu mẫu "
                               "tạo tài khoản quản trị có mật khẩu công khai.",
                               code="production")


def already_seeded() -> bool:
    """Whether the organisation exists already (any agency at all)."""
    return db.session.scalar(select(Agency.id).limit(1)) is not None


def seed(*, tickets: int = 500, seed: int = 1022,
         progress: Callable[[str], None] | None = None) -> DemoSummary:
    """Load the demo province and ``tickets`` tickets; flushes, the caller commits."""
    say = progress or (lambda _line: None)
    refuse_in_production()
    if already_seeded():
        raise ValidationError("Dữ liệu mẫu đã có (đã có cơ quan).", code="already_seeded")
    started = time.perf_counter()
    now = utcnow()
    org = _seed_org(say)
    demo_accounts = _seed_users(say)
    kb_ids = _seed_kb(org, now)
    say(f"Knowledge base: {len(kb_ids)} articles")
    marks = {model: db.session.scalar(select(func.coalesce(func.max(model.id), 0)))
             for model in (TicketEvent, OutboxMessage, Contact, InboundMessage)}
    ctx = _Context.load(org, now, seed, kb_ids)
    plans = plan_tickets(tickets, seed)
    played = _receive_all(ctx, plans, say)
    _play_lifecycles(ctx, played, say)
    db.session.flush()
    _settle_timestamps(marks)
    report = sla.scan(now)
    _mark_sent(marks[OutboxMessage], now)  # the scan's notifications to (demo) staff
    say(f"SLA scan: {len(report.overdue)} overdue, {len(report.due_soon)} due soon")
    db.session.flush()
    return _summary(demo_accounts, time.perf_counter() - started)


@dataclass
class _Org:
    areas: dict[str, Area]
    agencies: dict[str, Agency]
    fields: dict[str, Field]
    rules: list[RoutingRule]
    policies: list[SlaPolicy]


def _seed_org(say) -> _Org:
    loaded = area_trees.import_official(Actor(user=None, label="seed-demo"), PROVINCE_NAME,
                                        legacy_provinces=[FORMER_PROVINCE])
    areas: dict[str, Area] = {a.code: a for a in db.session.scalars(select(Area))}
    province = areas[PROVINCE_CODE]
    wards = sorted((a for a in areas.values() if a.valid_to is None and a.level == "commune"),
                   key=lambda a: a.code)
    say(f"Areas: {loaded.created} (today's {PROVINCE_NAME}: 1 province, {len(wards)} wards "
        f"and communes; {loaded.historical} former units of {FORMER_PROVINCE} as history)")

    agencies: dict[str, Agency] = {}

    def add_agency(code, name, level, area, *, governs=False, approval=False, parent=None):
        agency = Agency(code=code, name=name, level=level, area_id=area.id, governs_area=governs,
                        email=f"{code.lower().replace('-', '.')}@{EMAIL_DOMAIN}",
                        requires_result_approval=approval, parent_id=parent.id if parent else None,
                        active=True)
        db.session.add(agency)
        agencies[code] = agency
        return agency

    for code, name, approval in PROVINCIAL_AGENCIES:
        add_agency(code, name, "province", province, approval=approval)
    for code, name, approval in SERVICE_COMPANIES:
        add_agency(code, name, "other", province, approval=approval)
    # Since 1 July 2025 there is no district level: each ward's committee answers for it.
    for ward in wards:
        add_agency(f"UBND-{ward.code}", f"UBND {ward.name}", "commune", ward, governs=True)
    db.session.flush()
    say(f"Agencies: {len(agencies)}")

    fields: dict[str, Field] = {}
    for code, name, keywords, questions in FIELDS:
        fields[code] = Field(code=code, name=name, keywords=keywords, extra_questions=questions,
                             active=True)
        db.session.add(fields[code])
    db.session.flush()
    say(f"Fields: {len(fields)}")

    rules = []
    for f_code, agency_code, area_code, level, kind, note in RULES:
        rule = RoutingRule(field_id=fields[f_code].id,
                           agency_id=agencies[agency_code].id if agency_code else None,
                           area_id=areas[area_code].id if area_code else None, area_level=level,
                           kind=kind, note=note, active=True)
        db.session.add(rule)
        rules.append(rule)
    policies = []
    for name, f_code, kind, priority, res, first, fraction, soon_max in SLA_POLICIES:
        policy = SlaPolicy(name=name, field_id=fields[f_code].id if f_code else None, kind=kind,
                           priority=priority, resolution_minutes=res, first_response_minutes=first,
                           due_soon_fraction=fraction, due_soon_max_minutes=soon_max, active=True)
        db.session.add(policy)
        policies.append(policy)
    db.session.flush()
    say(f"Routing rules: {len(rules)}; SLA policies: {len(policies)}")
    return _Org(areas, agencies, fields, rules, policies)


def _seed_users(say) -> list[DemoAccount]:
    out = []
    for username, role, full_name, agency_code, extension in USERS:
        password = demo_password(username)
        # The password is published in the README: it has to be replaced at first sign-in.
        accounts.create_user(username=username, password=password, role=role, full_name=full_name,
                             agency_code=agency_code, email=f"{username}@{EMAIL_DOMAIN}",
                             phone_extension=extension, enforce_strength=False,
                             must_change_password=True)
        out.append(DemoAccount(username, str(role), full_name, agency_code, password))
    say(f"Users: {len(out)}")
    return out


def _seed_kb(org: _Org, now: datetime) -> dict[str, int]:
    """The operators' articles; returns article id by key."""
    rows = {}
    for i, entry in enumerate(KB):
        body = entry.body + _KB_NOTE
        rows[entry.key] = KbArticle(
            title=entry.title, body=body, field_id=org.fields[entry.field].id,
            source_url=_DVC + entry.slug, search_text=text.fold(f"{entry.title} {body}"),
            reviewed_at=now - timedelta(days=20 + 3 * i), active=True)
        db.session.add(rows[entry.key])
    db.session.flush()
    return {key: row.id for key, row in rows.items()}


# --- Playing tickets --------------------------------------------------------------------------


@dataclass
class _Context:
    now: datetime
    seed: int
    tz: ZoneInfo
    cal: object
    org: _Org
    agencies_by_id: dict[int, Agency]
    areas_by_id: dict[int, Area]
    fields_by_id: dict[int, Field]
    governing: dict[int, Agency]
    policy_minutes: dict[int, int]
    operators: list[User]
    manager: User
    handlers: dict[int, User]
    leads: dict[int, User]
    kb_ids: dict[str, int]

    @classmethod
    def load(cls, org: _Org, now: datetime, seed: int, kb_ids: dict[str, int]) -> _Context:
        users = {u.username: u for u in db.session.scalars(select(User))}
        handlers, leads = {}, {}
        for user in users.values():
            if user.role == Role.HANDLER and user.agency_id:
                handlers.setdefault(user.agency_id, user)
            elif user.role == Role.AGENCY_LEAD and user.agency_id:
                leads.setdefault(user.agency_id, user)
        return cls(
            now=now, seed=seed, tz=local_zone(),
            cal=get_calendar(), org=org,
            agencies_by_id={a.id: a for a in org.agencies.values()},
            areas_by_id={a.id: a for a in org.areas.values()},
            fields_by_id={f.id: f for f in org.fields.values()},
            governing={a.area_id: a for a in org.agencies.values() if a.governs_area},
            policy_minutes={p.id: p.resolution_minutes for p in org.policies},
            operators=[users["dtv01"], users["dtv02"]], manager=users["lanhdao.tinh"],
            handlers=handlers, leads=leads, kb_ids=kb_ids,
        )

    def received_at(self, plan: TicketPlan) -> datetime:
        today = self.now.astimezone(self.tz).date()
        day = today - timedelta(days=plan.day_offset)
        if plan.historical:  # spread over the year before the reform
            day = official.REFORM_2025 - timedelta(days=1 + plan.day_offset * 4)
        if day.weekday() >= 5 and plan.weekend_u < 0.45:  # fewer messages at the weekend
            day -= timedelta(days=day.weekday() - 4)
        local = datetime(day.year, day.month, day.day, tzinfo=self.tz) + timedelta(
            seconds=plan.seconds_of_day)
        at = local.astimezone(self.now.tzinfo)
        while at > self.now - timedelta(minutes=15):
            at -= timedelta(days=1)
        return at


def _receive_all(ctx: _Context, plans: list[TicketPlan], say) -> list[tuple[Ticket, TicketPlan]]:
    """Every plan through the real intake, oldest first; returns the tickets opened."""
    timed = sorted(((ctx.received_at(p), p) for p in plans), key=lambda x: (x[0], x[1].index))
    played = []
    for done, (received_at, plan) in enumerate(timed, start=1):
        operator = ctx.operators[plan.index % 2]
        result = intake.receive(IncomingMessage(
            channel=plan.channel, external_id=f"demo-{plan.index:05d}", received_at=received_at,
            text=plan.text, title=plan.title, contact=plan.contact, kind=plan.kind,
            field_code=plan.field_code, area_code=plan.area_code, address=plan.address,
            lat=plan.lat, lon=plan.lon, priority=plan.priority,
            consent_publish=plan.consent_publish, privacy_requested=plan.privacy_requested,
            created_by_id=operator.id if plan.channel == Channel.PHONE else None,
            force_new=plan.channel == Channel.PHONE,
        ))
        if result.created:
            ticket = db.session.get(Ticket, result.ticket_id)
            if ticket.status == Status.ASSIGNED:
                ticket.assigned_at = received_at  # the router decides on receipt
            played.append((ticket, plan))
            _follow_up(ctx, plan, received_at)
        if done % 100 == 0 or done == len(timed):
            say(f"Tickets received: {done}/{len(timed)}")
    return played


def _follow_up(ctx: _Context, plan: TicketPlan, received_at: datetime) -> None:
    """A second message from the same citizen on the same chat: intake threads it."""
    if plan.followup is None:
        return
    at = received_at + timedelta(minutes=plan.followup_minutes)
    if at >= ctx.now - timedelta(minutes=5):
        return
    lat, lon = next(d[2] for d in DISTRICTS if d[0] == plan.district_code)
    if plan.followup == "location":
        msg = IncomingMessage(channel=plan.channel, external_id=f"demo-{plan.index:05d}-loc",
                              received_at=at, contact=plan.contact, lat=lat, lon=lon,
                              location_only=True)
    else:
        msg = IncomingMessage(channel=plan.channel, external_id=f"demo-{plan.index:05d}-more",
                              received_at=at, contact=plan.contact,
                              text=FOLLOWUP_TEXTS[plan.index % len(FOLLOWUP_TEXTS)])
    intake.receive(msg)


# Final statuses of a ticket an agency handles, and how likely each is by age (in SLA periods).
_AGENCY_FINALS = ("assigned", "in_progress", "waiting_citizen", "returned", "resolved", "approved",
                  "published", "closed", "reopened")
_FINAL_WEIGHTS = (
    (0.3, (35, 45, 4, 2, 8, 3, 3, 0, 0)),
    (1.0, (8, 30, 8, 3, 18, 8, 15, 10, 0)),
    (3.0, (3, 9, 5, 2, 6, 5, 25, 44, 0.6)),
    (float("inf"), (1.2, 3, 2, 1, 1.2, 1.5, 14, 75, 0.6)),
)
_REQUIRED = ("new", "answered", "rejected", "assigned", "in_progress", "waiting_citizen",
             "returned", "resolved", "approved", "published", "closed")
# The operator's reasons for refusing a ticket (as the staff console offers them).
REJECT_REASONS = {
    "spam": "Tin rác, quấy rối hoặc không có nội dung",
    "out_of_scope": "Không thuộc phạm vi tiếp nhận của Tổng đài 1022",
    "other": "Lý do khác",
}


@dataclass
class _Scenario:
    path: str            # agency / answer / reject / keep_new
    final: str           # the status the ticket ends in
    reassign: bool = False
    wait_reply: bool = False
    sendback: bool = False
    rate: bool = False
    late: bool = False


def _reachable(ticket: Ticket) -> bool:
    return outbox.reply_route(ticket, ticket.contact) is not None


def _requires_approval(ctx: _Context, ticket: Ticket) -> bool:
    agency = ctx.agencies_by_id.get(ticket.agency_id)
    return bool(agency and agency.requires_result_approval)


def _choose(ctx: _Context, ticket: Ticket, plan: TicketPlan, rng: random.Random) -> _Scenario:
    tpl = TEMPLATE_BY_KEY[plan.template]
    age_h = (ctx.now - ticket.received_at).total_seconds() / 3600
    r = [rng.random() for _ in range(8)]
    if plan.historical:  # long settled: handled under the former unit and closed
        return _Scenario("agency", "closed", rate=_reachable(ticket) and r[6] < 0.45)
    if ticket.status == Status.NEW:
        if tpl.reject:
            return _Scenario("keep_new" if age_h < 0.5 else "reject", "rejected")
        if tpl.kb and ticket.kind == Kind.HOI_DAP:
            if age_h < 24 and r[0] < 0.35:
                return _Scenario("keep_new", "new")
            closed = age_h > 96 and r[1] < 0.4
            return _Scenario("answer", "closed" if closed else "answered", rate=closed and r[2] < 0.4)
        if (age_h < 72 and r[0] < 0.7) or r[0] < 0.03:
            return _Scenario("keep_new", "new")
    minutes = ctx.policy_minutes.get(ticket.sla_policy_id, 5 * WORK_DAY_MINUTES)
    worked = ctx.cal.working_time_between(ticket.received_at, ctx.now).total_seconds() / 60
    x = worked / minutes
    weights = next(w for limit, w in _FINAL_WEIGHTS if x < limit)
    final = rng.choices(_AGENCY_FINALS, weights)[0]
    reachable = _reachable(ticket)
    if final == "waiting_citizen" and not reachable:
        final = "in_progress"  # nobody to ask: an anonymous report
    beyond_wait = final in ("resolved", "approved", "published", "closed", "reopened")
    reassign = final not in ("assigned", "returned") and r[3] < 0.04
    return _Scenario(
        "agency", final, reassign=reassign,
        wait_reply=beyond_wait and reachable and r[4] < 0.10,
        sendback=(beyond_wait and not reassign and ticket.status == Status.ASSIGNED
                  and _requires_approval(ctx, ticket) and r[5] < 0.05),
        rate=final in ("closed", "reopened") and reachable and r[6] < 0.45,
        late=r[7] < 0.2,
    )


def _final_of(s: _Scenario) -> str:
    return {"keep_new": "new", "reject": "rejected"}.get(s.path, s.final)


def _can_become(ctx: _Context, status: str, ticket: Ticket, plan: TicketPlan, s: _Scenario) -> bool:
    tpl = TEMPLATE_BY_KEY[plan.template]
    from_new = ticket.status == Status.NEW
    if plan.historical:
        return False
    if status == "new":
        return from_new
    if status == "answered":
        return from_new and tpl.kb is not None
    if status == "rejected":
        return from_new and s.path != "answer"
    if s.path != "agency" or (tpl.kb and from_new):
        return False
    if status == "waiting_citizen":
        return _reachable(ticket)
    if status == "resolved":  # stays "resolved" only where a lead must approve
        return ticket.status == Status.ASSIGNED and _requires_approval(ctx, ticket)
    return True


def _ensure_variety(ctx: _Context, played, scenarios: list[_Scenario]) -> None:
    """Make sure a small demo still shows every major status and some overdue tickets."""
    counts = Counter(_final_of(s) for s in scenarios)
    for status in _REQUIRED:
        if counts[status]:
            continue
        plentiful = {s for s, n in counts.items() if n > 1}
        donor = next((i for i, (ticket, plan) in enumerate(played)
                      if _final_of(scenarios[i]) in plentiful
                      and _can_become(ctx, status, ticket, plan, scenarios[i])), None)
        if donor is None:
            continue
        old = scenarios[donor]
        counts[_final_of(old)] -= 1
        if status == "new":
            scenarios[donor] = _Scenario("keep_new", "new")
        elif status == "answered":
            scenarios[donor] = _Scenario("answer", "answered")
        elif status == "rejected":
            scenarios[donor] = _Scenario("reject", "rejected")
        else:
            scenarios[donor] = _Scenario("agency", status, late=old.late)
        counts[status] += 1
    open_late = [i for i, (t, _p) in enumerate(played)
                 if scenarios[i].path == "agency" and scenarios[i].final in ("assigned", "in_progress")
                 and t.due_at is not None and t.due_at < ctx.now]
    if not open_late:
        candidates = [i for i, (t, p) in enumerate(played)
                      if scenarios[i].path == "agency" and scenarios[i].final == "closed"
                      and not p.historical
                      and t.due_at is not None and t.due_at < ctx.now - timedelta(days=3)]
        for i in candidates[:2]:
            scenarios[i] = _Scenario("agency", "in_progress", late=True)


def _play_lifecycles(ctx: _Context, played, say) -> None:
    rngs = [random.Random(f"{ctx.seed}/{plan.index}") for _t, plan in played]
    scenarios = [_choose(ctx, ticket, plan, rngs[i]) for i, (ticket, plan) in enumerate(played)]
    _ensure_variety(ctx, played, scenarios)
    # The steps only append rows with unique keys and read nothing back, so they flush in
    # batches instead of at every outbox-key lookup (autoflush).
    with db.session.no_autoflush:
        for i, (ticket, plan) in enumerate(played):
            _Player(ctx, ticket, plan, scenarios[i], rngs[i]).play()
            if (i + 1) % 100 == 0 or i + 1 == len(played):
                db.session.flush()
                say(f"Tickets handled: {i + 1}/{len(played)}")


class _Player:
    """Moves one ticket from intake to its scenario's final status, with timed events.

    The steps mirror what the staff console's services do (event types, who acts,
    when the SLA clock pauses and stops, what the citizen is told), with the
    instants of the past the demo needs.
    """

    def __init__(self, ctx: _Context, ticket: Ticket, plan: TicketPlan, scenario: _Scenario,
                 rng: random.Random):
        self.ctx, self.ticket, self.plan, self.s, self.rng = ctx, ticket, plan, scenario, rng
        self.tpl = TEMPLATE_BY_KEY[plan.template]
        self.operator = ctx.operators[(plan.index + 1) % 2]

    # timing ---------------------------------------------------------------------------------

    def _wm(self, lo: float, hi: float) -> tuple[str, float]:
        return ("work", self.rng.uniform(lo, hi))

    def _wall(self, lo_hours: float, hi_hours: float) -> tuple[str, float]:
        return ("wall", self.rng.uniform(lo_hours, hi_hours) * 60)

    def _times(self, start: datetime, steps: list[tuple[str, tuple[str, float]]]) -> list[datetime]:
        """Instants of the steps after ``start``; squeezed into the past if they run past now."""
        out, t = [], start
        for _name, (how, minutes) in steps:
            if how == "work":
                t = self.ctx.cal.add_working_time(t, timedelta(minutes=minutes))
            else:
                t = t + timedelta(minutes=minutes)
            out.append(t)
        limit = self.ctx.now - timedelta(minutes=2)
        if out and out[-1] >= limit:
            span = (out[-1] - start).total_seconds()
            room = (limit - start).total_seconds()
            factor = max(room, 0) / span * self.rng.uniform(0.6, 0.95) if span > 0 else 0
            out = [start + (t - start) * factor for t in out]
            # Distinct, increasing instants even when squeezed hard.
            for k in range(1, len(out)):
                if out[k] <= out[k - 1]:
                    out[k] = out[k - 1] + timedelta(seconds=1)
        return out

    # the plays ------------------------------------------------------------------------------

    def play(self) -> None:
        path = self.s.path
        if path == "keep_new":
            return
        if path == "reject":
            self._run([("reject", self._quick())])
        elif path == "answer":
            steps = [("answer", self._quick())]
            if self.s.final == "closed":
                if self.s.rate:
                    steps.append(("rate", self._wall(2, 48)))
                steps.append(("close", self._wall(48, 120)))
            self._run(steps)
        else:
            self._run(self._agency_steps())

    def _quick(self) -> tuple[str, float]:
        if self.ticket.channel == Channel.PHONE:
            return ("wall", self.rng.uniform(2, 12))  # answered while on the call
        return self._wm(10, 300)

    def _agency_steps(self) -> list:
        s, steps = self.s, []
        if self.ticket.status == Status.NEW:
            steps.append(("forward", self._wm(10, 240)))
        if s.final == "returned" or s.reassign:
            steps.append(("return", self._wm(60, 960)))
            if s.final == "returned":
                return steps
            steps.append(("forward", self._wm(10, 240)))
        if s.final == "assigned":
            return steps
        urgent = self.ticket.priority == "urgent"
        steps.append(("accept", self._wm(5, 45) if urgent
                      else ("work", min(2400.0, self.rng.lognormvariate(5.0, 0.9)))))
        if s.final == "in_progress":
            return steps
        if s.final == "waiting_citizen" or s.wait_reply:
            steps.append(("ask", self._wm(30, 900)))
            if s.final == "waiting_citizen":
                return steps
            steps.append(("reply", self._wall(20, 140)))
        budget = self.ctx.policy_minutes.get(self.ticket.sla_policy_id, 2400)
        factor = self.rng.uniform(1.05, 1.9) if s.late else self.rng.uniform(0.1, 0.8)
        steps.append(("resolve", ("work", budget * factor)))
        if s.sendback:
            steps.append(("send_back", self._wm(30, 480)))
            steps.append(("resolve", self._wm(60, 600)))
        if s.final == "resolved":
            return steps
        steps.append(("approve", self._wm(30, 900)))  # a no-op where approval is automatic
        if s.final == "approved":
            return steps
        if self.ticket.consent_publish and not self.ticket.privacy_requested:
            steps.append(("publish", self._wm(60, 1440)))
        if s.final == "published":
            return steps
        if s.rate:
            steps.append(("rate", self._wall(2, 60)))
        steps.append(("close", self._wall(72, 240)))
        if s.final == "reopened":
            steps.append(("reopen", self._wall(12, 96)))
        return steps

    def _run(self, steps: list) -> None:
        start = self.ticket.assigned_at if self.ticket.status == Status.ASSIGNED \
            else self.ticket.received_at
        for (name, _d), at in zip(steps, self._times(start, steps), strict=True):
            getattr(self, f"_do_{name}")(at)

    # helpers --------------------------------------------------------------------------------

    def _move(self, to: Status, type_: str, at: datetime, **kw) -> TicketEvent:
        previous = self.ticket.status
        self.ticket.status = lifecycle.check_transition(previous, to).value
        return events.record(self.ticket, type_, from_status=previous, to_status=self.ticket.status,
                             at=at, **kw)

    def _agency(self) -> Agency:
        return self.ctx.agencies_by_id[self.ticket.agency_id]

    def _staff(self, *, lead: bool = False) -> dict:
        """Who acts for the agency: its demo account, else the agency's name as the label."""
        user = (self.ctx.leads if lead else self.ctx.handlers).get(self.ticket.agency_id)
        if user is not None:
            return {"actor": user}
        return {"actor_label": self._agency().name[:64]}

    def _tell(self, purpose: str, message: str, at: datetime, key: str) -> None:
        """A message to the citizen, already delivered (the demo messages nobody real)."""
        body = f"{message}\nTra cứu: {outbox.status_link(self.ticket)}"
        row = outbox.queue_message(self.ticket, purpose, body, key=key)
        if row is not None:
            row.created_at = row.next_attempt_at = at
            row.status, row.attempts, row.sent_at = "sent", 1, at + timedelta(seconds=30)

    # operator steps -------------------------------------------------------------------------

    def _classify(self, at: datetime) -> None:
        t = self.ticket
        if t.field_id is not None or not self.plan.true_field:
            return
        f = self.ctx.org.fields[self.plan.true_field]
        t.field, t.field_id = f, f.id
        if t.sla_state not in (None, "paused"):
            sla.start_clock(t, t.received_at)  # the policy may depend on the field
        events.record(t, "classified", actor=self.operator, at=at,
                      note=f"Phân loại: lĩnh vực «{f.name}».", data={"field_id": [None, f.id]})

    def _do_forward(self, at: datetime) -> None:
        self._classify(at)
        t = self.ticket
        decision = routing.suggest(field=self.ctx.fields_by_id.get(t.field_id),
                                   area=self.ctx.areas_by_id.get(t.current_area_id or t.area_id),
                                   kind=t.kind,
                                   exclude_agency_ids=t.excluded_agency_ids or [])
        if decision.agency_id is not None:
            agency, rule_id, why = (self.ctx.agencies_by_id[decision.agency_id], decision.rule_id,
                                    decision.reason)
        else:
            agency, rule_id = self._manual_agency(), None
            why = "Tổng đài viên chọn cơ quan xử lý (không có quy tắc phù hợp)."
        previous = t.status
        t.status = lifecycle.check_transition(previous, Status.ASSIGNED).value
        t.agency, t.agency_id, t.assignee_id = agency, agency.id, None
        t.assigned_at, t.routing_rule_id, t.routing_reason = at, rule_id, why[:400]
        events.record(t, "assigned", actor=self.operator, public=True, at=at,
                      from_status=previous, to_status=t.status, note=f"Chuyển {agency.name} xử lý.",
                      data={"reason": why, "rule_id": rule_id})
        due = f" Hạn xử lý: {outbox.local_time(t.due_at)}." if t.due_at else ""
        self._tell("assigned", f"Tổng đài 1022: Phiếu {t.code} đã được chuyển đến {agency.name} "
                   f"xử lý.{due}", at,
                   key=f"assigned:{t.code}:{agency.id}:{t.returned_count}:{t.reopened_count}")

    def _manual_agency(self) -> Agency:
        """What an operator picks when no rule fits: the area's committee, else the field's home."""
        excluded = set(self.ticket.excluded_agency_ids or [])
        area = self.ctx.areas_by_id.get(self.ticket.current_area_id or self.ticket.area_id)
        while area is not None:
            agency = self.ctx.governing.get(area.id)
            if agency is not None and agency.id not in excluded:
                return agency
            area = self.ctx.areas_by_id.get(area.parent_id)
        field_ = self.ctx.fields_by_id.get(self.ticket.field_id)
        home = self.ctx.org.agencies.get(FIELD_HOME.get(field_.code, "")) if field_ else None
        if home is not None and home.id not in excluded:
            return home
        return self.ctx.org.agencies["VP-UBND"]

    def _do_reject(self, at: datetime) -> None:
        t = self.ticket
        if self.tpl.reject:
            reason = "out_of_scope" if self.tpl.reply_on_reject else "spam"
            note, where = None, (self.tpl.reject if self.tpl.reply_on_reject else None)
            if reason == "spam":
                note = self.tpl.reject
        else:
            reason, note, where = "other", "Nội dung trùng với phiếu đã tiếp nhận trước đó.", None
        told = where if reason == "out_of_scope" else note if reason == "other" else None
        t.closed_at, t.result = at, told
        sla.stop_clock(t)
        parts = [REJECT_REASONS[reason] + "."] + [p for p in (note, where) if p]
        self._move(Status.REJECTED, "rejected", at, actor=self.operator, note=" ".join(parts),
                   public=reason != "spam", data={"reason": reason})
        if told:
            self._tell("rejected", f"Tổng đài 1022: Phiếu {t.code} không được tiếp nhận xử lý. "
                       f"{told}", at, key=f"rejected:{t.code}")

    def _do_answer(self, at: datetime) -> None:
        self._classify(at)
        t = self.ticket
        entry = KB_BY_KEY[self.tpl.kb]
        answer = f"{entry.answer}\nChi tiết: {_DVC}{entry.slug}"
        t.result, t.resolved_at = answer, at
        sla.stop_clock(t)
        self._move(Status.ANSWERED, "answered", at, actor=self.operator, note=answer, public=True,
                   data={"kb_article_id": self.ctx.kb_ids.get(entry.key)})
        self._tell("result", f"Tổng đài 1022: Phiếu {t.code} đã có kết quả xử lý:\n{answer}", at,
                   key=f"result:{t.code}:{t.reopened_count}")

    # agency steps ---------------------------------------------------------------------------

    def _do_return(self, at: datetime) -> None:
        t = self.ticket
        agency = self._agency()
        reason = "Nội dung không thuộc thẩm quyền giải quyết của đơn vị."
        self._move(Status.RETURNED, "returned", at,
                   note=f"{agency.name} trả lại (không đúng thẩm quyền): {reason}",
                   data={"agency_id": agency.id, "reason": reason}, **self._staff())
        t.excluded_agency_ids = sorted(set(t.excluded_agency_ids or []) | {agency.id})
        t.returned_count = (t.returned_count or 0) + 1
        t.agency, t.agency_id, t.assignee_id, t.accepted_at = None, None, None, None

    def _do_accept(self, at: datetime) -> None:
        t = self.ticket
        handler = self.ctx.handlers.get(t.agency_id)
        t.accepted_at = t.accepted_at or at
        t.assignee_id = handler.id if handler else None
        self._move(Status.IN_PROGRESS, "accepted", at, public=True,
                   note=f"{self._agency().name} đã tiếp nhận, đang xử lý.", **self._staff())

    def _do_ask(self, at: datetime) -> None:
        t = self.ticket
        question = "Đề nghị cung cấp địa chỉ cụ thể và hình ảnh hiện trường để xác minh."
        self._move(Status.WAITING_CITIZEN, "asked_citizen", at, note=question, public=True,
                   **self._staff())
        sla.pause_clock(t, at)
        self._tell("ask", f"Tổng đài 1022: Để xử lý phiếu {t.code}, {self._agency().name} đề nghị "
                   f"ông/bà bổ sung: {question}", at, key=f"ask:{t.code}:{at:%Y%m%d%H%M%S}")

    def _do_reply(self, at: datetime) -> None:
        self._move(Status.IN_PROGRESS, "citizen_replied", at, actor_label="citizen", public=True,
                   note="Người dân đã bổ sung thông tin; tiếp tục xử lý.")
        sla.resume_clock(self.ticket, at)

    def _result_text(self, at: datetime) -> str:
        local = at.astimezone(self.ctx.tz)
        template = self.tpl.result
        if not template and self.tpl.kb:
            template = "{agency} trả lời: " + KB_BY_KEY[self.tpl.kb].answer.replace("{", "{{")
        template = template or ("{agency} đã tiếp nhận, xác minh và giải quyết nội dung phản ánh "
                                "theo thẩm quyền.")
        return template.format(**self.plan.values, agency=self._agency().name,
                               date=f"{local.day:02d}/{local.month:02d}/{local.year}")

    def _do_resolve(self, at: datetime) -> None:
        t = self.ticket
        t.result, t.resolved_at = self._result_text(at), at
        sla.stop_clock(t)
        staff = self._staff()
        self._move(Status.RESOLVED, "resolved", at, note=t.result, data={"files": 0}, **staff)
        if not self._agency().requires_result_approval:
            self._move(Status.APPROVED, "approved", at, public=True, note=t.result,
                       data={"auto": True}, **staff)
            self._notify_result(at)

    def _do_send_back(self, at: datetime) -> None:
        t = self.ticket
        if t.status != Status.RESOLVED:
            return
        self._move(Status.IN_PROGRESS, "sent_back", at, **self._staff(lead=True),
                   note="Lãnh đạo chưa duyệt kết quả: đề nghị bổ sung kết quả kiểm tra thực tế.")
        t.resolved_at = None
        if t.due_at is not None:
            t.sla_state = sla_domain.sla_state(now=at, due_at=t.due_at,
                                               due_soon_at=t.due_soon_at or t.due_at).value

    def _do_approve(self, at: datetime) -> None:
        if self.ticket.status != Status.RESOLVED:
            return  # approved with the result: the agency needs no lead's approval
        self._move(Status.APPROVED, "approved", at, public=True, note=self.ticket.result,
                   **self._staff(lead=True))
        self._notify_result(at)

    def _notify_result(self, at: datetime) -> None:
        t = self.ticket
        self._tell("result", f"Tổng đài 1022: Phiếu {t.code} đã có kết quả xử lý:\n{t.result}", at,
                   key=f"result:{t.code}:{t.reopened_count}")

    def _do_publish(self, at: datetime) -> None:
        t = self.ticket
        # The demo's texts never name the citizen, so no known names are passed: with them,
        # redact() also blanks places that share a given name ("xã Lộc Hưng" for a "Lộc").
        t.public_summary = redact(t.description, hide_house_numbers=t.privacy_requested)
        t.public_result = redact(t.result, hide_house_numbers=t.privacy_requested)
        t.public_search_text = text.fold(f"{t.public_summary} {t.public_result}")
        t.published_at = at
        self._move(Status.PUBLISHED, "published", at, actor=self.ctx.manager, public=True,
                   note="Công khai nội dung và kết quả xử lý trên Cổng thông tin.")

    def _do_rate(self, at: datetime) -> None:
        t = self.ticket
        rating = self.rng.choices((5, 4, 3, 2, 1), (45, 30, 12, 7, 6))[0]
        if self.s.final == "reopened":
            rating = self.rng.choice((1, 2))
        comment = (self.rng.choice(GOOD_COMMENTS) if rating >= 4
                   else self.rng.choice(BAD_COMMENTS) if rating <= 2 else None)
        t.rating, t.rating_comment, t.rated_at = rating, comment, at
        events.record(t, "rated", actor_label="citizen", at=at, public=False,
                      note=f"Người dân đánh giá {rating}/5." + (f" {comment}" if comment else ""),
                      data={"rating": rating})

    def _do_close(self, at: datetime) -> None:
        self.ticket.closed_at = at
        self._move(Status.CLOSED, "closed", at, actor_label="system", public=True,
                   note="Đóng phiếu: người dân đã nhận kết quả, không có ý kiến khác.")

    def _do_reopen(self, at: datetime) -> None:
        t = self.ticket
        t.reopened_count = (t.reopened_count or 0) + 1
        t.closed_at = None
        self._move(Status.REOPENED, "reopened", at, actor_label="citizen", public=True,
                   note="Người dân phản ánh tình trạng tái diễn sau khi có kết quả; mở lại phiếu.")
        sla.start_clock(t, at)


def _settle_timestamps(marks: dict) -> None:
    """Rows intake wrote with "now" get the instant the demo message arrived instead.

    The router's events, the acknowledgements (marked sent: no real citizen is messaged),
    the contacts and the inbound ledger of the demo.
    """
    received = (select(Ticket.received_at).where(Ticket.id == TicketEvent.ticket_id)
                .scalar_subquery())
    db.session.execute(
        update(TicketEvent).where(TicketEvent.id > marks[TicketEvent],
                                  TicketEvent.actor_label == "router")
        .values(at=received).execution_options(synchronize_session=False))
    first_ticket = (select(func.min(Ticket.received_at)).where(Ticket.contact_id == Contact.id)
                    .scalar_subquery())
    db.session.execute(
        update(Contact).where(Contact.id > marks[Contact])
        .values(created_at=func.coalesce(first_ticket, Contact.created_at))
        .execution_options(synchronize_session=False))
    _mark_sent(marks[OutboxMessage], None)
    db.session.execute(
        update(InboundMessage).where(InboundMessage.id > marks[InboundMessage])
        .values(stored_at=InboundMessage.received_at)
        .execution_options(synchronize_session=False))
    db.session.expire_all()


def _mark_sent(after_id: int, at: datetime | None) -> None:
    """Every pending demo outbox row counts as delivered: a worker started later sends nothing.

    ``at=None``: the citizens' acknowledgements, delivered when their message arrived.
    """
    sent_at = at if at is not None else (select(Ticket.received_at)
                                         .where(Ticket.id == OutboxMessage.ticket_id)
                                         .scalar_subquery())
    values = {"status": "sent", "attempts": 1, "last_error": None, "sent_at": sent_at}
    if at is None:
        values["created_at"] = values["next_attempt_at"] = sent_at
    db.session.execute(
        update(OutboxMessage).where(OutboxMessage.id > after_id, OutboxMessage.status == "pending")
        .values(**values).execution_options(synchronize_session=False))


def _summary(demo_accounts: list[DemoAccount], seconds: float) -> DemoSummary:
    def count(model) -> int:
        return db.session.scalar(select(func.count()).select_from(model))

    by_status = dict(db.session.execute(
        select(Ticket.status, func.count()).group_by(Ticket.status)).all())
    by_channel = dict(db.session.execute(
        select(Ticket.channel, func.count()).group_by(Ticket.channel)
        .order_by(func.count().desc(), Ticket.channel)).all())
    states = dict(db.session.execute(
        select(Ticket.sla_state, func.count()).where(Ticket.sla_state.is_not(None))
        .group_by(Ticket.sla_state)).all())
    return DemoSummary(
        areas=count(Area), agencies=count(Agency), fields=count(Field), rules=count(RoutingRule),
        sla_policies=count(SlaPolicy), kb_articles=count(KbArticle), users=count(User),
        tickets=count(Ticket), by_status=by_status, by_channel=by_channel,
        overdue=states.get("overdue", 0), due_soon=states.get("due_soon", 0), seconds=seconds,
        accounts=demo_accounts)


__all__ = ["DemoAccount", "DemoSummary", "TicketPlan", "already_seeded", "demo_password",
           "plan_tickets", "seed"]
