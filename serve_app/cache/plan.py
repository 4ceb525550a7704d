"""Per request: may the cache be read, may the answer be written, under which key.

Pure. The rules, in order:
- cache off, or the request holds sensitive data (unless the config opts
  in), or there is no embedding: neither read nor write ("bypass");
- `x-triage-cache: no-cache`: do not serve from the cache, but store the
  fresh answer (it refreshes the entry);
- `x-triage-cache: no-store`: may be served from the cache, answer not stored.
"""

from __future__ import annotations

from dataclasses import dataclass

from serve_app.cache.keys import exact_key, fingerprint, normalise_conversation
from serve_app.cache.semantic import CacheQuery
from serve_app.config.schema import CacheConfig
from serve_app.policy import Decision, Signals

CACHE_CONTROLS = ("no-store", "no-cache")


@dataclass(frozen=True)
class CachePlan:
    query: CacheQuery | None
    read: bool
    write: bool

    @property
    def status_if_not_hit(self) -> str:
        return "miss" if self.read else "bypass"


BYPASS = CachePlan(None, read=False, write=False)


def plan_cache(cfg: CacheConfig, kind: str, wire: dict, decision: Decision, signals: Signals,
               tenant: str, control: str | None, explicit_model: str | None) -> CachePlan:
    # The cache's own vector where the classifier made one (the conversation
    # in the cache's form); otherwise the classification embedding.
    vector = signals.cache_embedding if signals.cache_embedding is not None else signals.embedding
    if not cfg.enabled or vector is None:
        return BYPASS
    if decision.sensitive and not cfg.cache_sensitive:
        return BYPASS
    # "auto" requests share answers per tier; a named model only with itself.
    target = explicit_model or f"tier:{decision.tier}"
    fp = fingerprint(kind, wire, target)
    text = normalise_conversation(wire.get("messages", wire.get("prompt", "")))
    query = CacheQuery(tenant=tenant, fingerprint=fp, key=exact_key(tenant, fp, text), text=text,
                       vector=vector, domain=decision.domain)
    return CachePlan(query, read=control != "no-cache", write=control != "no-store")
