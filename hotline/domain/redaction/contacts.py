"""E-mail addresses, however disguised, and links to a person's social profile.

"tam.nguyen [at] gmail.com", "tam (a) gmail . com", "tam @ gmail dot com" and
"tam a còng gmail chấm com" are all one address; "facebook.com/tam.nguyen.1980",
"fb.com/…", "zalo.me/…", "tiktok.com/@…" and "t.me/…" point at one person. Public
sites (dichvucong.gov.vn, the province's portal) are not profiles and stay.
"""
from __future__ import annotations

import re
from collections.abc import Iterator

from hotline.domain.redaction.findings import Hit

__all__ = ["email_hits", "profile_hits"]

_OPEN, _CLOSE = r"[\[\(\{<]", r"[\]\)\}>]"
_AT = (rf"(?:[ ]?@[ ]?|[ ]?{_OPEN}[ ]?(?:at|a|@|a còng|a cong|acong)[ ]?{_CLOSE}[ ]?"
       r"|[ ](?:at|a còng|a cong|acong)[ ])")
_DOT = (rf"(?:[ ]?\.[ ]?|[ ]?{_OPEN}[ ]?(?:dot|chấm|cham|\.)[ ]?{_CLOSE}[ ]?"
        r"|[ ](?:dot|chấm|cham)[ ])")
_TLD = r"(?:com|vn|net|org|edu|gov|info|io|me|co|biz|us|uk|jp|kr|cn|fr|de|au|xyz|online|site)"
_EMAIL = re.compile(
    rf"(?<![\w.+-])[\w.+-]{{1,64}}{_AT}[\w-]{{1,63}}"
    rf"(?:{_DOT}[\w-]{{1,63}}){{0,3}}{_DOT}{_TLD}(?!\w)",
    re.IGNORECASE)

_SITES = (r"facebook|fb|m|zalo|tiktok|t|telegram|instagram|"
          r"youtube|youtu|twitter|x|threads|linkedin")
_SITE_TLD = r"(?:com|me|net|be|vn)"
_PROFILE_URL = re.compile(
    r"(?<![\w.])(?:https?[ ]?:[ ]?//[ ]?)?(?:www\.|m\.|web\.|vt\.|vm\.)?"
    rf"(?:{_SITES})[ ]?\.[ ]?{_SITE_TLD}[ ]?/[ ]?[^\s<>\"'\]\)]{{1,200}}",
    re.IGNORECASE)
# "fb: tam.nguyen.80", "tiktok @tamnguyen": a handle after the network's name.
_HANDLE = re.compile(
    r"(?<![\w])(?:fb|facebook|face|instagram|insta|ig|tiktok|tele|telegram|twitter)[ ]?"
    r"(?::|là|la|-)?[ ]?(@[\w.]{2,40}|[\w]{1,30}(?:[._][\w]{1,30}){1,4}|[a-z._]*\d[\w.]*)(?![\w@])",
    re.IGNORECASE)


def email_hits(view: str) -> Iterator[Hit]:
    """E-mail addresses, also written with [at], (a), "dot" or "chấm"."""
    for m in _EMAIL.finditer(view):
        yield Hit(m.start(), m.end(), "email")


def profile_hits(view: str) -> Iterator[Hit]:
    """Links to social profiles and handles named after a network."""
    for m in _PROFILE_URL.finditer(view):
        end = m.end()
        while end > m.start() and view[end - 1] in ".,;:!?":
            end -= 1  # the sentence's full stop is not part of the link
        yield Hit(m.start(), end, "profile")
    for m in _HANDLE.finditer(view):
        end = m.end(1)
        while end > m.start(1) and view[end - 1] == ".":
            end -= 1
        yield Hit(m.start(1), end, "profile")
