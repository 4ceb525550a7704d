"""`triage calibrate privacy`: the learned head's privacy.uncertain cut, chosen on the tuning split.

On the privacy corpus' train split (templates the benchmark never uses), for
each candidate cut: a sensitive prompt leaks when neither the detector nor
the head (score >= cut) flags it; a clean prompt is a false alarm when
either does. The head sees the text as the classifier does for a chat
request (a lone user turn: the bare prompt, ChatRequest.prompt_text). The rule: among cuts keeping clean false
alarms within the issue's budget (3%), the fewest leaks; then the fewest
false alarms; then the lowest cut (fail closed).
Then the same numbers on the bench split, reported, never used.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

CUTS = (0.9, 0.95, 0.98, 0.99, 0.993, 0.995, 0.997, 0.998, 0.999)
FALSE_ALARM_BUDGET = 0.03


def head_scores(prompts: list[str], model: str) -> np.ndarray:
    from serve_app.classifier.heads import features
    from serve_app.lab.training.evaluate import ModelPredictor

    predictor = ModelPredictor(model)
    out = []
    for i in range(0, len(prompts), 64):
        batch = predictor.encoder.encode(prompts[i:i + 64])  # a one-turn chat's classifier text
        out += list(predictor.heads.predict(features(batch.embeddings, batch.tokens)).sensitive)
    if predictor.memory is not None:
        predictor.memory.close()
    return np.array(out)


def table(y: np.ndarray, detected: np.ndarray, scores: np.ndarray) -> list[dict]:
    rows = []
    for cut in CUTS:
        flag = detected | (scores >= cut)
        rows.append({"cut": cut, "leaks": int(np.sum(y & ~flag)), "false_alarms": int(np.sum(~y & flag)),
                     "false_alarm_share": round(float(np.mean(flag[~y])), 4) if (~y).any() else 0.0})
    return rows


def choose(rows: list[dict], budget: float = FALSE_ALARM_BUDGET) -> float:
    within = [r for r in rows if r["false_alarm_share"] <= budget] or rows
    return min(within, key=lambda r: (r["leaks"], r["false_alarms"], r["cut"]))["cut"]


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", type=Path, default=Path("build/privacy/corpus.jsonl"))
    p.add_argument("--model", default=None, help="default: the served classifier model")
    p.add_argument("--out", type=Path, default=Path("loadtest/results/privacy_threshold.json"))
    a = p.parse_args(argv)
    from serve_app.classifier.heads import DEFAULT_MODEL
    from serve_app.privacy import PrivacyDetector

    rows = [json.loads(line) for line in a.corpus.read_text(encoding="utf-8").splitlines()]
    detector = PrivacyDetector()
    detected = np.array([detector.analyze(r["prompt"]).sensitive for r in rows])
    scores = head_scores([r["prompt"] for r in rows], a.model or DEFAULT_MODEL)
    y = np.array([bool(r["sensitive"]) for r in rows])
    report = {"rule": f"train split, clean false alarms <= {FALSE_ALARM_BUDGET:.0%}: fewest leaks, then fewest "
                      "false alarms, then the lowest cut", "splits": {}}
    for split in ("train", "bench"):
        m = np.array([r["split"] == split for r in rows])
        report["splits"][split] = table(y[m], detected[m], scores[m])
    report["uncertain"] = choose(report["splits"]["train"])
    print(f"{'cut':>6}  train leaks / false alarms   bench leaks / false alarms (reported)")
    for tr, be in zip(report["splits"]["train"], report["splits"]["bench"]):
        print(f"{tr['cut']:>6}  {tr['leaks']:>5} / {tr['false_alarms']:>3} ({tr['false_alarm_share']:.1%})"
              f"           {be['leaks']:>5} / {be['false_alarms']:>3} ({be['false_alarm_share']:.1%})")
    print(f"\nadd to the router config:\nprivacy:\n  uncertain: {report['uncertain']}")
    a.out.parent.mkdir(parents=True, exist_ok=True)
    a.out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(f"wrote {a.out}")
    return 0
