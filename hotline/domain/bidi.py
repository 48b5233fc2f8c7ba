"""Invisible format characters made visible, for the screens staff read citizen text on.

A right-to-left override (U+202E) can make "gnp.exe" read as "exe.png" or reverse a
phone number; zero-width spaces and joiners hide words from search and from the eye.
These are the Unicode "format" characters (category Cf). On display each one becomes a
visible marker such as ``⟨U+202E⟩``; the stored text is left as the citizen sent it. The
one exception is the zero-width joiner inside an emoji sequence (👨‍👩‍👧), which is
what citizens' phones send.
"""
from __future__ import annotations

import re
import unicodedata

# Every block that holds Cf characters (tests check this against ``unicodedata``); each
# match is confirmed by its category, so a wider range costs nothing but a lookup.
_CANDIDATES = re.compile(
    "[\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890-\u0891\u08e2\u180e\u200b-\u200f"
    "\u202a-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U0001345f"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001-\U000e007f]")
ZWJ = "\u200d"
_EMOJI_BEFORE_ZWJ = {"So", "Sk"}


def marker(char: str) -> str:
    return f"⟨U+{ord(char):04X}⟩"


def _keeps_zwj(text: str, i: int) -> bool:
    before = text[i - 1] if i > 0 else ""
    after = text[i + 1] if i + 1 < len(text) else ""
    if before == "\ufe0f" and i > 1:  # emoji presentation selector between the two
        before = text[i - 2]
    return (bool(before) and bool(after) and unicodedata.category(before) in _EMOJI_BEFORE_ZWJ
            and unicodedata.category(after) == "So")


def neutralise(text: str) -> str:
    """``text`` with every format character replaced by its visible marker."""
    if text.isascii() or _CANDIDATES.search(text) is None:
        return text

    def replace(match: re.Match) -> str:
        char = match.group()
        if unicodedata.category(char) != "Cf":
            return char
        if char == ZWJ and _keeps_zwj(text, match.start()):
            return char
        return marker(char)

    return _CANDIDATES.sub(replace, text)
