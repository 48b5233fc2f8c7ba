"""Figures on the held-out set: field top-1 / top-3, scope recall and false alarms, the
emergency number, the most-confused fields, KB MRR. Shared by ``flask triage evaluate``
and ``bench/triage.py``.
"""
from __future__ import annotations

from collections import Counter

from hotline.triage import corpus
from hotline.triage.kb import Article, KbIndex
from hotline.triage.model import TriageModel


def field_accuracy(model: TriageModel, examples) -> dict:
    n = top1 = top3 = 0
    confused: Counter = Counter()
    for ex in examples:
        codes = [f.code for f in model.predict(ex.text).fields]
        n += 1
        top1 += bool(codes) and codes[0] == ex.field
        top3 += ex.field in codes
        if codes and codes[0] != ex.field:
            confused[(ex.field, codes[0])] += 1
    return {"n": n, "top1": top1 / n if n else 0.0, "top3": top3 / n if n else 0.0,
            "confused": [{"field": a, "taken_for": b, "count": c}
                         for (a, b), c in confused.most_common(8)]}


def heldout(model: TriageModel) -> dict:
    """Every held-out figure of ``model``."""
    examples = corpus.heldout_set()
    ordinary = [e for e in examples if e.scope == "in_scope"]
    out = {"field": field_accuracy(model, ordinary)}
    recalled: Counter = Counter()
    total: Counter = Counter()
    number_ok = 0
    false_alarms = 0
    for ex in examples:
        p = model.predict(ex.text)
        if ex.scope == "in_scope":
            false_alarms += p.scope != "in_scope"
            continue
        total[ex.scope] += 1
        recalled[ex.scope] += p.scope == ex.scope
        number_ok += ex.scope == "emergency" and p.number == ex.number
    legal = total["khieu_nai"] + total["to_cao"]
    out["scope"] = {
        "emergency_recall": recalled["emergency"] / total["emergency"],
        "emergency_number_right": number_ok / total["emergency"],
        "khieu_nai_recall": recalled["khieu_nai"] / total["khieu_nai"],
        "to_cao_recall": recalled["to_cao"] / total["to_cao"],
        "complaint_denunciation_recall": (recalled["khieu_nai"] + recalled["to_cao"]) / legal,
        "false_alarm_rate": false_alarms / len(ordinary),
        "n": dict(total, ordinary=len(ordinary)),
    }
    return out


def kb_mrr(articles: list[Article], key_of: dict[int, str]) -> dict:
    """Mean reciprocal rank of the right article over the written question → article pairs."""
    index = KbIndex(articles)
    ranks = []
    for key, questions in corpus.kb_questions().items():
        for q in questions:
            found = [key_of[a.id] for a, _ in index.search(q, limit=10)]
            ranks.append(1 / (found.index(key) + 1) if key in found else 0.0)
    return {"pairs": len(ranks), "mrr": sum(ranks) / len(ranks),
            "top1": sum(r == 1 for r in ranks) / len(ranks)}


def demo_kb() -> tuple[list[Article], dict[int, str]]:
    """The demo knowledge base as articles (ids are positions) and their keys."""
    from hotline.services.demo import KB
    return ([Article(i, k.title, k.body) for i, k in enumerate(KB)],
            {i: k.key for i, k in enumerate(KB)})
