"""The text model on its own: folding, fields with their words, scope, bad input, no network."""
from __future__ import annotations

import socket

import pytest

from hotline.triage import scope
from hotline.triage.kb import Article, KbIndex
from hotline.triage.textprep import prepare


def test_prepare_folds_accents_expands_shorthand_and_drops_personal_data():
    assert prepare("Ko có NƯỚC 3 ngày rồi 😡 0912 345 678 lan@example.com") == \
        "khong co nuoc 3 ngay roi"
    assert prepare("đèn đường") == prepare("den duong") == "den duong"


@pytest.mark.parametrize("text, field", [
    ("Đèn đường trước nhà tôi bị hư mấy hôm nay, tối thui", "CS"),
    ("ổ gà giữa đường to quá xe máy té hoài", "GT"),
    ("karaoke hat to toi 1h sang ko ngu dc", "ON"),
    ("nha ben canh xay dung khong phep lan ra hanh lang duong", "XD"),
    ("cúp điện từ sáng tới giờ chưa có lại", "DIEN"),
    ("xin hỏi đổi bằng lái xe máy hết hạn ở đâu", "GPLX"),
])
def test_field_suggestion_top_three_with_deciding_words(corpus_model, text, field):
    prediction = corpus_model.predict(text)
    codes = [f.code for f in prediction.fields]
    assert len(codes) == 3 and field in codes
    best = prediction.fields[0]
    assert best.code == field and 0 < best.score <= 1
    assert best.words, "the words that decided it are shown"
    assert all(prepare(w) in prepare(text) for w in best.words)


def test_scores_are_best_first(corpus_model):
    scores = [f.score for f in corpus_model.predict("rác thải đổ trộm bốc mùi hôi").fields]
    assert scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("text, number", [
    ("Cháy nhà ở ấp 3 rồi, lửa bốc cao lắm, cứu với", "114"),
    ("tai nan xe may nguoi nam bat tinh chay mau nhieu", "115"),
    ("có mấy thằng đang cầm dao đâm chém nhau ngoài chợ", "113"),
])
def test_emergencies_get_their_number(corpus_model, text, number):
    prediction = corpus_model.predict(text)
    assert (prediction.scope, prediction.number) == ("emergency", number)
    assert number in scope.notice("emergency", number)


@pytest.mark.parametrize("text, expected", [
    ("Tôi khiếu nại quyết định thu hồi đất của UBND huyện", "khieu_nai"),
    ("to cao can bo dia chinh xa nhan hoi lo", "to_cao"),
    ("bóng đèn đường bị cháy mấy bữa nay", "in_scope"),
    ("khúc cua này hay xảy ra tai nạn, đề nghị lắp biển báo", "in_scope"),
    ("tôi không khiếu nại gì, chỉ hỏi hồ sơ trễ hẹn", "in_scope"),
])
def test_scope_and_its_false_alarm_controls(corpus_model, text, expected):
    assert corpus_model.predict(text).scope == expected


def test_complaint_notice_cites_the_law():
    assert "Luật Khiếu nại 2011" in scope.notice("khieu_nai")
    assert "Luật Tố cáo 2018" in scope.notice("to_cao")
    assert scope.notice("in_scope") is None


@pytest.mark.parametrize("text", [
    "", "   ", None, "😡😡😡🔥🔥👍", "0912345678 lan.nguyen@gmail.com https://x.vn/a 093 456 7890",
    "a", "12345 678",
])
def test_bad_input_gives_an_empty_suggestion(corpus_model, text):
    prediction = corpus_model.predict(text)
    assert prediction.empty and prediction.fields == []


def test_very_long_text_is_read_not_refused(corpus_model):
    prediction = corpus_model.predict("mất nước sinh hoạt cả tuần " * 20_000)
    assert prediction.fields and prediction.fields[0].code == "NUOC"


def test_a_suggestion_never_opens_a_socket(corpus_model, monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("network call during a suggestion")
    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    assert corpus_model.predict("Đèn đường hư").fields
    index = KbIndex([Article(1, "Đăng ký khai sinh", "Hồ sơ khai sinh cho trẻ em")])
    assert index.search("lam giay khai sinh cho be")


def test_kb_finds_by_meaning_without_accents():
    index = KbIndex([Article(1, "Cấp đổi giấy phép lái xe", "Đổi giấy phép lái xe hết hạn."),
                     Article(2, "Đăng ký khai sinh", "Cha mẹ đăng ký khai sinh cho con."),
                     Article(3, "Tách thửa đất", "Hồ sơ tách thửa, diện tích tối thiểu.")])
    assert next(a.id for a, _ in index.search("bang lai het han doi o dau")) == 1
    assert next(a.id for a, _ in index.search("chia đất cho con")) == 3
    assert index.search("😀") == []
