"""Capability routes: what kind of model a request needs, not what size.

Pure: request features (protocol.py `features()`: image, document, code) and
the request's domain, read against config `capabilities.rules`, give the
capabilities every candidate must have one of (`needs`) and those that move a
model ahead within its tier (`prefers`). decide.py applies them after the
privacy filter, so privacy stays absolute.
"""

from __future__ import annotations

from dataclasses import dataclass

from serve_app.config.judgement import CapabilitiesConfig
from serve_app.config.schema import ModelConfig


@dataclass(frozen=True)
class Demands:
    # (what triggered it, capabilities of which a candidate needs one), per rule
    needs: tuple[tuple[str, tuple[str, ...]], ...] = ()
    prefers: frozenset[str] = frozenset()

    def satisfied_by(self, m: ModelConfig) -> bool:
        return all(any(c in m.capabilities for c in caps) for _, caps in self.needs)

    def preferred(self, m: ModelConfig) -> bool:
        return bool(self.prefers) and any(c in m.capabilities for c in self.prefers)

    def describe(self) -> str:
        """'image needs vision; document needs ocr|vision' for reasons and errors."""
        return "; ".join(f"{why} needs {'|'.join(caps)}" for why, caps in self.needs)


def demands(features: frozenset[str], domain: str, cfg: CapabilitiesConfig) -> Demands:
    needs: list[tuple[str, tuple[str, ...]]] = []
    prefers: set[str] = set()
    for rule in cfg.rules:
        hit = rule.feature in features if rule.feature is not None else rule.domain == domain
        if not hit:
            continue
        why = rule.feature or f"domain {rule.domain}"
        if rule.needs:
            needs.append((why, tuple(rule.needs)))
        prefers.update(rule.prefers)
    return Demands(tuple(needs), frozenset(prefers))


def error_code(d: Demands) -> str:
    """no_vision_model for images (the code clients saw before rules were
    configurable), no_capable_model otherwise."""
    return "no_vision_model" if [caps for _, caps in d.needs] == [("vision",)] else "no_capable_model"
