"""What an escalated request produces: the payload the human queue receives,
and what the client gets back (config escalation.respond).

- message (default): an OpenAI-shaped 200 answer from the model name
  `triage-escalation` that says a person will answer, with the ticket: any
  OpenAI client keeps working unchanged, streaming included.
- ticket: HTTP 202 with `{"object": "triage.escalation", "id": ...}`, for
  clients written to poll or wait for the person's answer.
Both carry the `x-triage-escalation` header with the ticket id.
"""

from __future__ import annotations

import time

from serve_app.config.judgement import EscalationConfig
from serve_app.policy.signals import Decision
from serve_app.protocol import chat_response, completion_response, new_id

MODEL = "triage-escalation"


def new_ticket() -> str:
    return new_id("esc")


def payload(ticket: str, *, tenant: str, request_id: str, kind: str, trigger: str, reason: str,
            decision: Decision, body: dict, withheld: bool) -> dict:
    """What the receiver gets. A sensitive request's body is withheld (the
    service decides, escalation.include_sensitive_text): the person sees that
    it was sensitive, who sent it and why it came to them, and follows up
    through the tenant, not through the webhook."""
    return {
        "type": "triage.escalation",
        "ticket": ticket,
        "created_at": time.time(),
        "tenant": tenant,
        "request_id": request_id,
        "kind": kind,
        "trigger": trigger,
        "reason": reason,
        "decision": decision.summary(),
        "text_withheld": withheld,
        "request": None if withheld else body,
    }


def client_body(kind: str, ticket: str, reason: str, cfg: EscalationConfig) -> tuple[int, dict]:
    """(HTTP status, body) for the client."""
    text = cfg.message.format(ticket=ticket)
    if cfg.respond == "ticket":
        return 202, {"object": "triage.escalation", "id": ticket, "status": "queued", "reason": reason,
                     "message": text}
    if kind == "chat":
        return 200, chat_response(MODEL, text)
    return 200, completion_response(MODEL, text)
