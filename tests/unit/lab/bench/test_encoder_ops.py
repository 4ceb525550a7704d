"""`triage bench encoder-ops`: both sessions run the shipped encoder, and the
op breakdown shows the one difference between them."""

from __future__ import annotations

import json

from serve_app.lab.bench import encoder_ops


def test_the_op_breakdown_shows_skiplayernorm_only_in_orts_default(tmp_path):
    out = tmp_path / "ops.json"
    assert encoder_ops.main(["--runs", "3", "--out", str(out)]) == 0
    result = json.loads(out.read_text())
    ours, default = result["sessions"]["triage"], result["sessions"]["ort default"]
    assert "SkipLayerNormalization" in default["op_ms"] and "SkipLayerNormalization" not in ours["op_ms"]
    assert ours["op_ms"]["LayerNormalization"] > 0 and ours["p50_ms"] > 0
    assert result["tokens"] == 128  # the ~500-token prompt, cut to v3's budget
    assert 0.9 < result["cosine_between_sessions"]["min"] <= result["cosine_between_sessions"]["mean"] <= 1.0 + 1e-6
    assert (tmp_path / "ops.png").stat().st_size > 0
