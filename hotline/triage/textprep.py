"""Text as the triage model sees it: NFC, personal data and emoji out, accents folded,
chat shorthand spelled out.

``prepare("Ko có nc 3 ngày rồi 😡 0912 345 678")`` → ``"khong co nuoc 3 ngay roi"``. The
same function runs at training and at suggestion time, so "đèn đường", "den duong" and
"đen đừơng" meet on one form.
"""
from __future__ import annotations

import re

from hotline.domain.text import fold, nfc

MAX_CHARS = 2000   # what a suggestion reads: the first screenful says what it is about

_EMAIL = re.compile(r"\S+@\S+")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
# Phone numbers, ID card and account numbers: 8 or more digits, spaced or dotted.
_LONG_NUMBER = re.compile(r"(?:\+?\d[\s.\-]?){8,}")
_PLATE = re.compile(r"\b\d{2}[a-z]{1,2}\d?[\s.\-]?\d{3}[.\s]?\d{1,2}\b")
_NON_WORD = re.compile(r"[^a-z0-9]+")
_REPEATS = re.compile(r"([a-z])\1{2,}")

# Chat shorthand, folded, to the folded word it stands for.
SHORTHAND = {
    "ko": "khong", "k": "khong", "kh": "khong", "hok": "khong", "hem": "khong",
    "khg": "khong", "kg": "khong", "dc": "duoc", "dk": "duoc", "j": "gi",
    "r": "roi", "vs": "voi", "ng": "nguoi", "wa": "qua", "nhiu": "nhieu",
    "bit": "biet", "ntn": "nhu the nao", "mn": "moi nguoi", "bn": "bao nhieu", "dzay": "vay",
    "zay": "vay", "e": "em", "t": "toi", "tui": "toi", "cty": "cong ty",
    "sdt": "so dien thoai", "nc": "nuoc", "dt": "dien thoai",
    "bhyt": "bao hiem y te", "gplx": "giay phep lai xe", "kcn": "khu cong nghiep",
    "tthc": "thu tuc hanh chinh", "bhxh": "bao hiem xa hoi", "hk": "khong",
    "mik": "minh", "mk": "minh", "dag": "dang", "dg": "duong", "trc": "truoc", "ns": "noi",
    "lm": "lam", "qa": "qua", "z": "vay", "oy": "roi", "ah": "a", "a/c": "anh chi",
}


def strip_personal(value: str) -> str:
    """``value`` without e-mail addresses, links, long numbers and number plates."""
    value = _EMAIL.sub(" ", value)
    value = _URL.sub(" ", value)
    value = _PLATE.sub(" ", value)
    return _LONG_NUMBER.sub(" ", value)


def tokens(value: str | None) -> list[str]:
    """The folded, shorthand-expanded words of ``value`` (personal data left out)."""
    if not value:
        return []
    folded = fold(strip_personal(nfc(value[:MAX_CHARS]).lower()))
    words: list[str] = []
    for word in _NON_WORD.split(folded):
        if not word:
            continue
        word = _REPEATS.sub(r"\1", word)
        words.extend(SHORTHAND.get(word, word).split())
    return words


def prepare(value: str | None) -> str:
    """The one string the vectorisers read: folded words joined by single spaces."""
    return " ".join(tokens(value))


def has_content(prepared: str) -> bool:
    """Whether there are at least two words of letters to judge by (not just numbers)."""
    return sum(1 for w in prepared.split() if len(w) >= 2 and not w.isdigit()) >= 2


def display_words(original: str) -> list[tuple[str, str]]:
    """The words of ``original`` as (folded, as written), in order: the deciding words are
    shown in the writer's own spelling."""
    return [(_REPEATS.sub(r"\1", fold(word)), word)
            for word in re.findall(r"\w+", nfc(original[:MAX_CHARS]))]


def as_written(name: str, words: list[tuple[str, str]]) -> str:
    """The folded n-gram ``name`` as it appears in the text (``name`` itself if it does not
    appear word for word, e.g. after shorthand was spelled out)."""
    parts = name.split()
    n = len(parts)
    for i in range(len(words) - n + 1):
        if all(words[i + k][0] == parts[k] for k in range(n)):
            return " ".join(w for _, w in words[i:i + n])
    return name
