"""`triage eval compare`: shipped models side by side on the same files.

For each model and file: tier accuracy and macro-F1 (overall and per
source), domain accuracy, sensitive precision/recall at the model's own cut
(validators included, as serving decides) and recall on personal data
without a validator-shaped identifier, jailbreak P/R/F1 and recall per
attack family, and single-prompt latency of a ~200-token prompt. val.jsonl
is the tuning split (cuts and temperatures were chosen on it); heldout.jsonl
holds whole sources no model trained on (JailbreakBench's attack methods
among them), the split to report.
"""

from __future__ import annotations

import argparse
import json
import re
from collections import defaultdict
from pathlib import Path

import numpy as np

from serve_app.lab.training.evaluate import ModelPredictor, predict_all, score_head, single_prompt_latency
from serve_app.lab.training.synth_attacks import family_of
from serve_app.lab.training.train import read_jsonl

LATENCY_PROMPT = ("Summarise the obligations of each party in the following vendor agreement, and list "
                  "every deadline with the clause it comes from. ") * 8  # ~200 tokens


def attack_family(row: dict) -> str | None:
    """Which attack family a jailbreak-labelled row belongs to (None: no family)."""
    rule = row.get("label_rule") or ""
    src = row.get("source")
    if src == "jailbreakbench":
        return "jbb:" + rule.split(":")[1]
    if src == "attack_synth":
        return "synth:" + family_of(row)
    if src == "promptshield":
        m = re.search(r"attack_type=(\w+)", rule)
        return f"promptshield:{m.group(1) if m else 'none'}"
    if src == "verazuo_jailbreak":
        return "verazuo:in-the-wild"
    return None


def summarise(rows: list[dict], preds: list[dict], cuts: dict, labels: dict) -> dict:
    res: dict = {"rows": len(rows)}
    for head in ("tier", "domain"):
        m = score_head(head, rows, preds, labels=labels[head])
        if m is not None:
            res[head] = {"n": m["n"], "accuracy": round(m["accuracy"], 4), "macro_f1": round(m["macro_f1"], 4)}
    by_source = defaultdict(list)
    for i, r in enumerate(rows):
        if r.get("tier") is not None:
            by_source[r["source"]].append(i)
    res["tier_accuracy_by_source"] = {s: {"n": len(ix), "accuracy": round(float(np.mean(
        [preds[i]["tier"] == rows[i]["tier"] for i in ix])), 4)} for s, ix in sorted(by_source.items())}
    for head in ("sensitive", "jailbreak"):
        if any(r.get(head) for r in rows):
            m = score_head(head, rows, preds, cuts[head])
            res[head] = {k: round(m[k], 4) for k in ("n", "positives", "precision", "recall", "f1")}
    # What serving does with the score: sensitive for cloud candidates at or
    # above privacy.uncertain (the configured default), validators included.
    serving_cut = cuts.get("privacy_uncertain")
    if serving_cut is not None:
        idx = [i for i, r in enumerate(rows) if r.get("sensitive") is not None]
        clean = [i for i in idx if not rows[i]["sensitive"]]
        entry = {"cut": serving_cut, "clean": len(clean), "clean_flagged": round(float(np.mean(
            [preds[i]["sensitive"] >= serving_cut for i in clean])), 4) if clean else None}
        if any(rows[i]["sensitive"] for i in idx):
            m = score_head("sensitive", rows, preds, serving_cut)
            entry |= {k: round(m[k], 4) for k in ("positives", "precision", "recall")}
        res["sensitive_at_privacy_uncertain"] = entry
    private = [i for i, r in enumerate(rows) if r["source"] == "private_synth" and r.get("sensitive")]
    if private:
        res["sensitive_no_identifier_recall"] = {"n": len(private), "recall": round(float(np.mean(
            [preds[i]["sensitive"] >= cuts["sensitive"] for i in private])), 4)}
    fam = defaultdict(list)
    for i, r in enumerate(rows):
        f = attack_family(r)
        if f and r.get("jailbreak") is not None:
            fam[(f, bool(r["jailbreak"]))].append(i)
    res["jailbreak_by_family"] = {
        f"{f} ({'attacks: recall' if pos else 'benign: flagged'})": {
            "n": len(ix), "share": round(float(np.mean([preds[i]["jailbreak"] >= cuts["jailbreak"] for i in ix])), 4)}
        for (f, pos), ix in sorted(fam.items())}
    return res


