"""Scrubbing one known person out of free text, for erasure and retention.

Detection alone is not enough when we know who the person is: the redactor may
miss a spelling, but the name, phone, e-mail and ID numbers we hold (or that the
redactor found once in their own messages) can be removed exactly, wherever and
however they are written — any letter case, with or without accents, phone digits
split by spaces, dots, dashes, slashes or zero-width characters, full-width digits,
with or without the country code. ``Scrubber`` does that first and then runs the
redactor over what is left.

Pure functions, no framework.
"""
from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field

from hotline.domain.redact import LABELS, find_personal_data, redact

# What may sit between two digits of a number as people write it (and between two
# words of a name), in the folded text where invisible format characters became spaces.
# Kept to ASCII and \s: the pattern repeats it between every digit, and a class with
# wider ranges costs the regex compiler a character map each time.
_GAP = r"[\s.\-/()]*"
_NAME_GAP = r"\s+"
_MIN_VALUE = 4  # shorter "identifiers" would wipe ordinary words and numbers


@functools.lru_cache(maxsize=4096)
def fold_char(char: str) -> str:
    """One character, accent-free, case-folded and NFKC'd (an invisible one a space), kept
    one character long.

    Keeping the length lets a match in the folded text be cut out of the original.
    """
    if char in "đĐ":
        return "d"
    if unicodedata.category(char) == "Cf" or char == "\u180e":
        return " "  # zero-width and other invisible characters: a gap
    base = unicodedata.normalize("NFKD", char)
    kept = "".join(c for c in base if not unicodedata.combining(c)).casefold()
    return kept if len(kept) == 1 else char.casefold()[:1] or char


def fold_aligned(text: str) -> str:
    """``text`` folded character by character (same length as ``text``)."""
    if text.isascii():
        return text.lower()
    return "".join(map(fold_char, text))


@dataclass(frozen=True)
class Identity:
    """What we know identifies one person."""

    names: tuple[str, ...] = ()
    phones: tuple[str, ...] = ()      # any format; E.164 as stored
    emails: tuple[str, ...] = ()
    numbers: tuple[str, ...] = ()     # ID, passport, account numbers
    handles: tuple[str, ...] = ()     # chat ids and other opaque identifiers


def _phone_core(value: str) -> str | None:
    digits = "".join(c for c in unicodedata.normalize("NFKC", value) if c.isdigit())
    if digits.startswith("84") and len(digits) >= 11:
        digits = digits[2:]
    digits = digits.lstrip("0")
    return digits if len(digits) >= 8 else None


def _digits_pattern(digits: str) -> str:
    return _GAP.join(re.escape(d) for d in digits)


