"""A normalised view of a text for the detectors, with a map back to the original.

Citizens (and people hiding data from a filter) write ``０９１２`` in full width, slip
zero-width characters inside a number, or space it out. The detectors read a view
where full-width forms are folded (NFKC), format characters (zero-width spaces and
joiners, bidi marks, soft hyphens) are gone and runs of spaces are one space; every
character of the view remembers which characters of the original it came from, so
a finding replaces the right span of what was actually written.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

__all__ = ["View", "fold", "normalise"]

# Not category Cf but invisible all the same.
_INVISIBLE = frozenset("\u115f\u1160\u3164\uffa0\u180e\u034f")


@dataclass(frozen=True)
class View:
    """``text`` as written (NFC), ``view`` as the detectors read it, ``folded`` without accents.

    ``starts[i]``/``ends[i]`` are the original offsets of ``view[i]``; ``folded`` has the
    same length as ``view`` (lower case, accents and đ folded) so offsets are shared.
    """

    text: str
    view: str
    folded: str
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of ``view[start:end]``."""
        return self.starts[start], self.ends[end - 1]


def _is_invisible(ch: str) -> bool:
    return ch in _INVISIBLE or unicodedata.category(ch) == "Cf"


@lru_cache(maxsize=4096)
def _fold_char(ch: str) -> str:
    if ch in "đĐ":
        return "d"
    base = unicodedata.normalize("NFD", ch)[0]
    low = base.lower()
    return low if len(low) == 1 else base


def fold(value: str) -> str:
    """Lower case without accents, one character for one ("Đường" → "duong")."""
    return "".join(_fold_char(c) for c in value)


# Whitespace the view would change: any but a lone space or line break, or a run of two.
_ODD_SPACE = re.compile(r"[^\S \n]|\s\s")


def normalise(text: str) -> View:
    """The detectors' view of ``text`` (which is first put in NFC)."""
    text = unicodedata.normalize("NFC", text)
    if unicodedata.is_normalized("NFKC", text) and not _ODD_SPACE.search(text) and \
            not any(_is_invisible(c) for c in set(text)):
        n = len(text)  # the common case: nothing to change, every offset maps to itself
        return View(text, text, fold(text), tuple(range(n)), tuple(range(1, n + 1)))
    out: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    for i, ch in enumerate(text):
        if _is_invisible(ch):
            continue
        if ch.isspace():
            # A run of spaces is one space; a line break survives so detectors stop at it.
            sep = "\n" if ch in "\n\r\u2028\u2029\x0b\x0c\x85" else " "
            if out and out[-1] in " \n":
                if sep == "\n" and out[-1] == " ":
                    out[-1] = "\n"
                ends[-1] = i + 1
                continue
            out.append(sep)
            starts.append(i)
            ends.append(i + 1)
            continue
        if unicodedata.combining(ch) and out:
            # A mark cut off its letter by an invisible character: put them back together.
            joined = unicodedata.normalize("NFC", out[-1] + ch)
            if len(joined) == 1:
                out[-1] = joined
                ends[-1] = i + 1
                continue
        for part in unicodedata.normalize("NFKC", ch):
            if part.isspace():
                part = " "
                if out and out[-1] in " \n":
                    ends[-1] = i + 1
                    continue
            out.append(part)
            starts.append(i)
            ends.append(i + 1)
    view = "".join(out)
    return View(text, view, fold(view), tuple(starts), tuple(ends))
