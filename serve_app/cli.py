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
    b.set_defaults(run=_bench_overhead)

    args = parser.parse_args(argv)
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

    return run(requests=args.requests, out=args.out)


if __name__ == "__main__":
    sys.exit(main())
