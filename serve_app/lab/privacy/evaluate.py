"""Evaluation of a PrivacyDetector on the corpus, on Presidio's synthetic set, and its latency.

Owns the numbers reported for privacy detection: per form, how many
sensitive prompts were detected and which were missed (with the prompts),
false alarms on clean prompts (with the prompts and the kinds that fired),
how many labelled entity spans a finding covers (what redaction would
replace), and analyze() latency p50/p99, single thread, overall and for
~20/~200/~500-token prompts with and without a context cue.
"""

from __future__ import annotations

import json
import random
import statistics
import time
from collections import defaultdict
from collections.abc import Iterable
from pathlib import Path


def load(path: Path) -> list[dict]:
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _percentile(values: list[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(q * (len(ordered) - 1))))]


def _latency(values: list[float]) -> dict:
    return {"p50_ms": round(_percentile(values, 0.5), 3), "p99_ms": round(_percentile(values, 0.99), 3),
            "mean_ms": round(statistics.fmean(values), 3) if values else 0.0, "n": len(values)}


def evaluate(detector, rows: Iterable[dict], split: str | None = "bench") -> dict:
    """Per-form detection and false alarms on `rows` (of one split, or all when None)."""
    rows = [r for r in rows if split is None or r["split"] == split]
    forms: dict[str, dict] = defaultdict(lambda: {"count": 0, "detected": 0, "missed": [], "false_alarms": []})
    spans = defaultdict(lambda: {"labelled": 0, "covered": 0})
    times = []
    for row in rows:
        started = time.perf_counter()
        found = detector.analyze(row["prompt"])
        times.append((time.perf_counter() - started) * 1000)
        form = forms[row["form"]]
        form["sensitive"] = row["sensitive"]
        form["count"] += 1
        if row["sensitive"]:
            if found.sensitive:
                form["detected"] += 1
            else:
                form["missed"].append(row["prompt"])
            for ent in row.get("entities", ()):
                stat = spans[ent["type"]]
                stat["labelled"] += 1
                stat["covered"] += any(f.start < ent["end"] and ent["start"] < f.end for f in found.items)
        elif found.sensitive:
            form["false_alarms"].append({"prompt": row["prompt"], "kinds": list(found.kinds)})
    sensitive = [f for f in forms.values() if f["sensitive"]]
    clean = [f for f in forms.values() if not f["sensitive"]]
    n_sens = sum(f["count"] for f in sensitive)
    n_clean = sum(f["count"] for f in clean)
    detected = sum(f["detected"] for f in sensitive)
    alarms = sum(len(f["false_alarms"]) for f in clean)
    return {
        "split": split or "all",
        "sensitive": {"count": n_sens, "detected": detected, "missed": n_sens - detected,
                      "recall": round(detected / n_sens, 4) if n_sens else None},
        "clean": {"count": n_clean, "false_alarms": alarms,
                  "false_alarm_rate": round(alarms / n_clean, 4) if n_clean else None},
        "latency": _latency(times),
        "span_coverage": {k: {**s, "rate": round(s["covered"] / s["labelled"], 4)} for k, s in sorted(spans.items())},
        "forms": {name: _form_report(f) for name, f in sorted(forms.items())},
    }


def _form_report(form: dict) -> dict:
    if form["sensitive"]:
        return {"sensitive": True, "count": form["count"], "detected": form["detected"],
                "missed": len(form["missed"]), "missed_prompts": form["missed"]}
    return {"sensitive": False, "count": form["count"], "false_alarms": len(form["false_alarms"]),
            "false_alarm_prompts": form["false_alarms"]}


# ------------------------------------------------- Presidio synthetic set

# README rules for presidio_synth/synth_dataset_v2.json: these span types make a sentence sensitive.
SYNTH_SENSITIVE = {"CREDIT_CARD", "IBAN_CODE", "US_SSN", "PHONE_NUMBER", "EMAIL_ADDRESS", "STREET_ADDRESS",
                   "US_DRIVER_LICENSE", "IP_ADDRESS"}


