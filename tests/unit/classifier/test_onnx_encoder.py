"""The ONNX int8 encoder against the fp32 torch Encoder, and the convert-once cache.

The cache tests use a fake converter (fast); the encoder tests convert the real
MiniLM once into a temporary cache (~10 s on 2 cores) and are marked slow.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import time

import numpy as np
import pytest

from serve_app.convert_cache import MARKER, ensure_converted, read_marker
from serve_app.lab.bench.prompts import _DOCUMENT

# Varied on purpose: lookups, code, maths, other languages, symbols, and long
# texts that are cut head+tail (two beyond the character pre-clip).
CODE = (
    "def merge(a, b):\n    out = []\n    while a and b:\n"
    "        out.append(a.pop(0) if a[0] < b[0] else b.pop(0))\n    return out + a + b\n"
)
PROMPTS = [
    "What is the capital of France?",
    "Translate 'good morning' into Spanish.",
    "How many minutes are in a day?",
    "Who wrote Pride and Prejudice?",
    "Turn this into a bullet list: milk, eggs, flour, butter",
    "Correct the grammar: 'She don't like apples.'",
    "Write a Python function that reverses a linked list in place.",
    "Why does this fail with IndexError?\n" + CODE,
    "SELECT name, SUM(total) FROM orders GROUP BY name HAVING SUM(total) > 100 ORDER BY 2 DESC;",
    "Refactor this JavaScript to async/await: fetch(url).then(r => r.json()).then(d => console.log(d))",
    "A baker makes 24 muffins and sells 3/4 of them. How many are left?",
    "Solve for x: 3x^2 - 12x + 9 = 0, and show each step.",
    r"Prove that $\sum_{k=1}^{n} k^3 = \left(\frac{n(n+1)}{2}\right)^2$ by induction.",
    "Compute the integral of e^{-x^2} over the real line and justify the polar-coordinates trick.",
    "If all bloops are razzies and some razzies are lazzies, must some bloops be lazzies?",
    "Write a sonnet about the sea at dawn, in iambic pentameter.",
    "Draft a 1,000-word essay on the causes of the First World War.",
    "Is a verbal agreement to sell a car legally binding in England?",
    "What are the early symptoms of type 2 diabetes, and when should I see a doctor?",
    "How should I split my savings between an index fund and a bond ladder at age 45?",
    "Quelle est la différence entre un contrat à durée déterminée et indéterminée ?",
    "東京で一番おすすめのラーメン屋はどこですか？",
    "🚀🔥 explain kubernetes pods like I'm five 🙏",
    "Design a globally distributed key-value store with multi-region failover and explain the trade-offs.",
    "Summarise this for an executive:\n\n" + _DOCUMENT,
    _DOCUMENT + "\n\nWhich clause is the most risky for the customer?",
    "Review this code for bugs:\n" + CODE * 25 + "\nAnswer briefly: is merge O(n)?",
    ("Background noise sentence about nothing much. " * 120) + "What is the boiling point of mercury?",
    "x " * 5000 + "final question: how many legs does a spider have?",
    "Numbers: " + ", ".join(str(i * 7919 % 10007) for i in range(600)),
]

# Two or three tokens: mean pooling has nothing to average int8's noise over
# ([CLS]/[SEP] dominate), so these sit lowest (~0.975 for ""), hence their own bound.
TINY = ["", "hi"]


# ------------------------------------------------------------- convert cache


def _fake_convert(out, calls_file=None, delay=0.0):
    if calls_file:
        with open(calls_file, "a") as fh:
            fh.write(f"{os.getpid()}\n")
    time.sleep(delay)
    (out / "artifact.bin").write_bytes(b"x" * 1000)
    return {"kind": "fake"}


def _racer(root, calls_file):
    ensure_converted(root, "thing", lambda out: _fake_convert(out, calls_file, delay=0.5))


def test_convert_once_publishes_with_marker(tmp_path):
    calls = tmp_path / "calls"
    final = ensure_converted(tmp_path / "c", "thing", lambda out: _fake_convert(out, calls))
    assert (final / "artifact.bin").stat().st_size == 1000
    info = read_marker(final)
    assert info["kind"] == "fake" and "convert_seconds" in info
    again = ensure_converted(tmp_path / "c", "thing", lambda out: pytest.fail("converted twice"))
    assert again == final and calls.read_text().count("\n") == 1
    assert not list((tmp_path / "c").glob(".thing.tmp-*"))


def test_failed_conversion_publishes_nothing(tmp_path):
    def boom(out):
        (out / "half").write_text("partial")
        raise RuntimeError("broken")

    with pytest.raises(RuntimeError):
        ensure_converted(tmp_path, "thing", boom)
    assert not (tmp_path / "thing").exists()
    assert not list(tmp_path.glob(".thing.tmp-*"))


def test_incomplete_leftover_is_replaced(tmp_path):
    (tmp_path / "thing").mkdir()
    (tmp_path / "thing" / "junk").write_text("from a crashed run")
    final = ensure_converted(tmp_path, "thing", _fake_convert)
    assert (final / MARKER).is_file() and not (final / "junk").exists()


def test_concurrent_replicas_convert_once(tmp_path):
    calls = tmp_path / "calls"
    ctx = multiprocessing.get_context("fork")
    procs = [ctx.Process(target=_racer, args=(tmp_path / "c", calls)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(30)
    assert [p.exitcode for p in procs] == [0, 0, 0, 0]
    assert calls.read_text().count("\n") == 1
    assert read_marker(tmp_path / "c" / "thing")["kind"] == "fake"


def test_make_encoder_rejects_unknown_backend():
    from serve_app.classifier.encoder import make_encoder

    with pytest.raises(ValueError, match="onnx-int8"):
        make_encoder("tensorrt")


def test_cache_name_depends_on_model_and_recipe(tmp_path, monkeypatch):
    from serve_app.classifier import onnx_encoder

    a, b = tmp_path / "a", tmp_path / "b"
    for d, hidden in ((a, 384), (b, 768)):
        d.mkdir()
        (d / "config.json").write_text(json.dumps({"hidden_size": hidden}))
    assert onnx_encoder.cache_name(str(a)) != onnx_encoder.cache_name(str(b))
    assert onnx_encoder.cache_name(str(a)).endswith("-int8")
    before = onnx_encoder.cache_name(str(a))
    monkeypatch.setitem(onnx_encoder.RECIPE, "per_channel", False)
    assert onnx_encoder.cache_name(str(a)) != before


# -------------------------------------------------------- the real encoder


@pytest.fixture(scope="module")
def cache_dir(tmp_path_factory):
    return str(tmp_path_factory.mktemp("triage-cache"))


@pytest.fixture(scope="module")
def encoders(cache_dir):
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from serve_app.classifier.onnx_encoder import OnnxEncoder
    from serve_app.classifier.torch_encoder import TorchEncoder as Encoder

    return Encoder(max_tokens=256), OnnxEncoder(max_tokens=256, cache_dir=cache_dir)


@pytest.mark.slow
def test_int8_agrees_with_fp32(encoders):
    fp32, int8 = encoders
    a, b = fp32.encode(PROMPTS), int8.encode(PROMPTS)
    assert b.embeddings.dtype == np.float32 and b.embeddings.shape == (len(PROMPTS), 384)
    np.testing.assert_allclose(np.linalg.norm(b.embeddings, axis=1), 1.0, atol=1e-5)
    cos = (a.embeddings * b.embeddings).sum(axis=1)
    low = [(round(float(c), 4), p[:60]) for c, p in zip(cos, PROMPTS) if c < 0.98]
    assert not low, low
    # Same tokenisation and head+tail truncation, so the same counts and flags.
    assert b.tokens == a.tokens and b.truncated == a.truncated
    assert sum(b.truncated) >= 4
    tiny = (fp32.encode(TINY).embeddings * int8.encode(TINY).embeddings).sum(axis=1)
    assert (tiny >= 0.97).all(), tiny


@pytest.mark.slow
def test_embedding_does_not_depend_on_batch_mates(encoders):
    _, int8 = encoders
    alone = np.stack([int8.encode([p]).embeddings[0] for p in PROMPTS[:8]])
    batched = int8.encode(PROMPTS[:8]).embeddings
    np.testing.assert_allclose(alone, batched, atol=1e-6)
    assert int8.encode([]).embeddings.shape == (0, 384)


@pytest.mark.slow
def test_conversion_reuses_cache(encoders, cache_dir, monkeypatch):
    from serve_app.classifier import onnx_encoder
    from serve_app.classifier.encoder import make_encoder

    first = encoders[1]
    assert first.conversion["probe_min_cosine"] >= onnx_encoder.MIN_PROBE_COSINE
    monkeypatch.setattr(onnx_encoder, "convert", lambda *a: pytest.fail("converted again"))
    monkeypatch.setenv("TRIAGE_CACHE_DIR", cache_dir)
    second = make_encoder("onnx-int8", None, 64, None)
    assert isinstance(second, onnx_encoder.OnnxEncoder)
    assert second.model_dir == first.model_dir and second.conversion == first.conversion
    assert second.max_tokens == 64 and second.threads == 1


def test_embedding_space_reads_the_encoders_config_and_tracks_what_changes_vectors(tmp_path):
    """The cache's vector size and separation come from the encoder's own files."""
    import json
    import shutil

    from serve_app.classifier.encoder import embedding_space
    from serve_app.classifier.tokens import default_model_path

    base = embedding_space(None, "onnx-int8", 128)
    assert base.dim == 384 and base == embedding_space(None, "onnx-int8", 128)
    assert embedding_space(None, "onnx-int8", 256).id != base.id
    assert embedding_space(None, "torch", 128).id != base.id
    other = tmp_path / "enc"
    shutil.copytree(default_model_path(), other)
    cfg = json.loads((other / "config.json").read_text())
    cfg["hidden_size"] = 768
    (other / "config.json").write_text(json.dumps(cfg))
    wide = embedding_space(str(other), "onnx-int8", 128)
    assert wide.dim == 768 and wide.id != base.id


def test_the_embedding_space_changes_with_how_the_session_runs_the_graph(monkeypatch):
    """Disabling a graph fusion moves int8 embeddings a little: caches and
    training stores keyed by the space must not mix the two runs."""
    from serve_app.classifier import onnx_encoder
    from serve_app.classifier.encoder import embedding_space

    before = embedding_space(None, "onnx-int8", 128).id
    monkeypatch.setattr(onnx_encoder, "SESSION", {"disabled_optimizers": []})
    assert embedding_space(None, "onnx-int8", 128).id != before
    assert embedding_space(None, "torch", 128).id == embedding_space(None, "torch", 128).id


def test_the_session_leaves_residual_add_and_layernorm_unfused(tmp_path):
    """SkipLayerNormalization's CPU kernel is ~8x slower than a plain LayerNorm
    here (onnx_encoder.SESSION): the optimised graph the encoder runs has
    LayerNorms and no SkipLayerNormalization, while ORT's default fuses them."""
    import onnx
    from serve_app.models import resolve

    from serve_app.classifier import onnx_encoder

    model_file = resolve("triage-router-v3") / "encoder" / onnx_encoder.MODEL_FILE
    ours, default = tmp_path / "ours.onnx", tmp_path / "default.onnx"
    onnx_encoder.open_session(model_file, 1, optimized_to=ours)
    onnx_encoder.open_session(model_file, 1, optimized_to=default, disabled_optimizers=[])

    def ops(path):
        return {n.op_type for n in onnx.load(str(path), load_external_data=False).graph.node}

    assert "SkipLayerNormalization" in ops(default)
    assert "SkipLayerNormalization" not in ops(ours) and "LayerNormalization" in ops(ours)


