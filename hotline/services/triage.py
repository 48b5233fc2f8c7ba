"""Triage suggestions backed by the database: the model file in the instance folder,
training on the province's handled tickets, and the suggestion for a text or a ticket.

The model is trained from the corpus (``hotline.triage.corpus``), the fields' keywords
and every ticket whose field a person set or kept (triaged or handled: the label). It is
loaded lazily and re-read when the file changes. A missing or unreadable file never
stops a suggestion: the fields' keywords and the scope cues answer instead, ``status()``
says why (shown on /admin/system), and a training run starts in the background.
"""
from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import joblib
from flask import current_app
from sqlalchemy import func, select

from hotline.extensions import db
from hotline.models import Field, KbArticle, Ticket
from hotline.triage import corpus
from hotline.triage import scope as scope_rules
from hotline.triage.kb import Article, KbIndex
from hotline.triage.model import Prediction, TriageModel, stages
from hotline.triage.model import train as fit
from hotline.triage.textprep import has_content, prepare

log = logging.getLogger(__name__)

MODEL_FILE = "triage-model.joblib"
# A person looked at these tickets' field: every status but a fresh, untouched one.
LABELLED = ("assigned", "in_progress", "waiting_citizen", "resolved", "approved", "closed",
            "published", "answered", "returned")
HISTORY_LIMIT = 2_000_000
_state: dict = {"model": None, "mtime": None, "error": None}
_train_lock = threading.Lock()
_kb_cache: dict = {"key": None, "index": None, "at": 0.0}
KB_REFRESH_SECONDS = 60


@dataclass
class Suggestion:
    fields: list[dict] = field(default_factory=list)     # {code, name, score, words, id}
    scope: str = "in_scope"
    number: str | None = None
    notice: str | None = None
    scope_words: list[str] = field(default_factory=list)
    kb: list[dict] = field(default_factory=list)          # {id, title, score}
    source: str = "model"                                 # model / keywords / empty

    def as_json(self) -> dict:
        return {"fields": [{k: f[k] for k in ("code", "name", "score")} for f in self.fields],
                "scope": self.scope, "kb": [a["title"] for a in self.kb]}


def model_path() -> str:
    return current_app.config.get("TRIAGE_MODEL_PATH") or os.path.join(
        current_app.instance_path, MODEL_FILE)


# --- the model file ---------------------------------------------------------------------------


def current_model() -> TriageModel | None:
    """The trained model, re-read when its file changed; ``None`` (and why) otherwise."""
    path = model_path()
    try:
        mtime = os.stat(path).st_mtime_ns
    except FileNotFoundError:
        _state.update(model=None, mtime=None, error="missing")
        return None
    if mtime == _state["mtime"]:
        return _state["model"]
    try:
        loaded = joblib.load(path)
        if not isinstance(loaded, TriageModel) or loaded.format != 1:
            raise ValueError("not a triage model of this version")
    except Exception as exc:  # noqa: BLE001 - any unreadable file means: fall back to keywords
        log.warning("triage model %s is unreadable (%s); keyword suggestions until retrained",
                    path, exc)
        _state.update(model=None, mtime=mtime, error="corrupt")
        return None
    _state.update(model=loaded, mtime=mtime, error=None)
    return loaded


def status() -> dict:
    """For /admin/system: ``state`` ok / missing / corrupt, and what the model was trained on."""
    model = current_model()
    if model is None:
        return {"state": _state["error"] or "missing", "path": model_path()}
    return {"state": "ok", "path": model_path(), "trained_at": model.trained_at,
            "examples": model.examples, "sources": model.sources, "seconds": model.seconds}


def training_examples(*, limit: int = HISTORY_LIMIT) -> tuple[list, dict[str, int]]:
    """Corpus, field keywords and the labelled history (newest first, up to ``limit``)."""
    examples = corpus.training_set()
    fields = db.session.execute(select(Field.code, Field.name, Field.keywords)
                                .where(Field.active.is_(True))).all()
    keywords = corpus.keyword_examples([tuple(f) for f in fields])
    history = list(_history(limit))
    sources = {"corpus": len(examples), "keywords": len(keywords), "history": len(history)}
    return examples + keywords + history, sources


def _history(limit: int) -> Iterator[corpus.Example]:
    stmt = (select(Ticket.title, Ticket.description, Field.code)
            .join(Field, Field.id == Ticket.field_id)
            .where(Ticket.status.in_(LABELLED)).order_by(Ticket.id.desc()).limit(limit)
            .execution_options(yield_per=5000))
    for title, description, code in db.session.execute(stmt):
        yield corpus.Example(f"{title}. {description}", code, "in_scope")


