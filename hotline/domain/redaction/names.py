"""Personal names, in any letter case, with or without accents.

A name is found after a kinship word or a pointing word ("ông Tám", "chị LAN",
"anh tuấn", "thằng Tèo"), after a self-introduction ("tôi là …", "tên tôi là …",
"họ tên: …"), as a run of two to four syllables that starts with a common family name
("NGUYỄN VĂN TÁM", "nguyen van tam"), and as the citizen's own known name. Streets,
wards, schools and markets named after people ("đường Bà Triệu", "trường THPT Nguyễn
Du", "chợ Bà Chiểu") stay.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

import hotline.domain.redaction.lexicon as lx
from hotline.domain.redaction.findings import Hit
from hotline.domain.redaction.normalize import View, fold

__all__ = ["name_hits", "tokens"]

# A word; Ê Đê, Jrai and Bahnar names keep their apostrophe ("H'Hen Niê", "Y'Djăn").
_WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)*")
_KIN_FOLDED = lx.folded_set(lx.KIN)
_SURNAMES_FOLDED = lx.folded_set(lx.SURNAMES)
_MIDDLE_FOLDED = lx.folded_set(lx.MIDDLE_NAMES)
_PLACE_SURNAMES_FOLDED = lx.folded_set(lx.PLACE_SURNAMES)
_NAMES_FOLDED = lx.folded_set(lx.NAME_SYLLABLES)


def _surname(t: Token) -> bool:
    return t.among(lx.SURNAMES, _SURNAMES_FOLDED)


def _middle(t: Token) -> bool:
    return t.among(lx.MIDDLE_NAMES, _MIDDLE_FOLDED)


_STRONG_MIDDLE_FOLDED = lx.folded_set(lx.STRONG_MIDDLE_NAMES)


def _strong_middle(t: Token) -> bool:
    """"văn", "thị", "hữu": after one of these any word is the given name ("nguyen van khoe")."""
    return t.among(lx.STRONG_MIDDLE_NAMES, _STRONG_MIDDLE_FOLDED)


def _name_syllable(t: Token) -> bool:
    if t.loose and t.style == "lower" and t.low in lx.COMMON_UNACCENTED:
        return False  # "trong", "lam", "tien": words first, names (Trọng, Lâm, Tiến) second
    return t.among(lx.NAME_SYLLABLES, _NAMES_FOLDED)
_INTROS = [tuple(p.split()) for p in (
    "tên tôi là", "tôi tên là", "tên em là", "em tên là", "tên cháu là", "cháu tên là",
    "tên mình là", "mình tên là", "tên con là", "con tên là", "tôi tên", "em tên", "cháu tên",
    "mình tên", "con tên", "tên tôi", "tên là", "tôi là", "em là", "mình là", "cháu là",
    "họ và tên", "họ tên", "người phản ánh", "người gửi", "người viết", "người báo", "ký tên",
    "tên người phản ánh", "tên người gửi", "người liên hệ", "tên", "xưng là", "tự xưng là",
    "gọi là", "thường gọi là", "hay gọi là", "biệt danh", "biệt danh là", "tên thường gọi",
    "tên thường gọi là", "tên gọi", "tên gọi là", "tên thật", "tên thật là")]
# A relative named by the writer: "vợ tôi Hồng Nhung", "con gái em tên là Ngọc Anh".
_INTROS += [tuple(f"{rel} {who}{tail}".split()) for rel in lx.RELATIVES
            for who in ("tôi", "em", "mình", "tui", "cháu", "con")
            for tail in ("", " là", " tên", " tên là")]
# By first word, longest first: one dictionary look-up per word of the text. Words match
# as written, and without accents only in an unaccented text ("ba con" is not "bà con").
_INTROS_BY_FIRST: dict[str, list[tuple[str, ...]]] = {}
for _phrase in sorted(set(_INTROS), key=len, reverse=True):
    _INTROS_BY_FIRST.setdefault(fold(_phrase[0]), []).append(_phrase)
_INTRO_STRICT = {tuple(p.split())
                 for p in ("tôi là", "em là", "mình là", "cháu là", "tên")}
_INTRO_STRICT_FOLDED = {tuple(fold(w) for w in p) for p in _INTRO_STRICT}
_PLACE_WORDS = frozenset(w.lower() for w in lx.PLACE_WORDS)
_CUES = frozenset(lx.PERSON_CUES)
_CHAIN = re.compile(r"(?:[ ]?[-–/,&][ ]?|[ ](?i:và|với|giao|giao với|va|voi)[ ])$")


@dataclass(frozen=True)
class Token:
    start: int
    end: int
    word: str
    low: str
    folded: str
    loose: bool = False  # a text written without accents: "tam" may be "Tám"
    plain: bool = False  # the whole text is written without accents

    def among(self, words: frozenset[str], folded: frozenset[str]) -> bool:
        """Whether this word is one of ``words`` (as written, or folded in an unaccented text)."""
        return self.low in words or (self.loose and self.folded in folded)

    @property
    def style(self) -> str:
        w = self.word
        if "'" in w or "’" in w:
            parts = re.split(r"['’]", w)
            if all(p[0].isupper() and (len(p) == 1 or p[1:].islower()) for p in parts):
                return "cap"
            w = "".join(parts)
        if w.islower():
            return "lower"
        if w[0].isupper() and (len(w) == 1 or w[1:].islower()):
            return "cap"
        if w.isupper():
            return "upper"
        return "mixed"

    @property
    def ascii(self) -> bool:
        return self.low == self.folded


def tokens(view: View) -> list[Token]:
    """The words of the view, with their lower-case and folded forms.

    In a text written with accents an unaccented word is what it says ("trong" is "in",
    not "Trọng"); in a text written without them any word may have lost its accents.
    """
    found = [(m.start(), m.end(), m.group(0), m.group(0).lower(), view.folded[m.start():m.end()])
             for m in _WORD.finditer(view.view)]
    accented = sum(1 for f in found if f[3] != f[4])
    loose = accented * 3 < len(found)
    # A capitalised unaccented word in an accented text ("anh Tuan", "NGUYEN VAN TAM") is a
    # name typed without accents more often than a word.
    return [Token(*f, loose=f[3] == f[4] and (loose or f[2] != f[3]), plain=loose) for f in found]


def _adjacent(view: str, a: Token, b: Token) -> bool:
    return view[a.end:b.start] == " "


def _words_before(toks: list[Token], i: int, view: str, n: int = 3) -> list[str]:
    """Up to ``n`` lower-case words right before token ``i`` (nearest last), same clause."""
    out: list[str] = []
    j = i - 1
    while j >= 0 and len(out) < n:
        gap = view[toks[j].end:toks[j + 1].start]
        if gap not in (" ", ". ", ".") or "\n" in gap:
            break
        out.insert(0, toks[j].low + ("." if gap.startswith(".") else ""))
        j -= 1
    return out


def _ends_with(words: list[str], phrases: frozenset[str]) -> bool:
    for k in (3, 2, 1):
        if len(words) >= k:
            tail = " ".join(words[-k:])
            if tail in phrases or tail.rstrip(".") in phrases:
                return True
    return False


def _is_place(toks: list[Token], i: int, view: str, depth: int = 0) -> bool:
    """Whether the name at token ``i`` is (part of) a place: "đường Lê Lợi – Trần Phú"."""
    if _ends_with(_words_before(toks, i, view), _PLACE_WORDS):
        return True
    if depth < 3 and i > 0 and _CHAIN.search(view[max(0, toks[i].start - 12):toks[i].start]):
        j = i - 1
        while j > 0 and toks[j - 1].style in ("cap", "upper") and \
                _adjacent(view, toks[j - 1], toks[j]):
            j -= 1
        return toks[j].style in ("cap", "upper") and _is_place(toks, j, view, depth + 1)
    return False


def _keep(toks: list[Token], i: int, n: int) -> bool:
    """A known place or public figure ("Bà Rịa", "Ông Ích Khiêm") starting at token ``i``."""
    for k in range(min(4, len(toks) - i), 1, -1):
        if " ".join(t.folded for t in toks[i:i + k]) in lx.KEEP_NAMES:
            return True
    return False


def _compound(toks: list[Token], j: int, view: str) -> bool:
    """Whether tokens ``j, j+1`` make a common word ("bảo vệ", "tài xế"), not a name."""
    if j + 1 >= len(toks) or not _adjacent(view, toks[j], toks[j + 1]):
        return False
    a, b = toks[j], toks[j + 1]
    return f"{a.low} {b.low}" in lx.COMPOUNDS or (
        a.loose and b.loose and f"{a.folded} {b.folded}" in _COMPOUNDS_FOLDED)


def _starts_sentence(toks: list[Token], k: int, view: str) -> bool:
    """Whether token ``k`` begins the next part of the sentence rather than going on with a name.

    "Liên" ends "bà Đoàn Thị Kim Liên" but begins "Liên hệ 0912…".
    """
    tok = toks[k]
    if tok.low not in lx.SENTENCE_STARTERS:
        return False
    if tok.low not in lx.NAME_SYLLABLES or tok.style == "lower":
        return True
    return k + 1 < len(toks) and _adjacent(view, tok, toks[k + 1]) and toks[k + 1].style == "lower"


def _keep_continues(toks: list[Token], i: int, view: str) -> bool:
    """"Bà Triệu Thị Nhàn", "Ông Tạ Quang Huy": a kept place name that goes on as a person's."""
    k = 2
    while i + k < len(toks) and " ".join(t.folded for t in toks[i:i + k + 1]) in lx.KEEP_NAMES:
        k += 1
    return i + k < len(toks) and _adjacent(view, toks[i + k - 1], toks[i + k]) and \
        toks[i + k].style != "lower" and _middle(toks[i + k])


