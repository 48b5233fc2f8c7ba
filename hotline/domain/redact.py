"""Removing personal data from Vietnamese text before it is published.

Every report's content and result is made public, but the neighbour a citizen
reported must never learn who reported them. :func:`redact` replaces what
identifies a private person with a bracketed Vietnamese label:

* phone numbers, however written: ``0912 345 678``, ``0912.345.678``,
  ``091-234-5678``, ``+84 912 345 678``, ``(+84) 912345678``, ``84912345678``,
  landlines ``0271 3879 123``; public service numbers (1022, 113, 1900 …) stay;
* e-mail addresses;
* ID-card numbers: 9-digit CMND and 12-digit CCCD, and any number written
  after "CMND", "CCCD", "căn cước", "số định danh", "hộ chiếu";
* vehicle plates: ``93A-123.45``, ``61-B1 234.56``, ``29H1-12345``;
* personal names after a kinship word (ông, bà, anh, chị, em, cô, chú, bác,
  cháu, …), after "tôi là / tên là / họ tên", and 2–4 capitalised syllables
  that start with a common family name ("hộ Nguyễn Văn Tám") — but not the
  streets, wards and places named after people ("đường Bà Triệu", "phường
  Lê Lợi", "Bà Rịa");
* the citizen's own name (full, or the given name alone) when it is known;
* house numbers ("số 12", "nhà số 5", "12/3 đường …") when the citizen asked
  for privacy.

Pure functions, no framework. Over-redaction is the safe side: a moderator
reads and edits the text before anything is published.
"""
from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["LABELS", "Finding", "find_personal_data", "redact"]

LABELS = {
    "phone": "[số điện thoại]",
    "email": "[e-mail]",
    "id_number": "[số giấy tờ]",
    "plate": "[biển số xe]",
    "name": "[họ tên]",
    "house_number": "[số nhà]",
}
# When two findings overlap, the more specific kind wins.
_PRIORITY = {"email": 0, "id_number": 1, "phone": 2, "plate": 3, "house_number": 4, "name": 5}


@dataclass(frozen=True, order=True)
class Finding:
    """One piece of personal data: ``text[start:end]`` of ``kind``."""

    start: int
    end: int
    kind: str
    value: str


# --- letters --------------------------------------------------------------------------
# Python's re has no \p{Lu}; build the classes from the Latin blocks Vietnamese uses.
_LATIN = [chr(c) for c in (*range(0x41, 0x5B), *range(0x61, 0x7B), *range(0xC0, 0x250),
                           *range(0x1E00, 0x1F00))]
_UPPER = "".join(c for c in _LATIN if c.isupper() and c.isalpha())
_LOWER = "".join(c for c in _LATIN if c.islower() and c.isalpha())
_U = f"[{re.escape(_UPPER)}]"
_L = f"[{re.escape(_LOWER)}]"
_LETTER = f"[{re.escape(_UPPER + _LOWER)}]"
# One capitalised syllable: "Nguyễn", "Thị", and the one-letter names of "Nguyễn Văn A".
_SYLLABLE = f"{_U}{_L}{{0,7}}(?!{_LETTER})"
_NAME = rf"{_SYLLABLE}(?:[ \t]+{_SYLLABLE}){{0,3}}"

# --- phones, e-mails, ID numbers, plates ------------------------------------------------
_SEP = r"[ .\-]?"
_CC = r"(?:\(?\+?84\)?[ .\-]?)"  # +84, (+84), 84, (84)
_PHONE = re.compile(
    r"(?<![\d+])(?:"
    # mobiles: 0 or +84, then 3/5/7/8/9 and eight more digits
    rf"(?:{_CC}|0){_SEP}[35789](?:{_SEP}\d){{8}}"
    # landlines: 0 or +84, then 2 and nine more digits (0271 3879 123, 024 3825 1234)
    rf"|(?:{_CC}|0){_SEP}2(?:{_SEP}\d){{9}}"
    # old 11-digit mobiles (01xx), still in old contact lists
    rf"|0{_SEP}1[2689](?:{_SEP}\d){{8}}"
    r")(?!\d)"
)
_EMAIL = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)
_ID_BARE = re.compile(r"(?<![\d.,])(?:\d{12}|\d{9})(?![\d,]|\.\d)")
_ID_CONTEXT = re.compile(
    r"(?i:cmnd|cccd|cmt|căn cước(?: công dân)?|chứng minh(?: nhân dân| thư)?|"
    r"số định danh(?: cá nhân)?|hộ chiếu|passport)"
    r"[^\d\n]{0,24}?(\d(?:[ .\-]?\d){7,13})(?!\d)"
)
_MONEY_AFTER = re.compile(r"\s*(?i:đ\b|đồng|vnđ|vnd|₫|triệu|tỷ|nghìn|ngàn|m2|m²|km|kg)")
_PLATE = re.compile(
    r"(?<![\w.])\d{2}[ ]?-?[ ]?[A-Z]{1,2}\d?[ ]?[-. ]?[ ]?(?:\d{3}\.\d{2}|\d{5}|\d{4})(?![\w])"
)

