"""Ticket codes: short, human, unique, and not guessable from their neighbours.

A code reads ``PA-26-7K3M9Q``: kind prefix, two-digit year, six characters from
Crockford's base-32 alphabet (no I, L, O, U: nothing to misread on the phone).
The random part gives about a billion codes per kind and year, so the store
only retries on the rare collision; a code alone never opens a ticket (status
lookups pair it with the phone's last digits).
"""
from __future__ import annotations

import re
import secrets
from datetime import datetime

from hotline.domain.errors import ValidationError

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
PREFIXES = {"phan_anh": "PA", "kien_nghi": "KN", "hoi_dap": "HD"}
CODE_RE = re.compile(r"\b(PA|KN|HD)-(\d{2})-([0-9A-HJKMNP-TV-Z]{6})\b")
# Lower-case and O/I/L typed for 0/1 are common when citizens copy codes.
_CONFUSABLE = str.maketrans({"O": "0", "I": "1", "L": "1"})


def new_code(kind: str, when: datetime, *, rng: secrets.SystemRandom | None = None) -> str:
    """Generate a fresh code for a ticket of ``kind`` received at ``when``."""
    prefix = PREFIXES.get(kind)
    if prefix is None:
        raise ValidationError(f"Loại phiếu không hợp lệ: {kind}", code="invalid_kind")
    # 30 random bits are exactly six base-32 characters (one system call, not six).
    bits = (rng or secrets.SystemRandom()).getrandbits(30)
    tail = "".join(ALPHABET[(bits >> shift) & 31] for shift in range(25, -1, -5))
    return f"{prefix}-{when.year % 100:02d}-{tail}"


def parse_code(text: str | None) -> str | None:
    """Normalise a code a citizen typed (case, spaces, O/0), or ``None`` if it is not one."""
    if not text:
        return None
    candidate = re.sub(r"\s+", "", text.upper())
    head, sep, tail = candidate.rpartition("-")
    if sep:
        candidate = f"{head}-{tail.translate(_CONFUSABLE)}"
    match = CODE_RE.fullmatch(candidate)
    return match.group(0) if match else None


def find_code(text: str | None) -> str | None:
    """The first ticket code mentioned in free text (an e-mail subject, a chat message)."""
    if not text:
        return None
    match = CODE_RE.search(text.upper())
    return match.group(0) if match else None
