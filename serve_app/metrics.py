"""Every metric name and label in one place.

`RayMetrics` registers them with `ray.serve.metrics` (exported by Ray's
Prometheus endpoint, prefixed `ray_`); `MemoryMetrics` keeps them in a dict
for tests. The service takes either: it never imports Ray itself.
"""

from __future__ import annotations

from collections import Counter as _Tally

REQUESTS = "triage_requests_total"  # tier, domain, model, cache, status
FALLBACKS = "triage_fallbacks_total"  # model, reason
ERRORS = "triage_errors_total"  # type
OVERHEAD = "triage_router_overhead_seconds"  # tier
MODEL_LATENCY = "triage_model_latency_seconds"  # model (time to first byte)
CLASSIFIER_BATCH_SIZE = "triage_classifier_batch_size"
CLASSIFIER_LATENCY = "triage_classifier_batch_seconds"
CACHE_LOOKUPS = "triage_cache_lookups_total"  # result: hit|miss
CACHE_GUARD_REJECTIONS = "triage_cache_guard_rejections_total"  # guard
CACHE_WRITES = "triage_cache_writes_total"
CACHE_EVICTIONS = "triage_cache_evictions_total"
CACHE_LOOKUP_LATENCY = "triage_cache_lookup_seconds"
REASONING = "triage_reasoning_total"  # model, mode: on|off (a switch sent to the answering model)
LOAD_SPILLS = "triage_load_spills_total"  # model (moved back because busy)
PRIVACY_CHECKS = "triage_privacy_checks_total"  # verdict: clean|sensitive|failed
PRIVACY_LATENCY = "triage_privacy_check_seconds"
PRIVACY_REDACTIONS = "triage_privacy_redacted_spans_total"
OUTCOME_RECORDS = "triage_outcome_records_total"  # tier (routed requests recorded for learning)
OUTCOMES = "triage_outcomes_total"  # tier, model, domain, source: explicit|reask|broken_stream|failure, outcome
FEEDBACK = "triage_feedback_total"  # status: applied|pending|rejected|rate_limited
PREDICTED_SUCCESS = "triage_predicted_success"  # tier: the chosen tier's P(success) at decision time
META_ROUTER = "triage_meta_router_total"  # outcome: agreed|changed|unparsable|timeout|error
META_ROUTER_LATENCY = "triage_meta_router_seconds"
ESCALATIONS = "triage_escalations_total"  # trigger: header|domain|confidence, result: delivered|failed

LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30]
BATCH_BUCKETS = [1, 2, 4, 8, 16, 32, 64, 128]


