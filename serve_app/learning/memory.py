"""The outcome memory without Ray: records, feedback, re-asks, neighbours, the outcome log.

- `record`: every routed request (its embedding, never its text; route;
  predicted success; how it ended). A stream that broke or a request no
  model could answer is an implicit bad outcome. A near-duplicate of the
  same tenant's previous request within the re-ask window marks that
  previous answer as not good enough. Feedback that arrived first (pending)
  is applied now.
- `feedback`: a tenant rates its own request: good / bad / a score. Unknown
  request ids (the record is still on its way) are kept as pending feedback
  and applied when the record arrives; another tenant's request looks the
  same as an unknown one and is never touched. Feedback is written through
  to disk before it is acknowledged. Repeating it changes nothing.
- `neighbours`: the rated records nearest to each vector, within a tenant
  (or across tenants with scope "shared"), for the online correction.
- The outcome log: one JSON line per outcome attached (the embedding as
  float16, never the text), what `triage learn` turns into a new version.
"""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path

from serve_app.cache.types import CacheFilter
from serve_app.learning.correction import Neighbour
from serve_app.learning.records import (
    OPEN,
    RATED,
    OutcomeRecord,
    PendingFeedback,
    from_entry,
    from_pending,
    pending_entry,
    pending_id,
    record_id,
    to_entry,
)

log = logging.getLogger("ray.serve.triage.learning")

STORE_NAME = "outcome-memory"


def outcome_folder(cfg) -> Path:
    """Where the outcome logs (and `triage learn`'s versions) live: learning.path,
    else a folder beside the caches ($TRIAGE_CACHE_DIR or ~/.cache/triage)."""
    from serve_app.convert_cache import default_cache_dir

    return Path(cfg.path or os.path.join(default_cache_dir(), STORE_NAME))


class LearningMemory:
    def __init__(self, store, cfg, dim: int, log_path: Path | None, metrics, clock=time.time):
        """store: a cache Store (serve_app/cache/types.py); cfg: LearningConfig."""
        self.store = store
        self.cfg = cfg
        self.dim = dim
        self.metrics = metrics
        self.clock = clock
        self._log = log_path.open("a", encoding="utf-8", buffering=1) if log_path else None
        # Tenants with at least one rated record, kept in a file beside the log
        # (written only when a tenant joins): the classifier skips the
        # neighbour lookup for everyone else, most of the traffic.
        self._rated_path = log_path.parent / "rated-tenants.json" if log_path else None
        self._rated: set[str] = set()
        if self._rated_path is not None and self._rated_path.exists():
            self._rated = set(json.loads(self._rated_path.read_text(encoding="utf-8")))

    # ------------------------------------------------------------ record

    async def record(self, r: OutcomeRecord) -> None:
        now = self.clock()
        r = replace(r, expires_at=r.created_at + self.cfg.ttl_s)
        pending = await self.store.get(pending_id(r.tenant, r.request_id), now)
        if pending is not None:
            p = from_pending(pending)
            r = r.rated(p.outcome, "explicit", p.reason, p.better_tier)
            await self.store.upsert(replace(pending, expires_at=now - 1))  # expired: gone at the next purge
        if r.vector is not None:
            await self._mark_reask(r, now)
        await self.store.upsert(to_entry(r, self.dim))
        self.metrics.outcome_record(tier=r.tier)
        if r.outcome is not None:
            self._outcome(r, now)

    async def _mark_reask(self, r: OutcomeRecord, now: float) -> None:
        re = self.cfg.reask
        hits = await self.store.query(r.vector, CacheFilter(tenant=r.tenant, fingerprint=OPEN), re.similarity,
                                      4, now)
        earlier = [from_entry(h.entry) for h in hits
                   if h.entry.id != record_id(r.tenant, r.request_id) and 0 <= r.created_at - h.entry.created_at <= re.window_s]
        if earlier:
            previous = max(earlier, key=lambda e: e.created_at).rated(0.0, "reask")
            await self.store.upsert(to_entry(previous, self.dim))
            self._outcome(previous, now)

    # ---------------------------------------------------------- feedback

    async def feedback(self, tenant: str, request_id: str, outcome: float, reason: str | None = None,
                       better_tier: str | None = None) -> str:
        """"applied" (to the record) or "pending" (kept until the record arrives)."""
        now = self.clock()
        entry = await self.store.get(record_id(tenant, request_id), now)
        record = from_entry(entry) if entry is not None else None
        if record is None:
            p = PendingFeedback(request_id, tenant, outcome, now, reason, better_tier)
            await self.store.upsert(pending_entry(p, self.dim, now + self.cfg.ttl_s))
            await self._durable()
            self.metrics.feedback(status="pending")
            return "pending"
        rated = record.rated(outcome, "explicit", reason, better_tier)
        if rated != record:
            await self.store.upsert(to_entry(rated, self.dim))
            await self._durable()
            self._outcome(rated, now)
        self.metrics.feedback(status="applied")
        return "applied"

    async def _durable(self) -> None:
        flush = getattr(self.store, "flush", None)  # the embedded shard; a server persists by itself
        if flush is not None:
            await flush()

    # -------------------------------------------------------- neighbours

    async def neighbours(self, scopes: Sequence[str | None], vectors: Sequence, k: int) -> list[list[Neighbour]]:
        """For each vector, up to k rated records (similarity, tier, outcome)
        at or above the correction's similarity floor; scope None = every tenant."""
        now = self.clock()
        out = []
        for scope, vector in zip(scopes, vectors):
            hits = await self.store.query(tuple(vector), CacheFilter(tenant=scope, fingerprint=RATED),
                                          self.cfg.correction.similarity, k, now)
            out.append([(h.score, h.entry.response["tier"], h.entry.response["outcome"]) for h in hits])
        return out

    # --------------------------------------------------------------- log

    def rated_tenants(self) -> list[str]:
        return sorted(self._rated)

    def _outcome(self, r: OutcomeRecord, now: float) -> None:
        if r.tenant not in self._rated:
            self._rated.add(r.tenant)
            if self._rated_path is not None:
                tmp = self._rated_path.with_suffix(".tmp")
                tmp.write_text(json.dumps(sorted(self._rated)), encoding="utf-8")
                tmp.replace(self._rated_path)
        self.metrics.outcome(tier=r.tier, model=r.model, domain=r.domain, source=r.source,
                             outcome="good" if r.outcome >= 0.5 else "bad")
        if self._log is not None:
            try:
                self._log.write(json.dumps({**r.log_json(), "at": now}) + "\n")
            except OSError:
                log.warning("outcome log write failed", exc_info=True)

    def close(self) -> None:
        if self._log is not None:
            self._log.close()
            self._log = None

