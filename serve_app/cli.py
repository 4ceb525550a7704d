"""The `triage` command: one table from command words to the module that runs them.

Each command module owns its arguments: it exposes `main(argv, prog) -> int`
with its own argparse parser, so `triage bench overhead --help` is written
once, beside the code. Modules are imported only when their command runs:
`triage validate` needs the runtime only, the lab commands need the `lab`
extra (`pip install 'triage-router[lab]'`).
"""

from __future__ import annotations

import importlib
import sys

# (command words) -> ("module" or "module:function", one-line help); the
# function defaults to `main`. Order is the order of `triage --help`.
COMMANDS: dict[tuple[str, ...], tuple[str, str]] = {
    ("validate",): ("serve_app.config.files", "check router configs (or Serve configs that point at one)"),
    ("train",): ("serve_app.lab.train", "train the router classifier from the shared datasets"),
    ("data", "build"): ("serve_app.lab.training.build", "build the labelled training splits (JSONL + report)"),
    ("card",): ("serve_app.lab.card", "render a model directory's MODEL_CARD.md from its JSON"),
    ("eval", "classifier"): ("serve_app.lab.training.evaluate", "per-head metrics, baselines and latency on labelled JSONL"),
    ("eval", "compare"): ("serve_app.lab.training.compare", "shipped models side by side: heads, attack families, latency"),
    ("eval", "attack-families"): ("serve_app.lab.training.family_holdout", "jailbreak recall per attack family left out of training"),
    ("eval", "routing"): ("serve_app.lab.training.routing_eval", "routing quality on an outcome file (APGR, shares, curves)"),
    ("eval", "privacy"): ("serve_app.lab.privacy.cli:evaluate_main", "the privacy detector per form: caught, missed, false alarms"),
    ("learn",): ("serve_app.lab.learning.cli", "outcome logs -> a learned version, promoted only if better (--rollback)"),
    ("calibrate",): ("serve_app.lab.training.calibrate", "fit routing settings to a traffic mix or a quality target"),
    ("data", "privacy"): ("serve_app.lab.privacy.cli:corpus_main", "the labelled privacy corpus, split by template"),
    ("data", "routing"): ("serve_app.lab.outcomes.export", "routing-outcome files (held-out, val) from the outcome table"),
    ("calibrate", "privacy"): ("serve_app.lab.privacy.threshold", "the learned head's privacy.uncertain cut, on the tuning split"),
    ("experiment", "success-models"): ("serve_app.lab.outcomes.research", "the success-model grid: every choice on val"),
    ("experiment", "lora"): ("serve_app.lab.training.lora_experiment", "frozen vs LoRA encoder at equal steps"),
    ("bench", "overhead"): ("serve_app.lab.bench.overhead", "router overhead vs a direct model call (dry_run models)"),
    ("bench", "profile"): ("serve_app.lab.bench.profile", "CPU per routed request by replica and stage at c=16, with py-spy flame graphs"),
    ("bench", "classifier-latency"): ("serve_app.lab.bench.classifier_latency", "one-prompt classifier latency by prompt size"),
    ("bench", "encoder-ops"): ("serve_app.lab.bench.encoder_ops", "int8 encoder time by ONNX Runtime op: Triage's session vs ORT's default fusions"),
    ("bench", "encoder-speed"): ("serve_app.lab.bench.encoder_speed", "encoder backends: speed and accuracy cost"),
    ("bench", "cache-quality"): ("serve_app.lab.bench.cache_quality", "semantic cache hit rate and wrong hits on pairs"),
    ("bench", "cache-speed"): ("serve_app.lab.bench.cache_speed", "cache store insert rate and lookup latency by size"),
    ("bench", "meta-router"): ("serve_app.lab.bench.meta_router", "LLM meta-router: routed tier/domain accuracy with and without, share consulted, latency"),
    ("bench", "cache-e2e"): ("serve_app.lab.bench.cache_e2e", "a cache hit through the router versus a miss"),
    ("bench", "chart"): ("serve_app.lab.bench.chart", "redraw the PNG beside a committed bench result JSON"),
    ("bench", "gateways"): ("serve_app.lab.bench.gateways", "Triage vs LiteLLM's proxy in front of one fast upstream"),
    ("bench", "ingress-failover"): ("serve_app.lab.bench.ingress_failover", "what clients see when an Ingress replica dies"),
    ("bench", "privacy"): ("serve_app.lab.privacy.e2e", "what reaches a cloud model, end to end through serve run"),
    ("bench", "privacy-latency"): ("serve_app.lab.privacy.cli:latency_main", "privacy detection latency by prompt size"),
    ("bench", "learning"): ("serve_app.lab.learning.bench", "replay: routing quality against outcomes seen, with feedback"),
    ("bench", "upstream"): ("serve_app.lab.bench.upstream", "a fast fake OpenAI-compatible upstream (optionally recording)"),
    ("bench", "overload"): ("serve_app.lab.load.overload", "Locust past the models' queues: 200 or 503 + Retry-After"),
    ("escalation", "receive"): ("serve_app.lab.escalation_receiver", "a webhook receiver for escalations: verify, print, store"),
    ("load", "run"): ("serve_app.lab.load.run", "a bounded headless Locust run against a running router"),
    ("load", "side-by-side"): ("serve_app.lab.load.side_by_side", "Locust: the router vs its models called directly"),
    ("deploy", "kuberay"): ("serve_app.lab.deploy.kuberay", "generate the KubeRay RayService from a Serve config"),
}


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    for words in sorted(COMMANDS, key=len, reverse=True):
        if tuple(argv[: len(words)]) == words:
            module, _, function = COMMANDS[words][0].partition(":")
            try:
                run = getattr(importlib.import_module(module), function or "main")
            except ModuleNotFoundError as err:
                print(f"triage {' '.join(words)}: needs {err.name!r}; install the lab extra: "
                      "pip install 'triage-router[lab]'", file=sys.stderr)
                return 2
            return run(argv[len(words):], prog=f"triage {' '.join(words)}")
    return _usage(argv)


def _usage(argv: list[str]) -> int:
    """`triage --help`, `triage bench --help`: the matching commands on stdout.
    A missing or unknown command: the same list on stderr, exit 2."""
    words = tuple(a for a in argv if not a.startswith("-"))
    shown = [(w, h) for w, (_, h) in COMMANDS.items() if w[: len(words)] == words]
    helped = bool(shown) and any(a in ("-h", "--help") for a in argv)
    out = sys.stdout if helped else sys.stderr
    if not shown:
        print(f"triage: unknown command {' '.join(words)!r}", file=out)
        shown = [(w, h) for w, (_, h) in COMMANDS.items()]
    print("usage: triage <command> [options]   (triage <command> --help for its options)\n", file=out)
    width = max(len(" ".join(w)) for w, _ in shown)
    for command, help_ in shown:
        print(f"  {' '.join(command):<{width}}  {help_}", file=out)
    return 0 if helped else 2
