"""Redaction of personal data in realistic Vietnamese reports (no database, no app)."""
from __future__ import annotations

import itertools
import json
import unicodedata
from pathlib import Path

import pytest

from hotline.domain.redact import LABELS, find_personal_data, mark_segments, redact, review_marks
from hotline.domain.redaction.normalize import normalise

PHONE, EMAIL, ID, PLATE = LABELS["phone"], LABELS["email"], LABELS["id_number"], LABELS["plate"]
NAME, HOUSE = LABELS["name"], LABELS["house_number"]


# --- phone numbers ---------------------------------------------------------------------

@pytest.mark.parametrize("written", [
    "0912345678", "0912 345 678", "0912.345.678", "0912-345-678", "091 234 5678",
    "09 12 34 56 78", "+84912345678", "+84 912 345 678", "(+84) 912 345 678", "84912345678",
    "84 912.345.678", "(84) 912345678", "+84-912-345-678", "0363.123.456", "0708 123 456",
    "0271 3879 123", "024 3825 1234", "028.3829.1234", "0168 123 4567",
])
def test_phone_numbers_however_written(written):
    text = f"Tôi là người dân ở khu phố 3, số điện thoại {written}, mong được phản hồi."
    out = redact(text)
    assert PHONE in out
    digits = "".join(c for c in written if c.isdigit())
    assert digits[-6:] not in "".join(c for c in out if c.isdigit())


@pytest.mark.parametrize("text", [
    "Xin gọi tổng đài 1022 hoặc 1900 1234 để được hỗ trợ.",
    "Cháy thì gọi 114, cấp cứu gọi 115.",
    "Dự án có tổng mức đầu tư 2.500.000.000 đồng.",
    "Khoảng 150 hộ dân, 1.200 nhân khẩu bị ảnh hưởng.",
    "Đoạn đường từ km 12+300 đến km 14+500 hư hỏng nặng.",
])
def test_public_numbers_and_amounts_stay(text):
    assert redact(text) == text


def test_phone_next_to_other_numbers():
    out = redact("SĐT: 0912345678 3 bóng đèn hỏng từ ngày 12/10")
    assert out == f"SĐT: {PHONE} 3 bóng đèn hỏng từ ngày 12/10"


# --- e-mail, ID cards, plates ------------------------------------------------------------

def test_email_addresses():
    out = redact("Liên hệ nguyen.van.tam1980@gmail.com hoặc lan_nguyen+1022@yahoo.com.vn nhé.")
    assert out == f"Liên hệ {EMAIL} hoặc {EMAIL} nhé."


@pytest.mark.parametrize("text,expected", [
    ("CCCD số 079203001234 cấp ngày 10/5/2021", f"CCCD số {ID} cấp ngày 10/5/2021"),
    ("số CMND 285123456 do Công an tỉnh cấp", f"số CMND {ID} do Công an tỉnh cấp"),
    ("Căn cước công dân: 079 203 001 234.", f"Căn cước công dân: {ID}."),
    ("CMND: 285.123.456", f"CMND: {ID}"),
    ("số định danh cá nhân 001099012345", f"số định danh cá nhân {ID}"),
    ("mã 285123456 ghi trên giấy", f"mã {ID} ghi trên giấy"),
])
def test_id_card_numbers(text, expected):
    assert redact(text) == expected


def test_money_in_nine_digits_is_not_an_id():
    assert redact("Bị phạt 150000000 đồng") == "Bị phạt 150000000 đồng"


@pytest.mark.parametrize("plate", ["93A-123.45", "61-B1 234.56", "29H1-12345", "51F-123.45",
                                   "59-X1 123.45", "30A 123.45", "51LD-12345", "93C-1234"])
def test_vehicle_plates(plate):
    out = redact(f"Xe biển số {plate} đậu trên vỉa hè suốt đêm.")
    assert out == f"Xe biển số {PLATE} đậu trên vỉa hè suốt đêm."


# --- names ------------------------------------------------------------------------------

@pytest.mark.parametrize("text,expected", [
    ("Ông Nguyễn Văn Tám ở tổ 5 đổ rác ra đường.", f"Ông {NAME} ở tổ 5 đổ rác ra đường."),
    ("Nhà bà Trần Thị Bảy mở karaoke đến 1 giờ sáng.",
     f"Nhà bà {NAME} mở karaoke đến 1 giờ sáng."),
    ("Anh Tuấn bán hàng lấn chiếm vỉa hè.", f"Anh {NAME} bán hàng lấn chiếm vỉa hè."),
    ("chị Lê Thị Hồng Nhung và em Phạm Minh Khôi",
     f"chị {NAME} và em {NAME}"),
    ("Cô Hoa, chú Ba, bác Năm, cháu Minh Anh đều biết.",
     f"Cô {NAME}, chú {NAME}, bác {NAME}, cháu {NAME} đều biết."),
    ("ÔNG Nguyễn Văn A xây nhà lấn ra hẻm.", f"ÔNG {NAME} xây nhà lấn ra hẻm."),
    ("Tôi là Nguyễn Thị Lan, cư trú tại phường Tân Bình.",
     f"Tôi là {NAME}, cư trú tại phường Tân Bình."),
    ("Họ tên: Hoàng Văn Sơn", f"Họ tên: {NAME}"),
    ("Hộ Lê Tư xả nước thải ra mương.", f"Hộ {NAME} xả nước thải ra mương."),
    ("Gia đình Đỗ Quang Vinh xây tường rào lấn đường.",
     f"Gia đình {NAME} xây tường rào lấn đường."),
])
def test_personal_names(text, expected):
    assert redact(text) == expected


