"""`triage eval classifier --data FILE.jsonl --out metrics.json`.

Scores the trained model and two baselines (majority class, keyword/length
heuristic) on one labelled file: per head accuracy, macro-F1, per-class
precision/recall/F1 and the confusion matrix (also as PNG); for the binary
heads precision, recall, F1 and recall at 95% precision. Rows without a label
are skipped for that head. It reports; it does not judge.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from serve_app.classifier.heads import DEFAULT_MODEL, RouterHeads, features, resolve_model_dir, sensitive_score
from serve_app.lab.training import baselines, metrics
from serve_app.lab.training.train import read_jsonl
from serve_app.privacy.validators import detect_sensitive

MULTI = ("tier", "domain")
BINARY = ("sensitive", "jailbreak")
BATCH = 32


class ModelPredictor:
    """The serving path offline: same encoder settings, heads and validators."""

    def __init__(self, model: str = DEFAULT_MODEL, threads: int | None = None):
        from serve_app.classifier.encoder import make_encoder
        from serve_app.classifier.pipeline import load_outcome_memory

        self.heads = RouterHeads.load(resolve_model_dir(model))
        enc = self.heads.encoder_settings
        self.encoder = make_encoder(enc["backend"], self.heads.encoder_dir(), enc["max_tokens"], threads)
        self.cuts = {h: self.heads.cut(h) for h in BINARY}
        self.success = self.heads.success_model()
        self.memory = load_outcome_memory(self.heads) if self.success else None

    @property
    def quality_target(self) -> float | None:
        """The default target the model was calibrated for (model.json success.quality_target)."""
        return self.heads.meta.get("success", {}).get("quality_target")

    def predict(self, prompts: list[str]) -> list[dict]:
        batch = self.encoder.encode(prompts)
        x = features(batch.embeddings, batch.tokens)
        out = self.heads.predict(x)
        tiers, domains = self.heads.labels["tier"], self.heads.labels["domain"]
        success = None
        if self.success is not None:
            sims, ys = self.memory.nearest(batch.embeddings, self.success.settings.k)
            success = self.success.estimate(x, sims, ys)
        return [{
            "tier": tiers[int(out.tier[i].argmax())],
            "domain": domains[int(out.domain[i].argmax())],
            "sensitive": float(sensitive_score(out.sensitive[i], bool(detect_sensitive(p)))),
            "jailbreak": float(out.jailbreak[i]),
            "difficulty": float(out.difficulty[i]),
            "tier_probs": out.tier[i],
            **({"tier_success": dict(zip(self.success.settings.tiers, map(float, success.probs[i]))),
                "supported": bool(success.supported[i]), "support": float(success.support[i])}
               if success is not None else {}),
        } for i, p in enumerate(prompts)]


def score_head(head: str, rows: list[dict], preds: list[dict], cut: float = 0.5, labels=None) -> dict | None:
    pairs = [(r[head], p[head]) for r, p in zip(rows, preds) if r.get(head) is not None]
    if not pairs:
        return None
    truth, pred = zip(*pairs)
    if head in BINARY:
        return metrics.binary([bool(t) for t in truth], list(pred), cut)
    return metrics.multiclass(list(truth), list(pred), list(labels))


def single_prompt_latency(predictor: ModelPredictor, prompts: list[str], n: int = 200) -> dict:
    sample = prompts[:n]
    if not sample:
        return {}
    predictor.predict(sample[:5])  # warm-up
    times = []
    for p in sample:
        t0 = time.perf_counter()
        predictor.predict([p])
        times.append((time.perf_counter() - t0) * 1000)
    return {"n": len(times), "p50": float(np.percentile(times, 50)), "p99": float(np.percentile(times, 99)),
            "what": "one prompt per call (batch 1), encoder + heads + validators, this machine's threads"}


def predict_all(predictor: ModelPredictor, prompts: list[str], progress=None, desc: str = "classify") -> list[dict]:
    """predictor.predict over `prompts` in batches of BATCH, with a progress bar."""
    preds: list[dict] = []
    bar = progress(total=len(prompts), desc=desc, unit="prompt") if progress else None
    for start in range(0, len(prompts), BATCH):
        preds.extend(predictor.predict(prompts[start:start + BATCH]))
        if bar:
            bar.update(min(BATCH, len(prompts) - start))
    if bar:
        bar.close()
    return preds


def evaluate(rows: list[dict], predictor: ModelPredictor, progress=None, latency_n: int = 200) -> dict:
    prompts = [r["prompt"] for r in rows]
    preds = predict_all(predictor, prompts, progress)
    heur = [baselines.heuristic(p) for p in prompts]
    labels = {"tier": predictor.heads.labels["tier"], "domain": predictor.heads.labels["domain"]}
    heads: dict = {}
    for head in (*MULTI, *BINARY):
        cut = predictor.cuts.get(head, 0.5)
        maj = baselines.majority(rows, head)
        # None where no row carries this head's label (score_head then skips it).
        maj_preds = [{head: (float(maj) if head in BINARY and maj is not None else maj)} for _ in rows]
        result = {
            "model": score_head(head, rows, preds, cut, labels.get(head)),
            "majority": score_head(head, rows, maj_preds, 0.5, labels.get(head)),
            "heuristic": score_head(head, rows, heur, 0.5, labels.get(head)),
        }
        if result["model"] is not None:
            heads[head] = result
    by_source = {}
    for src in sorted({r.get("source") for r in rows if r.get("source")}):
        idx = [i for i, r in enumerate(rows) if r.get("source") == src]
        sub_rows, sub_preds = [rows[i] for i in idx], [preds[i] for i in idx]
        scored = {h: score_head(h, sub_rows, sub_preds, predictor.cuts.get(h, 0.5), labels.get(h))
                  for h in (*MULTI, *BINARY)}
        by_source[src] = {h: _short(m) for h, m in scored.items() if m is not None}
    return {"rows": len(rows), "model": predictor.heads.meta.get("name"), "heads": heads,
            "by_source": by_source, "latency_ms": single_prompt_latency(predictor, prompts, latency_n)}


def _short(m: dict | None) -> dict | None:
    if m is None:
        return None
    keys = ("n", "accuracy", "macro_f1") if "macro_f1" in m else ("n", "positives", "precision", "recall", "f1")
    return {k: m[k] for k in keys}


def confusion_png(result: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    cm = np.asarray(result["confusion"])
    labels = result["labels"]
    fig, ax = plt.subplots(figsize=(1 + 0.6 * len(labels), 0.8 + 0.6 * len(labels)))
    ax.imshow(cm, cmap="Blues")
    ax.set_xticks(range(len(labels)), labels, rotation=45, ha="right")
    ax.set_yticks(range(len(labels)), labels)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    for i in range(len(labels)):
        for j in range(len(labels)):
            if cm[i, j]:
                ax.text(j, i, str(cm[i, j]), ha="center", va="center", fontsize=7,
                        color="white" if cm[i, j] > cm.max() / 2 else "black")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def table(report: dict) -> str:
    lines = [f"{'head':<10} {'system':<10} {'n':>6} {'acc':>6} {'macroF1':>8} {'P':>6} {'R':>6} {'F1':>6} {'R@95P':>6}"]
    for head, systems in report["heads"].items():
        for name, m in systems.items():
            if m is None:
                continue
            if "macro_f1" in m:
                lines.append(f"{head:<10} {name:<10} {m['n']:>6} {m['accuracy']:>6.3f} {m['macro_f1']:>8.3f}")
            else:
                lines.append(f"{head:<10} {name:<10} {m['n']:>6} {m['accuracy']:>6.3f} {'':>8} {m['precision']:>6.3f} "
                             f"{m['recall']:>6.3f} {m['f1']:>6.3f} {m['recall_at_95_precision']:>6.3f}")
    lat = report.get("latency_ms") or {}
    if lat:
        lines.append(f"latency (batch 1): p50 {lat['p50']:.1f} ms  p99 {lat['p99']:.1f} ms  (n={lat['n']})")
    return "\n".join(lines)


def run(data: str, out: str, model: str = DEFAULT_MODEL, limit: int | None = None, latency_n: int = 200) -> int:
    from tqdm import tqdm

    rows = read_jsonl(Path(data))[:limit] if limit else read_jsonl(Path(data))
    report = evaluate(rows, ModelPredictor(model), tqdm, latency_n)
    report["file"] = str(data)
    out_path = Path(out)
    out_path.parent.mkdir(parents=True, exist_ok=True)
    report["confusion_png"] = {}
    for head in MULTI:
        if head in report["heads"]:
            png = out_path.with_name(f"{out_path.stem}_confusion_{head}.png")
            confusion_png(report["heads"][head]["model"], png)
            report["confusion_png"][head] = png.name
    out_path.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    print(table(report))
    print(f"wrote {out_path}")
    return 0


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(prog=prog, description="Per-head metrics, baselines and latency on a labelled JSONL file.")
    p.add_argument("--data", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--model", default=DEFAULT_MODEL, help="model directory or shipped model name")
    p.add_argument("--limit", type=int, default=None)
    p.add_argument("--latency-n", type=int, default=200, help="single-prompt calls timed for latency")
    a = p.parse_args(argv)
    return run(a.data, a.out, a.model, a.limit, a.latency_n)