class MemoryMetrics:
    """Counts in memory; what tests read."""

    def __init__(self):
        self.counts: _Tally = _Tally()
        self.observations: dict[str, list[float]] = {}

    def request(self, *, tier: str, domain: str, model: str, cache: str, status: str) -> None:
        self.counts[(REQUESTS, tier, domain, model, cache, status)] += 1

    def fallback(self, *, model: str, reason: str) -> None:
        self.counts[(FALLBACKS, model, reason)] += 1

    def error(self, *, type: str) -> None:
        self.counts[(ERRORS, type)] += 1

    def overhead(self, seconds: float, *, tier: str) -> None:
        self.observations.setdefault(OVERHEAD, []).append(seconds)

    def model_latency(self, seconds: float, *, model: str) -> None:
        self.observations.setdefault(MODEL_LATENCY, []).append(seconds)

    def classifier_batch(self, size: int, seconds: float) -> None:
        self.observations.setdefault(CLASSIFIER_BATCH_SIZE, []).append(size)
        self.observations.setdefault(CLASSIFIER_LATENCY, []).append(seconds)

    def cache_lookup(self, result: str, seconds: float, rejected_by: tuple[str, ...]) -> None:
        self.counts[(CACHE_LOOKUPS, result)] += 1
        for guard in rejected_by:
            self.counts[(CACHE_GUARD_REJECTIONS, guard)] += 1
        self.observations.setdefault(CACHE_LOOKUP_LATENCY, []).append(seconds)

    def cache_write(self, evictions: int = 0) -> None:
        self.counts[(CACHE_WRITES,)] += 1
        self.counts[(CACHE_EVICTIONS,)] += evictions

    def reasoning(self, *, model: str, mode: str) -> None:
        self.counts[(REASONING, model, mode)] += 1

    def load_spill(self, *, model: str) -> None:
        self.counts[(LOAD_SPILLS, model)] += 1

    def privacy_check(self, verdict: str, seconds: float) -> None:
        self.counts[(PRIVACY_CHECKS, verdict)] += 1
        self.observations.setdefault(PRIVACY_LATENCY, []).append(seconds)

    def privacy_redaction(self, spans: int) -> None:
        self.counts[(PRIVACY_REDACTIONS,)] += spans

    def outcome_record(self, *, tier: str) -> None:
        self.counts[(OUTCOME_RECORDS, tier)] += 1

    def outcome(self, *, tier: str, model: str, domain: str, source: str, outcome: str) -> None:
        self.counts[(OUTCOMES, tier, model, domain, source, outcome)] += 1

    def feedback(self, *, status: str) -> None:
        self.counts[(FEEDBACK, status)] += 1

    def predicted_success(self, p: float, *, tier: str) -> None:
        self.observations.setdefault(PREDICTED_SUCCESS, []).append(p)

    def meta_router(self, outcome: str, seconds: float) -> None:
        self.counts[(META_ROUTER, outcome)] += 1
        self.observations.setdefault(META_ROUTER_LATENCY, []).append(seconds)

    def escalation(self, *, trigger: str, result: str) -> None:
        self.counts[(ESCALATIONS, trigger, result)] += 1


