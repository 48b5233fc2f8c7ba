"""Removing personal data from Vietnamese text before it is published.

Every report's content and result is made public, but the neighbour a citizen
reported must never learn who reported them. :func:`redact` replaces what
identifies a private person with a bracketed Vietnamese label: phone numbers
however written (spaced, dotted, slashed, full width, digit by digit, read out in
words), e-mail addresses (also "[at]", "dot", "chấm"), social profile links, ID
card numbers (CCCD, also bare; CMND), passports, bank accounts, vehicle plates in
any case, personal names in any case (after a kinship word, a self-introduction,
a family name, or the citizen's own name), and house numbers when the citizen asked
for privacy. Public numbers (1022, 113, 114, 115, 1900/1800 lines), amounts, dates,
document numbers and places named after people stay.

The text is first normalised (NFKC, invisible characters dropped, spaces collapsed)
with a map back to the original, so the span actually written is replaced. Every
detector is a single left-to-right scan: linear in the length of the text. Pure
functions, no framework; over-redaction is the safe side, a moderator reads and
edits the text before anything is published.
"""
from __future__ import annotations

import bisect
import unicodedata
from collections.abc import Iterable

from hotline.domain.redaction.contacts import email_hits, profile_hits
from hotline.domain.redaction.findings import LABELS, PRIORITY, SUSPICIOUS, Finding, Hit
from hotline.domain.redaction.houses import house_hits
from hotline.domain.redaction.names import name_hits
from hotline.domain.redaction.normalize import View, normalise
from hotline.domain.redaction.numbers import (
    matcher_hits,
    number_hits,
    passport_hits,
    plate_hits,
    spelled_phone_hits,
)
from hotline.domain.redaction.suspicious import suspicious_hits

__all__ = ["LABELS", "SUSPICIOUS", "Finding", "find_personal_data", "mark_segments", "redact",
           "review_marks"]


def _hits(view: View, known_names: Iterable[str], hide_house_numbers: bool) -> list[Hit]:
    v = view.view
    hits: list[Hit] = [*email_hits(v), *profile_hits(v), *number_hits(v, view.folded),
                       *passport_hits(v, view.folded), *plate_hits(v),
                       *matcher_hits(v), *spelled_phone_hits(view.folded),
                       *name_hits(view, known_names)]
    if hide_house_numbers:
        hits.extend(house_hits(v))
    return hits


def _resolve(view: View, hits: Iterable[Hit]) -> list[Finding]:
    """Non-overlapping findings in the original text: the specific kind first, then the longer."""
    kept: list[Hit] = []
    starts: list[int] = []  # the kept spans, sorted (they never overlap)
    ends: list[int] = []
    for h in sorted(hits, key=lambda h: (PRIORITY[h.kind], -(h.end - h.start), h.start)):
        if h.end <= h.start:
            continue
        k = bisect.bisect_left(starts, h.start)
        if (k < len(starts) and starts[k] < h.end) or (k > 0 and ends[k - 1] > h.start):
            continue
        starts.insert(k, h.start)
        ends.insert(k, h.end)
        kept.append(h)
    out = []
    for h in kept:
        start, end = view.span(h.start, h.end)
        out.append(Finding(start, end, h.kind, view.text[start:end]))
    return sorted(out)


def find_personal_data(text: str, *, known_names: Iterable[str] = (),
                       hide_house_numbers: bool = False) -> list[Finding]:
    """Every piece of personal data in ``text`` (as NFC), in order, without overlaps."""
    if not text:
        return []
    view = normalise(text)
    return _resolve(view, _hits(view, known_names, hide_house_numbers))


def review_marks(text: str, *, known_names: Iterable[str] = (),
                 hide_house_numbers: bool = False) -> list[Finding]:
    """Personal data still in ``text`` plus what merely looks suspicious (kind ``suspicious``)."""
    if not text:
        return []
    view = normalise(text)
    hits = _hits(view, known_names, hide_house_numbers)
    hits.extend(suspicious_hits(view))
    return _resolve(view, hits)


def mark_segments(text: str, findings: Iterable[Finding]) -> list[tuple[str, str | None]]:
    """``text`` (as NFC) cut into ``(piece, kind or None)`` for highlighting ``findings``."""
    text = unicodedata.normalize("NFC", text or "")
    out: list[tuple[str, str | None]] = []
    pos = 0
    for f in sorted(findings):
        if f.start < pos:
            continue
        if f.start > pos:
            out.append((text[pos:f.start], None))
        out.append((text[f.start:f.end], f.kind))
        pos = f.end
    if pos < len(text):
        out.append((text[pos:], None))
    return out


def redact(text: str | None, *, known_names: Iterable[str] = (),
           hide_house_numbers: bool = False) -> str:
    """``text`` with every piece of personal data replaced by its label.

    A text that is nothing but personal data still reads as a sentence of labels.

    >>> redact("Ông Nguyễn Văn Tám, SĐT 0912.345.678, đổ rác ra đường Lê Lợi.")
    'Ông [họ tên], SĐT [số điện thoại], đổ rác ra đường Lê Lợi.'
    """
    if not text:
        return text or ""
    view = normalise(text)
    text = view.text
    out: list[str] = []
    pos = 0
    for f in _resolve(view, _hits(view, known_names, hide_house_numbers)):
        between = text[pos:f.start]
        if out and not between.strip():
            between = " "  # two labels never run together: "[họ tên] [số điện thoại]"
        out.append(between)
        out.append(LABELS[f.kind])
        pos = f.end
    out.append(text[pos:])
    return "".join(out)
