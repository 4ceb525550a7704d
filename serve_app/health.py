"""What /health reports: ready only with the classifier and one model per tier up."""

from __future__ import annotations

from serve_app.config.schema import TIERS, RouterConfig


def health_report(cfg: RouterConfig, classifier_up: bool, models_up: set[str]) -> tuple[int, dict]:
    tiers = {t: sorted(m.name for m in cfg.models if t in m.tiers and m.name in models_up) for t in TIERS}
    down = sorted(m.name for m in cfg.models if m.name not in models_up)
    ready = classifier_up and all(tiers.values())
    body = {"status": "ready" if ready else "not_ready", "classifier": classifier_up,
            "tiers": tiers, "models_down": down}
    return (200 if ready else 503), body