def synth_rows(path: Path) -> list[dict]:
    """synth_dataset_v2.json as corpus rows (form = the sensitive span types, or 'clean')."""
    rows = []
    for i, item in enumerate(json.loads(path.read_text())):
        types = sorted({s["entity_type"] for s in item["spans"]} & SYNTH_SENSITIVE)
        rows.append({"id": f"synth.{i}", "prompt": item["full_text"], "sensitive": bool(types),
                     "form": "+".join(types) if types else "no_sensitive_span", "template": f"synth.{i}",
                     "split": "external", "entities": []})
    return rows


def pubmed_abstract_rows(path: Path, start: int, stop: int, seed: int = 7) -> list[dict]:
    """PubMedQA contexts (abstracts about cohorts, never about a named person) as clean rows.

    Shuffled with a fixed seed; slices were used as follows while building the
    detector: [0:300) tuning, [300:600) seen once then tuned on, [600:1000) untouched.
    """
    data = json.loads(path.read_text())
    keys = sorted(data)
    random.Random(seed).shuffle(keys)
    return [{"id": f"abstract.{k}", "prompt": " ".join(data[k]["CONTEXTS"]), "sensitive": False,
             "form": "medical_abstract", "template": f"abstract.{k}", "split": "external", "entities": []}
            for k in keys[start:stop]]


# --------------------------------------------------------------- latency


def _compose(prompts: list[str], words: int, rng: random.Random) -> str:
    out: list[str] = []
    while sum(len(p.split()) for p in out) < words:
        out.append(rng.choice(prompts))
    return " ".join(" ".join(out).split()[:words])


# A capitalised word near a condition that wording cannot settle: spaCy NER runs on every one.
_NER_LEADS = ("Is Tadeusz on insulin now?", "Does Ngozi still need dialysis?", "Could Radek get chemo next week?",
              "Will Siobhan need an MRI scan for the migraines?")


def latency(detector, rows: list[dict], *, repeats: int = 60, seed: int = 0) -> dict:
    """analyze() p50/p99 for ~20/~200/~500-token prompts (0.75 words per token), single thread,
    as wall time and as the calling thread's CPU time (robust to other work on shared cores).

    "clean": built from clean corpus rows (a third of them mention a condition
    or a salary, so cues do occur); "with_cue": led by a named-patient/salary/
    account prompt (names found from wording); "ner": led by a single first
    name next to a condition, so spaCy NER runs on every prompt (the costly path).
    """
    rng = random.Random(seed)
    clean = [r["prompt"] for r in rows if not r["sensitive"]]
    detector.analyze("Warm up: Anna Kowalski has diabetes, card 4111 1111 1111 1111.")
    leads = {"clean": None, "with_cue": [r["prompt"] for r in rows if r["form"] in ("phi_patient", "salary", "account_record")],
             "ner": list(_NER_LEADS)}
    report = {}
    for tokens in (20, 200, 500):
        words = round(tokens * 0.75)
        for kind, pool in leads.items():
            times, cpu, lengths = [], [], []
            for _ in range(repeats):
                text = _compose(clean, words, rng)
                if pool:
                    lead = rng.choice(pool)
                    text = " ".join((lead + " " + text).split()[:max(words, len(lead.split()))])
                lengths.append(len(text.split()))
                started, started_cpu = time.perf_counter(), time.thread_time()
                detector.analyze(text)
                cpu.append((time.thread_time() - started_cpu) * 1000)
                times.append((time.perf_counter() - started) * 1000)
            # CPU time of the calling thread: what a call costs when the cores are not shared.
            report[f"{tokens}_tokens_{kind}"] = {**_latency(times), "cpu_p50_ms": round(_percentile(cpu, 0.5), 3),
                                                 "cpu_p99_ms": round(_percentile(cpu, 0.99), 3),
                                                 "words_mean": round(statistics.fmean(lengths), 1)}
    return report


def write(report: dict, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=1, ensure_ascii=False) + "\n")
