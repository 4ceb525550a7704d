"""Metric code checked against hand-computed examples."""

import numpy as np
import pytest

from serve_app.lab.training import metrics, routing_eval
from serve_app.lab.training.calibrate import fit_bias, parse_caps, tier_mix
from serve_app.lab.training.evaluate import score_head


def test_multiclass_hand_example():
    truth = ["a", "a", "a", "b", "b", "c"]
    pred = ["a", "a", "b", "b", "c", "c"]
    m = metrics.multiclass(truth, pred, ["a", "b", "c"])
    assert m["accuracy"] == pytest.approx(4 / 6)
    # a: P 2/2 R 2/3 -> F1 0.8; b: P 1/2 R 1/2 -> 0.5; c: P 1/2 R 1/1 -> 2/3
    assert m["per_class"]["a"]["f1"] == pytest.approx(0.8)
    assert m["per_class"]["b"]["f1"] == pytest.approx(0.5)
    assert m["per_class"]["c"]["f1"] == pytest.approx(2 / 3)
    assert m["macro_f1"] == pytest.approx((0.8 + 0.5 + 2 / 3) / 3)
    assert m["confusion"] == [[2, 1, 0], [0, 1, 1], [0, 0, 1]]


def test_macro_f1_counts_only_classes_present_in_the_file():
    m = metrics.multiclass(["a", "a"], ["a", "b"], ["a", "b", "c"])
    # a: P 1 R .5 -> 2/3; b and c have no support and are left out.
    assert m["macro_f1"] == pytest.approx(2 / 3)


def test_binary_and_recall_at_95_precision():
    y = [True, True, True, False, False]
    s = [0.9, 0.8, 0.3, 0.7, 0.1]
    m = metrics.binary(y, s, 0.5)
    assert (m["precision"], m["recall"]) == (pytest.approx(2 / 3), pytest.approx(2 / 3))
    # Precision stays >= 95% only down to 0.8 (2 of 3 positives, no negatives).
    assert m["recall_at_95_precision"] == pytest.approx(2 / 3)


def test_recall_at_precision_cuts_only_between_distinct_scores():
    y = np.array([True, False, True])
    s = np.array([0.5, 0.5, 0.1])
    assert metrics.recall_at_precision(y, s, 0.95) == 0.0


def test_threshold_for_recall_keeps_the_required_positives():
    y = np.array([True] * 100 + [False])
    s = np.r_[np.linspace(1, 0.01, 100), 0.5]
    t = metrics.threshold_for_recall(y, s, 0.99)
    assert (s[y] >= t).mean() >= 0.99


def test_rows_without_a_label_are_skipped_per_head():
    rows = [{"tier": "slm", "sensitive": None}, {"tier": None, "sensitive": True}]
    preds = [{"tier": "slm", "sensitive": 1.0}, {"tier": "lrm", "sensitive": 0.9}]
    tier = score_head("tier", rows, preds, labels=["slm", "lrm"])
    assert tier["n"] == 1 and tier["accuracy"] == 1.0
    sens = score_head("sensitive", rows, preds, 0.5)
    assert sens["n"] == 1 and sens["recall"] == 1.0
    assert score_head("jailbreak", rows, preds) is None


def test_routing_curve_random_and_oracle():
    weak = np.array([1, 0, 0, 1])
    strong = np.array([1, 1, 1, 0])
    scores = np.array([0.1, 0.9, 0.8, 0.2])  # the two weak failures score highest
    s = routing_eval.summarize(scores, weak, strong)
    assert s["weak_accuracy"] == 0.5 and s["strong_accuracy"] == 0.75
    r = s["routers"]["difficulty"]
    # Sending the top two to strong gives 4/4 correct: beyond strong's 0.75.
    assert r["curve"]["accuracy"][2] == pytest.approx(1.0)
    assert r["strong_share_for_accuracy"]["95%"] == pytest.approx(0.25)
    assert s["routers"]["random"]["apgr"] == pytest.approx(0.5, abs=1e-3)
    assert s["routers"]["oracle"]["apgr"] >= r["apgr"] > s["routers"]["random"]["apgr"]