def train(progress: Callable[[int, int], None] | None = None) -> TriageModel:
    """Train on everything there is and replace the model file atomically.

    ``progress(done, total)`` reports progress (a bar's update). One training at a time per
    process; intake never waits for it.
    """
    with _train_lock:
        examples, sources = training_examples()
        db.session.rollback()      # the read is over; hold no transaction during the fit
        total = stages(len(examples))
        done = [0]

        def step(n: int) -> None:
            done[0] += n
            if progress:
                progress(done[0], total)

        model = fit(examples, progress=step, sources=sources)
        path = model_path()
        os.makedirs(os.path.dirname(path), exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=os.path.dirname(path), suffix=".tmp")
        os.close(fd)
        try:
            joblib.dump(model, tmp, compress=3)
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        log.info("triage model trained on %s in %.1fs", sources, model.seconds)
        return model


def train_in_background() -> bool:
    """Start a training thread when none runs (first use without a model); False if busy."""
    # Off by default under tests: every test app without a model would start a training.
    if not current_app.config.get("TRIAGE_AUTO_TRAIN", not current_app.testing) \
            or _train_lock.locked():
        return False
    app = current_app._get_current_object()

    def run() -> None:
        with app.app_context():
            try:
                train()
            except Exception:
                log.exception("background triage training failed")
            finally:
                db.session.remove()

    threading.Thread(target=run, name="triage-train", daemon=True).start()
    return True


# --- suggestions ------------------------------------------------------------------------------


def active_fields() -> dict[str, Field]:
    """The active fields by code (what suggestions may name)."""
    return {f.code: f for f in db.session.scalars(select(Field).where(Field.active.is_(True)))}


def _keyword_prediction(text: str, fields: dict[str, Field]) -> Prediction:
    prepared = prepare(text)
    if not has_content(prepared):
        return Prediction()
    padded = f" {prepared} "
    scored = []
    for code, f in fields.items():
        words = [k for k in (prepare(k) for k in (f.keywords or "").split(",")) if k]
        hits = [w for w in words if f" {w} " in padded]
        if hits:
            scored.append((len(hits), code, hits))
    scored.sort(key=lambda s: -s[0])
    total = sum(s[0] for s in scored) or 1
    from hotline.triage.model import FieldScore
    scope, number = scope_rules.decide(prepared)
    return Prediction(fields=[FieldScore(code, n / total, hits) for n, code, hits in scored[:3]],
                      scope=scope, number=number)


def suggest(text: str | None, *, with_kb: bool = True,
            fields: dict[str, Field] | None = None) -> Suggestion:
    """Top fields with their words, the scope and its notice, and KB articles for ``text``.

    ``fields`` (from :func:`active_fields`) saves the query when suggesting for many texts.
    """
    text = text or ""
    fields = active_fields() if fields is None else fields
    model = current_model()
    if model is None:
        train_in_background()
        prediction, source = _keyword_prediction(text, fields), "keywords"
    else:
        prediction, source = model.predict(text), "model"
    if prediction.empty:
        return Suggestion(source="empty")
    out = [{"code": f.code, "name": fields[f.code].name, "id": fields[f.code].id,
            "score": round(f.score, 3), "words": f.words}
           for f in prediction.fields if f.code in fields]
    return Suggestion(fields=out, scope=prediction.scope, number=prediction.number,
                      notice=scope_rules.notice(prediction.scope, prediction.number),
                      scope_words=prediction.scope_words,
                      kb=kb_answers(text) if with_kb else [], source=source)


# --- knowledge base ---------------------------------------------------------------------------


def kb_index() -> KbIndex:
    """The active articles' index, rebuilt when they change (checked once a minute)."""
    now = time.monotonic()
    if _kb_cache["index"] is not None and now - _kb_cache["at"] < KB_REFRESH_SECONDS:
        return _kb_cache["index"]
    key = tuple(db.session.execute(
        select(func.count(KbArticle.id), func.max(KbArticle.id), func.max(KbArticle.reviewed_at))
        .where(KbArticle.active.is_(True))).one())
    if key != _kb_cache["key"] or _kb_cache["index"] is None:
        rows = db.session.execute(select(KbArticle.id, KbArticle.title, KbArticle.body)
                                  .where(KbArticle.active.is_(True))).all()
        _kb_cache["index"] = KbIndex([Article(*r) for r in rows])
        _kb_cache["key"] = key
    _kb_cache["at"] = now
    return _kb_cache["index"]


def kb_answers(text: str, *, limit: int = 3) -> list[dict]:
    """The ``limit`` articles that answer ``text`` best, by meaning."""
    return [{"id": a.id, "title": a.title, "score": round(s, 3)}
            for a, s in kb_index().search(text, limit=limit)]


def reset_caches() -> None:
    """Forget the loaded model and KB index (tests, and after a restore)."""
    _state.update(model=None, mtime=None, error=None)
    _kb_cache.update(key=None, index=None, at=0.0)
