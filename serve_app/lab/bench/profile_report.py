"""`triage bench profile`'s results: one measured window -> the JSON's numbers
(and the flame graphs), and the JSON -> the text table."""

from __future__ import annotations

import os
from pathlib import Path

from serve_app.lab.bench import profile_stages as ps
from serve_app.lab.bench.profile_flame import write_flamegraph
from serve_app.lab.bench.profile_run import Window
from serve_app.lab.bench.profile_stages import STAGES


def summarise(w: Window, procs: list, outdir: Path, stem: str, keep_raw: bool = False) -> dict:
    """CPU ms per request by process and stage; flame graphs written to `outdir`."""
    hz, n = float(os.sysconf("SC_CLK_TCK")), w.requests
    outdir.mkdir(parents=True, exist_ok=True)

    def seconds(pid: int) -> tuple[float, dict]:
        return ps.cpu_delta(w.before.procs[pid], w.after.procs[pid], hz)

    profiled = []
    for p in procs:
        if p.kind == "background":
            continue
        cpu_s, threads = seconds(p.pid)
        spy, svg, stacks, stages = w.spies.get(p.pid), None, [], {}
        if spy:  # not with --rate 0
            raw = spy["raw"].read_text(errors="replace") if spy["raw"].exists() else ""
            stacks = ps.parse_collapsed(raw)
            if keep_raw:
                (outdir / f"{stem}_{ps.safe_name(p.name)}.raw.txt").write_text(raw)
            svg = outdir / f"{stem}_{ps.safe_name(p.name)}.svg"
            write_flamegraph(svg, stacks, f"{p.name} (pid {p.pid}): py-spy, {_tail(spy['log'])}",
                             {tid: comm for tid, (comm, _) in threads.items()})
            stages = ps.stage_table(ps.breakdown(cpu_s, threads, stacks), n)
        elif p.kind == "native":  # HAProxy: nothing for py-spy to read, all of it one stage
            stages = ps.stage_table({ps.HAPROXY: cpu_s}, n)
        names = {s.tid: s.thread for s in stacks}
        top = sorted(threads.items(), key=lambda kv: -kv[1][1])[:8]
        profiled.append({
            "name": p.name, "kind": p.kind, "deployment": p.deployment, "pid": p.pid,
            "cpu_s": round(cpu_s, 3), "cpu_ms_per_request": round(ps.per_request_ms(cpu_s, n), 4),
            "cores_busy": round(cpu_s / w.seconds, 3), "samples": sum(s.count for s in stacks),
            "stages": stages,
            "threads": [{"tid": tid, "comm": comm, "python_name": names.get(tid), "sampled": tid in names,
                         "ms_per_request": round(ps.per_request_ms(s, n), 4)} for tid, (comm, s) in top if s > 0],
            "flamegraph": svg and str(svg), "py_spy": spy and _tail(spy["log"]),
        })
    unprofiled: dict[str, dict] = {}
    for p in procs:
        if p.kind == "background":
            unprofiled.setdefault(p.name, {"cpu_s": 0.0, "pids": []})
            unprofiled[p.name]["cpu_s"] += seconds(p.pid)[0]
            unprofiled[p.name]["pids"].append(p.pid)
    unprofiled["load generator (this process)"] = {"cpu_s": seconds(os.getpid())[0], "pids": [os.getpid()]}
    spy_pids = [s["pid"] for s in w.spies.values()]
    unprofiled["py-spy"] = {"cpu_s": sum(seconds(pid)[0] for pid in spy_pids), "pids": spy_pids}
    kinds = {k: (w.after.machine[k] - w.before.machine[k]) / hz for k in w.after.machine}
    busy = ps.machine_busy(kinds)
    unprofiled["kernel irq + softirq"] = {"cpu_s": kinds.get("irq", 0) + kinds.get("softirq", 0), "pids": []}
    counted = sum(r["cpu_s"] for r in profiled) + sum(v["cpu_s"] for v in unprofiled.values())
    unprofiled["unaccounted (rest of the machine)"] = {"cpu_s": max(0.0, busy - counted), "pids": []}
    for v in unprofiled.values():
        v["cpu_s"] = round(v["cpu_s"], 3)
        v["cpu_ms_per_request"] = round(ps.per_request_ms(v["cpu_s"], n), 4)
    router_s = sum(r["cpu_s"] for r in profiled)
    return {
        "load": {"requests": n, "window_s": round(w.seconds, 3), "req_per_s": round(n / w.seconds, 2),
                 "errors_total": dict(w.load.errors), **w.latency()},
        "processes": profiled,
        "unprofiled": unprofiled,
        "totals": {"router_cpu_ms_per_request": round(ps.per_request_ms(router_s, n), 4),
                   "machine_busy_ms_per_request": round(ps.per_request_ms(busy, n), 4),
                   "machine_cores_busy": round(busy / w.seconds, 3),
                   "machine_ms_per_request_by_kind": {k: round(ps.per_request_ms(v, n), 4) for k, v in kinds.items()},
                   "router_stages_ms_per_request": _sum_stages(profiled)},
    }


