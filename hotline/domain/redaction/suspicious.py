"""What a moderator should look at twice: not surely personal, not surely harmless.

Long digit runs that no detector claimed (an account, a card, a number spelled
oddly), an "@", a link, and capitalised runs of two to four syllables that are not a
known place (a name the detectors could not tell from a street). They are marked on
the moderation page, never replaced.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

import hotline.domain.redaction.lexicon as lx
from hotline.domain.redaction.findings import SUSPICIOUS, Hit
from hotline.domain.redaction.names import _is_place, _keep, tokens
from hotline.domain.redaction.normalize import View

__all__ = ["suspicious_hits"]

_DIGITS = re.compile(r"(?<![\d/])\d(?:[ .\-]?\d){6,}(?![\d/])")
_AT_OR_LINK = re.compile(r"\S*(?:@|https?://|www\.)\S*|\b\S+\.(?:com|vn|me|net)/\S*")
_PUBLIC = ("1900", "1800", "1022")
_YEARS = re.compile(r"(?:19|20)\d\d ?[-–] ?(?:19|20)\d\d")


def suspicious_hits(view: View) -> Iterator[Hit]:
    """Spans worth a second look in the normalised view."""
    v = view.view
    for m in _DIGITS.finditer(v):
        digits = re.sub(r"\D", "", m.group(0))
        if digits.startswith(_PUBLIC) and len(digits) <= 10:
            continue  # 1900 545 454, 1800 1091, 1022: public lines
        if _YEARS.fullmatch(m.group(0)):
            continue  # "2021-2025"
        if re.match(r"\s?(?:đ|đồng|vnđ|vnd|₫|triệu|tỷ|m2|km)\b", v[m.end():], re.IGNORECASE):
            continue
        yield Hit(m.start(), m.end(), SUSPICIOUS)
    for m in _AT_OR_LINK.finditer(v):
        yield Hit(m.start(), m.end(), SUSPICIOUS)
    toks = tokens(view)
    i = 0
    while i < len(toks):
        n = 0
        while i + n < len(toks) and n < 4 and _name_like(toks[i + n]) and \
                (n == 0 or v[toks[i + n - 1].end:toks[i + n].start] == " "):
            n += 1
        if n >= 2 and not _keep(toks, i, n) and not _is_place(toks, i, v):
            yield Hit(toks[i].start, toks[i + n - 1].end, SUSPICIOUS)
        i += max(n, 1)


def _name_like(tok) -> bool:
    """A capitalised word that is a common name syllable ("Minh", "TUẤN")."""
    return tok.style in ("cap", "upper") and len(tok.word) > 1 and \
        tok.low not in lx.SENTENCE_STARTERS and tok.low in lx.NAME_SYLLABLES
