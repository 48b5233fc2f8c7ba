"""The exact scrubber: a known person's identifiers removed however they are written."""
from __future__ import annotations

import pytest

from hotline.domain.erasure import Identity, Scrubber, identifiers_in, merge

LAN = Identity(names=("Nguyễn Thị Lan",), phones=("+84912345678",),
               emails=("lan.nguyen@example.com",), numbers=("012345678901",),
               handles=("tg-556677",))


@pytest.mark.parametrize("written", [
    "NGUYỄN THỊ LAN", "nguyen thi lan", "Nguyễn  Thị\u200bLan", "nguyễn thị lan",
    "0912345678", "0912 345 678", "0912.345.678", "091-234-5678", "0912/345/678",
    "+84 912 345 678", "(+84) 912345678", "84912345678", "０９１２３４５６７８",
    "0912\u200b345\u2060678", "0 9 1 2 3 4 5 6 7 8",
    "LAN.NGUYEN@EXAMPLE.COM", "lan.nguyen [at] example [dot] com", "lan.nguyen(at)example.com",
    "012345678901", "0123 4567 8901", "012.345.678.901", "tg-556677",
])
def test_every_spelling_is_removed(written):
    out = Scrubber(LAN).exact(f"Liên hệ {written}, cảm ơn.")
    assert out.startswith("Liên hệ [") and out.endswith("], cảm ơn.")


@pytest.mark.parametrize("kept", [
    "Đường Lê Lợi", "Gọi 1022 hoặc 113", "Số 09123456789 khác", "Chợ Tân Bình",
    "phường Lan Hương", "mã PA-26-000123",
])
def test_other_text_stays(kept):
    assert Scrubber(LAN).exact(kept) == kept


def test_json_strings_are_scrubbed_and_keys_kept():
    data = {"text": "Chị Nguyễn Thị Lan 0912345678", "n": 3, "items": ["lan.nguyen@example.com"]}
    assert Scrubber(LAN).json(data) == {"text": "Chị [họ tên] [số điện thoại]", "n": 3,
                                        "items": ["[e-mail]"]}


def test_identifiers_found_in_the_persons_texts_join_the_identity():
    found = identifiers_in(["Số của tôi 0987 654 321, CCCD 079123456789", None])
    scrub = Scrubber(merge(LAN, found))
    assert scrub.exact("ghi chú: 0987654321 / 079 123 456 789") == \
        "ghi chú: [số điện thoại] / [số giấy tờ]"
    assert scrub.changes("gọi 0987.654.321") and not scrub.changes("gọi 1022")
