"""The engine contract: what a tier deployment needs from a model backend.

Engines speak OpenAI-shaped dicts in and out. They raise only the
`UpstreamError` family (serve_app.errors) so that the router can tell an
overloaded model from a broken one and fall back accordingly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import AsyncIterator, Literal, Protocol

# The two OpenAI call shapes Triage routes.
Kind = Literal["chat", "completions"]


@dataclass(frozen=True)
class CallContext:
    """Per-call facts an engine may use: for logs, and for dry_run's answer."""

    request_id: str = ""
    model: str = ""  # the configured (Triage) model name
    decision: dict = field(default_factory=dict)  # Decision.summary()


class Engine(Protocol):
    async def start(self) -> None:
        """Load weights / open clients. Called once by the tier deployment."""

    async def chat(self, request: dict, ctx: CallContext) -> dict:
        """A complete `chat.completion` body."""

    def stream_chat(self, request: dict, ctx: CallContext) -> AsyncIterator[dict]:
        """`chat.completion.chunk` dicts; the last one carries finish_reason."""

    async def completions(self, request: dict, ctx: CallContext) -> dict:
        """A complete `text_completion` body."""

    def stream_completions(self, request: dict, ctx: CallContext) -> AsyncIterator[dict]:
        """`text_completion` chunk dicts."""

    async def check_health(self) -> None:
        """Raise if the engine cannot serve."""


class ModelDeployment(Protocol):
    """What the router calls on a model's Serve deployment, over its handle
    (engines/remote.py). ModelServer (engines/deployment.py) and Ray Serve
    LLM's TriageLLMServer (engines/vllm_server.py) both implement it; the
    names here are the only ones the handle adapter uses."""

    async def answer(self, kind: Kind, request: dict, ctx: CallContext) -> dict:
        """A complete chat.completion or text_completion body."""

    def answer_stream(self, kind: Kind, request: dict, ctx: CallContext) -> AsyncIterator[dict]:
        """The answer's chunk dicts; the UpstreamError family on failure."""

    async def ready(self) -> bool:
        """True when the model can serve (for /health); raise or False otherwise."""

