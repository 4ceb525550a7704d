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
