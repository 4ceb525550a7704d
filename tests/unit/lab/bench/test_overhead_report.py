"""`triage bench overhead`'s chart: one PNG from the result's HTTP loads."""

from serve_app.lab.bench.report import plot


def test_the_chart_is_written_from_the_http_loads(tmp_path):
    http = [{"target": t, "prompt": p, "concurrency": c, "p50_ms": 10.0 * c, "throughput_rps": 100.0 / c}
            for t in ("router", "direct") for p, c in (("~20", 1), ("~20", 16), ("~200", 16))]
    out = tmp_path / "overhead.png"
    plot({"http": http, "settings": {"classifier_placement": "ingress", "haproxy": True}}, str(out))
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and out.stat().st_size > 5000