@pytest.mark.parametrize("text", [
    "Đèn đường trên đường Bà Triệu và đường Lê Lợi bị hỏng.",
    "Ngã tư Trần Hưng Đạo – Lê Lợi thường xuyên ùn tắc.",
    "Đường Nguyễn Thị Minh Khai đoạn gần trường THPT Nguyễn Du ngập nước.",
    "Tôi ở tỉnh Bà Rịa - Vũng Tàu, chợ Bà Chiểu, cầu Ông Lãnh, huyện Cô Tô.",
    "Người dân phường Lê Hồng Phong, xã Hùng Vương phản ánh.",
    "Mất điện ở Hà Nội, Lâm Đồng, Phan Thiết và Châu Thành.",
    "Đề nghị UBND phường Tân Phú xử lý.",
    "Anh em trong xóm đều bức xúc.",
    "Bà con khu phố 2 đề nghị lắp thêm đèn.",
    "Ông Chủ tịch UBND xã đã hứa giải quyết.",
])
def test_places_named_after_people_stay(text):
    assert redact(text) == text


def test_the_citizens_own_name_full_or_given():
    text = "Lan đã báo nhiều lần. Chị Nguyễn Thị Lan cho biết nước tràn vào nhà; Thị Lan rất lo."
    out = redact(text, known_names=["Nguyễn Thị Lan"])
    assert "Lan" not in out and "Nguyễn" not in out
    assert out.startswith(f"{NAME} đã báo nhiều lần.")


def test_given_name_only_when_capitalised():
    out = redact("Dịch bệnh lan nhanh, Lan rất lo.", known_names=["Trần Lan"])
    assert out == f"Dịch bệnh lan nhanh, {NAME} rất lo."


# --- house numbers (privacy requested) --------------------------------------------------------

def test_house_numbers_only_when_privacy_requested():
    text = "Nhà tôi ở số 12/3 đường Nguyễn Huệ, cạnh nhà số 5 hẻm 45."
    assert redact(text) == text
    out = redact(text, hide_house_numbers=True)
    assert out == f"Nhà tôi ở số {HOUSE} đường Nguyễn Huệ, cạnh nhà số {HOUSE} hẻm 45."


@pytest.mark.parametrize("text,expected", [
    ("123 đường Hùng Vương", f"{HOUSE} đường Hùng Vương"),
    ("45/6/7 Lê Lợi", f"{HOUSE} Lê Lợi"),
    ("số nhà 27A, tổ 4", f"số nhà {HOUSE}, tổ 4"),
    ("nhà 9, ngõ 12", f"nhà {HOUSE}, ngõ 12"),
])
def test_house_number_forms(text, expected):
    assert redact(text, hide_house_numbers=True) == expected


@pytest.mark.parametrize("text", [
    "tổ số 5, khu phố số 3, ấp 2",
    "đường số 7 khu dân cư",
    "Quốc lộ 14 đoạn qua xã",
    "Quyết định số 123/QĐ-UBND ngày 5/6",
    "Nghị định 45/2024/NĐ-CP",
    "ngày 12/3/2024",
])
def test_public_numbers_are_not_house_numbers(text):
    assert redact(text, hide_house_numbers=True) == text


# --- a whole report --------------------------------------------------------------------

def test_a_realistic_report():
    text = ("Kính gửi Tổng đài 1022. Tôi là Nguyễn Thị Lan, ĐT 0912.345.678, email "
            "lan.nguyen@gmail.com, nhà số 15 hẻm 7 đường Phú Riềng Đỏ, phường Tân Bình. "
            "Hộ ông Trần Văn Bảy (CCCD 070085001234) thường xuyên đậu xe tải 93C-123.45 "
            "chắn lối đi, gọi 0271 3879 123 không ai nghe. Đề nghị phường xử lý.")
    out = redact(text, known_names=["Nguyễn Thị Lan"], hide_house_numbers=True)
    assert out == (
        f"Kính gửi Tổng đài 1022. Tôi là {NAME}, ĐT {PHONE}, email {EMAIL}, nhà số {HOUSE} hẻm 7 "
        f"đường Phú Riềng Đỏ, phường Tân Bình. Hộ ông {NAME} (CCCD {ID}) thường xuyên đậu xe tải "
        f"{PLATE} chắn lối đi, gọi {PHONE} không ai nghe. Đề nghị phường xử lý.")