def _sum_stages(rows: list[dict]) -> dict[str, float]:
    out: dict[str, float] = {}
    for r in rows:
        for stage, v in r["stages"].items():
            out[stage] = out.get(stage, 0.0) + v["ms_per_request"]
    return {s: round(out[s], 4) for s in ps.STAGES if s in out}


def _tail(log: Path) -> str:
    """py-spy's own summary line ("Samples: N Errors: M"), or its last line."""
    try:
        lines = [ln for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except OSError:
        return "no log"
    found = [ln for ln in lines if "Samples:" in ln]
    return (found or lines or ["empty log"])[-1].replace("py-spy> ", "").strip()


def _cell(v: float | None) -> str:
    return "-" if not v else f"{v:.2f}" if v >= 0.005 else "<0.01"


def _short(name: str) -> str:
    return name.removeprefix("Model:")


def table(r: dict) -> str:
    s, ld, t = r["settings"], r["load"], r["totals"]
    errors = ", ".join(f"{k} x{v}" for k, v in ld["errors_total"].items()) or "none"
    lines = [
        f"triage bench profile: {Path(s['config']).name} (classifier: {s['placement']}), c={s['concurrency']}, "
        f"{s['prompt']['size']}-token prompts ({s['prompt']['tokens_mean']:g} tokens mean), "
        f"{ld['window_s']:.1f} s window",
        f"{ld['requests']} requests answered 200, {ld['req_per_s']:.1f} req/s, p50 {ld['p50_ms']:.1f} ms, "
        f"p99 {ld['p99_ms']:.1f} ms; errors (whole run): {errors}",
        f"machine: {r['machine']['cores']} cores, {t['machine_cores_busy']:.2f} busy "
        f"({t['machine_busy_ms_per_request']:.2f} CPU ms/request); router processes "
        f"{t['router_cpu_ms_per_request']:.2f} CPU ms/request",
        "",
        "CPU ms per routed request, by stage (py-spy samples x each thread's CPU)",
    ]
    procs = r["processes"]
    names = [_short(p["name"]) for p in procs]
    width = max(10, *(len(n) + 1 for n in names))
    head = f"{'stage':<24}" + "".join(f"{n:>{width}}" for n in names) + f"{'all':>{width}}"
    lines += [head, "-" * len(head)]
    for stage in STAGES:
        if stage not in t["router_stages_ms_per_request"]:
            continue
        cells = [p["stages"].get(stage, {}).get("ms_per_request") for p in procs]
        lines.append(f"{stage:<24}" + "".join(f"{_cell(c):>{width}}" for c in cells)
                     + f"{_cell(t['router_stages_ms_per_request'][stage]):>{width}}")
    lines.append("-" * len(head))
    lines.append(f"{'total (/proc CPU)':<24}" + "".join(f"{_cell(p['cpu_ms_per_request']):>{width}}" for p in procs)
                 + f"{_cell(t['router_cpu_ms_per_request']):>{width}}")
    lines.append(f"{'cores busy':<24}" + "".join(f"{p['cores_busy']:>{width}.2f}" for p in procs))
    lines.append(f"{'py-spy samples':<24}" + "".join(f"{p['samples']:>{width}}" for p in procs))
    lines += ["", f"{'not profiled':<40}{'CPU ms/request':>16}"]
    for name, v in r["unprofiled"].items():
        lines.append(f"{name:<40}{_cell(v['cpu_ms_per_request']):>16}")
    return "\n".join(lines)
