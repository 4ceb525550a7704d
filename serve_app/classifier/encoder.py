"""The encoder for `classifier.backend`: both backends keep one `encode` contract
(serve_app/classifier/tokens.py), so heads and caches never see which one ran."""

from __future__ import annotations

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
