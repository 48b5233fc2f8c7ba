"""The field and scope model: TF-IDF over folded word and character n-grams, linear
classifiers with probabilities, and the words that decided each suggestion.

Character n-grams catch typos and words run together ("đènđường", "den duongg"); word
n-grams carry the explanation an operator reads ("đèn đường", "không sáng"). One
vectoriser feeds both classifiers: the field (trained on every in-scope example with a
field) and the scope (PAKN, emergency, khiếu nại, tố cáo).
"""
from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
from scipy import sparse
from sklearn.exceptions import ConvergenceWarning
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression, SGDClassifier
from sklearn.preprocessing import normalize

from hotline.triage import scope as scope_rules
from hotline.triage.textprep import as_written, display_words, has_content, prepare

FORMAT = 1
TOP = 3
EXPLAIN = 4
# Above this many examples the exact solver gives way to stochastic gradient descent,
# which is linear in the data (a province's million tickets train in minutes).
LARGE = 50_000
# Character n-grams catch typos but also learn the frames around a message ("kính gửi",
# street names); at a third of the words' weight they help on unseen wording (bench).
CHAR_WEIGHT = 0.3


# Words that tell nothing about a field however they weigh (folded).
_FUNCTION_WORDS = frozenset(
    ["toi", "em", "minh", "chau", "anh", "chi", "ong", "ba", "tui", "nha", "o", "la", "co", "khong", "duoc", "roi", "qua", "nay", "do", "cua", "va", "voi", "cho", "thi", "ma", "de", "bi", "da", "dang", "se", "rat", "lam", "gi", "nao", "dau", "a", "nhe", "nha", "di", "ve", "ra", "vao", "len", "xuong", "mot", "cac", "nhung", "hom", "ngay", "tuan", "thang", "nam", "sang", "toi", "dem", "om"])


@dataclass
class FieldScore:
    code: str
    score: float
    words: list[str]


@dataclass
class Prediction:
    fields: list[FieldScore] = field(default_factory=list)
    scope: str = "in_scope"
    scope_score: float = 0.0
    number: str | None = None
    scope_words: list[str] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not self.fields and self.scope == "in_scope"


def _word_vectoriser(large: bool) -> TfidfVectorizer:
    return TfidfVectorizer(token_pattern=r"\S+", lowercase=False, ngram_range=(1, 2),
                           sublinear_tf=True, min_df=3 if large else 1, dtype=np.float32)


def _char_vectoriser(large: bool) -> TfidfVectorizer | None:
    # Counting character n-grams is most of the time on a province's history, and with
    # that much history the words alone carry it (bench: words only also read unseen
    # wording better); the corpus alone still needs them for typos.
    if large:
        return None
    return TfidfVectorizer(analyzer="char_wb", lowercase=False, ngram_range=(2, 4),
                           sublinear_tf=True, dtype=np.float32)


def _classifier(large: bool, balanced: bool = False):
    weight = "balanced" if balanced else None
    if large:
        return SGDClassifier(loss="log_loss", alpha=2e-6, max_iter=8, tol=1e-3,
                             class_weight=weight, random_state=1022)
    return LogisticRegression(C=20.0, max_iter=2000, class_weight=weight)


