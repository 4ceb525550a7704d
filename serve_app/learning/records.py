"""An outcome record: what the router decided for one request and, later, how it went.

Stored through the semantic cache's Store contract (serve_app/cache/types.py),
so the outcome memory runs on the same two Qdrant backends (the embedded edge
shard, a Qdrant server) with the same TTL, size bound and persistence. The
mapping: the entry id is the tenant and the request id (a re-recorded
request overwrites itself; client-chosen request ids of two tenants never
meet), `fingerprint` says what kind of entry it is (below), `model` and
`domain` are the route, `text` is always empty (the memory keeps
embeddings, never prompts), and `response` carries the record's own fields.
"""

from __future__ import annotations

import base64
import math
from dataclasses import asdict, dataclass, replace

import numpy as np

from serve_app.cache.types import CacheEntry

OPEN = "outcome:open"  # recorded, no outcome yet; searchable (re-asks)
RATED = "outcome:rated"  # has an outcome; what the correction reads
HIDDEN = "outcome:hidden"  # recorded without its embedding (sensitive): never a neighbour
PENDING = "feedback:pending"  # feedback that arrived before its record
PENDING_PREFIX = "pending:"

OUTCOME_WORDS = {"good": 1.0, "bad": 0.0}


@dataclass(frozen=True)
class OutcomeRecord:
    request_id: str
    tenant: str
    tier: str
    model: str
    domain: str
    created_at: float
    expires_at: float
    vector: tuple[float, ...] | None = None  # None: kept without its embedding
    predicted: float | None = None  # the tier's P(success) when it was chosen
    # The model's own P(success) for the tier before anything learned: what
    # `triage learn` fits its adjustment against.
    base: float | None = None
    status: str = "ok"  # ok | error | cancelled (how the request ended)
    fallbacks: int = 0
    outcome: float | None = None  # 0..1, once known
    source: str | None = None  # explicit | reask | broken_stream | failure
    reason: str | None = None
    better_tier: str | None = None

    @property
    def kind(self) -> str:
        if self.vector is None:
            return HIDDEN
        return RATED if self.outcome is not None else OPEN

    def rated(self, outcome: float, source: str, reason: str | None = None,
              better_tier: str | None = None) -> OutcomeRecord:
        return replace(self, outcome=outcome, source=source, reason=reason, better_tier=better_tier)

    def log_line(self) -> dict:
        """The record's fields without its vector (the store's payload)."""
        out = asdict(self)
        out.pop("vector")
        return out

    def log_json(self) -> dict:
        """The outcome log's line: the fields and the embedding as float16
        base64 (never the text; none for records kept without one)."""
        out = self.log_line()
        if self.vector is not None:
            out["vector_f16"] = base64.b64encode(np.asarray(self.vector, np.float16).tobytes()).decode()
        return out


def vector_from_log(line: dict) -> np.ndarray | None:
    v = line.get("vector_f16")
    return None if v is None else np.frombuffer(base64.b64decode(v), np.float16).astype(np.float32)


@dataclass(frozen=True)
class PendingFeedback:
    request_id: str
    tenant: str
    outcome: float
    received_at: float
    reason: str | None = None
    better_tier: str | None = None


def parse_outcome(value) -> float:
    """`"good"` / `"bad"` / a number in [0, 1] -> a score; ValueError otherwise."""
    if isinstance(value, str) and value.lower() in OUTCOME_WORDS:
        return OUTCOME_WORDS[value.lower()]
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value <= 1 or math.isnan(value):
        raise ValueError('outcome must be "good", "bad" or a number from 0 to 1')
    return float(value)


def placeholder(dim: int) -> tuple[float, ...]:
    """A unit vector for entries the store needs a vector for but nobody
    searches by (no-embedding records, pending feedback)."""
    return (1.0,) + (0.0,) * (dim - 1)


def to_entry(r: OutcomeRecord, dim: int) -> CacheEntry:
    fields = r.log_line()
    return CacheEntry(id=record_id(r.tenant, r.request_id), vector=r.vector or placeholder(dim), tenant=r.tenant, fingerprint=r.kind,
                      model=r.model, domain=r.domain, text="", response=fields, created_at=r.created_at,
                      expires_at=r.expires_at)


def from_entry(e: CacheEntry) -> OutcomeRecord:
    fields = dict(e.response)
    return OutcomeRecord(**fields, vector=None if e.fingerprint == HIDDEN else e.vector)


def record_id(tenant: str, request_id: str) -> str:
    return f"{tenant}:{request_id}"


def pending_id(tenant: str, request_id: str) -> str:
    """Per tenant: one tenant's feedback can neither replace nor reveal another's."""
    return f"{PENDING_PREFIX}{tenant}:{request_id}"


def pending_entry(p: PendingFeedback, dim: int, expires_at: float) -> CacheEntry:
    return CacheEntry(id=pending_id(p.tenant, p.request_id), vector=placeholder(dim), tenant=p.tenant,
                      fingerprint=PENDING, model="", domain="", text="", response=asdict(p),
                      created_at=p.received_at, expires_at=expires_at)


def from_pending(e: CacheEntry) -> PendingFeedback:
    return PendingFeedback(**e.response)
