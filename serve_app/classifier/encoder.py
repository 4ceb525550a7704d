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
        from serve_app.classifier.onnx_encoder import OnnxEncoder

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
    if (path / "config.json").is_file():
        config_bytes = (path / "config.json").read_bytes()
        weights = sorted(f"{p.name}:{p.stat().st_size}" for p in path.iterdir()
                         if p.suffix in (".safetensors", ".bin", ".onnx"))
    else:  # a hub id: its config comes through transformers' own cache
        from transformers import AutoConfig

        config_bytes = AutoConfig.from_pretrained(str(path)).to_json_string().encode()
        weights = [str(path)]
    dim = int(json.loads(config_bytes)["hidden_size"])
    digest = hashlib.sha256(b"|".join([config_bytes, *(w.encode() for w in weights),
                                       backend.encode(), str(max_tokens).encode()])).hexdigest()
    return EmbeddingSpace(id=f"d{dim}-{digest[:10]}", dim=dim)
