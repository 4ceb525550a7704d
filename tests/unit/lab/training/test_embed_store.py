"""Training embeddings are cached per embedding space: a change to how the
encoder runs (here the ONNX session's fusions) must not reuse old vectors,
for the packaged MiniLM as for a fine-tuned encoder."""

from __future__ import annotations

from serve_app.classifier import onnx_encoder
from serve_app.lab.training.embed import embed_prompts

PROMPTS = ["What is the capital of France?", "Write a haiku about autumn rain."]


def test_a_changed_session_gets_a_store_of_its_own(tmp_path, monkeypatch):
    first, _ = embed_prompts(PROMPTS, "onnx-int8", 64, cache_dir=tmp_path)
    stores = set(tmp_path.glob("emb-*.npz"))
    assert len(stores) == 1

    monkeypatch.setattr(onnx_encoder, "SESSION", {"disabled_optimizers": []})
    second, _ = embed_prompts(PROMPTS, "onnx-int8", 64, cache_dir=tmp_path)
    assert len(set(tmp_path.glob("emb-*.npz"))) == 2  # embedded again, not read from the first store
    assert second.shape == first.shape
