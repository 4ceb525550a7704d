"""Routing policy: pure functions from signals to a Decision. No Ray, no I/O."""

from serve_app.policy.decide import decide
from serve_app.policy.signals import Decision, RequestFacts, Signals

__all__ = ["decide", "Decision", "RequestFacts", "Signals"]
