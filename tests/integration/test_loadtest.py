"""A short bounded Locust run against the integration app: it completes, fails nothing, and reports every field.

The performance targets are the benchmark's business (serve_app/lab/load/side_by_side.py,
`triage bench overhead`), not this test's: it checks that the load-test
tooling works end to end. Every request forces tier lrm, whose first candidate
(the recording cloud dry_run model) answers; the built-in prompts carry no
sensitive data.
"""

import importlib.util
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

# Only look for Locust: importing it would gevent-monkey-patch this process (and Ray in it).
pytestmark = pytest.mark.skipif(importlib.util.find_spec("locust") is None, reason="locust is not installed")

ROOT = Path(__file__).resolve().parents[2]
FIELDS = (
    "requests", "failures", "rps", "latency_p50_ms", "latency_p95_ms", "latency_p99_ms",
    "ttft_p50_ms", "ttft_p99_ms", "tokens_per_s", "tier_mix", "model_mix", "cache_hit_rate",
    "fallback_count", "duration_s", "users", "mix", "host",
)


def test_bounded_locust_run_has_no_failures_and_a_full_summary(base_url, tmp_path):
    out = tmp_path / "loadtest"
    cmd = [sys.executable, "-m", "serve_app", "load", "run", "--host", base_url, "--users", "4", "--spawn-rate", "4",
           "--duration", "15s", "--mix", "builtin", "--stream-share", "0.3", "--completions-share", "0.2",
           "--header", "x-triage-tier=lrm", "--think-time", "0.05",
           # relative to the caller's directory, as a user types it (Locust itself runs elsewhere)
           "--out", os.path.relpath(out, ROOT)]
    started = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=90)
    elapsed = time.monotonic() - started
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert elapsed < 60

    summary = json.loads((out / "summary.json").read_text())
    missing = [f for f in FIELDS if f not in summary]
    assert not missing, missing
    assert summary["failures"] == 0, summary["errors"]
    assert summary["exceptions"] == 0
    assert summary["requests"] > 0 and summary["rps"] > 0
    assert summary["stream_requests"] > 0 and summary["non_stream_requests"] > 0
    assert summary["ttft_p50_ms"] is not None and summary["tokens_per_s"] > 0
    assert set(summary["requests_by_kind"]) == {"chat", "chat stream", "completions", "completions stream"}
    assert summary["tier_mix"] == {"lrm": summary["requests"]}
    assert sum(summary["model_mix"].values()) == summary["requests"]
    assert summary["cache"] == {"bypass": summary["requests"]} and summary["cache_hit_rate"] == 0.0
    # Every request sent came back, each with a status; users had 5 s at the end to finish theirs.
    assert summary["sent"] == summary["recorded"] == summary["requests"] and summary["unfinished"] == 0
    assert summary["status_codes"] == {"200": summary["requests"]} and summary["no_response"] == {}
    assert summary["retry_after"] == {} and summary["error_bodies"] == {} and summary["stream_failures"] == {}
    assert sum(summary["fallback_hist"].values()) == summary["requests"]
    assert summary["latency_by_status_ms"]["200"]["n"] == summary["requests"]
    assert (summary["users"], summary["mix"], summary["host"]) == (4, "builtin", base_url)

    for name in ("locust_stats.csv", "locust_stats_history.csv", "report.html"):
        assert (out / name).stat().st_size > 0, name
    if importlib.util.find_spec("matplotlib"):
        for name in ("latency.png", "tiers.png", "cache.png", "status.png"):
            assert (out / name).stat().st_size > 0, name
