"""Which encoder a classifier config runs: its own, the one its model ships, or the packaged MiniLM."""

from __future__ import annotations

import json
import shutil

from serve_app.models import resolve

from serve_app.classifier.encoder import serving_encoder
from serve_app.config.schema import ClassifierConfig


def _model(tmp_path, encoder_dir: str | None):
    d = tmp_path / "m"
    shutil.copytree(resolve("triage-router-v1"), d)
    meta = json.loads((d / "model.json").read_text())
    if encoder_dir:
        meta["encoder"]["dir"] = encoder_dir
    (d / "model.json").write_text(json.dumps(meta))
    return d


def test_a_model_that_ships_an_encoder_runs_it(tmp_path):
    d = _model(tmp_path, "encoder")
    assert serving_encoder(ClassifierConfig(model=str(d))) == str(d / "encoder")


def test_a_model_without_one_runs_the_packaged_minilm(tmp_path):
    assert serving_encoder(ClassifierConfig(model=str(_model(tmp_path, None)))) is None
    assert serving_encoder(ClassifierConfig(model=None)) is None


def test_an_explicit_encoder_wins(tmp_path):
    cfg = ClassifierConfig(model=None, encoder=str(tmp_path))
    assert serving_encoder(cfg) == str(tmp_path)


def test_a_missing_model_is_left_to_load_trained_to_report(tmp_path):
    assert serving_encoder(ClassifierConfig(model=str(tmp_path / "nope"))) is None


def test_the_cache_form_is_embedded_only_when_asked():
    """classify_texts embeds each text's cache form (cache_view) into
    Signals.cache_embedding when the cache is on, and leaves it None otherwise."""
    import numpy as np

    from serve_app.cache.keys import cache_view
    from serve_app.classifier.pipeline import classify_texts, make_scorer
    from serve_app.classifier.tokens import EncodedBatch

    class Fake:
        seen: list = []

        def encode(self, texts):
            self.seen.append(list(texts))
            v = np.array([[float(len(t)), 1.0] + [0.0] * 382 for t in texts], np.float32)
            return EncodedBatch(v / np.linalg.norm(v, axis=1, keepdims=True), [len(t) for t in texts],
                                [False] * len(texts))

    enc = Fake()
    cfg = ClassifierConfig(model=None)
    scorer = make_scorer(cfg, lambda texts: enc.encode(texts).embeddings)
    enc.seen.clear()
    plain = classify_texts(enc, scorer, ["What is 2+2?"])
    assert plain[0].cache_embedding is None and enc.seen == [["What is 2+2?"]]
    both = classify_texts(enc, scorer, ["What is 2+2?"], cache_view)
    assert enc.seen[-1] == ["user: what is 2+2"]
    assert both[0].cache_embedding is not None and both[0].cache_embedding != both[0].embedding
