"""The gateways bench's summary, comparison, table and chart, on hand-made results."""

from __future__ import annotations

import pytest

from serve_app.lab.bench import gateways
from serve_app.lab.bench.gateways_report import compare, facts, plot, summarize, table


def load(prompt, conc, p50, p99, rps, cpu=None, errors=None):
    return {"prompt": prompt, "concurrency": conc, "p50_ms": p50, "p99_ms": p99, "throughput_rps": rps,
            "errors": errors or {}, "cpu": {"gateway_ms_per_request": cpu}}


def gateway(name, c1, c1_long, c16, c16_long, cpu=None, errors=None):
    return {"name": name, "label": name.upper(), "loads": [
        load("~20", 1, *c1), load("~200", 1, *c1_long),
        load("~20", 16, *c16, cpu=cpu, errors=errors), load("~200", 16, *c16_long, cpu=cpu)]}


RESULT = {
    "prompts": {"~20": {"tokens_mean": 21.0}, "~200": {"tokens_mean": 196.0}},
    "machine": {"cores": 2, "loadavg_at_start": [0.1, 0.1, 0.1]},
    "gateways": [
        gateway("direct", (1.0, 3.0, 900.0), (1.2, 3.5, 800.0), (15.0, 40.0, 600.0), (20.0, 50.0, 400.0)),
        gateway("litellm-1w", (14.0, 20.0, 70.0), (16.2, 25.0, 60.0), (200.0, 300.0, 80.0), (220.0, 330.0, 70.0),
                cpu=13.0, errors={"502": 2}),
        gateway("triage", (11.0, 19.0, 90.0), (30.2, 40.0, 30.0), (150.0, 200.0, 100.0), (300.0, 400.0, 35.0),
                cpu=19.5),
        {"name": "litellm-2w", "label": "L2", "error": "RuntimeError: boom"},
    ],
}


def test_added_is_against_direct_on_the_same_load():
    rows = {r["name"]: r for r in summarize(RESULT)}
    lite, tri = rows["litellm-1w"], rows["triage"]
    assert lite["~20@c1.added_p50_ms"] == pytest.approx(13.0)
    assert lite["~20@c1.added_p99_ms"] == pytest.approx(17.0)
    assert lite["~200@c1.added_p50_ms"] == pytest.approx(15.0)
    assert tri["~20@c16.rps_vs_direct"] == pytest.approx(100 / 600, abs=1e-3)
    assert tri["~20@c16.gateway_cpu_ms"] == 19.5
    assert rows["direct"]["~20@c1.added_p50_ms"] == 0.0
    assert lite["errors"] == 2 and tri["errors"] == 0
    assert rows["litellm-2w"]["ok"] is False and rows["litellm-2w"]["~20@c1.p50_ms"] is None


def test_compare_triage_with_each_litellm():
    by = {c["against"]: c for c in compare(summarize(RESULT))}
    assert set(by) == {"litellm-1w", "litellm-2w"}
    c = by["litellm-1w"]
    assert c["c1_short_added_p50_diff_ms"] == pytest.approx(-3.0)  # triage adds 10, litellm 13
    assert c["c1_long_added_p50_diff_ms"] == pytest.approx(14.0)  # 29 against 15
    assert c["c16_short_rps_ratio"] == pytest.approx(1.25)
    assert c["c16_long_rps_ratio"] == pytest.approx(0.5)
    assert by["litellm-2w"]["c16_short_rps_ratio"] is None  # it failed: no number, no crash
    assert compare(summarize({"gateways": RESULT["gateways"][:2]})) == []  # no triage row


def test_table_lists_every_gateway_and_the_comparison():
    text = table(RESULT)
    assert "DIRECT" in text and "LITELLM-1W" in text and "TRIAGE" in text
    assert "L2" in text and "failed" in text
    assert "+13.0" in text and "-3.0 ms" in text and "1.25x" in text


def test_facts_show_routing_checks_and_noise():
    result = {"gateways": [
        {"name": "triage", "label": "Triage", "startup_s": 15.2, "processes_at_start": 27, "idle_cpu_pct_of_core": 17.5,
         "check": {"stream_status": 200, "stream_ended_with_done": True},
         "loads": [{"prompt": "~20", "concurrency": 1, "labels": {"tier=srm": 5, "cache=bypass": 8, "tier=slm": 3},
                    "cpu": {"others_ms_per_request": 2.0}},
                   {"prompt": "~20", "concurrency": 16, "cpu": {"others_ms_per_request": 6.0}}]},
        {"name": "litellm-1w-complexity", "label": "LiteLLM", "check": {"stream_status": 502},
         "loads": [{"prompt": "~20", "concurrency": 1, "cpu": {"others_ms_per_request": 4.0},
                    "labels": {"x-litellm-complexity-router-tier=SIMPLE": 7, "x-litellm-model-group=auto": 8}}]},
    ]}
    text = "\n".join(facts(result))
    assert "srm 5, slm 3" in text and "cache" not in text.split("Triage")[1].splitlines()[0]
    assert "SIMPLE 7" in text and "auto" not in text
    assert "17.5 %" in text and "ok" in text and "FAILED" in text
    assert "2.0-6.0 ms" in text and "median 4.0" in text


def test_plot_writes_a_png(tmp_path):
    path = tmp_path / "g.png"
    plot(RESULT, str(path))
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cpu_per_request_splits_the_machine():
    before = {"gateway": 10.0, "upstream": 1.0, "client": 2.0, "machine": 100.0}
    after = {"gateway": 11.0, "upstream": 1.1, "client": 2.2, "machine": 101.6}
    cpu = gateways._cpu_per_request(before, after, n=100, wall_s=1.0)
    assert cpu["gateway_ms_per_request"] == pytest.approx(10.0)
    assert cpu["upstream_ms_per_request"] == pytest.approx(1.0)
    assert cpu["client_ms_per_request"] == pytest.approx(2.0)
    assert cpu["machine_ms_per_request"] == pytest.approx(16.0)
    assert cpu["others_ms_per_request"] == pytest.approx(3.0)
    direct = gateways._cpu_per_request({**before, "gateway": None}, {**after, "gateway": None}, 100, 1.0)
    assert direct["gateway_ms_per_request"] is None and direct["others_ms_per_request"] == pytest.approx(13.0)


def test_selection_always_starts_with_the_baseline():
    assert [s.name for s in gateways._select(["triage"])] == ["direct", "triage"]
    assert gateways._select(None)[0].name == "direct" and gateways._select(None)[-1].name == "direct-end"
    with pytest.raises(SystemExit):
        gateways._select(["nginx"])
