"""The fine-tune's data and loop on tiny inputs: balance, schedules, the token
cache, and a killed run resuming to the same weights as an unbroken one."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from serve_app.lab.finetune import data, loop


def _row(i, source="mmlu_pro", tier="srm", domain="math", jailbreak=False, sensitive=None):
    return {"id": f"{source}:{i}", "prompt": f"{source} question number {i} " + "word " * (i % 40),
            "source": source, "tier": tier, "domain": domain, "jailbreak": jailbreak, "sensitive": sensitive}


def test_balanced_sample_keeps_rare_cells_whole_and_caps_big_ones():
    rows = [_row(i) for i in range(1000)] + [_row(i, "verazuo", None, None, True) for i in range(30)]
    sample = data.balanced_sample(rows, 200, seed=0)
    cells = Counter(data.cell(r) for r in sample)
    assert cells[("verazuo", "jailbreak")] == 30  # all of the rare cell
    assert cells[("mmlu_pro", "srm", "math")] == 170  # the rest of the budget, capped
    assert data.balanced_sample(rows, 200, seed=0) == sample  # seeded
    assert data.balanced_sample(rows, 200, seed=1) != sample


def test_schedule_is_a_pure_function_of_seed_and_groups_similar_lengths():
    lengths = [i % 97 for i in range(2000)]
    a = loop.schedule(lengths, batch=16, steps=300, seed=3)
    assert a == loop.schedule(lengths, batch=16, steps=300, seed=3)
    assert len(a) == 300 and all(len(b) == 16 for b in a)
    # Length bucketing: a batch spans far less than the whole range.
    spread = sorted(max(lengths[i] for i in b) - min(lengths[i] for i in b) for b in a)
    assert spread[len(spread) // 2] < 10
    # Past one epoch (125 batches) the rows come round again.
    assert Counter(i for b in a for i in b).most_common(1)[0][1] >= 2


def test_token_cache_tokenises_once_and_survives_a_restart(tmp_path):
    calls = []

    def rows_of(texts):
        calls.append(list(texts))
        return [[1, len(t), 2] for t in texts], [len(t) for t in texts], [False] * len(texts)

    cache = data.TokenCache(rows_of, tmp_path / "tok.pkl")
    ids, tokens = cache.rows(["ab", "abc", "ab"])
    assert ids == [[1, 2, 2], [1, 3, 2], [1, 2, 2]] and tokens == [2, 3, 2]
    assert calls == [["ab", "abc"]]
    cache.save()
    again = data.TokenCache(rows_of, tmp_path / "tok.pkl")
    assert again.rows(["abc"]) == ([[1, 3, 2]], [3])
    assert len(calls) == 1


def test_cache_pairs_come_from_the_tune_half_only(tmp_path):
    from serve_app.lab.bench import cache_pairs as pairfiles

    pairs = [{"a": f"How do I learn {w} quickly?", "b": f"What is the fastest way to learn {w}?", "label": "same"}
             for w in ("piano", "guitar", "french", "python", "chess", "golf", "swimming", "drawing")]
    (tmp_path / "cache_pairs").mkdir()
    pairfiles.write_pairs(tmp_path / "cache_pairs" / "qqp_pairs_dev.jsonl", pairs)
    tune, held = pairfiles.split_pairs(pairs)
    got = data.cache_pairs(tmp_path, seed=0)
    assert [g["a"] for g in got] == [data.as_cached(p["a"]) for p in tune]
    held_texts = {data.as_cached(p[k]) for p in held for k in ("a", "b")}
    assert not held_texts & {g[k] for g in got for k in ("a", "b")}
    edited = [g for g in got if g["hard"]]
    assert edited and all(g["hard"] != g["b"] for g in edited)


@pytest.mark.slow
def test_a_killed_run_resumes_to_the_same_weights(tmp_path, monkeypatch):
    """Steps 1-2, a crash, then 3-4 from the checkpoint: the same encoder as 1-4 in one go."""
    torch = pytest.importorskip("torch")
    rows = [_row(i, tier=("slm", "srm", "llm", "lrm")[i % 4]) for i in range(64)]
    root = tmp_path / "datasets"
    (root / "cache_pairs").mkdir(parents=True)
    (root / "cache_pairs" / "qqp_pairs_dev.jsonl").write_text("".join(
        json.dumps({"a": f"How do I cook {w}?", "b": f"What is a good way to cook {w}?", "label": "same"}) + "\n"
        for w in ("rice", "eggs", "fish", "beans", "pasta", "lamb", "tofu", "kale", "corn", "duck")))
    s = loop.FinetuneSettings(rows=32, steps=4, batch=4, pairs=2, warmup=1, checkpoint_every=2, threads=1)
    whole = loop.run(s, rows, root, tmp_path / "whole", log=lambda *_: None)

    from serve_app.lab.finetune import model

    real_loss, calls = model.label_loss, []

    def killed_in_step_3(*args, **kwargs):
        calls.append(1)
        if len(calls) == 3:  # after the step-2 checkpoint
            raise KeyboardInterrupt
        return real_loss(*args, **kwargs)

    monkeypatch.setattr(model, "label_loss", killed_in_step_3)
    with pytest.raises(KeyboardInterrupt):
        loop.run(s, rows, root, tmp_path / "resumed", log=lambda *_: None)
    monkeypatch.setattr(model, "label_loss", real_loss)
    lines = []
    resumed = loop.run(s, rows, root, tmp_path / "resumed", log=lines.append)
    assert any("resumed at step 2/4" in line for line in lines)
    from safetensors.torch import load_file

    a, b = load_file(str(whole / "model.safetensors")), load_file(str(resumed / "model.safetensors"))
    assert a.keys() == b.keys()
    assert all(torch.allclose(a[k], b[k], atol=1e-6) for k in a)
    summary = json.loads((resumed / loop.DONE).read_text())
    assert [h["step"] for h in summary["history"]] == [2, 4]


def test_a_record_from_before_a_setting_existed_matches_that_settings_default():
    """The shipped v3 run was recorded before `layers` existed: it must still
    count as today's default run (no 48-minute restart), and not as a
    4-layer one."""
    from dataclasses import asdict

    old = {k: v for k, v in asdict(loop.FinetuneSettings()).items() if k != "layers"}
    assert loop.same_settings(old, loop.FinetuneSettings())
    assert not loop.same_settings(old, loop.FinetuneSettings(layers=4))
    assert not loop.same_settings({**old, "steps": 10}, loop.FinetuneSettings())


def test_kept_layers_are_evenly_spaced_with_the_first_and_last():
    from serve_app.lab.finetune.model import kept_layers

    assert kept_layers(6, 6) == [0, 1, 2, 3, 4, 5]
    assert kept_layers(6, 4) == [0, 2, 3, 5]
    assert kept_layers(6, 2) == [0, 5]
    assert kept_layers(6, 1) == [5]
    with pytest.raises(ValueError):
        kept_layers(6, 7)


def test_a_layer_dropped_encoder_keeps_those_layers_and_reloads_as_a_smaller_model(tmp_path):
    torch = pytest.importorskip("torch")
    from transformers import AutoModel

    from serve_app.classifier.tokens import default_model_path
    from serve_app.lab.finetune import model

    full = model.build(torch, default_model_path())
    small = model.build(torch, default_model_path(), layers=4)
    assert len(small.encoder.encoder.layer) == 4 and small.encoder.config.num_hidden_layers == 4
    for mine, theirs in zip(small.encoder.encoder.layer, [full.encoder.encoder.layer[i] for i in (0, 2, 3, 5)]):
        assert torch.equal(mine.attention.self.query.weight, theirs.attention.self.query.weight)
    small.encoder.save_pretrained(str(tmp_path))
    again = AutoModel.from_pretrained(str(tmp_path), local_files_only=True)
    assert again.config.num_hidden_layers == 4
    ids = torch.tensor([[101, 2054, 2003, 1016, 102]])
    with torch.no_grad():
        small.eval()
        a = small.encoder(input_ids=ids).last_hidden_state
        b = again(input_ids=ids).last_hidden_state
    assert torch.allclose(a, b, atol=1e-5)
