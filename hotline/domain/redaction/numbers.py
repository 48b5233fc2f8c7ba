"""Numbers that identify a person: phones, ID cards, passports, bank accounts, plates.

Digits are read as groups: runs of digits joined by short separators ("0912 345 678",
"0 9 1 2 3 4 5 6 7 8", "0912/345/678"). Inside a group the longest reading wins, ID
first, so a 12-digit CCCD is never cut into a phone and a stray "333". Phones are
checked with ``phonenumbers`` (region VN), plates with ``biensoxe``; public numbers
(1022, 113, 114, 115, 1900/1800 lines) are not personal and stay.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

import phonenumbers
from biensoxe import VietnamVehiclePlate

from hotline.domain.redaction.findings import Hit

__all__ = ["is_phone", "matcher_hits", "number_hits", "passport_hits", "plate_hits",
           "spelled_phone_hits"]

# A group: digit runs joined by up to three separator characters; a leading "+" or "(".
_RUN = re.compile(r"\d+")
_GROUP = re.compile(r"(?<![\d+])\(?\+?\(?\d+(?:[ .\-/()]{1,3}\d+)*")

_KEYWORDS = {
    "id_number": r"cccd|cmnd|cmt|can cuoc(?: cong dan)?|the can cuoc|chung minh(?: nhan dan| thu)?|"
                 r"(?:so |ma )?dinh danh(?: ca nhan)?|giay to tuy than",
    "bank_account": r"stk|so tai khoan|so tk|tai khoan(?: ngan hang)?|tk|ngan hang|chuyen khoan|ck|"
                    r"vietcombank|vcb|agribank|bidv|techcombank|tcb|mb ?bank|mb|vietinbank|vpbank|"
                    r"acb|sacombank|tpbank|hdbank|shb|ocb|msb|vib|seabank|scb|eximbank|lpbank|"
                    r"lienvietpostbank|momo|viettelpay|zalopay|atm|the atm",
    "phone": r"sdt|so dt|dt|dien thoai|di dong|dd|zalo|lien he|lien lac|goi|tel|phone|hotline|"
             r"nhan tin|sms|so may|sim",
}
_KEYWORD = re.compile(
    r"(?<![a-z0-9])(?:" + "|".join(f"(?P<{k}>{v})" for k, v in _KEYWORDS.items()) +
    r")(?![a-z0-9])[^0-9\n]{0,25}$")
# Amounts, sizes and counts are not personal: "150000000 đồng", "2.500 m2", "12 kg".
_UNIT_AFTER = re.compile(
    r"\s?(?:đ|đồng|dong|vnđ|vnd|₫|triệu|trieu|tỷ|ty|tỉ|nghìn|ngàn|ngan|k|usd|\$|%|m2|m²|m3|m|"
    r"cm|mm|km|kg|tấn|tan|lít|lit|ha|hộ|người|nguoi|cái|chiếc|căn|lô|thửa)(?![^\W\d_])",
    re.IGNORECASE)
_MONEY_BEFORE = re.compile(r"(?i:số tiền|so tien|giá|gia|phạt|phat|\$|₫)\s*:?\s*$")
_PUBLIC_PREFIXES = ("1900", "1800")
_PUBLIC_TYPES = {phonenumbers.PhoneNumberType.TOLL_FREE, phonenumbers.PhoneNumberType.PREMIUM_RATE,
                 phonenumbers.PhoneNumberType.SHARED_COST, phonenumbers.PhoneNumberType.UAN}
_OLD_MOBILE = re.compile(r"01[2689]\d{8}")
_MOBILE = re.compile(r"(?:84|0)[35789]\d{8}")


def _keyword_before(folded: str, start: int, floor: int) -> str | None:
    m = _KEYWORD.search(folded, max(floor, start - 40), start)
    if not m:
        return None
    return next(k for k, v in m.groupdict().items() if v)


def is_phone(digits: str, plus: bool = False) -> bool:
    """Whether ``digits`` (as dialled) is a private Vietnamese phone number."""
    if len(digits) < 9 or len(digits) > 12 or digits.startswith(_PUBLIC_PREFIXES):
        return False
    if _OLD_MOBILE.fullmatch(digits) or _MOBILE.fullmatch(digits):
        return True  # mobile prefixes newer (or older) than the library's metadata
    if not plus and not digits.startswith(("0", "84")):
        return False  # "912345678" alone is more often a count or an amount
    try:
        number = phonenumbers.parse(("+" if plus else "") + digits, "VN")
    except phonenumbers.NumberParseException:
        return False
    return (number.country_code == 84 and phonenumbers.is_valid_number(number)
            and phonenumbers.number_type(number) not in _PUBLIC_TYPES)


def _is_amount(view: str, start: int, end: int) -> bool:
    return bool(_UNIT_AFTER.match(view, end)) or \
        bool(_MONEY_BEFORE.search(view[max(0, start - 12):start]))


def _classify(digits: str, runs: list[tuple[int, int]], keyword: str | None, plus: bool,
              first: bool) -> str | None:
    """The kind of personal number ``digits`` is, if any."""
    n = len(digits)
    if keyword == "id_number" and first and 8 <= n <= 14:
        return "id_number"
    if keyword == "bank_account" and first and 6 <= n <= 20:
        return "bank_account"
    if n == 12 and digits.startswith("0") and not plus and 1 <= int(digits[:3]) <= 96:
        return "id_number"  # CCCD: a province code 001–096, then seven/nine digits
    if is_phone(digits, plus):
        return "phone"
    if n == 9 and len(runs) == 1:
        return "id_number"  # old 9-digit CMND, written in one piece
    if 13 <= n <= 19 and (len(runs) == 1 or all(3 <= b - a <= 4 for a, b in runs[:-1])):
        return "bank_account"
    return None


# "o912 345 678", "09l2 345 678": a letter standing in for a digit inside a number.
_LOOKALIKE_WORD = re.compile(r"(?<![^\W\d_])(?=[oOlI]*\d[oOlI\d]*\d)[\doOlI]{3,}(?![^\W\d_])")
_LOOKALIKE = str.maketrans("oOlI", "0011")


def _digits_for_letters(view: str) -> str:
    """``view`` with look-alike letters inside digit words read as digits (same length)."""
    if not any(c in view for c in "oOlI"):
        return view
    return _LOOKALIKE_WORD.sub(lambda m: m.group(0).translate(_LOOKALIKE), view)


def number_hits(view: str, folded: str) -> Iterator[Hit]:
    """Phones, ID cards and bank accounts in the normalised ``view``."""
    view = _digits_for_letters(view)
    last_end = 0
    for g in _GROUP.finditer(view):
        runs = [(m.start() + g.start(), m.end() + g.start()) for m in _RUN.finditer(g.group(0))]
        plus = "+" in view[g.start():runs[0][0]]
        keyword = _keyword_before(folded, g.start(), last_end)
        last_end = g.end()
        # Digits before run k, and slashes between runs before k: each window in O(1).
        cum, slashes = [0], [0]
        for k, (a, b) in enumerate(runs):
            cum.append(cum[-1] + b - a)
            gap = view[runs[k - 1][1]:a] if k else ""
            slashes.append(slashes[-1] + ("/" in gap))
        i = 0
        while i < len(runs):
            found = None
            # Longest reading first: up to twenty runs (digit by digit), at most 20 digits.
            for j in range(min(len(runs), i + 20), i, -1):
                n = cum[j] - cum[i]
                if n > 20:
                    continue
                if n < 6:
                    break  # shorter windows only lose digits
                window = runs[i:j]
                digits = _digits(view, window)
                if slashes[j] - slashes[i + 1] and not is_phone(digits):
                    continue  # "12/10/2023 15/10/2023" is dates, not an account
                kind = _classify(digits, window, keyword, plus and i == 0, i == 0)
                if kind is None:
                    continue
                start, end = window[0][0], window[-1][1]
                if i == 0 and plus:
                    start = g.start()
                if kind != "bank_account" and keyword is None and _is_amount(view, start, end):
                    continue
                found = (j, Hit(start, end, kind))
                break
            if found is None and keyword == "phone" and i == 0:
                # "SĐT:09123456783 bóng đèn": a phone glued to the next number.
                a, b = runs[0]
                for length in (10, 11):
                    if b - a > length and is_phone(view[a:a + length]):
                        found = (1, Hit(a, a + length, "phone"))
                        break
            if found:
                i, hit = found
                yield hit
            else:
                i += 1


def _digits(view: str, runs: list[tuple[int, int]]) -> str:
    return "".join(view[a:b] for a, b in runs)


def matcher_hits(view: str) -> Iterator[Hit]:
    """What ``phonenumbers``' own matcher finds (region VN), public lines left out.

    A second opinion beside the digit groups: it knows national formats the groups may not.
    """
    if sum(c.isdigit() for c in view) < 9:
        return
    for m in phonenumbers.PhoneNumberMatcher(view, "VN", leniency=phonenumbers.Leniency.VALID):
        number = m.number
        national = str(number.national_number)
        if number.country_code != 84 or phonenumbers.number_type(number) in _PUBLIC_TYPES \
                or national.startswith(_PUBLIC_PREFIXES):
            continue
        yield Hit(m.start, m.end, "phone")


# --- passports ----------------------------------------------------------------------------
_PASSPORT_KEYWORD = re.compile(r"(?<![a-z])(?:ho chieu|passport|so hc|hc)(?![a-z])[^0-9\n]{0,20}$")
_PASSPORT = re.compile(r"(?<![\w])([A-Za-z]{1,2})[ ]?(\d{7,8})(?![\w])")
_PASSPORT_LETTERS = frozenset("BCNEKPbcnekp")


def passport_hits(view: str, folded: str) -> Iterator[Hit]:
    """Vietnamese passport numbers ("B1234567", "C 1234567"); others only after "hộ chiếu"."""
    for m in _PASSPORT.finditer(view):
        letters, digits = m.group(1), m.group(2)
        keyword = _PASSPORT_KEYWORD.search(folded, max(0, m.start() - 30), m.start())
        if keyword or (len(letters) == 1 and letters in _PASSPORT_LETTERS and len(digits) == 7):
            yield Hit(m.start(), m.end(), "passport")


# --- plates -------------------------------------------------------------------------------
_PLATE = re.compile(
    r"(?<![\w.])(\d{2})[ ]?-?[ ]?([A-Za-zĐđ]{1,2}\d?)[ ]?[-. ]?[ ]?"
    r"(\d{3}[., ]\d{2}|\d{4,5})(?!\w|[.,]\d)")


def plate_hits(view: str) -> Iterator[Hit]:
    """Vehicle plates in any case ("60a-999.99", "61-B1 234.56"), checked with ``biensoxe``."""
    for m in _PLATE.finditer(view):
        try:
            VietnamVehiclePlate.from_string(m.group(0))
        except ValueError:
            continue
        yield Hit(m.start(), m.end(), "plate")


# --- phones spelled out ---------------------------------------------------------------------
_SPELLED = {"khong": "0", "mot": "1", "hai": "2", "ba": "3", "bon": "4", "tu": "4", "nam": "5",
            "lam": "5", "sau": "6", "bay": "7", "tam": "8", "chin": "9", "linh": "0"}
_SPELLED_RUN = re.compile(r"(?<![a-z])(?:(?:" + "|".join(_SPELLED) + r")[ ,.\-]{1,2}){8,11}(?:"
                          + "|".join(_SPELLED) + r")(?![a-z])")


def spelled_phone_hits(folded: str) -> Iterator[Hit]:
    """A phone read out in words ("không chín một hai ba bốn năm sáu bảy tám")."""
    for m in _SPELLED_RUN.finditer(folded):
        words = re.findall(r"[a-z]+", m.group(0))
        if is_phone("".join(_SPELLED[w] for w in words)):
            yield Hit(m.start(), m.end(), "phone")
