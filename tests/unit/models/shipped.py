"""A shipped model run through the Classifier's own pipeline, for the per-model tests."""

from collections.abc import Iterator
from contextlib import contextmanager

from serve_app.classifier.encoder import make_encoder, serving_encoder
from serve_app.classifier.pipeline import classify_texts, make_scorer
from serve_app.config.schema import ClassifierConfig


@contextmanager
def classified(cfg: ClassifierConfig, cases: dict[str, str]) -> Iterator[tuple[dict, object, object]]:
    """({case: Signals}, encoder, scorer) with the encoder the config serves;
    the model's outcome memory is closed afterwards."""
    encoder = make_encoder(cfg.backend, serving_encoder(cfg), cfg.max_tokens)
    scorer = make_scorer(cfg, lambda texts: encoder.encode(texts).embeddings)
    assert scorer.success is not None and scorer.memory is not None
    try:
        yield dict(zip(cases, classify_texts(encoder, scorer, list(cases.values())))), encoder, scorer
    finally:
        scorer.memory.close()
