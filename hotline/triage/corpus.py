"""The training corpus and the held-out set, composed from hand-written phrase banks.

``data/corpus.yaml`` holds, per field, problem phrases and the frames around them
(openers, details, closers); ``data/scope.yaml`` the emergencies, complaints,
denunciations and the ordinary reports that share their words. A message is a frame
around a phrase, then styled as people write: without diacritics, in chat shorthand, with
typos, in Southern or Northern wording, all lower-case, or shouted. ``split="heldout"``
uses phrases and frames that training never sees.
"""
from __future__ import annotations

import random
import re
import unicodedata
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import yaml

from hotline.domain.text import fold

DATA = Path(__file__).with_name("data")
SCOPES = ("in_scope", "emergency", "khieu_nai", "to_cao")


@dataclass(frozen=True)
class Example:
    text: str
    field: str | None      # field code; None for an emergency, a complaint or a denunciation
    scope: str             # one of SCOPES
    number: str | None = None   # 113 / 114 / 115 for an emergency
    phrase: str = ""       # the phrase it was composed from (duplicate pairs use it)


@cache
def banks() -> dict:
    """The phrase banks (read once)."""
    with open(DATA / "corpus.yaml", encoding="utf-8") as f:
        corpus = yaml.safe_load(f)
    with open(DATA / "scope.yaml", encoding="utf-8") as f:
        corpus["scope"] = yaml.safe_load(f)
    with open(DATA / "corpus_extra.yaml", encoding="utf-8") as f:
        for code, phrases in yaml.safe_load(f).items():
            corpus["fields"][str(code)]["train"] += phrases
    corpus["fields"] = {str(k): v for k, v in corpus["fields"].items()}
    return corpus


def field_codes() -> list[str]:
    return list(banks()["fields"])


# --- how people write ----------------------------------------------------------------------

# (standard, variants) — chat shorthand and regional wording, applied word by word.
_SWAPS = (
    ("không", ("ko", "k", "hông", "hok", "khong", "hổng")), ("được", ("đc", "dc", "đươc")),
    ("gì", ("j", "gì")), ("vậy", ("zậy", "dzậy", "vầy")), ("rồi", ("rùi", "r", "gồi")),
    ("quá", ("wá", "quá trời", "lắm")), ("nhiều", ("nhìu", "nhiều lắm")), ("biết", ("bít",)),
    ("người", ("ng", "người ta")), ("với", ("vs", "dới")), ("tôi", ("tui", "t", "em", "mình")),
    ("nhà", ("nhà", "nhà tui")), ("ở", ("ở", "tại", "bên")), ("đường", ("đg", "đường")),
    ("thế nào", ("ntn", "sao", "làm sao")), ("bao nhiêu", ("bn", "nhiêu")),
    ("đã", ("đã", "")), ("rất", ("rất", "quá", "cực kỳ")), ("nước", ("nc", "nước")),
)
_SOUTH = (("bố", "ba"), ("mẹ", "má"), ("ngõ", "hẻm"), ("lợn", "heo"), ("ốm", "bệnh"),
          ("thế nào", "sao"), ("nhé", "nha"), ("vâng", "dạ"), ("hỏng", "hư"), ("đâu", "đâu vậy"))
_NORTH = (("hẻm", "ngõ"), ("heo", "lợn"), ("hư", "hỏng"), ("ba", "bố"), ("má", "mẹ"),
          ("nha", "nhé"), ("tui", "tôi"), ("cúp điện", "mất điện"), ("xài", "dùng"))


def strip_marks(value: str) -> str:
    """Vietnamese typed without diacritics (keeps the case)."""
    value = value.replace("đ", "d").replace("Đ", "D")
    decomposed = unicodedata.normalize("NFD", value)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 4:
        return word
    i = rng.randrange(1, len(word) - 1)
    op = rng.randrange(3)
    if op == 0:
        return word[:i] + word[i + 1:]                       # a letter dropped
    if op == 1:
        return word[:i] + word[i] + word[i:]                 # a letter doubled
    return word[:i - 1] + word[i] + word[i - 1] + word[i + 1:]   # two letters swapped


def _swap(text: str, word: str, by: str) -> str:
    return re.sub(r"(?<!\w)" + re.escape(word) + r"(?!\w)", by, text)


def style(rng: random.Random, text: str) -> str:
    """``text`` written the way one person might: each habit applied at its own odds."""
    for a, b in (_SOUTH if rng.random() < 0.5 else _NORTH):
        if rng.random() < 0.7:
            text = _swap(text, a, b)
    if rng.random() < 0.4:
        for standard, variants in _SWAPS:
            if standard in text and rng.random() < 0.6:
                text = _swap(text, standard, rng.choice(variants))
    if rng.random() < 0.25:
        words = text.split()
        text = " ".join(_typo(rng, w) if rng.random() < 0.12 else w for w in words)
    roll = rng.random()
    if roll < 0.35:
        text = strip_marks(text)
    if rng.random() < 0.4:
        text = text.lower()
    elif rng.random() < 0.05:
        text = text.upper()
    if rng.random() < 0.3:
        text = text.replace(",", "").replace(".", "")
    return " ".join(text.split())


