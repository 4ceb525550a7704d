"""Frozen encoder + heads versus LoRA fine-tuning, on the same rows and steps.

`triage experiment lora --rows 6000 --out models/triage-router-v1/lora_vs_frozen.json`

Both arms run the same torch MiniLM (fp32, 128 tokens to fit 2 cores), the
same multi-task heads, the same sampled training rows, optimiser steps and
seed; the LoRA arm also trains rank-r adapters on every attention query and
value projection. Validation rows come from val.jsonl. The shipped model uses
whichever the numbers justify (see the model card); this script is how those
numbers were produced.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

import numpy as np

from serve_app.config.schema import DEFAULT_DOMAINS, TIERS
from serve_app.lab.training import metrics
from serve_app.lab.training.train import read_jsonl, targets


def _lora(torch, linear, rank: int, alpha: float):
    nn = torch.nn

    class LoRALinear(nn.Module):
        """y = W x + (alpha/r) B A x, with W frozen and B initialised to zero."""

        def __init__(self):
            super().__init__()
            self.base = linear
            self.a = nn.Parameter(torch.randn(rank, linear.in_features) * 0.01)
            self.b = nn.Parameter(torch.zeros(linear.out_features, rank))
            self.scale = alpha / rank

        def forward(self, x):
            return self.base(x) + (x @ self.a.T @ self.b.T) * self.scale

    return LoRALinear()


def _sample(rows: list[dict], n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    return rng.sample(rows, min(n, len(rows)))


def run_arm(arm: str, train_rows, val_rows, steps: int, batch: int, max_tokens: int, rank: int, seed: int, log=print) -> dict:
    import torch
    from transformers import AutoModel, AutoTokenizer

    from serve_app.classifier.tokens import default_model_path

    torch.manual_seed(seed)
    path = default_model_path()
    tok = AutoTokenizer.from_pretrained(path, local_files_only=True)
    enc = AutoModel.from_pretrained(path, local_files_only=True)
    for p in enc.parameters():
        p.requires_grad_(False)
    if arm == "lora":
        for layer in enc.encoder.layer:
            att = layer.attention.self
            att.query = _lora(torch, att.query, rank, 2 * rank)
            att.value = _lora(torch, att.value, rank, 2 * rank)
    dim = enc.config.hidden_size
    heads = torch.nn.ModuleDict({"tier": torch.nn.Linear(dim, len(TIERS)), "domain": torch.nn.Linear(dim, len(DEFAULT_DOMAINS)),
                                 "sensitive": torch.nn.Linear(dim, 1), "jailbreak": torch.nn.Linear(dim, 1)})
    params = [p for p in list(enc.parameters()) + list(heads.parameters()) if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=2e-3 if arm == "frozen" else 1e-3)

    def embed(texts, train: bool):
        t = tok(texts, truncation=True, max_length=max_tokens, padding=True, return_tensors="pt")
        enc.train(train)
        h = enc(**t).last_hidden_state
        m = t["attention_mask"].unsqueeze(-1).float()
        return torch.nn.functional.normalize((h * m).sum(1) / m.sum(1), dim=1)

    tt = targets(train_rows)
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    for step in range(steps):
        idx = rng.choice(len(train_rows), size=batch, replace=False)
        x = embed([train_rows[i]["prompt"] for i in idx], True)
        loss = 0.0
        for h, layer in heads.items():
            y, m = (torch.tensor(a[idx]) for a in tt[h])
            if not m.any():
                continue
            z = layer(x[m])
            loss = loss + (torch.nn.functional.cross_entropy(z, y[m].long()) if h in ("tier", "domain")
                           else torch.nn.functional.binary_cross_entropy_with_logits(z[:, 0], y[m].float()))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if (step + 1) % 25 == 0:
            log(f"  {arm:<6} step {step + 1}/{steps}  loss {float(loss):.3f}  {time.perf_counter() - started:.0f}s")
    train_s = time.perf_counter() - started
    preds = {h: [] for h in heads}
    with torch.no_grad():
        for start in range(0, len(val_rows), 64):
            x = embed([r["prompt"] for r in val_rows[start:start + 64]], False)
            for h, layer in heads.items():
                z = layer(x)
                preds[h].extend(z.argmax(1).tolist() if h in ("tier", "domain") else torch.sigmoid(z[:, 0]).tolist())
    vt = targets(val_rows)
    result = {"arm": arm, "train_seconds": round(train_s, 1),
              "trainable_params": int(sum(p.numel() for p in params))}
    for h, labels in (("tier", TIERS), ("domain", DEFAULT_DOMAINS)):
        y, m = vt[h]
        r = metrics.multiclass([labels[i] for i in y[m]], [labels[i] for i in np.array(preds[h])[m]], list(labels))
        result[h] = {"accuracy": round(r["accuracy"], 4), "macro_f1": round(r["macro_f1"], 4), "n": r["n"]}
    for h in ("sensitive", "jailbreak"):
        y, m = vt[h]
        r = metrics.binary(list(y[m].astype(bool)), list(np.array(preds[h])[m]), 0.5)
        result[h] = {k: round(r[k], 4) for k in ("f1", "recall_at_95_precision")} | {"n": r["n"]}
    return result


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-dir", default="build/train_data")
    p.add_argument("--rows", type=int, default=6000, help="training rows sampled (same for both arms)")
    p.add_argument("--val-rows", type=int, default=1500)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--max-tokens", type=int, default=128)
    p.add_argument("--rank", type=int, default=8)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--out", required=True)
    a = p.parse_args(argv)
    d = Path(a.data_dir)
    train_rows = _sample(read_jsonl(d / "train.jsonl"), a.rows, a.seed)
    val_rows = _sample(read_jsonl(d / "val.jsonl"), a.val_rows, a.seed + 1)
    results = []
    for arm in ("frozen", "lora"):
        print(f"== {arm}: {a.steps} steps x {a.batch} rows, {a.max_tokens} tokens")
        results.append(run_arm(arm, train_rows, val_rows, a.steps, a.batch, a.max_tokens, a.rank, a.seed))
    out = {"settings": vars(a), "results": results}
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(out, indent=2) + "\n", encoding="utf-8")
    print(f"{'arm':<7} {'params':>9} {'tier acc':>9} {'tier F1':>8} {'dom acc':>8} {'sens F1':>8} {'jb F1':>6} {'train s':>8}")
    for r in results:
        print(f"{r['arm']:<7} {r['trainable_params']:>9} {r['tier']['accuracy']:>9.3f} {r['tier']['macro_f1']:>8.3f} "
              f"{r['domain']['accuracy']:>8.3f} {r['sensitive']['f1']:>8.3f} {r['jailbreak']['f1']:>6.3f} {r['train_seconds']:>8.0f}")
    print(f"wrote {a.out}")
    return 0
