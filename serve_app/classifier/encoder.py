"""The encoder for `classifier.backend`: both backends keep one `encode` contract
(serve_app/classifier/tokens.py), so heads and caches never see which one ran."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from serve_app.classifier.tokens import default_model_path

BACKENDS = ("torch", "onnx-int8")


def make_encoder(backend: str, path: str | None = None, max_tokens: int = 256, torch_threads: int | None = None):
    """For onnx-int8, `torch_threads` sets ONNX Runtime's intra-op threads (None:
    one thread, see OnnxEncoder); the first replica on a machine converts the
    model into the cache (seconds), later ones load it. Backends are imported
    only when chosen: torch is not loaded by an onnx-int8 classifier."""
    if backend == "torch":
        from serve_app.classifier.torch_encoder import TorchEncoder

        return TorchEncoder(path, max_tokens, torch_threads)
    if backend == "onnx-int8":
        from serve_app.classifier.onnx_encoder import OnnxEncoder, is_converted

        if path and is_converted(path):  # shipped already quantised (a fine-tuned model's encoder)
            return OnnxEncoder.from_dir(path, max_tokens, torch_threads)
        return OnnxEncoder(path, max_tokens, torch_threads)
    raise ValueError(f"unknown encoder backend {backend!r}; expected one of {BACKENDS}")


@dataclass(frozen=True)
class EmbeddingSpace:
    """The embeddings a classifier serves: their size, and an id that changes
    whenever the vectors would (another encoder, backend or token budget).
    The cache keeps each space's entries apart, so a new encoder never
    compares against vectors of an old one."""

    id: str
    dim: int


def embedding_space(encoder: str | None, backend: str, max_tokens: int) -> EmbeddingSpace:
    """Read from the encoder's own files (no model load): the same id on every
    machine for the same model, wherever it is installed."""
    path = Path(encoder or default_model_path())
    if (path / "encoder.json").is_file():  # a converted ONNX directory (onnx_encoder.py)
        config_bytes = (path / "encoder.json").read_bytes()
        dim_key = "dim"
        weights = sorted(f"{p.name}:{p.stat().st_size}" for p in path.glob("*.onnx"))
    elif (path / "config.json").is_file():
        config_bytes, dim_key = (path / "config.json").read_bytes(), "hidden_size"
        weights = sorted(f"{p.name}:{p.stat().st_size}" for p in path.iterdir()
                         if p.suffix in (".safetensors", ".bin", ".onnx"))
    else:  # a hub id: its config comes through transformers' own cache
        from transformers import AutoConfig

        config_bytes, dim_key = AutoConfig.from_pretrained(str(path)).to_json_string().encode(), "hidden_size"
        weights = [str(path)]
    dim = int(json.loads(config_bytes)[dim_key])
    parts = [config_bytes, *(w.encode() for w in weights), backend.encode(), str(max_tokens).encode()]
    if backend == "onnx-int8":  # how the session runs the graph moves the vectors too
        from serve_app.classifier.onnx_encoder import SESSION

        parts.append(json.dumps(SESSION, sort_keys=True).encode())
    digest = hashlib.sha256(b"|".join(parts)).hexdigest()
    return EmbeddingSpace(id=f"d{dim}-{digest[:10]}", dim=dim)


def serving_encoder(cfg) -> str | None:
    """The encoder directory a classifier config runs (None: the packaged
    MiniLM): its own `encoder`, else the one its trained model ships
    (model.json `encoder.dir`, a fine-tuned int8 ONNX encoder)."""
    if cfg.encoder or not cfg.model:
        return cfg.encoder
    from serve_app.classifier.heads import shipped_encoder
    from serve_app.models import resolve

    try:
        model_dir = resolve(cfg.model)
    except FileNotFoundError:
        return None  # load_trained reports the missing model with its config path
    return shipped_encoder(model_dir, json.loads((model_dir / "model.json").read_text(encoding="utf-8")))


def classifier_space(cfg) -> EmbeddingSpace:
    """The embedding space a classifier config serves."""
    return embedding_space(serving_encoder(cfg), cfg.backend, cfg.max_tokens)