# --- names ----------------------------------------------------------------------------
_KIN = ("ông", "bà", "anh", "chị", "em", "cô", "chú", "bác", "cháu", "dì", "cậu", "mợ",
        "thím", "dượng", "bé", "cụ")
_KIN_RE = re.compile(
    r"(?<![\w])(?i:" + "|".join(_KIN) + r")[ \t]+(" + _NAME + ")"
)
_INTRO_RE = re.compile(
    r"(?i:tên tôi là|tôi tên là|tôi tên|tên là|tôi là|em là|họ và tên|họ tên|"
    r"người phản ánh|người gửi|người viết)[ \t]*:?[ \t]*"
    r"(" + _SYLLABLE + r"(?:[ \t]+" + _SYLLABLE + r"){1,3})"
)
# The commonest Vietnamese family names (about nine people in ten carry one of these).
# Family names that also begin place names (Hà Nội, Lâm Đồng, Cao Bằng, Thái Bình, Châu
# Thành, Mai Sơn) are left out: a kinship word or the citizen's known name still catches them.
_SURNAMES = ("Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng",
             "Bùi", "Đỗ", "Hồ", "Ngô", "Dương", "Lý", "Đinh", "Đoàn", "Trương", "Trịnh", "Đào",
             "Tạ", "Quách", "Lưu", "Kiều", "Triệu", "Tăng", "Vương", "Phùng", "Lại")
_SURNAME_RE = re.compile(
    r"(?<![\w])((?:" + "|".join(_SURNAMES) + r")(?:[ \t]+" + _SYLLABLE + r"){1,3})"
)
# Two syllables ("Lê Lợi", "Ngô Quyền", "Phan Thiết") are mostly streets and towns; they
# count as a person only after a word that points at one ("hộ Lê Tư", "gia đình Trần Bảy").
_PERSON_CUE = re.compile(
    r"(?<![\w])(?i:hộ|hộ gia đình|gia đình|hộ dân|người tên|tên|do|bởi|cán bộ|nhân viên|chủ nhà|"
    r"chủ quán|chủ xe|chủ hộ|của)[ \t]*:?[ \t]*$"
)
# Words that turn a following name into a place: streets, wards and schools carry people's
# names ("đường Bà Triệu", "phường Lê Lợi", "trường Nguyễn Du").
_PLACE_WORDS = ("đường", "phố", "phường", "xã", "thị trấn", "quận", "huyện", "tỉnh", "thành phố",
                "tp", "tp.", "thị xã", "ấp", "thôn", "khu phố", "kp", "khu", "tổ", "hẻm", "ngõ",
                "ngách", "kiệt", "cầu", "chợ", "núi", "sông", "kênh", "rạch", "bến", "trường",
                "thpt", "thcs", "tiểu học", "công viên", "quảng trường", "bệnh viện", "ngã tư",
                "ngã ba", "ngã năm", "giao lộ", "góc", "nút giao", "đại lộ", "quốc lộ", "tỉnh lộ",
                "nhà văn hóa", "chùa", "đền", "lăng", "tượng đài", "tượng", "di tích",
                "hồ", "đảo", "phòng khám", "siêu thị", "khu đô thị", "chung cư", "cảng",
                "sân bay", "ga", "tuyến", "dự án", "đoạn", "số")
_PLACE_BEFORE = re.compile(
    r"(?<![\w])(?i:" + "|".join(re.escape(w) for w in sorted(_PLACE_WORDS, key=len, reverse=True)) +
    r")[ \t]*$"
)
# A second street in "ngã tư Trần Hưng Đạo – Lê Lợi" or "đường Lê Lợi và Hùng Vương".
_PLACE_CHAIN = re.compile(r"(?:\s*[-–/,&]\s*|\s+(?i:và|với|giao|giao với)\s+)$")
# Place names that begin with a kinship word, and public figures, kept as written.
_KEEP_NAMES = frozenset({
    "Bà Rịa", "Bà Chiểu", "Bà Đen", "Bà Điểm", "Bà Hom", "Bà Quẹo", "Bà Triệu", "Bà Huyện",
    "Bà Lụa", "Bà Rá", "Ông Lãnh", "Ông Ích Khiêm", "Ông Tạ", "Ông Đồn", "Ông Cả", "Cô Tô",
    "Cô Giang", "Cô Bắc", "Bác Hồ", "Chú Ía", "Hồ Chí Minh",
})
_GENERIC_AFTER_KIN = frozenset({
    # Capitalised words after a kinship word that are not names ("Anh Quốc", "Bác sĩ").
    "Quốc", "Chủ", "Tổ", "Trưởng", "Phó", "Công", "Bí", "Ban", "Chủ tịch", "Ủy", "Uỷ",
})

