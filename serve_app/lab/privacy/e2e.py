"""`triage bench privacy`: what reaches a cloud model, end to end through `serve run`.

The router serves two models for every tier: `local` (a dry_run model on
this machine, a labelled fake) and `cloud`, cheaper, an `openai`-engine
model whose endpoint is a recording upstream (`triage bench upstream
--record`): every body it receives is written down, as a cloud provider
would see it. Each prompt of the privacy corpus' bench split (templates
never used in training or tuning) is sent five ways, as the issue's audit
did: tier header llm; tier header lrm, streamed; the cloud model named;
named and streamed; /v1/completions. Then:

- leaks: sensitive prompts whose text reached the recorder (must be 0);
- false alarms: clean prompts kept on the local model (the cheaper cloud
  model is every clean prompt's first choice);

per form and per way, with the router's own overhead (x-triage-overhead-ms)
for clean and sensitive prompts. Writes JSON + a table; judges nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import json
import tempfile
import time
from collections import Counter, defaultdict
from pathlib import Path

import yaml

from serve_app.lab.bench import procs, triage_gateway
from serve_app.lab.bench.measure import percentile

WAYS = {
    "tier llm": {"path": "/v1/chat/completions", "headers": {"x-triage-tier": "llm"}},
    "tier lrm, streamed": {"path": "/v1/chat/completions", "headers": {"x-triage-tier": "lrm"}, "stream": True},
    "cloud named": {"path": "/v1/chat/completions", "model": "cloud"},
    "cloud named, streamed": {"path": "/v1/chat/completions", "model": "cloud", "stream": True},
    "completions": {"path": "/v1/completions"},
}


def router_config(upstream_url: str) -> dict:
    tiers = ["slm", "srm", "llm", "lrm"]
    return {
        "models": [
            {"name": "local", "tiers": tiers, "engine": {"type": "dry_run"}, "cost": {"input_per_mtok": 5.0}},
            {"name": "cloud", "tiers": tiers, "locality": "cloud", "cost": {"input_per_mtok": 0.1},
             "engine": {"type": "openai", "base_url": f"{upstream_url}/v1", "remote_model": "bench-upstream"}},
        ],
        "auth": {"tenants": {triage_gateway.TENANT: triage_gateway.KEY_ENV}},
    }


def body(way: dict, prompt: str) -> dict:
    if way["path"] == "/v1/completions":
        return {"model": way.get("model", "auto"), "prompt": prompt}
    return {"model": way.get("model", "auto"), "messages": [{"role": "user", "content": prompt}],
            "stream": way.get("stream", False)}


async def send_all(base: str, key: str, rows: list[dict], concurrency: int) -> list[dict]:
    import httpx

    out: list[dict] = []
    jobs = [(r, name, way) for r in rows for name, way in WAYS.items()]
    sem = asyncio.Semaphore(concurrency)

    async def one(client, row, name, way):
        async with sem:
            headers = {"authorization": f"Bearer {key}", **way.get("headers", {})}
            async with client.stream("POST", base + way["path"], json=body(way, row["prompt"]), headers=headers) as r:
                await r.aread()
            out.append({"id": row["id"], "way": name, "status": r.status_code,
                        "model": r.headers.get("x-triage-model"),
                        "overhead_ms": float(r.headers.get("x-triage-overhead-ms") or "nan")})

    async with httpx.AsyncClient(timeout=120) as client:
        await asyncio.gather(*(one(client, r, n, w) for r, n, w in jobs))
    return out


def reached_cloud(record: Path) -> set[str]:
    """The prompt texts the recorder received (last user message, or the completion prompt)."""
    seen = set()
    for line in record.read_text(encoding="utf-8").splitlines():
        request = json.loads(json.loads(line)["body"])
        if "prompt" in request:
            seen.add(request["prompt"])
        for m in request.get("messages") or ():
            if isinstance(m.get("content"), str):
                seen.add(m["content"])
    return seen


def summarize(rows: list[dict], results: list[dict], cloud_texts: set[str]) -> dict:
    by_id = {r["id"]: r for r in rows}
    forms: dict = defaultdict(lambda: {"sensitive": None, "prompts": 0, "leaked": Counter(), "kept_local": Counter(),
                                       "errors": Counter()})
    for r in rows:
        f = forms[r["form"]]
        f["sensitive"], f["prompts"] = r["sensitive"], f["prompts"] + 1
    overhead = {"clean": [], "sensitive": []}
    for res in results:
        row = by_id[res["id"]]
        f = forms[row["form"]]
        if res["status"] != 200:
            f["errors"][res["way"]] += 1
        if row["sensitive"]:
            if row["prompt"] in cloud_texts or res["model"] == "cloud":
                f["leaked"][res["way"]] += 1
        elif res["model"] == "local":
            f["kept_local"][res["way"]] += 1
        overhead["sensitive" if row["sensitive"] else "clean"].append(res["overhead_ms"])
    sens = [r for r in rows if r["sensitive"]]
    clean = [r for r in rows if not r["sensitive"]]
    leaked_prompts = {r["id"] for r in sens if r["prompt"] in cloud_texts}
    kept = {res["id"] for res in results if not by_id[res["id"]]["sensitive"] and res["model"] == "local"}
    return {
        "sensitive_prompts": len(sens), "clean_prompts": len(clean), "requests": len(results),
        "leaked_prompts": len(leaked_prompts),
        "leaked_requests": sum(sum(f["leaked"].values()) for f in forms.values()),
        "clean_kept_local_prompts": len(kept), "clean_kept_local_share": round(len(kept) / max(1, len(clean)), 4),
        "errors": sum(sum(f["errors"].values()) for f in forms.values()),
        "overhead_ms": {k: {"p50": round(percentile(v, 50), 2), "p99": round(percentile(v, 99), 2)}
                        for k, v in overhead.items() if v},
        "forms": {name: {**f, "leaked": dict(f["leaked"]), "kept_local": dict(f["kept_local"]),
                         "errors": dict(f["errors"])} for name, f in sorted(forms.items())},
    }


def table(s: dict) -> str:
    lines = [f"{s['sensitive_prompts']} sensitive and {s['clean_prompts']} clean prompts, {len(WAYS)} ways each "
             f"({s['requests']} requests): leaked prompts {s['leaked_prompts']}, leaked requests "
             f"{s['leaked_requests']}; clean kept local {s['clean_kept_local_prompts']} "
             f"({s['clean_kept_local_share']:.1%}); errors {s['errors']}",
             f"{'form':30s} {'kind':9s} {'prompts':>7s}  {'leaked (requests)':>17s}  {'kept local (requests)':>21s}"]
    for name, f in s["forms"].items():
        lines.append(f"{name:30s} {'sensitive' if f['sensitive'] else 'clean':9s} {f['prompts']:>7d}  "
                     f"{sum(f['leaked'].values()):>17d}  {sum(f['kept_local'].values()):>21d}")
    o = s["overhead_ms"]
    lines.append("router overhead p50/p99 ms: " + ", ".join(f"{k} {v['p50']}/{v['p99']}" for k, v in o.items()))
    return "\n".join(lines)


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    p = argparse.ArgumentParser(prog=prog, description=__doc__.split("\n\n")[0])
    p.add_argument("--corpus", type=Path, default=Path("build/privacy/corpus.jsonl"),
                   help="from `triage data privacy` (its bench split is sent)")
    p.add_argument("--split", choices=["bench", "train", "all"], default="bench")
    p.add_argument("--limit", type=int, default=None, help="at most this many prompts (seeded order kept)")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--out", default="loadtest/results/privacy.json")
    a = p.parse_args(argv)
    rows = [json.loads(line) for line in a.corpus.read_text(encoding="utf-8").splitlines()]
    rows = [r for r in rows if a.split == "all" or r["split"] == a.split][: a.limit]
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="triage-privacy-") as tmp:
        work = Path(tmp)
        record = work / "cloud.jsonl"
        up_port, port, key = procs.free_port(), procs.free_port(), "sk-privacy-bench"
        upstream = procs.start("upstream", _python() + ["bench", "upstream", "--port", str(up_port), "--record",
                                                        str(record)], work / "upstream.log", None)
        try:
            procs.wait_http(upstream, f"http://127.0.0.1:{up_port}/health", 60)
            router = work / "router.yaml"
            router.write_text(yaml.safe_dump(router_config(f"http://127.0.0.1:{up_port}")))
            serve = work / "serve.yaml"
            serve.write_text(yaml.safe_dump(triage_gateway.serve_config(router, port)))
            print(f"[privacy] serve run (local + recorded cloud model); {len(rows)} prompts x {len(WAYS)} ways",
                  flush=True)
            triage = procs.start("triage", triage_gateway.command(serve), work / "triage.log",
                                 triage_gateway.environment(key, Path.cwd()))
            try:
                procs.wait_http(triage, f"http://127.0.0.1:{port}/health/live", 600)
                results = asyncio.run(send_all(f"http://127.0.0.1:{port}", key, rows, a.concurrency))
            finally:
                procs.stop(triage)
        finally:
            procs.stop(upstream)
        summary = summarize(rows, results, reached_cloud(record))
    summary.update(command=" ".join(["triage bench privacy", *(argv or [])]), corpus=str(a.corpus), split=a.split,
                   ways=list(WAYS), wall_s=round(time.perf_counter() - started, 1),
                   timestamp=dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"))
    Path(a.out).parent.mkdir(parents=True, exist_ok=True)
    Path(a.out).write_text(json.dumps(summary, indent=2) + "\n", encoding="utf-8")
    print(table(summary))
    print(f"wrote {a.out}")
    return 0 if summary["leaked_prompts"] == 0 else 1


def _python() -> list[str]:
    import sys

    return [sys.executable, "-m", "serve_app"]