def test_routing_ties_go_strong_together():
    shares, acc = routing_eval.curve(np.array([0.5, 0.5, 0.1]), np.array([0, 0, 1]), np.array([1, 1, 1]))
    assert list(shares) == pytest.approx([0, 2 / 3, 1])


def test_calibrate_caps_the_tier_share():
    rng = np.random.default_rng(0)
    probs = rng.dirichlet([1, 1, 1, 3], size=500)  # lrm-heavy sample
    logp = np.log(probs)
    assert tier_mix(logp, {})["lrm"] > 0.5
    bias = fit_bias(logp, {"lrm": 0.2})
    assert bias["lrm"] < 0
    assert tier_mix(logp, bias)["lrm"] <= 0.2
    # The least negative bias: a little less would break the cap.
    assert tier_mix(logp, {"lrm": bias["lrm"] + 0.01})["lrm"] > 0.2


def test_parse_caps_rejects_bad_input():
    assert parse_caps(["lrm=0.2"]) == {"lrm": 0.2}
    for bad in (["xl=0.2"], ["lrm"], ["lrm=2"]):
        with pytest.raises(ValueError):
            parse_caps(bad)


def test_eval_classifier_cli_writes_metrics_and_pngs(tmp_path, capsys):
    """End to end on a four-row file with missing labels, through the shipped model."""
    import json

    from serve_app.cli import main

    data = tmp_path / "eval.jsonl"
    rows = [
        {"id": "1", "prompt": "hi, what's the capital of France", "tier": "slm", "domain": "general", "sensitive": False, "jailbreak": False},
        {"id": "2", "prompt": "Prove that the square root of 3 is irrational.", "tier": "lrm", "domain": "math", "sensitive": None, "jailbreak": None},
        {"id": "3", "prompt": "My card is 4111 1111 1111 1111, why was it declined?", "tier": None, "domain": None, "sensitive": True, "jailbreak": False},
        {"id": "4", "prompt": "Write a haiku about rain.", "tier": None, "domain": None, "sensitive": None, "jailbreak": None},
    ]
    data.write_text("".join(json.dumps(r) + "\n" for r in rows))
    out = tmp_path / "m.json"
    assert main(["eval", "classifier", "--data", str(data), "--out", str(out), "--latency-n", "3"]) == 0
    rep = json.loads(out.read_text())
    assert rep["heads"]["tier"]["model"]["n"] == 2 and rep["heads"]["sensitive"]["model"]["n"] == 2
    assert rep["heads"]["jailbreak"]["model"]["positives"] == 0
    assert rep["heads"]["tier"]["majority"]["n"] == 2 and rep["heads"]["tier"]["heuristic"] is not None
    assert rep["latency_ms"]["n"] == 3 and rep["latency_ms"]["p50"] > 0
    for name in rep["confusion_png"].values():
        assert (tmp_path / name).stat().st_size > 1000
    assert "latency (batch 1)" in capsys.readouterr().out


ROUTING_ROWS = [("hi, what's the capital of France", 1, 1, "a"),
                ("Prove that the square root of 3 is irrational.", 0, 1, "a"),
                ("What is 7 times 8?", 1, 1, "b"),
                ("Derive the Euler-Lagrange equation from the principle of least action.", 0, 0, "b")]