def _fill(rng: random.Random, template: str) -> str:
    slots = banks()["slots"]
    out = template
    for name, values in slots.items():
        while "{" + name + "}" in out:
            out = out.replace("{" + name + "}", rng.choice(values), 1)
    return out


def compose(rng: random.Random, phrase: str, split: str = "train") -> str:
    """One message around ``phrase`` from the frames of ``split``, then styled."""
    frames = banks()["frames"][split]
    roll = rng.random()
    if roll < 0.15:      # one-liners: the phrase alone
        text = phrase
    else:
        text = (rng.choice(frames["openers"]) + phrase + rng.choice(frames["details"])
                + rng.choice(frames["closers"]))
        if roll > 0.85:  # long messages: two of the writer's sentences
            text += ". " + rng.choice(frames["openers"]).strip() + " " + phrase
    return style(rng, _fill(rng, text))


# --- the sets -------------------------------------------------------------------------------


def field_examples(split: str = "train", *, per_field: int = 120, seed: int = 1022) -> list[Example]:
    """``per_field`` messages for each field from that split's phrases."""
    rng = random.Random(f"{seed}-{split}-fields")
    out = []
    for code, bank in banks()["fields"].items():
        phrases = bank[split]
        for i in range(per_field):
            phrase = phrases[i % len(phrases)]
            out.append(Example(compose(rng, phrase, split), code, "in_scope", phrase=phrase))
    return out


def scope_examples(split: str = "train", *, per_phrase: int = 4, seed: int = 1022) -> list[Example]:
    """Emergencies, complaints, denunciations and the ordinary reports that look like them."""
    rng = random.Random(f"{seed}-{split}-scope")
    bank = banks()["scope"]
    out: list[Example] = []
    for number, phrases in bank["emergency"].items():
        for phrase in phrases[split]:
            out += [Example(compose(rng, phrase, split), None, "emergency", number, phrase)
                    for _ in range(per_phrase)]
    for scope in ("khieu_nai", "to_cao"):
        for phrase in bank[scope][split]:
            out += [Example(compose(rng, phrase, split), None, scope, phrase=phrase)
                    for _ in range(per_phrase)]
    for code, phrases in bank["false_alarm"][split].items():
        for phrase in phrases:
            out += [Example(compose(rng, phrase, split), code, "in_scope", phrase=phrase)
                    for _ in range(per_phrase)]
    return out


def keyword_examples(fields: list[tuple[str, str, str]]) -> list[Example]:
    """The fields' own names and keywords as short examples (what an administrator wrote)."""
    out = []
    for code, name, keywords in fields:
        out.append(Example(name, code, "in_scope"))
        out += [Example(k.strip(), code, "in_scope") for k in (keywords or "").split(",") if k.strip()]
    return out


@cache
def vocab() -> dict[str, list[str]]:
    """The words of each field (``data/vocab.yaml``)."""
    with open(DATA / "vocab.yaml", encoding="utf-8") as f:
        return {str(k): v for k, v in yaml.safe_load(f).items()}


def vocab_examples(*, per_field: int = 40, seed: int = 1022) -> list[Example]:
    """Each field's words alone, and short messages naming two or three of them."""
    rng = random.Random(f"{seed}-vocab")
    frames = banks()["frames"]["train"]
    out = []
    for code, words in vocab().items():
        out += [Example(w, code, "in_scope") for w in words]
        for _ in range(per_field):
            picked = rng.sample(words, min(len(words), rng.choice((2, 2, 3))))
            text = rng.choice(frames["openers"]) + ", ".join(picked) + rng.choice(frames["closers"])
            out.append(Example(style(rng, _fill(rng, text)), code, "in_scope"))
    return out


def training_set(*, per_field: int = 120, seed: int = 1022) -> list[Example]:
    """The corpus the model starts from before a province has history of its own."""
    return (field_examples("train", per_field=per_field, seed=seed)
            + vocab_examples(seed=seed) + scope_examples("train", seed=seed))


def heldout_set(*, per_field: int = 30, seed: int = 7) -> list[Example]:
    """What the bench measures on: phrases and frames never trained on."""
    return (field_examples("heldout", per_field=per_field, seed=seed)
            + scope_examples("heldout", per_phrase=4, seed=seed))


def kb_questions() -> dict[str, list[str]]:
    """Question → article pairs (demo KB keys) for the KB bench."""
    with open(DATA / "kb_questions.yaml", encoding="utf-8") as f:
        return yaml.safe_load(f)


def folded_phrase(example: Example) -> str:
    return fold(example.phrase)