def _take(toks: list[Token], j: int, view: str, *, kin: Token | None = None,
          strong: bool = False) -> int:
    """How many tokens from ``j`` form a name (0 when none does).

    ``strong``: right after a self-introduction, where an unaccented word may be a name.
    """
    if j >= len(toks):
        return 0
    first = toks[j]
    style = first.style
    nxt = toks[j + 1] if j + 1 < len(toks) and _adjacent(view, first, toks[j + 1]) else None
    if style == "mixed" or first.low in lx.SENTENCE_STARTERS or _compound(toks, j, view):
        return 0
    if first.low in lx.GENERIC_TITLES and not (
            _surname(first) and nxt is not None and _middle(nxt) and nxt.style != "lower"):
        return 0  # "Ông Chủ tịch", but "bà Ông Thị Lệ" (Ông is also a family name)
    if style == "lower":
        syllable = _name_syllable(first) or (strong and first.low == first.folded
                                             and first.folded in _NAMES_FOLDED)
        if not syllable:
            return 0
        if kin is not None and ((kin.low, first.low) in lx.FALSE_NAMES or (
                kin.loose and first.loose and (kin.folded, first.folded) in _FALSE_FOLDED)):
            return 0
    n = 1
    while j + n < len(toks) and n < 4:
        prev, tok = toks[j + n - 1], toks[j + n]
        if not _adjacent(view, prev, tok) or _starts_sentence(toks, j + n, view):
            break
        after_middle = _middle(prev) or (n == 1 and _surname(first))
        if style == "lower":
            ok = tok.style == "lower" and (_name_syllable(tok) or (
                _surname(first) and (n == 1 and _middle(tok) or _strong_middle(prev))) or (
                strong and tok.low == tok.folded and tok.folded in _NAMES_FOLDED))
        elif style == "upper":
            ok = tok.style == "upper" and (_name_syllable(tok) or after_middle)
        else:
            ok = tok.style in ("cap", "upper") and (
                tok.low not in lx.GENERIC_TITLES or tok.low in lx.NAME_SYLLABLES)
        if not ok:
            break
        n += 1
    return n