class TriageModel:
    """A trained model: ``predict(text)`` → top fields with their words, and the scope."""

    def __init__(self, word: TfidfVectorizer, char: TfidfVectorizer | None, field_clf, scope_clf,
                 *, examples: int, sources: dict[str, int], seconds: float):
        self.format = FORMAT
        self.word = word
        self.char = char
        self.field_clf = field_clf
        self.scope_clf = scope_clf
        self.word_names = word.get_feature_names_out()
        self.n_word = len(self.word_names)
        self.examples = examples
        self.sources = sources
        self.seconds = seconds
        self.trained_at = datetime.now(UTC)

    @property
    def fields(self) -> list[str]:
        return [str(c) for c in self.field_clf.classes_]

    def features(self, prepared: Sequence[str]):
        words = self.word.transform(prepared)
        if self.char is None:
            return words.tocsr()
        return sparse.hstack([words, CHAR_WEIGHT * self.char.transform(prepared)], format="csr")

    def vectors(self, texts: Sequence[str | None]):
        """Unit-length rows for ``texts``: their dot product is the cosine similarity."""
        return normalize(self.features([prepare(t) for t in texts]))

    def predict(self, text: str | None) -> Prediction:
        """The suggestion for one message; empty when there is nothing to judge by."""
        prepared = prepare(text)
        if not has_content(prepared):
            return Prediction()
        x = self.features([prepared])
        if x[:, :self.n_word].nnz == 0:      # not one word the model has seen
            return Prediction()
        shown = display_words(text or "")
        return Prediction(fields=self._fields(x, shown), **self._scope(x, prepared, shown))

    def _fields(self, x, shown: list[tuple[str, str]]) -> list[FieldScore]:
        proba = self.field_clf.predict_proba(x)[0]
        best = np.argsort(-proba)[:TOP]
        return [FieldScore(str(self.field_clf.classes_[i]), float(proba[i]),
                           self._words(x, self.field_clf, i, shown)) for i in best]

    def _scope(self, x, prepared: str, shown: list[tuple[str, str]]) -> dict:
        proba = self.scope_clf.predict_proba(x)[0]
        classes = [str(c) for c in self.scope_clf.classes_]
        i = int(np.argmax(proba))
        scope, number = scope_rules.decide(prepared, classes[i], float(proba[i]))
        j = classes.index(scope)
        words = self._words(x, self.scope_clf, j, shown) if scope != "in_scope" else []
        return {"scope": scope, "scope_score": float(proba[j]), "number": number,
                "scope_words": words}

    def _words(self, x, clf, class_index: int, shown: list[tuple[str, str]]) -> list[str]:
        coef = clf.coef_[class_index if clf.coef_.shape[0] > 1 else 0]
        row = x[0, :self.n_word]
        weights = row.data * coef[row.indices]
        order = np.argsort(-weights)
        names: list[str] = []
        for j in order:
            if weights[j] <= 0 or len(names) >= EXPLAIN or weights[j] < weights[order[0]] / 6:
                break
            name = str(self.word_names[row.indices[j]])
            if all(part in _FUNCTION_WORDS for part in name.split()):
                continue
            overlapping = [n for n in names if name in n or n in name]
            if overlapping:
                # "đèn" and "đèn đường": keep the longer, more telling one.
                if len(name) > len(overlapping[0]):
                    names[names.index(overlapping[0])] = name
                continue
            names.append(name)
        return [as_written(n, shown) for n in names]


def train(examples: Iterable, *, progress: Callable[[int], None] | None = None,
          sources: dict[str, int] | None = None) -> TriageModel:
    """Fit the vectorisers and both classifiers on ``examples`` (``text, field, scope``).

    ``progress(n)`` is called as work is done: once per prepared example, then once for
    each of the three fitting stages.
    """
    started = time.perf_counter()
    texts: list[str] = []
    fields: list[str | None] = []
    scopes: list[str] = []
    step = progress or (lambda n: None)
    for i, ex in enumerate(examples, 1):
        texts.append(prepare(ex.text))
        fields.append(ex.field if ex.scope == "in_scope" else None)
        scopes.append(ex.scope)
        if i % 1000 == 0:
            step(1000)
    step(len(texts) % 1000)
    large = len(texts) > LARGE
    word, char = _word_vectoriser(large), _char_vectoriser(large)
    x = word.fit_transform(texts)
    x = (x.tocsr() if char is None
         else sparse.hstack([x, CHAR_WEIGHT * char.fit_transform(texts)], format="csr"))
    step(1)
    with_field = np.array([f is not None for f in fields])
    with warnings.catch_warnings():
        # Stochastic gradient descent runs a fixed number of epochs on purpose (time bound).
        warnings.simplefilter("ignore", ConvergenceWarning)
        field_clf = _classifier(large).fit(x[with_field], np.array([f for f in fields if f]))
        step(1)
        scope_clf = _classifier(large, balanced=True).fit(x, np.array(scopes))
        step(1)
    return TriageModel(word, char, field_clf, scope_clf, examples=len(texts),
                       sources=sources or {"examples": len(texts)},
                       seconds=time.perf_counter() - started)


def stages(n_examples: int) -> int:
    """How many progress units ``train`` reports for ``n_examples`` (a progress bar's total)."""
    return n_examples + 3
