"""`triage bench chart`: each committed result kind gets its PNG drawn beside it."""

import json

from serve_app.lab.bench import cache_e2e, classifier_latency, report
from serve_app.lab.bench.chart import chart_for, main

ROW = {"p50_ms": 20.0, "p99_ms": 30.0, "header_overhead_p50_ms": 10.0, "throughput_rps": 40.0}
CACHE = {"benchmark": "triage bench cache-e2e", "requests": 2, "miss": ROW, "hit": ROW,
         "miss_c16": {**ROW, "concurrency": 16}, "hit_c16": {**ROW, "concurrency": 16},
         "settings": {"classifier_placement": "ingress", "cache_placement": "ingress"}}
LATENCY = {"triage-router-v3": {"max_tokens": 128, "~20 tokens": {"p50_ms": 3.8, "p99_ms": 5.2, "n": 300},
                                "~200 tokens": {"p50_ms": 15.4, "p99_ms": 18.4, "n": 300}}}
OVERHEAD = {"benchmark": "triage bench overhead", "http": [
    {"target": t, "prompt": 21, "concurrency": 1, "p50_ms": 10.0, "throughput_rps": 80.0}
    for t in ("router", "direct")]}


def test_each_result_kind_finds_its_own_chart():
    assert chart_for(CACHE) is cache_e2e.plot
    # The first cache-e2e results carry no "benchmark" key.
    assert chart_for({"requests": 2, "miss": ROW, "hit": ROW}) is cache_e2e.plot
    assert chart_for(LATENCY) is classifier_latency.plot
    assert chart_for(OVERHEAD) is report.plot
    assert chart_for({"benchmark": "triage bench gateways"}) is None


def test_pngs_are_written_beside_the_jsons_and_unknown_results_fail(tmp_path):
    paths = []
    for name, result in (("cache", CACHE), ("latency", LATENCY), ("overhead", OVERHEAD)):
        paths.append(tmp_path / f"{name}.json")
        paths[-1].write_text(json.dumps(result))
    assert main([str(p) for p in paths]) == 0
    for p in paths:
        png = p.with_suffix(".png")
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"benchmark": "triage bench gateways"}))
    assert main([str(other)]) == 1 and not other.with_suffix(".png").exists()
