"""The `triage` command."""

from __future__ import annotations

import argparse
import sys

from serve_app.errors import ConfigError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="triage", description="Triage semantic router")
    sub = parser.add_subparsers(dest="command", required=True)

    p = sub.add_parser("validate", help="check a router config (or a Serve config that points at one)")
    p.add_argument("config", nargs="+")
    p.set_defaults(run=_validate)

    bench = sub.add_parser("bench", help="benchmarks").add_subparsers(dest="bench", required=True)
    b = bench.add_parser("overhead", help="router overhead vs a direct model call, with dry_run models")
    b.add_argument("--requests", type=int, default=200, help="requests per measurement")
    b.add_argument("--out", default="bench/overhead.json")
    b.add_argument("--warmup", type=int, default=20, help="warm-up requests before each measurement")
    b.add_argument("--throughput-optimized", action="store_true",
                   help="set RAY_SERVE_THROUGHPUT_OPTIMIZED=1 before Ray starts")
    b.set_defaults(run=_bench_overhead)
    q = bench.add_parser("cache-quality", help="semantic cache hit rate and wrong hits on a pair file")
    q.add_argument("--pairs", help="pair file (JSONL a/b/label); default: built from the shared QQP pairs")
    q.add_argument("--out", default="bench/cache_quality.json")
    q.add_argument("--limit", type=int, help="use at most this many pairs (seeded sample)")
    q.add_argument("--split", choices=["eval", "tune"], default="eval",
                   help="which half of the shared data builds the default file (tuning used 'tune')")
    q.add_argument("--seed", type=int, default=0)
    q.add_argument("--config", help="router config whose cache section to measure (default: CacheConfig())")
    q.set_defaults(run=_bench_cache_quality)
    e = bench.add_parser("cache-e2e", help="a cache hit through the router versus a miss (dry_run models)")
    e.add_argument("--requests", type=int, default=200)
    e.add_argument("--out", default="bench/cache_e2e.json")
    e.set_defaults(run=_bench_cache_e2e)
    c = bench.add_parser("cache-speed", help="cache store: insert rate and filtered lookup latency by size")
    c.add_argument("--sizes", default="10000,100000,1000000", help="comma-separated entry counts")
    c.add_argument("--backend", choices=["embedded", "server"], default="embedded")
    c.add_argument("--out", default="bench/cache_speed.json")
    c.add_argument("--queries", type=int, default=1000, help="lookups per size")
    c.set_defaults(run=_bench_cache_speed)
    o = bench.add_parser("overload", add_help=False, help="Locust past the models' queues: 200 or 503 + Retry-After "
                         "(python -m loadtest.overload; options: triage bench overload --help)")
    o.set_defaults(run=_bench_overload)  # its options are loadtest.overload's: passed through

    t = sub.add_parser("train", help="train the router classifier heads from the shared datasets")
    t.add_argument("--datasets", default="../shared/datasets", help="root of the public datasets")
    t.add_argument("--data-dir", default="build/train_data", help="where the labelled splits are built")
    t.add_argument("--out", default="models/triage-router-v1")
    t.add_argument("--hidden", type=int, default=256, help="shared hidden layer width (0: linear heads)")
    t.add_argument("--epochs", type=int, default=40)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--max-tokens", type=int, default=128, help="encoder token budget (must match serving)")
    t.add_argument("--allow-noncommercial", action="store_true")
    t.set_defaults(run=_train)

    ev = sub.add_parser("eval", help="evaluate the classifier or the router").add_subparsers(dest="eval", required=True)
    ec = ev.add_parser("classifier", help="per-head metrics, baselines and latency on a labelled JSONL file")
    ec.add_argument("--data", required=True)
    ec.add_argument("--out", required=True)
    ec.add_argument("--model", default=None, help="model directory or name under models/ (default: shipped)")
    ec.add_argument("--limit", type=int, default=None)
    ec.add_argument("--latency-n", type=int, default=200, help="single-prompt calls timed for latency")
    ec.set_defaults(run=_eval_classifier)
    er = ev.add_parser("routing", help="difficulty-threshold sweep on an outcome file (weak/strong correct)")
    er.add_argument("--data", required=True)
    er.add_argument("--out", required=True)
    er.add_argument("--model", default=None)
    er.set_defaults(run=_eval_routing)

    cal = sub.add_parser("calibrate", help="fit policy.tier_bias to cap tier shares on a prompt sample")
    cal.add_argument("--data", required=True, help="JSONL with a `prompt` per line")
    cal.add_argument("--max-share", action="append", required=True, metavar="TIER=SHARE",
                     help="e.g. lrm=0.2 (repeatable)")
    cal.add_argument("--out", default=None)
    cal.add_argument("--model", default=None)
    cal.set_defaults(run=_calibrate)

    args, passed = parser.parse_known_args(argv)
    if passed and args.run is not _bench_overload:
        parser.error(f"unrecognized arguments: {' '.join(passed)}")
    args.passed = passed
    return args.run(args)


def _validate(args) -> int:
    from serve_app.config.files import validate_file

    failed = 0
    for path in args.config:
        try:
            summary = validate_file(path)
        except ConfigError as err:
            print(err.message, file=sys.stderr)
            failed += 1
        else:
            print(f"{path}: OK ({summary})")
    return 1 if failed else 0


def _bench_overhead(args) -> int:
    from serve_app.bench.overhead import run

    return run(requests=args.requests, out=args.out, warmup=args.warmup,
               throughput_optimized=args.throughput_optimized)


def _bench_cache_quality(args) -> int:
    from serve_app.bench.cache_quality import run

    return run(pairs=args.pairs, out=args.out, limit=args.limit, split=args.split, seed=args.seed,
               config=args.config)


def _bench_cache_e2e(args) -> int:
    from serve_app.bench.cache_e2e import run

    return run(requests=args.requests, out=args.out)


def _bench_cache_speed(args) -> int:
    from serve_app.bench.cache_speed import from_args

    return from_args(args)


def _bench_overload(args) -> int:
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # loadtest/ sits beside serve_app/ in a checkout
    from loadtest.overload import main as overload

    return overload(args.passed)


def _train(args) -> int:
    from serve_app.training.cli import train_from_args

    return train_from_args(args)


def _eval_classifier(args) -> int:
    from serve_app.classifier.heads import DEFAULT_MODEL
    from serve_app.training.evaluate import run

    return run(args.data, args.out, args.model or DEFAULT_MODEL, args.limit, args.latency_n)


def _eval_routing(args) -> int:
    from serve_app.training.routing_eval import run

    return run(args.data, args.out, args.model)


def _calibrate(args) -> int:
    from serve_app.training.calibrate import run

    try:
        return run(args.data, args.max_share, args.out, args.model)
    except ValueError as e:
        print(f"triage calibrate: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
