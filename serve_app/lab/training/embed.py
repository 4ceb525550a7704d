"""Embed a labelled split with the *serving* encoder, cached on disk.

Heads are trained on exactly the features the Classifier deployment computes
(same backend, same token budget, same head+tail truncation), so there is no
train/serve skew. Embeddings are cached next to the data, keyed by the prompts'
hash and the encoder settings: retraining heads takes seconds, not minutes.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np

from serve_app.classifier.encoder import embedding_space, make_encoder

# Sorting by length and batching keeps padding (wasted compute) small.
BATCH = 32


def _digest(prompt: str) -> str:
    return hashlib.sha1(prompt.encode("utf-8", "surrogatepass")).hexdigest()[:20]


def _load_store(path: Path) -> dict[str, tuple[np.ndarray, int]]:
    if not path.exists():
        return {}
    with np.load(path) as z:
        return {k: (e, int(t)) for k, e, t in zip(z["keys"], z["embeddings"], z["tokens"])}


def _save_store(path: Path, store: dict[str, tuple[np.ndarray, int]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    keys = list(store)
    tmp = path.with_suffix(".tmp.npz")
    np.savez(tmp, keys=np.array(keys), embeddings=np.stack([store[k][0] for k in keys]),
             tokens=np.array([store[k][1] for k in keys], np.int64))
    tmp.replace(path)  # never leave a half-written cache behind


def embed_prompts(prompts: list[str], backend: str = "onnx-int8", max_tokens: int = 256,
                  cache_dir: Path | None = None, threads: int | None = None, progress=None,
                  encoder: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """(embeddings [n, dim], tokens [n]). `encoder`: a directory (e.g. a
    fine-tuned model's int8 encoder), None for the packaged MiniLM. With
    `cache_dir`, one store per encoder setting keyed by prompt hash: a
    rebuilt split only embeds new rows."""
    # One store per embedding space (encoder, backend, budget and how the
    # session runs the graph): vectors of another run are never reused.
    space = embedding_space(encoder, backend, max_tokens).id
    store_path = Path(cache_dir) / f"emb-{backend}-{max_tokens}-{space}.npz" if cache_dir is not None else None
    store = _load_store(store_path) if store_path else {}
    keys = [_digest(p) for p in prompts]
    todo = sorted({k: p for k, p in zip(keys, prompts) if k not in store}.items(), key=lambda kp: len(kp[1]))
    if todo:
        model = make_encoder(backend, encoder, max_tokens, threads)
        bar = progress(total=len(todo), desc="embed", unit="prompt") if progress else None
        for start in range(0, len(todo), BATCH):
            chunk = todo[start:start + BATCH]
            batch = model.encode([p for _, p in chunk])
            for (k, _), e, t in zip(chunk, batch.embeddings, batch.tokens):
                store[k] = (e, t)
            if bar:
                bar.update(len(chunk))
        if bar:
            bar.close()
        if store_path:
            _save_store(store_path, store)
    emb = np.stack([store[k][0] for k in keys]) if keys else np.zeros((0, 384), np.float32)
    return emb.astype(np.float32), np.array([store[k][1] for k in keys], np.int64)
