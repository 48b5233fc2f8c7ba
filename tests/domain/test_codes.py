"""Ticket codes: their shape, every character of the alphabet in every place, parsing back."""
from __future__ import annotations

import random
from collections import Counter
from datetime import datetime

import pytest

from hotline.domain import codes
from hotline.domain.errors import ValidationError


def test_a_code_reads_kind_year_and_six_unambiguous_characters():
    code = codes.new_code("kien_nghi", datetime(2027, 1, 3))
    assert codes.CODE_RE.fullmatch(code) and code.startswith("KN-27-")
    assert codes.parse_code(code.lower().replace("0", "o")) == code


def test_every_place_takes_every_character_evenly():
    rng = random.Random(7)
    tails = [codes.new_code("phan_anh", datetime(2026, 5, 1), rng=rng)[-6:]
             for _ in range(32 * 200)]
    for place in range(6):
        seen = Counter(t[place] for t in tails)
        assert set(seen) == set(codes.ALPHABET)
        assert max(seen.values()) < 2 * min(seen.values())  # about 200 each
    assert len(set(tails)) > len(tails) - 5


def test_an_unknown_kind_is_refused():
    with pytest.raises(ValidationError):
        codes.new_code("spam", datetime(2026, 5, 1))
