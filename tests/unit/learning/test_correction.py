"""The online correction on hand-computed numbers."""

import pytest

from serve_app.learning.correction import correct

EST = {"slm": 0.6, "srm": 0.7, "llm": 0.8, "lrm": 0.9}


def test_beta_update_by_hand():
    # Two slm neighbours that failed (sim 0.9 and 0.85), one llm success (0.95), one under the floor.
    out, ev = correct(EST, [(0.9, "slm", 0.0), (0.85, "slm", 0.0), (0.95, "llm", 1.0), (0.5, "slm", 1.0)],
                      similarity=0.8, strength=10, max_evidence=20)
    assert out["slm"] == pytest.approx((10 * 0.6 + 0) / (10 + 1.75))
    assert out["llm"] == pytest.approx((10 * 0.8 + 0.95) / (10 + 0.95))
    assert out["srm"] == 0.7 and out["lrm"] == 0.9
    assert ev == pytest.approx({"slm": 1.75, "llm": 0.95})


def test_no_neighbours_changes_nothing():
    assert correct(EST, [], 0.8, 10, 20) == (EST, {})


def test_evidence_is_capped_so_a_flood_cannot_move_an_estimate_further():
    flood = [(1.0, "slm", 0.0)] * 1000
    out, ev = correct(EST, flood, 0.8, strength=10, max_evidence=20)
    assert ev["slm"] == pytest.approx(20)
    assert out["slm"] == pytest.approx(10 * 0.6 / 30)  # 0.2: as 20 failures would say, not 1000
    assert out["slm"] > 0.19
