"""`triage eval attack-families`: jailbreak recall on attack families left out of training.

For each family F (the generated suffix / encoding / indirect / many-shot
families, the in-the-wild DAN-style prompts, and PromptShield's attack
types): a jailbreak head (logistic regression on the model's serving
features) is trained on train.jsonl without F's rows (its attacks and its
matched benign look-alikes), its cut is chosen for the best F1 on val.jsonl
without F, and it is tested on all of F's rows. So the head never saw the
family; with a fine-tuned model the encoder did (it was trained on every
family but JailbreakBench's), which the report says. JailbreakBench's
methods (PAIR, random-search suffixes, JBC) are held out of everything,
encoder included: `triage eval compare` reports them.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from serve_app.classifier.heads import features
from serve_app.lab.training import metrics
from serve_app.lab.training.compare import attack_family
from serve_app.lab.training.embed import embed_prompts
from serve_app.lab.training.train import read_jsonl

# PromptShield's attack types with fewer attack rows than this are too small
# to measure alone; they stay in training for every family.
MIN_ATTACKS = 25


def family_key(row: dict) -> str | None:
    """The family a row is left out with (None: never left out: not an
    attack-family row, or JailbreakBench, which no training run sees)."""
    f = attack_family(row)
    return f if f and not f.startswith("jbb:") else None


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1e-3, steps: int = 400, lr: float = 0.5) -> np.ndarray:
    """Class-balanced logistic regression by full-batch gradient descent (seconds on 50k x 385)."""
    xb = np.hstack([x, np.ones((len(x), 1), np.float32)]).astype(np.float32)
    w = np.zeros(xb.shape[1], np.float32)
    weight = np.where(y, 0.5 / max(y.mean(), 1e-9), 0.5 / max(1 - y.mean(), 1e-9)).astype(np.float32)
    for _ in range(steps):
        p = 1 / (1 + np.exp(-np.clip(xb @ w, -40, 40)))
        grad = xb.T @ ((p - y) * weight) / len(y) + l2 * np.r_[w[:-1], 0]
        w -= lr * grad
    return w


def score(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    return 1 / (1 + np.exp(-np.clip(np.hstack([x, np.ones((len(x), 1), np.float32)]) @ w, -40, 40)))


def evaluate_model(model: str, data_dir: Path, progress=None) -> dict:
    from serve_app.classifier.heads import RouterHeads, resolve_model_dir

    heads = RouterHeads.load(resolve_model_dir(model))
    enc = heads.encoder_settings
    splits = {}
    for name in ("train", "val"):
        rows = [r for r in read_jsonl(data_dir / f"{name}.jsonl") if r.get("jailbreak") is not None]
        emb, tok = embed_prompts([r["prompt"] for r in rows], enc["backend"], enc["max_tokens"], data_dir / "emb",
                                 progress=progress, encoder=heads.encoder_dir())
        splits[name] = (features(emb, tok), np.array([bool(r["jailbreak"]) for r in rows]),
                        np.array([family_key(r) for r in rows], dtype=object))
    (xt, yt, ft), (xv, yv, fv) = splits["train"], splits["val"]
    all_f, all_y = np.concatenate([ft, fv]), np.concatenate([yt, yv])
    families = sorted(f for f in {f for f in all_f if f} if (all_y[all_f == f]).sum() >= MIN_ATTACKS)
    out = {}
    for fam in families:
        keep_t, keep_v = ft != fam, fv != fam
        w = fit_logistic(xt[keep_t], yt[keep_t])
        cut = metrics.best_f1_threshold(yv[keep_v], score(w, xv[keep_v]))
        xf = np.vstack([xt[~keep_t], xv[~keep_v]])
        yf = np.concatenate([yt[~keep_t], yv[~keep_v]])
        s = score(w, xf)
        out[fam] = {"attacks": int(yf.sum()), "benign": int((~yf).sum()),
                    "recall": round(float(np.mean(s[yf] >= cut)), 4) if yf.any() else None,
                    "benign_flagged": round(float(np.mean(s[~yf] >= cut)), 4) if (~yf).any() else None,
                    "cut": round(float(cut), 4)}
    return {"model": heads.meta.get("name"), "encoder_fine_tuned": bool(enc.get("fine_tuned")), "families": out}


def plot(report: dict, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    models = list(report["models"])
    fams = sorted({f for m in models for f in report["models"][m]["families"]})
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(fams) + 1.5))
    width = 0.8 / len(models)
    for k, m in enumerate(models):
        vals = [report["models"][m]["families"].get(f, {}).get("recall") or 0 for f in fams]
        ax.barh([i + k * width for i in range(len(fams))], vals, width, label=m)
    ax.axvline(0.8, color="grey", ls="--", lw=0.8)
    ax.set_yticks([i + width * (len(models) - 1) / 2 for i in range(len(fams))], fams, fontsize=8)
    ax.set_xlim(0, 1)
    ax.set_xlabel("recall on the family, its rows left out of the head's training")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    from tqdm import tqdm

    p = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--models", nargs="+", default=["triage-router-v2", "triage-router-v3"])
    p.add_argument("--data-dir", default="build/train_data")
    p.add_argument("--out", default="models/triage-router-v3/attack_families.json")
    a = p.parse_args(argv)
    report = {"method": __doc__.split("\n\n")[1].replace("\n", " "),
              "models": {}}
    for m in a.models:
        r = evaluate_model(m, Path(a.data_dir), tqdm)
        report["models"][r["model"] or m] = r
    out = Path(a.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    plot(report, out.with_suffix(".png"))
    print(f"{'family':<28}" + "".join(f"{m:>22}" for m in report["models"]))
    fams = sorted({f for r in report["models"].values() for f in r["families"]})
    for f in fams:
        cells = []
        for r in report["models"].values():
            e = r["families"].get(f)
            cells.append(f"{e['recall']:.2f} R / {e['benign_flagged'] if e['benign_flagged'] is not None else '-'} FP"
                         if e and e["recall"] is not None else "-")
        print(f"{f:<28}" + "".join(f"{c:>22}" for c in cells))
    print(f"wrote {out} and {out.with_suffix('.png')}")
    return 0