_FALSE_FOLDED = frozenset((fold(a), fold(b)) for a, b in lx.FALSE_NAMES)
_COMPOUNDS_FOLDED = lx.folded_set(lx.COMPOUNDS)


def _kin_names(toks: list[Token], view: str, used: set[int]) -> Iterator[tuple[int, int]]:
    for i, kin in enumerate(toks[:-1]):
        if i in used:
            continue
        shorthand = kin.low in lx.CAP_ONLY_KIN and (len(kin.word) > 1 or kin.style == "lower")
        if not (kin.low in lx.KIN or shorthand or (
                kin.plain and kin.ascii and kin.folded in _KIN_FOLDED)):
            continue
        if kin.low in _PLACE_WORDS:
            continue  # "duong Le Loi": unaccented "đường", not "dượng"
        if i > 0 and kin.style != "lower" and _adjacent(view, toks[i - 1], kin) and \
                toks[i - 1].style in ("cap", "upper") and _name_syllable(toks[i - 1]):
            continue  # inside a capitalised name: "Phan Chu Trinh"
        if _keep(toks, i, 4) and not _keep_continues(toks, i, view):
            k = 2
            while i + k < len(toks) and \
                    " ".join(t.folded for t in toks[i:i + k + 1]) in lx.KEEP_NAMES:
                k += 1
            used.update(range(i, i + k))
            continue
        if not _adjacent(view, kin, toks[i + 1]) or _is_place(toks, i, view):
            continue
        nxt = toks[i + 1]
        if kin.low in lx.CAP_ONLY_KIN and nxt.style == "lower":
            continue  # chat's "a", "e", "c" point at a person only before a capital
        n = _take(toks, i + 1, view, kin=kin)
        if kin.loose and kin.folded in lx.AMBIGUOUS_ASCII_KIN and nxt.style == "lower" and (
                n < 2 or not _surname(nxt)):
            continue  # "co hai nguoi", "di lam": after these, lower case only as a full name
        if n:
            used.update(range(i + 1, i + 1 + n))
            yield i + 1, i + 1 + n