class RayMetrics:
    """The same interface over ray.serve.metrics; create inside a replica."""

    def __init__(self):
        from ray.serve import metrics as m

        self._requests = m.Counter(REQUESTS, "Routed requests.",
                                   tag_keys=("tier", "domain", "model", "cache", "status"))
        self._fallbacks = m.Counter(FALLBACKS, "Candidates given up on, by reason.",
                                    tag_keys=("model", "reason"))
        self._errors = m.Counter(ERRORS, "Requests that ended in an error, by error type.",
                                 tag_keys=("type",))
        self._overhead = m.Histogram(OVERHEAD, "Router time excluding the model.",
                                     boundaries=LATENCY_BUCKETS, tag_keys=("tier",))
        self._model_latency = m.Histogram(MODEL_LATENCY, "Model time to first byte.",
                                          boundaries=LATENCY_BUCKETS, tag_keys=("model",))
        self._batch_size = m.Histogram(CLASSIFIER_BATCH_SIZE, "Classifier batch size.",
                                       boundaries=BATCH_BUCKETS)
        self._batch_latency = m.Histogram(CLASSIFIER_LATENCY, "Classifier time per batch.",
                                          boundaries=LATENCY_BUCKETS)
        self._cache_lookups = m.Counter(CACHE_LOOKUPS, "Cache lookups by result.", tag_keys=("result",))
        self._cache_rejections = m.Counter(CACHE_GUARD_REJECTIONS, "Candidate hits a guard turned down.",
                                           tag_keys=("guard",))
        self._cache_writes = m.Counter(CACHE_WRITES, "Answers stored in the cache.")
        self._cache_evictions = m.Counter(CACHE_EVICTIONS, "Entries evicted by the size bound.")
        self._cache_latency = m.Histogram(CACHE_LOOKUP_LATENCY, "Cache lookup time.",
                                          boundaries=LATENCY_BUCKETS)
        self._reasoning = m.Counter(REASONING, "Answers for which a thinking switch was sent, by mode.",
                                    tag_keys=("model", "mode"))
        self._load_spills = m.Counter(LOAD_SPILLS, "Requests routed past a busy model to an equally suitable one.",
                                      tag_keys=("model",))
        self._privacy_checks = m.Counter(PRIVACY_CHECKS, "Privacy detector runs (requests with a cloud candidate).",
                                         tag_keys=("verdict",))
        self._privacy_latency = m.Histogram(PRIVACY_LATENCY, "Privacy detector time per request.",
                                            boundaries=LATENCY_BUCKETS)
        self._privacy_redactions = m.Counter(PRIVACY_REDACTIONS, "Spans replaced by placeholders before a cloud call.")
        self._outcome_records = m.Counter(OUTCOME_RECORDS, "Routed requests recorded in the outcome memory.",
                                          tag_keys=("tier",))
        self._outcomes = m.Counter(OUTCOMES, "Outcomes attached to recorded requests (explicit feedback or implicit).",
                                   tag_keys=("tier", "model", "domain", "source", "outcome"))
        self._feedback = m.Counter(FEEDBACK, "Feedback calls by what became of them.", tag_keys=("status",))
        self._predicted = m.Histogram(PREDICTED_SUCCESS, "The chosen tier's predicted P(success) at decision time.",
                                      boundaries=[0.1 * i for i in range(1, 10)], tag_keys=("tier",))
        self._meta = m.Counter(META_ROUTER, "Meta-router consultations by outcome.", tag_keys=("outcome",))
        self._meta_latency = m.Histogram(META_ROUTER_LATENCY, "Meta-router time per consulted request.",
                                         boundaries=LATENCY_BUCKETS)
        self._escalations = m.Counter(ESCALATIONS, "Requests handed to a person, by trigger and delivery result.",
                                      tag_keys=("trigger", "result"))

    def request(self, *, tier, domain, model, cache, status) -> None:
        self._requests.inc(tags={"tier": tier, "domain": domain, "model": model,
                                 "cache": cache, "status": status})

    def fallback(self, *, model, reason) -> None:
        self._fallbacks.inc(tags={"model": model, "reason": reason})

    def error(self, *, type) -> None:
        self._errors.inc(tags={"type": type})

    def overhead(self, seconds, *, tier) -> None:
        self._overhead.observe(seconds, tags={"tier": tier})

    def model_latency(self, seconds, *, model) -> None:
        self._model_latency.observe(seconds, tags={"model": model})

    def classifier_batch(self, size, seconds) -> None:
        self._batch_size.observe(size)
        self._batch_latency.observe(seconds)

    def cache_lookup(self, result, seconds, rejected_by) -> None:
        self._cache_lookups.inc(tags={"result": result})
        for guard in rejected_by:
            self._cache_rejections.inc(tags={"guard": guard})
        self._cache_latency.observe(seconds)

    def cache_write(self, evictions=0) -> None:
        self._cache_writes.inc()
        if evictions:
            self._cache_evictions.inc(evictions)

    def reasoning(self, *, model, mode) -> None:
        self._reasoning.inc(tags={"model": model, "mode": mode})

    def load_spill(self, *, model) -> None:
        self._load_spills.inc(tags={"model": model})

    def privacy_check(self, verdict, seconds) -> None:
        self._privacy_checks.inc(tags={"verdict": verdict})
        self._privacy_latency.observe(seconds)

    def privacy_redaction(self, spans) -> None:
        if spans:
            self._privacy_redactions.inc(spans)

    def outcome_record(self, *, tier) -> None:
        self._outcome_records.inc(tags={"tier": tier})

    def outcome(self, *, tier, model, domain, source, outcome) -> None:
        self._outcomes.inc(tags={"tier": tier, "model": model, "domain": domain, "source": source,
                                 "outcome": outcome})

    def feedback(self, *, status) -> None:
        self._feedback.inc(tags={"status": status})

    def predicted_success(self, p, *, tier) -> None:
        self._predicted.observe(p, tags={"tier": tier})

    def meta_router(self, outcome, seconds) -> None:
        self._meta.inc(tags={"outcome": outcome})
        self._meta_latency.observe(seconds)

    def escalation(self, *, trigger, result) -> None:
        self._escalations.inc(tags={"trigger": trigger, "result": result})
