"""A province's generated history: the demo's ticket templates rendered with places and
written the ways people write — what "trained on our own handled tickets" looks like
before a real province has any. The corpus never contains these templates, so a model
trained on part of this history and tested on the rest shows what local history adds.
"""
from __future__ import annotations

import random
import re

from hotline.triage import corpus

_SLOT = re.compile(r"\{(\w*)\}")


def generate(n: int, *, seed: int = 1022) -> list[corpus.Example]:
    """``n`` labelled tickets (title and description), fields in the demo's proportions."""
    from hotline.services.demo import TEMPLATES
    templates = [t for t in TEMPLATES if t.field and not t.reject]
    weights = [t.weight for t in templates]
    slots = corpus.banks()["slots"]
    rng = random.Random(seed)
    out = []
    for _ in range(n):
        t = rng.choices(templates, weights)[0]
        text = f"{t.title}. {t.body}"
        text = _SLOT.sub(lambda m: rng.choice(slots.get(m.group(1)) or slots["place"]), text)
        out.append(corpus.Example(corpus.style(rng, text), t.field, "in_scope", phrase=t.key))
    return out
