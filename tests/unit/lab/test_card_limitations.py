"""The card's limitations quote this model's own comparison run, so a retrain
cannot leave an old number standing in the card."""

from __future__ import annotations

from serve_app.lab.card_finetune import limitations_section


def _run(pair_recall: float, v3_tier: float) -> dict:
    def model(tier, pair):
        return {"heldout": {"tier": {"macro_f1": tier},
                            "jailbreak_by_family": {"jbb:PAIR (attacks: recall)": {"share": pair},
                                                    "jbb:JBC (attacks: recall)": {"share": 1.0}}}}
    return {"models": {"triage-router-v1": model(0.277, 0.12), "triage-router-v3": model(v3_tier, pair_recall)}}


def test_limitations_quote_the_comparison_run():
    text = "\n".join(limitations_section(_run(0.587, 0.336)))
    assert "caught at 58.7% recall" in text
    assert "from 0.277 (triage-router-v1) to 0.336" in text
    assert "caught at 66.7% recall" in "\n".join(limitations_section(_run(0.667, 0.336)))


def test_without_a_comparison_run_the_card_states_no_numbers():
    text = "\n".join(limitations_section(None))
    assert "## Limitations" in text and "caught at" not in text and "moved tier macro-F1" not in text
