"""Vietnamese text on the way in: NFC, accent folding for search, phone numbers.

Every string a citizen or an operator types passes through ``clean_text`` (NFC,
no control characters, trimmed, bounded); every searchable column stores
``fold`` of its text so that "duong" finds "đường".
"""
from __future__ import annotations

import re
import unicodedata

import phonenumbers

from hotline.domain.errors import ValidationError

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
# Characters no database column can hold: NUL (PostgreSQL text refuses it) and UTF-16
# surrogates, which only arrive alone (a JSON "\\ud800" escape, a mail decoded with
# surrogateescape) and cannot be encoded as UTF-8.
_UNSTORABLE = re.compile(r"[\x00\ud800-\udfff]")
_SPACES = re.compile(r"\s+")
# The combining diacritics Vietnamese (and every Latin script) decomposes into; U+034F in
# that block is a grapheme joiner of combining class 0, which ``fold`` keeps.
_LATIN_MARKS = re.compile("[\u0300-\u034e\u0350-\u036f]+")


def nfc(value: str) -> str:
    """Return ``value`` in Unicode normal form C (composed diacritics)."""
    return unicodedata.normalize("NFC", value)


def has_unstorable(value: str) -> bool:
    """Whether ``value`` holds a NUL or a lone surrogate (see ``scrub``)."""
    return _UNSTORABLE.search(value) is not None


def scrub(value: str) -> str:
    """``value`` without NUL and with each lone surrogate replaced by U+FFFD, so it can be stored."""
    if _UNSTORABLE.search(value) is None:
        return value
    return _UNSTORABLE.sub(lambda m: "" if m.group() == "\x00" else "\ufffd", value)


def scrub_data(value):
    """``scrub`` every string (keys too) of parsed JSON: dicts, lists and scalars."""
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {scrub_data(k): scrub_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [scrub_data(v) for v in value]
    return value


def clean_text(value: str | None, *, max_length: int, field: str = "nội dung",
               required: bool = False, multiline: bool = True) -> str | None:
    """NFC-normalise, strip control characters and outer whitespace, enforce a length.

    Returns ``None`` for empty optional input; raises ``ValidationError`` for
    empty required input or text longer than ``max_length`` characters.
    """
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise ValidationError(f"Trường {field} phải là văn bản.", code="invalid_type", field=field)
    text = _CONTROL.sub("", nfc(scrub(value)))
    if not multiline:
        text = _SPACES.sub(" ", text)
    text = text.strip()
    if not text:
        if required:
            raise ValidationError(f"Vui lòng nhập {field}.", code="required", field=field)
        return None
    if len(text) > max_length:
        raise ValidationError(
            f"Trường {field} dài quá {max_length} ký tự (hiện có {len(text)}).",
            code="too_long", field=field,
        )
    return text


def fold(value: str | None) -> str:
    """Lower-case, accent-free, single-spaced form of ``value`` for search.

    ``fold("Đèn  ĐƯỜNG")`` → ``"den duong"``.
    """
    if not value:
        return ""
    # đ/Đ have no decomposition in Unicode, so NFD alone leaves them; fold them by hand.
    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "d"))
    stripped = _LATIN_MARKS.sub("", decomposed)
    if not stripped.isascii():  # marks of other scripts: the general, slower rule
        stripped = "".join(c for c in stripped if not unicodedata.combining(c))
    return _SPACES.sub(" ", stripped.casefold()).strip()


def normalize_phone(raw: str | None, *, region: str = "VN") -> str | None:
    """Return the phone number in E.164 (``+84912345678``), or ``None`` for empty input.

    ``0912 345 678``, ``+84912345678``, ``84912345678`` and ``0912.345.678`` are
    one number. Raises ``ValidationError`` for something that is not a valid number.
    """
    if raw is None or not str(raw).strip():
        return None
    text = nfc(str(raw)).strip()
    digits = re.sub(r"\D", "", text)
    # "84912345678" without the plus is how many gateways and exports write it.
    if not text.startswith("+") and digits.startswith("84") and len(digits) in (11, 12):
        text = "+" + digits
    try:
        number = phonenumbers.parse(text, region)
    except phonenumbers.NumberParseException as exc:
        raise ValidationError(f"Số điện thoại không hợp lệ: {raw}", code="invalid_phone") from exc
    if not phonenumbers.is_valid_number(number):
        raise ValidationError(f"Số điện thoại không hợp lệ: {raw}", code="invalid_phone")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def phone_last_digits(e164: str | None, n: int = 4) -> str:
    """The last ``n`` digits of a stored phone number ('' when there is none)."""
    return re.sub(r"\D", "", e164 or "")[-n:]


def normalize_email(raw: str | None) -> str | None:
    """Trim and lower-case an e-mail address; ``ValidationError`` if it is not one."""
    if raw is None or not str(raw).strip():
        return None
    value = nfc(str(raw)).strip().lower()
    if len(value) > 254 or not re.fullmatch(r"[^@\s]+@[^@\s]+\.[^@\s]+", value):
        raise ValidationError(f"Địa chỉ e-mail không hợp lệ: {raw}", code="invalid_email")
    return value