def test_eval_routing_cli_per_source_on_a_hand_checked_file(tmp_path, capsys):
    """Four rows, two sources. By hand, pooled: weak 0.5, strong 0.75; the
    oracle sends the one row only the strong model gets right first: shares
    (0, .25, 1) -> accuracy (.5, .75, .75), PGR (0, 1, 1), APGR 0.875."""
    import json

    from serve_app.cli import main

    data = tmp_path / "outcomes.jsonl"
    data.write_text("".join(json.dumps({"id": str(i), "prompt": p, "weak_correct": w, "strong_correct": s}) + "\n"
                            for i, (p, w, s, _) in enumerate(ROUTING_ROWS)))
    out = tmp_path / "routing.json"
    assert main(["eval", "routing", "--data", str(data), "--out", str(out)]) == 0
    rep = json.loads(out.read_text())["sources"]["all"]
    assert rep["n"] == 4 and rep["weak_accuracy"] == 0.5 and rep["strong_accuracy"] == 0.75
    assert rep["routers"]["oracle"]["apgr"] == pytest.approx(0.875)
    assert rep["routers"]["random"]["apgr"] == pytest.approx(0.5, abs=1e-3)
    assert rep["routers"]["oracle"]["strong_share_for_accuracy"]["95%"] == pytest.approx(0.25)
    assert set(rep["routers"]) == {"success", "difficulty (baseline)", "random", "oracle"}
    assert 0 <= rep["at_target"]["strong_share"] <= 1 and rep["at_target"]["quality_target"] is not None
    assert (tmp_path / json.loads(out.read_text())["png"]).stat().st_size > 1000
    assert "APGR" in capsys.readouterr().out

    by_source = tmp_path / "by_source.jsonl"
    by_source.write_text("".join(json.dumps({"prompt": p, "weak_correct": w, "strong_correct": s, "source": src})
                                 + "\n" for p, w, s, src in ROUTING_ROWS))
    assert main(["eval", "routing", "--data", str(by_source), "--out", str(tmp_path / "s.json"), "--baseline", ""]) == 0
    sources = json.loads((tmp_path / "s.json").read_text())["sources"]
    assert set(sources) == {"a", "b"} and sources["a"]["strong_accuracy"] == 1.0 and sources["b"]["n"] == 2


def test_calibrate_modes_print_the_setting_and_draw_the_curve(tmp_path, capsys):
    import json

    from serve_app.cli import main

    data = tmp_path / "outcomes.jsonl"
    data.write_text("".join(json.dumps({"prompt": p, "weak_correct": w, "strong_correct": s}) + "\n"
                            for p, w, s, _ in ROUTING_ROWS))
    cal = tmp_path / "cal.json"
    assert main(["calibrate", "--data", str(data), "--max-share", "lrm=0.25", "--out", str(cal)]) == 0
    result = json.loads(cal.read_text())
    assert result["mix"]["lrm"] <= 0.25 and cal.with_suffix(".png").stat().st_size > 1000
    assert "quality_target" in capsys.readouterr().out

    goal = tmp_path / "goal.json"
    assert main(["calibrate", "--data", str(data), "--quality-target", "0.9", "--out", str(goal)]) == 0
    result = json.loads(goal.read_text())
    assert result["at"]["of_strong_accuracy"] >= 0.9 and len(result["curve"]) == 101
    assert main(["calibrate", "--data", str(data), "--max-share", "xl=0.2", "--out", str(cal)]) == 2


def test_a_file_without_labels_for_a_binary_head_is_scored_without_it():
    """The majority baseline of a head nobody labelled is None, not a crash;
    the head is left out of the report."""
    from types import SimpleNamespace

    from serve_app.lab.training.evaluate import evaluate

    class Predictor:
        heads = SimpleNamespace(labels={"tier": ["slm", "llm"], "domain": ["general", "math"]}, meta={"name": "fake"})
        cuts = {"sensitive": 0.5, "jailbreak": 0.5}

        def predict(self, prompts):
            return [{"tier": "slm", "domain": "general", "sensitive": 0.1, "jailbreak": 0.2} for _ in prompts]

    rows = [{"prompt": "What is 2+2?", "tier": "slm", "domain": "math", "source": "s"},
            {"prompt": "Hi", "tier": "slm", "domain": "general", "source": "s"}]
    report = evaluate(rows, Predictor(), latency_n=0)
    assert report["heads"]["tier"]["model"]["accuracy"] == 1.0
    assert "sensitive" not in report["heads"] and "jailbreak" not in report["heads"]