# --- house numbers (only when the citizen asked for privacy) -----------------------------
_HOUSE_NO = r"\d{1,5}[A-Za-z]?(?:[/\-]\d{1,5}[A-Za-z]?)*"
_HOUSE_SO = re.compile(
    r"(?<![\w])(?:(?i:số nhà|nhà số|căn hộ số|căn hộ|nhà)[ \t]+|(?i:số)[ \t]+)(" + _HOUSE_NO + r")(?![\w/])"
)
_HOUSE_SLASH = re.compile(r"(?<![\w/.])(\d{1,5}[A-Za-z]?(?:/\d{1,5}[A-Za-z]?)+)(?![\w/])")
_HOUSE_STREET = re.compile(
    r"(?<![\w/.,])(\d{1,5}[A-Za-z]?)(?=,?[ \t]+(?i:đường|phố|hẻm|ngõ|kiệt|ngách)[ \t])"
)
# "tổ 5", "khu phố số 3", "đường số 7", "quốc lộ 14": public, not a house.
_NOT_HOUSE_BEFORE = re.compile(
    r"(?<![\w])(?i:tổ|khu phố|kp|ấp|thôn|xóm|khóm|bản|buôn|sóc|đường|quốc lộ|tỉnh lộ|hương lộ|"
    r"huyện lộ|ql|tl|lô|phòng|tầng|km|cột|trạm|tuyến|khu|hẻm|ngõ|kiệt|ngách|phiếu|"
    r"quyết định|công văn|văn bản|thông báo|kế hoạch|nghị định|thông tư|luật|điều|khoản|"
    r"ngày|tháng|năm|lúc|từ|đến|khoảng|hơn|gần)"
    r"[ \t]*(?:số)?[ \t]*$"
)


def _before(text: str, start: int, width: int = 30) -> str:
    return text[max(0, start - width):start]


def _is_place(text: str, start: int) -> bool:
    """Whether the name starting at ``start`` is a street, ward or other place."""
    before = _before(text, start)
    if _PLACE_BEFORE.search(before):
        return True
    chain = _PLACE_CHAIN.search(before)
    if chain:
        # "đường Lê Lợi – Trần Hưng Đạo": the second name continues the first place.
        head = text[:start - len(chain.group(0))]
        prev = re.search(r"(" + _NAME + r")$", head)
        if prev and _is_place(text, prev.start(1)):
            return True
    return False


def _phones(text: str) -> Iterable[Finding]:
    for m in _PHONE.finditer(text):
        yield Finding(m.start(), m.end(), "phone", m.group(0))


def _emails(text: str) -> Iterable[Finding]:
    for m in _EMAIL.finditer(text):
        yield Finding(m.start(), m.end(), "email", m.group(0))


def _id_numbers(text: str) -> Iterable[Finding]:
    for m in _ID_CONTEXT.finditer(text):
        yield Finding(m.start(1), m.end(1), "id_number", m.group(1))
    for m in _ID_BARE.finditer(text):
        if _MONEY_AFTER.match(text, m.end()):
            continue  # "150000000 đồng" is an amount, not a card
        yield Finding(m.start(), m.end(), "id_number", m.group(0))


def _plates(text: str) -> Iterable[Finding]:
    for m in _PLATE.finditer(text):
        if _MONEY_AFTER.match(text, m.end()):
            continue
        yield Finding(m.start(), m.end(), "plate", m.group(0))


def _trim_name(name: str) -> str:
    """Drop trailing syllables that begin the next sentence part ("Lan Xin", "Tám Đề nghị")."""
    words = name.split()
    while len(words) > 1 and words[-1] in _SENTENCE_STARTERS:
        words.pop()
    return " ".join(words)


_SENTENCE_STARTERS = frozenset({
    "Xin", "Đề", "Kính", "Rất", "Mong", "Tôi", "Hiện", "Nay", "Sáng", "Chiều", "Tối", "Trưa",
    "Đêm", "Hôm", "Ngày", "Tại", "Ở", "Khi", "Nhưng", "Và", "Vì", "Do", "Nên", "Thì", "Là",
    "Đã", "Đang", "Sẽ", "Có", "Không", "Cảm", "Trân", "Yêu", "Kiến", "Phản", "Việc", "UBND",
})