def latency(predictor: ModelPredictor, n: int) -> dict:
    tokens = predictor.encoder.encode([LATENCY_PROMPT]).tokens[0]
    lat = single_prompt_latency(predictor, [LATENCY_PROMPT] * n, n)
    return {"prompt_tokens": int(tokens), "n": n, "p50_ms": round(lat["p50"], 2), "p99_ms": round(lat["p99"], 2),
            "what": "one ~200-token prompt per call: encoder (1 thread) + heads + success model + validators"}


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = list(report["models"])
    panels = [("tier macro-F1", lambda s: s.get("tier", {}).get("macro_f1")),
              ("domain accuracy", lambda s: s.get("domain", {}).get("accuracy")),
              ("sensitive recall", lambda s: s.get("sensitive", {}).get("recall")),
              ("sensitive precision", lambda s: s.get("sensitive", {}).get("precision")),
              ("jailbreak F1", lambda s: s.get("jailbreak", {}).get("f1"))]
    files = list(report["files"])
    fig, axes = plt.subplots(1, len(files) + 1, figsize=(6 * (len(files) + 1), 4.2))
    width = 0.8 / len(models)
    for ax, split in zip(axes, files):
        for k, m in enumerate(models):
            vals = [get(report["models"][m][split]) for _, get in panels]
            xs = [i + k * width for i in range(len(panels))]
            ax.bar(xs, [v if v is not None else 0 for v in vals], width, label=m)
        ax.set_xticks([i + width * (len(models) - 1) / 2 for i in range(len(panels))], [p for p, _ in panels],
                      rotation=30, ha="right", fontsize=8)
        ax.set_ylim(0, 1)
        ax.set_title(f"{split} ({report['files'][split]['role']})", fontsize=9)
        ax.legend(fontsize=8)
    ax = axes[-1]
    fams = sorted({f for m in models for split in files for f in report["models"][m][split]["jailbreak_by_family"]
                   if "attacks" in f})
    for k, m in enumerate(models):
        vals = []
        for f in fams:
            v = [report["models"][m][s]["jailbreak_by_family"].get(f, {}).get("share") for s in files]
            vals.append(next((x for x in v if x is not None), 0))
        ax.barh([i + k * width for i in range(len(fams))], vals, width, label=m)
    ax.set_yticks([i + width * (len(models) - 1) / 2 for i in range(len(fams))],
                  [f.replace(" (attacks: recall)", "") for f in fams], fontsize=7)
    ax.set_xlim(0, 1)
    ax.set_title("jailbreak recall per attack family", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def run(models: list[str], files: dict[str, str], out: Path, latency_n: int = 100, progress=None) -> dict:
    report: dict = {"files": {}, "models": {}}
    roles = {"val": "tuning split: cuts chosen here", "heldout": "held-out sources: report"}
    loaded = {name: read_jsonl(Path(path)) for name, path in files.items()}
    for name, path in files.items():
        report["files"][name] = {"path": str(path), "rows": len(loaded[name]), "role": roles.get(name, "")}
    from serve_app.config.schema import PrivacyConfig

    for model in models:
        predictor = ModelPredictor(model)
        labels = predictor.heads.labels
        cuts = {**predictor.cuts, "privacy_uncertain": PrivacyConfig().uncertain}
        entry = {}
        for name, rows in loaded.items():
            preds = predict_all(predictor, [r["prompt"] for r in rows], progress,
                                f"classify ({predictor.heads.meta.get('name')})")
            entry[name] = summarise(rows, preds, cuts, labels)
        entry["latency"] = latency(predictor, latency_n)
        entry["encoder"] = predictor.heads.encoder_settings
        report["models"][predictor.heads.meta.get("name") or model] = entry
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    plot(report, out.with_suffix(".png"))
    return report


def table(report: dict) -> str:
    lines = []
    for split in report["files"]:
        lines.append(f"\n{split} ({report['files'][split]['role']}, {report['files'][split]['rows']} rows)")
        lines.append(f"{'model':<20} {'tier acc':>8} {'tier F1':>8} {'dom acc':>8} {'sens P':>7} {'sens R':>7} "
                     f"{'no-id R':>8} {'jb P':>6} {'jb R':>6} {'jb F1':>6}")
        for m, e in report["models"].items():
            s = e[split]
            g = lambda h, k: s.get(h, {}).get(k, float("nan"))  # noqa: E731
            lines.append(f"{m:<20} {g('tier', 'accuracy'):>8.3f} {g('tier', 'macro_f1'):>8.3f} "
                         f"{g('domain', 'accuracy'):>8.3f} {g('sensitive', 'precision'):>7.3f} "
                         f"{g('sensitive', 'recall'):>7.3f} {g('sensitive_no_identifier_recall', 'recall'):>8.3f} "
                         f"{g('jailbreak', 'precision'):>6.3f} {g('jailbreak', 'recall'):>6.3f} {g('jailbreak', 'f1'):>6.3f}")
    for m, e in report["models"].items():
        lat = e["latency"]
        lines.append(f"{m}: ~{lat['prompt_tokens']}-token prompt p50 {lat['p50_ms']} ms, p99 {lat['p99_ms']} ms")
    return "\n".join(lines)


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    from tqdm import tqdm

    p = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", nargs="+", default=["triage-router-v2", "triage-router-v3"])
    p.add_argument("--data-dir", default="build/train_data", help="where `triage data build` wrote val/heldout.jsonl")
    p.add_argument("--out", default="models/triage-router-v3/compare.json")
    p.add_argument("--latency-n", type=int, default=100)
    a = p.parse_args(argv)
    d = Path(a.data_dir)
    report = run(a.models, {"val": d / "val.jsonl", "heldout": d / "heldout.jsonl"}, Path(a.out), a.latency_n, tqdm)
    print(table(report))
    print(f"wrote {a.out} and {Path(a.out).with_suffix('.png')}")
    return 0
