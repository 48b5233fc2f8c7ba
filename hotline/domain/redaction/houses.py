"""House numbers ("số 12", "nhà số 5", "12/3 đường …"), hidden when the citizen asks for privacy.

Street, group and document numbers ("tổ 5", "đường số 7", "quốc lộ 14", "Quyết định
123/QĐ-UBND") are public and stay.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from hotline.domain.redaction.findings import Hit

__all__ = ["house_hits"]

_HOUSE_NO = r"\d{1,5}[A-Za-z]?(?:[/\-]\d{1,5}[A-Za-z]?)*"
_HOUSE_SO = re.compile(
    r"(?<![\w])(?:(?i:số nhà|nhà số|căn hộ số|căn hộ|nhà|so nha|nha so)[ \t]+|(?i:số|so)[ \t]+)"
    r"(" + _HOUSE_NO + r")(?![\w/])"
)
_HOUSE_SLASH = re.compile(r"(?<![\w/.])(\d{1,5}[A-Za-z]?(?:/\d{1,5}[A-Za-z]?)+)(?![\w/])")
_HOUSE_STREET = re.compile(
    r"(?<![\w/.,])(\d{1,5}[A-Za-z]?)"
    r"(?=,?[ \t]+(?i:đường|phố|hẻm|ngõ|kiệt|ngách|duong|pho|hem|ngo)[ \t])"
)
# "tổ 5", "khu phố số 3", "đường số 7", "quốc lộ 14": public, not a house.
_NOT_HOUSE_BEFORE = re.compile(
    r"(?<![\w])(?i:tổ|khu phố|kp|ấp|thôn|xóm|khóm|bản|buôn|sóc|đường|quốc lộ|tỉnh lộ|hương lộ|"
    r"huyện lộ|ql|tl|lô|phòng|tầng|km|cột|trạm|tuyến|khu|hẻm|ngõ|kiệt|ngách|phiếu|"
    r"quyết định|công văn|văn bản|thông báo|kế hoạch|nghị định|thông tư|luật|điều|khoản|"
    r"ngày|tháng|năm|lúc|từ|đến|khoảng|hơn|gần)"
    r"[ \t]*(?:số)?[ \t]*$"
)


def _looks_like_date(value: str) -> bool:
    parts = value.split("/")
    if not all(p.isdigit() for p in parts) or len(parts) != 3:
        return False
    # "12/3" is as likely a lane as a date; "12/3/2024" is a date.
    day, month = int(parts[0]), int(parts[1])
    return 1 <= day <= 31 and 1 <= month <= 12 and len(parts[2]) in (2, 4)


def house_hits(view: str) -> Iterator[Hit]:
    """House numbers in the normalised view."""
    for m in _HOUSE_SO.finditer(view):
        if _NOT_HOUSE_BEFORE.search(view[max(0, m.start() - 30):m.start()]):
            continue
        yield Hit(m.start(1), m.end(1), "house_number")
    for pattern in (_HOUSE_SLASH, _HOUSE_STREET):
        for m in pattern.finditer(view):
            if _NOT_HOUSE_BEFORE.search(view[max(0, m.start(1) - 30):m.start(1)]) \
                    or _looks_like_date(m.group(1)):
                continue
            yield Hit(m.start(1), m.end(1), "house_number")