def _names(text: str, known_names: Iterable[str]) -> Iterable[Finding]:
    for m in _KIN_RE.finditer(text):
        name = _trim_name(m.group(1))
        honorific = text[m.start():m.start(1)].strip()
        full = f"{honorific.capitalize()} {name}"
        if full in _KEEP_NAMES or any(full.startswith(k + " ") for k in _KEEP_NAMES):
            continue
        if name.split()[0] in _GENERIC_AFTER_KIN or _is_place(text, m.start()):
            continue
        yield Finding(m.start(1), m.start(1) + len(name), "name", name)
    for m in _INTRO_RE.finditer(text):
        name = _trim_name(m.group(1))
        if len(name.split()) >= 2:
            yield Finding(m.start(1), m.start(1) + len(name), "name", name)
    for m in _SURNAME_RE.finditer(text):
        name = _trim_name(m.group(1))
        words = len(name.split())
        cue = _PERSON_CUE.search(_before(text, m.start(1)))
        if words < 2 or name in _KEEP_NAMES or (not cue and _is_place(text, m.start(1))):
            continue
        if words == 2 and not cue:
            continue
        yield Finding(m.start(1), m.start(1) + len(name), "name", name)
    for pattern in _known_name_patterns(known_names):
        for m in pattern.finditer(text):
            yield Finding(m.start(), m.end(), "name", m.group(0))


def _known_name_patterns(known_names: Iterable[str]) -> list[re.Pattern]:
    """Patterns for a citizen's own name: the full name, its tail, and the given name."""
    variants: set[str] = set()
    for raw in known_names:
        words = unicodedata.normalize("NFC", raw or "").split()
        words = [w for w in words if w[:1].isalpha()]
        if not words:
            continue
        for i in range(len(words)):
            variants.add(" ".join(words[i:]))
    patterns = []
    for variant in sorted(variants, key=len, reverse=True):
        if len(variant) < 2:
            continue
        body = r"[ \t]+".join(re.escape(w) for w in variant.split())
        # Case-insensitive on the whole, but the given name alone only when capitalised:
        # "Lan" is a name, "lan" (spread) is a verb.
        flags = re.IGNORECASE if " " in variant else 0
        patterns.append(re.compile(rf"(?<!{_LETTER}){body}(?!{_LETTER})", flags))
    return patterns


def _house_numbers(text: str) -> Iterable[Finding]:
    for m in _HOUSE_SO.finditer(text):
        if _NOT_HOUSE_BEFORE.search(_before(text, m.start())):
            continue
        yield Finding(m.start(1), m.end(1), "house_number", m.group(1))
    for pattern in (_HOUSE_SLASH, _HOUSE_STREET):
        for m in pattern.finditer(text):
            if _NOT_HOUSE_BEFORE.search(_before(text, m.start(1))) or _looks_like_date(m.group(1)):
                continue
            yield Finding(m.start(1), m.end(1), "house_number", m.group(1))


def _looks_like_date(value: str) -> bool:
    parts = value.split("/")
    if not all(p.isdigit() for p in parts) or len(parts) not in (2, 3):
        return False
    day, month = int(parts[0]), int(parts[1])
    if len(parts) == 3:
        return 1 <= day <= 31 and 1 <= month <= 12 and len(parts[2]) in (2, 4)
    # "12/3" is as likely a lane as a date; only an impossible house pair like "30/04" is a date
    return False


def find_personal_data(text: str, *, known_names: Iterable[str] = (),
                       hide_house_numbers: bool = False) -> list[Finding]:
    """Every piece of personal data in ``text``, in order, without overlaps."""
    if not text:
        return []
    found: list[Finding] = []
    found.extend(_emails(text))
    found.extend(_id_numbers(text))
    found.extend(_phones(text))
    found.extend(_plates(text))
    if hide_house_numbers:
        found.extend(_house_numbers(text))
    found.extend(_names(text, known_names))
    # Keep the longest/most specific finding where several overlap.
    found.sort(key=lambda f: (_PRIORITY[f.kind], -(f.end - f.start), f.start))
    kept: list[Finding] = []
    for f in found:
        if all(f.end <= k.start or f.start >= k.end for k in kept):
            kept.append(f)
    return sorted(kept)


def redact(text: str | None, *, known_names: Iterable[str] = (),
           hide_house_numbers: bool = False) -> str:
    """``text`` with every piece of personal data replaced by its label.

    >>> redact("Ông Nguyễn Văn Tám, SĐT 0912.345.678, đổ rác ra đường Lê Lợi.")
    'Ông [họ tên], SĐT [số điện thoại], đổ rác ra đường Lê Lợi.'
    """
    if not text:
        return text or ""
    text = unicodedata.normalize("NFC", text)
    out: list[str] = []
    pos = 0
    for f in find_personal_data(text, known_names=known_names,
                                hide_house_numbers=hide_house_numbers):
        out.append(text[pos:f.start])
        out.append(LABELS[f.kind])
        pos = f.end
    out.append(text[pos:])
    return "".join(out)
