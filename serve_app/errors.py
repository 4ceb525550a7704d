"""One error hierarchy for the whole router.

Every error says who is at fault: the client (4xx), an upstream model
(502-504) or the operator's configuration. `ingress.py` maps them to HTTP in
one place, with OpenAI's error body shape.
"""

from __future__ import annotations

from dataclasses import dataclass


class TriageError(Exception):
    status: int = 500
    type: str = "internal_error"
    code: str | None = None

    def __init__(self, message: str, *, param: str | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code

    def body(self) -> dict:
        return {
            "error": {
                "message": self.message,
                "type": self.type,
                "param": self.param,
                "code": self.code,
            }
        }


# ---------------------------------------------------------------- client (4xx)


class ClientError(TriageError):
    status = 400
    type = "invalid_request_error"
    code = "invalid_request"


class AuthError(ClientError):
    status = 401
    type = "authentication_error"
    code = "invalid_api_key"


class NotFound(ClientError):
    status = 404
    code = "not_found"


class PayloadTooLarge(ClientError):
    status = 413
    code = "payload_too_large"


class PolicyRefusal(ClientError):
    """The request is valid but policy forbids serving it (privacy, jailbreak)."""

    status = 403
    type = "policy_error"
    code = "policy_refusal"


# ------------------------------------------------------------ upstream (5xx)

# Fallback reasons, also the `reason` label of the fallback metric.
UNAVAILABLE = "unavailable"
OVERLOADED = "overloaded"
TIMEOUT = "timeout"
ERROR = "error"
CIRCUIT_OPEN = "circuit_open"


class UpstreamError(TriageError):
    """A model failed. `reason` is one of the fallback reasons above."""

    status = 502
    type = "upstream_error"
    code = "model_error"
    reason = ERROR

    def __init__(self, message: str, *, model: str | None = None, **kw):
        super().__init__(message, **kw)
        self.model = model

    def __reduce__(self):
        # Survive pickling across Ray handle calls with message and model intact.
        return (_rebuild_upstream, (type(self), self.message, self.model))


def _rebuild_upstream(cls, message, model):
    return cls(message, model=model)


class ModelUnavailable(UpstreamError):
    status = 503
    code = "model_unavailable"
    reason = UNAVAILABLE


class ModelOverloaded(UpstreamError):
    status = 503
    code = "model_overloaded"
    reason = OVERLOADED


class ModelTimeout(UpstreamError):
    status = 504
    code = "model_timeout"
    reason = TIMEOUT


class ClassifierUnavailable(TriageError):
    """The classifier gave no verdict and policy refuses unclassified requests."""

    status = 503
    type = "upstream_error"
    code = "classifier_unavailable"


class EscalationUnavailable(TriageError):
    """The request was meant for a person and the escalation webhook did not
    take it after every retry: nothing was queued, and the client is told so."""

    status = 503
    type = "upstream_error"
    code = "escalation_unavailable"


class AllCandidatesFailed(UpstreamError):
    """Every candidate failed or was skipped; carries the attempts for the body."""

    def __init__(self, attempts: list[tuple[str, str]], last: UpstreamError | None):
        summary = ", ".join(f"{m}: {r}" for m, r in attempts) or "no candidate"
        super().__init__(f"no model could answer ({summary})")
        self.attempts = attempts
        # Overload everywhere is a 503 the client may retry; anything else is the
        # status of the last failure.
        if attempts and all(r in (OVERLOADED, CIRCUIT_OPEN) for _, r in attempts):
            self.status, self.code = 503, "all_models_overloaded"
        elif last is not None:
            self.status, self.code = last.status, last.code

    def __reduce__(self):
        return (AllCandidatesFailed, (self.attempts, None))


class ShedBeforeWork(AllCandidatesFailed):
    """Every model would be skipped, known before classification: the same
    503 as AllCandidatesFailed, reported with status "shed"."""

    def __init__(self, attempts: list[tuple[str, str]], last: UpstreamError | None = None):
        super().__init__(attempts, last)
        self.message = f"{self.message}; refused before classification"

    def __reduce__(self):
        return (ShedBeforeWork, (self.attempts, None))


# --------------------------------------------------------------- operator


@dataclass(frozen=True)
class ConfigProblem:
    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


class ConfigError(TriageError):
    """An invalid router config; lists every problem with the path to its key."""

    type = "config_error"
    code = "invalid_config"

    def __init__(self, source: str, problems: list[ConfigProblem]):
        self.source = source
        self.problems = problems
        lines = "\n".join(f"  - {p}" for p in problems)
        super().__init__(f"invalid router config {source}:\n{lines}")

    def __reduce__(self):
        return (ConfigError, (self.source, self.problems))
