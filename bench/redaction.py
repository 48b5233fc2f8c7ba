"""How well and how fast the redactor works on the corpus (tests/data/redaction_corpus.json).

``python -m bench.redaction [--repeat 5]``

- recall: the share of personal-data strings that are wholly gone from ``redact()``'s
  output — every letter and digit of it inside a replaced span, and neither the string as
  written nor its normalised, space-free form left in the output — overall and per kind
  (name, phone, e-mail, profile, ID, passport, bank account, plate);
- over-redaction: the share of controls (streets, schools, wards named after people,
  public numbers, dates, amounts, document numbers) that ``redact()`` altered;
- time per text (p50 / p95 over the corpus), and the time per kilobyte of long hostile
  texts (digit runs, letter runs, "@"s, capitalised names) at 1, 10 and 100 KB, which
  stays flat when every detector is linear. Times are the process's CPU time
  (``time.process_time``): the machine is shared, and wall time there measures the neighbours.

Prints the figures and writes bench/results/redaction.json (cores, git commit).
"""
from __future__ import annotations

import argparse
import json
import time
import unicodedata
from collections import Counter

from bench.common import ROOT, Measurement, percentiles, print_table, write_results
from hotline.domain.redact import find_personal_data, redact
from hotline.domain.redaction.normalize import normalise

CORPUS = ROOT / "tests" / "data" / "redaction_corpus.json"
# Pieces a hostile or just very long text is made of; repeated to the wanted size.
_HOSTILE = ("0 9 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 " "a" * 60 + " " + "@" * 20 + " x [at] y . "
            "Nguyễn Văn Tám Trần Thị Lan Lê Lợi " + "1" * 40 + " 12/3/4/5/6/7 "
            "đường Bà Triệu ông bà anh chị em cô chú bác ")


def _squash(value: str) -> str:
    return normalise(value).view.replace(" ", "").replace("\n", "").casefold()


def quality(corpus: dict) -> dict:
    """Recall per kind and over-redaction of the controls."""
    found, total, missed = Counter(), Counter(), []
    for case in corpus["cases"]:
        text = unicodedata.normalize("NFC", case["text"])
        out = redact(text)
        squashed = _squash(out)
        covered = {i for f in find_personal_data(text) for i in range(f.start, f.end)}
        for item in case["personal"]:
            value = unicodedata.normalize("NFC", item["value"])
            total[item["kind"]] += 1
            start = text.index(value)
            partly_left = any(c.isalnum() and i not in covered for i, c in enumerate(value, start))
            if partly_left or value in out or _squash(value) in squashed:
                missed.append({"kind": item["kind"], "value": value, "output": out})
            else:
                found[item["kind"]] += 1
    altered = [c for c in corpus["controls"] if redact(c) != c]
    per_kind = {k: {"strings": total[k], "removed": found[k],
                    "recall_pct": round(100 * found[k] / total[k], 2)} for k in sorted(total)}
    return {
        "cases": len(corpus["cases"]), "controls": len(corpus["controls"]),
        "personal_strings": sum(total.values()),
        "recall_pct": round(100 * sum(found.values()) / max(1, sum(total.values())), 2),
        "over_redaction_pct": round(100 * len(altered) / max(1, len(corpus["controls"])), 2),
        "controls_altered": len(altered), "per_kind": per_kind,
        "missed": missed, "altered": [{"control": c, "output": redact(c)} for c in altered],
    }


def speed(corpus: dict, repeat: int) -> list[Measurement]:
    texts = [c["text"] for c in corpus["cases"]] + corpus["controls"]
    times = []
    for _ in range(repeat):
        for t in texts:
            start = time.process_time()
            redact(t)
            times.append(time.process_time() - start)
    p50, p95, p99 = percentiles(times)
    out = [Measurement("redact(), one corpus text", len(texts), len(times), p50, p95, p99,
                       throughput_rps=round(len(times) / sum(times), 1),
                       extra={"mean_chars": round(sum(map(len, texts)) / len(texts))})]
    for kb in (1, 10, 100):
        text = (_HOSTILE * (kb * 1024 // len(_HOSTILE) + 1))[:kb * 1024]
        runs = [_timed(text) for _ in range(max(1, repeat if kb < 100 else 2))]
        p50, p95, p99 = percentiles(runs)
        out.append(Measurement(f"redact(), hostile text of {kb} KB", kb * 1024, len(runs),
                               p50, p95, p99, extra={"ms_per_kb": round(p50 / kb, 3)}))
    return out


def _timed(text: str) -> float:
    start = time.process_time()
    redact(text)
    return time.process_time() - start


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args(argv)
    corpus = json.loads(CORPUS.read_text(encoding="utf-8"))
    q = quality(corpus)
    print(f"corpus: {q['cases']} cases ({q['personal_strings']} personal-data strings), "
          f"{q['controls']} controls")
    print(f"recall {q['recall_pct']} %   over-redaction {q['over_redaction_pct']} % "
          f"({q['controls_altered']} of {q['controls']} controls altered)")
    for kind, row in q["per_kind"].items():
        print(f"    {kind:14} {row['removed']:>4} / {row['strings']:<4} {row['recall_pct']:>6} %")
    for m in q["missed"]:
        print(f"  MISSED {m['kind']}: {m['value']!r} in {m['output']!r}")
    for a in q["altered"]:
        print(f"  ALTERED {a['control']!r} → {a['output']!r}")
    measurements = speed(corpus, args.repeat)
    print_table(measurements)
    path = write_results("redaction", measurements, quality=q)
    print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
