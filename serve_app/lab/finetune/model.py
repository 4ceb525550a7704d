"""The network fine-tuned: the packaged MiniLM, mean pooling exactly as
serving pools (masked mean, L2-normalised), and one linear layer per label
head over the serving features (embedding + log-length).

The heads here exist to shape the encoder; the shipped heads are trained
again afterwards on the exported int8 encoder's own features (train.py), so
serving never depends on fp32/int8 agreement of these layers.
"""

from __future__ import annotations

from serve_app.config.schema import DEFAULT_DOMAINS, TIERS

HEADS = {"tier": len(TIERS), "domain": len(DEFAULT_DOMAINS), "sensitive": 1, "jailbreak": 1}


def kept_layers(total: int, keep: int) -> list[int]:
    """Indices of `keep` of `total` layers, evenly spaced, first and last
    included (6 -> 4: 0, 2, 3, 5): the last layer's output is the space the
    pooled embedding was trained in, the first reads the word embeddings."""
    if not 1 <= keep <= total:
        raise ValueError(f"can keep 1..{total} layers, not {keep}")
    if keep == 1:
        return [total - 1]
    return sorted({round(i * (total - 1) / (keep - 1)) for i in range(keep)})


def build(torch, encoder_path: str, layers: int | None = None):
    from transformers import AutoModel

    nn = torch.nn

    class MultiTask(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = AutoModel.from_pretrained(encoder_path, local_files_only=True,
                                                     attn_implementation="eager")
            total = self.encoder.config.num_hidden_layers
            if layers is not None and layers != total:
                keep = kept_layers(total, layers)
                self.encoder.encoder.layer = nn.ModuleList(self.encoder.encoder.layer[i] for i in keep)
                self.encoder.config.num_hidden_layers = len(keep)
            dim = self.encoder.config.hidden_size
            self.heads = nn.ModuleDict({k: nn.Linear(dim + 1, n) for k, n in HEADS.items()})

        def embed(self, ids, mask):
            hidden = self.encoder(input_ids=ids, attention_mask=mask).last_hidden_state
            w = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * w).sum(1) / w.sum(1).clamp(min=1e-9)
            return nn.functional.normalize(pooled, dim=1)

        def classify(self, emb, tokens):
            # The serving feature (serve_app/classifier/heads.py features()).
            x = torch.cat([emb, torch.log1p(tokens.float()).unsqueeze(1) / 8.0], dim=1)
            return {k: head(x) for k, head in self.heads.items()}

    return MultiTask()


def label_loss(torch, logits: dict, targets: dict, weights: dict) -> tuple:
    """Sum over heads of the masked loss; returns (loss, {head: float})."""
    F = torch.nn.functional
    total, parts = 0.0, {}
    for head, (y, m) in targets.items():
        if not bool(m.any()):
            continue
        z = logits[head][m]
        if HEADS[head] > 1:
            loss = F.cross_entropy(z, y[m].long(), weight=weights.get(head))
        else:
            loss = F.binary_cross_entropy_with_logits(z[:, 0], y[m].float(), pos_weight=weights.get(head))
        total = total + loss
        parts[head] = loss.item()
    return total, parts


def contrastive_loss(torch, a, b, hard, scale: float) -> tuple:
    """InfoNCE, a -> b over the batch's b's plus the hard negatives: each
    anchor must pick its own paraphrase over every other question and over
    the edited copies (the near-misses the cache must not serve).
    Returns (loss, share of anchors whose paraphrase scored highest)."""
    candidates = torch.cat([b, hard], dim=0) if hard is not None and len(hard) else b
    sims = a @ candidates.T * scale
    target = torch.arange(len(a))
    loss = torch.nn.functional.cross_entropy(sims, target)
    return loss, float((sims.argmax(1) == target).float().mean())


def warmup_linear(step: int, total: int, warmup: int) -> float:
    """Learning-rate factor: linear warm-up, then linear decay to 10%."""
    if step < warmup:
        return (step + 1) / warmup
    return max(0.1, 1.0 - 0.9 * (step - warmup) / max(1, total - warmup))