@pytest.mark.slow
def test_a_shipped_converted_directory_loads_as_is(encoders, monkeypatch, tmp_path):
    """A fine-tuned model ships its encoder already converted (model.onnx +
    encoder.json): make_encoder loads it without converting, and the
    embedding space comes from its encoder.json and weights."""
    import shutil

    from serve_app.classifier import onnx_encoder
    from serve_app.classifier.encoder import embedding_space, make_encoder

    shipped = tmp_path / "model" / "encoder"
    shutil.copytree(encoders[1].model_dir, shipped)
    assert onnx_encoder.is_converted(shipped) and not onnx_encoder.is_converted(tmp_path)
    monkeypatch.setattr(onnx_encoder, "convert", lambda *a: pytest.fail("a converted directory was converted"))
    enc = make_encoder("onnx-int8", str(shipped), 128, None)
    assert enc.model_dir == str(shipped) and enc.dim == 384
    np.testing.assert_allclose(enc.encode(PROMPTS[:3]).embeddings,
                               encoders[1].encode(PROMPTS[:3]).embeddings, atol=1e-6)
    space = embedding_space(str(shipped), "onnx-int8", 128)
    assert space.dim == 384 and space.id != embedding_space(None, "onnx-int8", 128).id
    (shipped / "model.onnx").write_bytes((shipped / "model.onnx").read_bytes() + b"\0")
    assert embedding_space(str(shipped), "onnx-int8", 128).id != space.id  # other weights, other space