@dataclass
class Scrubber:
    """Removes one person's known identifiers from text and JSON values."""

    identity: Identity
    _parts: list[str] = field(init=False, default_factory=list)
    _labels: dict[str, str] = field(init=False, default_factory=dict)
    _pattern: re.Pattern | None = field(init=False, default=None)

    def __post_init__(self) -> None:
        ident = self.identity
        phones = {p for p in (_phone_core(v) for v in ident.phones if v) if p}
        numbers = {"".join(c for c in unicodedata.normalize("NFKC", v) if c.isdigit())
                   for v in ident.numbers if v}
        for core in sorted(phones, key=len, reverse=True):
            # 0912…, +84 912…, 84912…, (+84) 912…: the country code or trunk 0 is optional.
            prefix = rf"(?:\(?(?:\+{_GAP})?8{_GAP}4{_GAP}|0{_GAP})?"
            self._add(rf"(?<!\d){prefix}{_digits_pattern(core)}(?!\d)", "phone")
        for digits in sorted(numbers, key=len, reverse=True):
            if len(digits) >= _MIN_VALUE:
                self._add(rf"(?<!\d){_digits_pattern(digits)}(?!\d)", "id_number")
        for email in sorted({e for e in ident.emails if e}, key=len, reverse=True):
            local, _, domain = fold_aligned(email.strip()).partition("@")
            if local and domain:
                at = r"(?:@|\s*[\[(]\s*at\s*[\])]\s*)"
                self._add(re.escape(local) + at + re.escape(domain).replace(r"\.", r"(?:\.|\s*[\[(]\s*dot\s*[\])]\s*)"),
                          "email")
        for name in sorted({n for n in ident.names if n and n.strip()}, key=len, reverse=True):
            words = fold_aligned(name).split()
            if sum(len(w) for w in words) >= _MIN_VALUE:
                self._add(r"(?<!\w)" + _NAME_GAP.join(re.escape(w) for w in words) + r"(?!\w)",
                          "name")
        for handle in sorted({h for h in ident.handles if h}, key=len, reverse=True):
            if len(handle) >= _MIN_VALUE:
                folded = fold_aligned(handle)
                if folded.isdigit():
                    self._add(rf"(?<!\d){_digits_pattern(folded)}(?!\d)", "id_number")
                else:
                    self._add(r"(?<!\w)" + re.escape(folded) + r"(?!\w)", "id_number")
        if self._parts:
            # One pass over the text: longer identifiers were added (and so win) first.
            self._pattern = re.compile("|".join(self._parts))

    def _add(self, pattern: str, kind: str) -> None:
        group = f"g{len(self._parts)}"
        self._parts.append(f"(?P<{group}>{pattern})")
        self._labels[group] = LABELS[kind]

    def exact(self, text: str) -> str:
        """``text`` with the known identifiers replaced by their labels (nothing else)."""
        if self._pattern is None or not text:
            return text
        out, pos = [], 0
        for match in self._pattern.finditer(fold_aligned(text)):
            out.append(text[pos:match.start()])
            out.append(self._labels[match.lastgroup])
            pos = match.end()
        out.append(text[pos:])
        return "".join(out)

    def text(self, value: str | None) -> str | None:
        """Known identifiers removed, then whatever the redactor still finds."""
        if not value:
            return value
        value = self.exact(unicodedata.normalize("NFC", value))
        folded = fold_aligned(value)
        # The person's names matter to the redactor only where one of their words occurs;
        # elsewhere the same staff note (a routing line, "đã tiếp nhận") is redacted once
        # for every ticket of a batch.
        names = tuple(n for n in self.identity.names
                      if any(w in folded for w in fold_aligned(n).split() if len(w) > 1))
        return _redact(value, names)

    def json(self, value):
        """Every string inside a JSON value scrubbed (keys kept)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, list):
            return [self.json(v) for v in value]
        if isinstance(value, dict):
            return {k: self.json(v) for k, v in value.items()}
        return value

    def changes(self, value: str | None) -> bool:
        """Whether ``value`` holds one of the known identifiers."""
        return bool(value and self._pattern is not None
                    and self._pattern.search(fold_aligned(unicodedata.normalize("NFC", value))))


@functools.lru_cache(maxsize=16384)
def _redact(value: str, names: tuple[str, ...]) -> str:
    return redact(value, known_names=names)


def identifiers_in(texts: Iterable[str | None], *, names: Iterable[str] = ()) -> Identity:
    """The phones, e-mails and ID numbers the redactor finds in a person's own texts.

    Found once in what they wrote, they are then removed everywhere exactly
    (search columns, staff notes that copied them, JSON payloads).
    """
    phones, emails, numbers = set(), set(), set()
    for value in texts:
        if not value:
            continue
        for finding in find_personal_data(unicodedata.normalize("NFC", value),
                                          known_names=tuple(names)):
            if finding.kind == "phone":
                phones.add(finding.value)
            elif finding.kind == "email":
                emails.add(finding.value)
            elif finding.kind == "id_number":
                digits = "".join(c for c in finding.value if c.isdigit())
                if len(digits) >= 8:
                    numbers.add(digits)
    return Identity(phones=tuple(phones), emails=tuple(emails), numbers=tuple(numbers))


def merge(*identities: Identity) -> Identity:
    """One identity holding every value of ``identities``."""
    def union(attr: str) -> tuple[str, ...]:
        return tuple(sorted({v for i in identities for v in getattr(i, attr) if v}))
    return Identity(names=union("names"), phones=union("phones"), emails=union("emails"),
                    numbers=union("numbers"), handles=union("handles"))
