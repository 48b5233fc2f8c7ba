"""Text folding for search: accents, đ and case ignored, whatever the script."""
from __future__ import annotations

import unicodedata

from hypothesis import given
from hypothesis import strategies as st

from hotline.domain.text import fold

VIETNAMESE = "aăâbcdđeêghiklmnoôơpqrstuưvxyàảãáạằẳẵắặầẩẫấậèẻẽéẹềểễếệìỉĩíịòỏõóọồổỗốộờởỡớợùủũúụ" \
             "ừửữứựỳỷỹýỵĐĂÂÊÔƠƯ \t\n\u034f"


def reference_fold(value: str) -> str:
    """The definition: drop every combining mark of NFD (and đ), case-fold, squeeze spaces."""
    decomposed = unicodedata.normalize("NFD", value.replace("đ", "d").replace("Đ", "d"))
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(stripped.casefold().split())


def test_vietnamese_examples():
    assert fold("Đèn  ĐƯỜNG") == "den duong"
    assert fold("  Ổ gà lớn trên mặt đường\n") == "o ga lon tren mat duong"
    assert fold(unicodedata.normalize("NFD", "Phú Riềng Đỏ")) == "phu rieng do"
    assert fold(None) == fold("") == ""


@given(st.text(alphabet=VIETNAMESE) | st.text())
def test_fold_is_the_definition_for_any_text(value):
    assert fold(value) == reference_fold(value)
