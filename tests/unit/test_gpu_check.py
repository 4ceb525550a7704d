"""The GPU check script's parts that need no GPU: arguments, prompt mix,
summary math (tests/gpu/run_gpu_check.py; the run itself needs a GPU)."""

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[1] / "gpu" / "run_gpu_check.py"


@pytest.fixture(scope="module")
def gpu():
    spec = importlib.util.spec_from_file_location("run_gpu_check", SCRIPT)
    mod = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = mod  # dataclasses look their module up there
    try:
        spec.loader.exec_module(mod)
        yield mod
    finally:
        sys.modules.pop(spec.name, None)


def test_importing_the_script_imports_no_ray_nor_torch():
    code = ("import importlib.util, sys; s = importlib.util.spec_from_file_location('g', sys.argv[1]); "
            "m = importlib.util.module_from_spec(s); sys.modules['g'] = m; s.loader.exec_module(m); "
            "assert not {'ray', 'torch', 'httpx'} & set(sys.modules), sorted(sys.modules)")
    subprocess.run([sys.executable, "-c", code, str(SCRIPT)], check=True, timeout=60)


def test_defaults_are_the_documented_run(gpu):
    a = gpu.parse_args([])
    assert (a.requests, a.concurrency, a.classifier_batch, a.model_a, a.model_b) == (200, 16, 32, None, None)
    assert a.deadline_s + gpu.RESERVE_S <= 8 * 60  # the watchdog fires before 8 minutes
    b = gpu.parse_args(["--model-a", "Qwen/Qwen2.5-0.5B-Instruct", "--model-b", "Qwen/Qwen3-0.6B", "--eager",
                        "--requests", "20"])
    assert b.model_b == "Qwen/Qwen3-0.6B" and b.eager and b.requests == 20


@pytest.mark.parametrize("argv", [["--requests", "0"], ["--concurrency", "0"], ["--reasoning-share", "1.5"]])
def test_bad_arguments_are_refused(gpu, argv):
    with pytest.raises(SystemExit):
        gpu.parse_args(argv)


def test_prompt_mix_keeps_the_share_and_interleaves(gpu):
    mix = gpu.prompt_mix(200, 0.5)
    kinds = [k for k, _ in mix]
    assert len(mix) == 200 and kinds.count("reasoning") == 100
    assert kinds[:4] == ["simple", "reasoning", "simple", "reasoning"]
    assert [k for k, _ in gpu.prompt_mix(10, 0.3)].count("reasoning") == 3
    assert {k for k, _ in gpu.prompt_mix(5, 0.0)} == {"simple"}
    assert all(p in gpu.REASONING for k, p in mix if k == "reasoning")


def test_percentile_is_nearest_rank(gpu):
    values = [float(v) for v in range(1, 101)]
    assert gpu.percentile(values, 50) == 50 and gpu.percentile(values, 99) == 99
    assert gpu.percentile(values, 100) == 100 and gpu.percentile([3.0], 99) == 3.0
    assert gpu.percentile([], 50) is None


def test_summary_math(gpu):
    R = gpu.Result
    results = [
        R("simple", True, 200, "gpu-small", ttft_s=0.1, latency_s=0.5, completion_tokens=50),
        R("reasoning", True, 200, "gpu-reasoner", ttft_s=0.3, latency_s=1.5, completion_tokens=150),
        R("reasoning", False, 503, "", latency_s=0.2, error="http 503"),
    ]
    s = gpu.summarize(results, wall_s=2.0)
    assert s["requests"] == 3 and s["ok"] == 2
    assert s["completion_tokens"] == 200 and s["tokens_per_s"] == 100.0 and s["requests_per_s"] == 1.0
    assert s["ttft_ms"] == {"p50": 100.0, "p99": 300.0}
    assert s["latency_ms"] == {"p50": 500.0, "p99": 1500.0}
    assert s["by_model"] == {"gpu-reasoner": 1, "gpu-small": 1}
    assert s["by_kind"] == {"simple": 1, "reasoning": 1}
    assert s["errors"] == {"http 503": 1}
    empty = gpu.summarize([], wall_s=0.0)
    assert empty["tokens_per_s"] is None and empty["ttft_ms"] == {"p50": None, "p99": None}


def test_summary_prints(gpu):
    report = {"startup_s": 60.0, "total_s": 200.0,
              "load": gpu.summarize([gpu.Result("simple", True, 200, "m", 0.1, 0.2, 10)], 1.0),
              "classifier": {"device": "cuda", "prompts_per_s": 5000.0, "batch": 32, "ms_per_batch": 6.4}}
    text = gpu.format_summary(report)
    assert "10.0 tokens/s" in text and "TTFT p50 100.0 ms" in text and "5000.0 prompts/s at batch 32" in text


def test_the_router_config_is_valid(gpu, monkeypatch):
    from serve_app.config import load_config

    monkeypatch.setenv("TRIAGE_GPU_MODEL_A", "/models/a")
    monkeypatch.setenv("TRIAGE_GPU_MODEL_B", "/models/b")
    cfg = load_config(gpu.ROUTER)
    assert sorted(m.name for m in cfg.models) == ["gpu-reasoner", "gpu-small"]
    # Two engines on one GPU: shares and memory fit.
    assert sum(m.deployment.num_gpus for m in cfg.models) <= 1
    assert sum(m.engine.gpu_memory_utilization for m in cfg.models) <= 0.9
    assert all(m.engine.engine_kwargs["enforce_eager"] is False for m in cfg.models)