def _intro_names(toks: list[Token], view: str, used: set[int]) -> Iterator[tuple[int, int]]:
    for i in range(len(toks)):
        for phrase in _INTROS_BY_FIRST.get(toks[i].folded, ()):
            k = len(phrase)
            if i + k >= len(toks) or not all(
                    t.low == w or (t.loose and t.folded == fold(w))
                    for t, w in zip(toks[i:i + k], phrase)):
                continue
            if any(not _adjacent(view, toks[i + m], toks[i + m + 1]) for m in range(k - 1)):
                continue
            gap = view[toks[i + k - 1].end:toks[i + k].start]
            if gap not in (" ", ": ", ":", " : ", " - ", "- ", " -"):
                continue
            j = i + k
            n = _take(toks, j, view, strong=True)
            if n and tuple(fold(w) for w in phrase) in _INTRO_STRICT_FOLDED and n == 1 and toks[j].style == "lower":
                n = 0  # "tôi là dân" — one lower-case word after "tôi là" is rarely a name
            if n and not _keep(toks, j, n):
                used.update(range(j, j + n))
                yield j, j + n
            break


def _surname_names(toks: list[Token], view: str, used: set[int]) -> Iterator[tuple[int, int]]:
    i = 0
    while i < len(toks):
        tok = toks[i]
        if i in used or not _surname(tok) or tok.style == "mixed":
            i += 1
            continue
        n = _take(toks, i, view)
        if tok.style == "lower" and (n < 3 or not _middle(toks[i + 1])):
            n = 0
        if any(k in used for k in range(i, i + n)):
            n = 0  # "Ông Văn Tám": the kinship word already claimed "Văn Tám"
        if n >= 2:
            before = _words_before(toks, i, view, 3)
            cue = _ends_with(before, _CUES)
            middle = _middle(toks[i + 1])
            place_surname = tok.among(lx.PLACE_SURNAMES, _PLACE_SURNAMES_FOLDED)
            if (not cue and (n < 3 or (place_surname and not middle))) \
                    or _keep(toks, i, n) or (not cue and _is_place(toks, i, view)) \
                    or (not cue and _famous(toks, i, n)):
                i += n
                continue
            used.update(range(i, i + n))
            yield i, i + n
            i += n
            continue
        i += 1


def _famous(toks: list[Token], i: int, n: int) -> bool:
    return " ".join(t.folded for t in toks[i:i + n]) in lx.FAMOUS_NAMES


def _known(toks: list[Token], view: View, known_names: Iterable[str]) -> Iterator[tuple[int, int]]:
    """The citizen's own name: the full name or its tail in any case, the given name capitalised."""
    variants: set[tuple[str, ...]] = set()
    for raw in known_names:
        words = [fold(w) for w in _WORD.findall(raw or "")]
        for s in range(len(words)):
            variants.add(tuple(words[s:]))
    multi = sorted((v for v in variants if len(v) > 1), key=len, reverse=True)
    given = {v[0] for v in variants if len(v) == 1 and len(v[0]) > 1}
    for i, tok in enumerate(toks):
        for v in multi:
            k = len(v)
            if tuple(t.folded for t in toks[i:i + k]) == v and all(
                    _adjacent(view.view, toks[m], toks[m + 1]) for m in range(i, i + k - 1)):
                yield i, i + k
                break
        else:
            if tok.folded in given and tok.style in ("cap", "upper"):
                yield i, i + 1


def name_hits(view: View, known_names: Iterable[str] = ()) -> Iterator[Hit]:
    """Names of private persons in the normalised view."""
    toks = tokens(view)
    if not toks:
        return
    used: set[int] = set()
    spans = [*_intro_names(toks, view.view, used), *_kin_names(toks, view.view, used),
             *_surname_names(toks, view.view, used), *_known(toks, view, known_names)]
    for a, b in spans:
        yield Hit(toks[a].start, toks[b - 1].end, "name")
