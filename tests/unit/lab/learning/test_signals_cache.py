"""The replay's signals cache: a retrained model under the same name must not
be served the signals of the model it replaced."""

from __future__ import annotations

import shutil

from serve_app.models import resolve

from serve_app.config.schema import ClassifierConfig
from serve_app.lab.learning.data import served_by


def test_the_cache_key_follows_the_model_files_not_only_its_name(tmp_path):
    model = tmp_path / "triage-router-v3"
    shutil.copytree(resolve("triage-router-v3"), model, ignore=shutil.ignore_patterns("*.png", "*.md"))
    cfg = ClassifierConfig(model=str(model))
    before = served_by(cfg)
    assert before == served_by(cfg)

    (model / "heads.npz").write_bytes((model / "heads.npz").read_bytes() + b"\0")  # "retrained"
    after = served_by(cfg)
    assert after != before
    assert after[0] == before[0]  # same encoder, same embedding space