def test_findings_are_ordered_and_never_overlap():
    text = "Ông Phạm Văn Đức, 0912345678, CCCD 079203001234, xe 61-B1 234.56"
    found = find_personal_data(text)
    assert [f.kind for f in found] == ["name", "phone", "id_number", "plate"]
    for a, b in itertools.pairwise(found):
        assert a.end <= b.start
    assert [text[f.start:f.end] for f in found] == [f.value for f in found]


def test_empty_and_decomposed_input():
    assert redact(None) == "" and redact("") == ""
    import unicodedata
    nfd = unicodedata.normalize("NFD", "Ông Nguyễn Văn Tám gọi 0912345678")
    assert redact(nfd) == f"Ông {NAME} gọi {PHONE}"


# --- the corpus: realistic reports that must lose every personal string, controls that stay ----

_CORPUS = json.loads((Path(__file__).parent.parent / "data" / "redaction_corpus.json")
                     .read_text(encoding="utf-8"))


def _squash(value: str) -> str:
    """The detector's view without any space: what a reader could still piece together."""
    return normalise(value).view.replace(" ", "").replace("\n", "").casefold()


@pytest.mark.parametrize("case", _CORPUS["cases"], ids=lambda c: c["text"][:60])
def test_corpus_case_loses_every_personal_string(case):
    text = unicodedata.normalize("NFC", case["text"])
    out = redact(text)
    covered = set()
    for f in find_personal_data(text):
        covered.update(range(f.start, f.end))
    for item in case["personal"]:
        value = unicodedata.normalize("NFC", item["value"])
        start = text.index(value)
        # Every visible character of the personal string lies inside a replaced span …
        left = [c for i, c in enumerate(value, start) if i not in covered and c.isalnum()]
        assert not left, f"{item['kind']} {value!r} leaves {''.join(left)!r}: {out!r}"
        # … and neither it nor its normalised, space-free form survives in the output.
        assert value not in out
        assert _squash(value) not in _squash(out)
    assert out.strip() and "[" in out  # a readable sentence of labels, never empty


@pytest.mark.parametrize("control", _CORPUS["controls"], ids=lambda c: c[:60])
def test_corpus_control_stays_unchanged(control):
    assert redact(control) == control


def test_corpus_size():
    assert len(_CORPUS["cases"]) >= 300 and len(_CORPUS["controls"]) >= 100


@pytest.mark.parametrize("text", ["CCCD 079 203 001 333", "CCCD 079203001333", "079 203 001 333",
                                  "căn cước: 0 7 9 2 0 3 0 0 1 3 3 3"])
def test_an_id_is_taken_whole_before_a_phone_takes_part_of_it(text):
    found = find_personal_data(text)
    assert [f.kind for f in found] == ["id_number"]
    assert "333" not in redact(text)


@pytest.mark.parametrize("text,expected", [
    ("Nguyễn Văn Tám", NAME),
    ("0912345678", PHONE),
    ("Nguyễn Văn Tám 0912345678", f"{NAME} {PHONE}"),
    ("Nguyễn Văn Tám0912345678", f"{NAME} {PHONE}"),
    ("tam.nguyen@gmail.com, 079203001234", f"{EMAIL}, {ID}"),
])
def test_only_personal_data_still_reads_as_labels(text, expected):
    assert redact(text) == expected


def test_the_original_span_is_replaced_whatever_hides_in_it():
    text = "Gọi ０９１２\u200b３４５\u00a0\u00a0６７８ nhé, ông\u200b NGUYỄN  VĂN  TÁM biết."
    out = redact(text)
    assert out == f"Gọi {PHONE} nhé, ông\u200b {NAME} biết."
    found = find_personal_data(text)
    assert [text[f.start:f.end] for f in found] == [f.value for f in found]
    assert found[0].value == "０９１２\u200b３４５\u00a0\u00a0６７８"


@pytest.mark.parametrize("text,expected", [
    ("0912345678@gmail.com", EMAIL),                    # the address, not a phone inside it
    ("zalo.me/0912345678", LABELS["profile"]),
    ("tam.079203001234@yahoo.com", EMAIL),
])
def test_the_more_specific_finding_wins_an_overlap(text, expected):
    assert redact(text) == expected


def test_review_marks_add_what_only_looks_suspicious():
    text = "Gặp Minh Tuấn ở chợ, mã 20251234567890123456789, gọi 0912345678 hoặc 1900 545 454."
    marks = [(m.kind, m.value) for m in review_marks(text)]
    assert marks == [("suspicious", "Minh Tuấn"), ("suspicious", "20251234567890123456789"),
                     ("phone", "0912345678")]
    assert [f.kind for f in find_personal_data(text)] == ["phone"]  # marks never redact
    assert mark_segments(text, review_marks(text))[1] == ("Minh Tuấn", "suspicious")


def test_review_marks_leave_a_redacted_control_alone():
    assert review_marks(redact("Đèn đường trên đường Bà Triệu, gọi 1022 hoặc 113.")) == []
