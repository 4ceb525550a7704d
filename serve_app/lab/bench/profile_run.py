"""The running half of `triage bench profile`: find the replica processes, load
them over HTTP in a closed loop, and count CPU and stacks over one window.

Ray is started by the caller; everything here runs in its driver process.
"""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from serve_app.lab.bench.measure import percentile
from serve_app.lab.bench.profile_stages import CpuSnapshot, machine_ticks, read_cpu

SETTLE_S = 1.5  # py-spy attaching before the window opens
SPY_STOP_S = 30.0


@dataclass(frozen=True)
class Proc:
    """One process of the local Ray instance: a replica, the proxy, HAProxy, or background."""

    name: str  # "Ingress", "Model:bench-slm", "Proxy", "HAProxy", "raylet", ...
    # "replica" | "proxy": sampled by py-spy; "native": the HAProxy binary,
    # counted but not sampled (no Python in it); "background": Ray's own.
    kind: str
    pid: int
    deployment: str | None = None


def _title(p) -> str:
    return " ".join(p.cmdline()).strip()


def find_processes(app: str, deployments: list[str]) -> list[Proc]:
    """This driver's Ray processes, by process title (Ray sets "ray::ServeReplica:<app>:<deployment>",
    "ray::ProxyActor", "ray::ServeController", ...). Only descendants of this process count,
    so another Ray instance on the machine is never picked up."""
    import psutil

    found: list[Proc] = []
    replicas: dict[str, list[int]] = {}
    prefix = f"ray::ServeReplica:{app}:"
    by_length = sorted(deployments, key=len, reverse=True)
    for p in psutil.Process().children(recursive=True):
        try:
            title, name = _title(p), p.name()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        if title.startswith(prefix):
            rest = title[len(prefix):]
            dep = next((d for d in by_length if rest == d or rest.startswith((d + ".", d + " "))), rest)
            replicas.setdefault(dep, []).append(p.pid)
        elif title.startswith("ray::ProxyActor"):
            found.append(Proc("Proxy", "proxy", p.pid))
        elif title.startswith("ray::HAProxyManager"):
            found.append(Proc("HAProxyManager", "proxy", p.pid))
        elif name == "haproxy":  # RAY_SERVE_ENABLE_HA_PROXY: it holds the HTTP port in the Proxy's place
            found.append(Proc("HAProxy", "native", p.pid))
        elif title.startswith("ray::ServeController"):
            found.append(Proc("ServeController", "background", p.pid))
        elif name in ("raylet", "gcs_server"):
            found.append(Proc(name, "background", p.pid))
        else:
            found.append(Proc("other Ray processes", "background", p.pid))
    for dep in sorted(replicas, key=_deployment_order):
        pids = sorted(replicas[dep])
        for i, pid in enumerate(pids):
            found.append(Proc(dep if len(pids) == 1 else f"{dep}#{i + 1}", "replica", pid, dep))
    missing = set(deployments) - set(replicas)
    if missing:
        raise RuntimeError(f"no process found for deployment(s) {sorted(missing)} of app {app!r}")
    return found


def _deployment_order(name: str) -> tuple[int, str]:
    first = {"Ingress": 0, "Classifier": 1}
    return (first.get(name, 3 if name.startswith("Model:") else 2), name)


def sampled(procs: list[Proc]) -> list[Proc]:
    """The processes py-spy samples: the replicas and the Python proxies."""
    return [p for p in procs if p.kind in ("replica", "proxy")]


@dataclass
class Load:
    ok: int = 0
    errors: Counter = field(default_factory=Counter)
    latencies_ms: list[float] = field(default_factory=list)


@dataclass
class Snapshot:
    at: float
    ok: int
    n_latencies: int
    procs: dict[int, CpuSnapshot]  # every pid watched: Ray processes, this one, py-spy
    machine: dict[str, int]  # /proc/stat ticks by kind, all cores


def snapshot(load: Load, pids: list[int]) -> Snapshot:
    with open("/proc/stat") as f:
        machine = machine_ticks(f.read())
    return Snapshot(time.perf_counter(), load.ok, len(load.latencies_ms), {pid: read_cpu(pid) for pid in pids},
                    machine)


@dataclass
class Window:
    """What one measured window saw."""

    before: Snapshot
    after: Snapshot
    load: Load
    spies: dict[int, dict]  # target pid -> {"pid", "raw", "log", "rc"}

    @property
    def requests(self) -> int:
        return self.after.ok - self.before.ok

    @property
    def seconds(self) -> float:
        return self.after.at - self.before.at

    def latency(self) -> dict:
        lat = self.load.latencies_ms[self.before.n_latencies:self.after.n_latencies]
        return {"p50_ms": round(percentile(lat, 50), 2), "p90_ms": round(percentile(lat, 90), 2),
                "p99_ms": round(percentile(lat, 99), 2)}


def start_spy(pid: int, rate: int, raw: Path) -> subprocess.Popen:
    """py-spy on one process until SIGINT: raw stacks with OS thread ids, full file
    names (the stage rules match on paths), without pausing the target.

    Not --native: py-spy refuses it with --nonblocking, and pausing every
    process 100 times a second cut throughput ~7x on 2 cores."""
    argv = ["py-spy", "record", "--pid", str(pid), "--rate", str(rate), "--nonblocking", "--threads",
            "--full-filenames", "--format", "raw", "--output", str(raw)]
    log = open(raw.with_suffix(".log"), "wb")  # noqa: SIM115 - the child holds it; closed with our copy below
    try:
        return subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
    finally:
        log.close()


async def measure(base_url: str, path: str, bodies: list[bytes], headers: dict, targets: list[Proc],
                  watch: list[int], concurrency: int, warmup_s: float, duration_s: float, rate: int,
                  workdir: Path, progress) -> Window:
    """Closed-loop load from `concurrency` workers; py-spy on every target; CPU of
    every pid in `watch` (and this process, and py-spy) at the window's ends."""
    import httpx

    load, stop = Load(), asyncio.Event()
    headers = {"content-type": "application/json", **headers}

    async def worker(client, k: int) -> None:
        i = k
        while not stop.is_set():
            started = time.perf_counter()
            try:
                resp = await client.post(path, content=bodies[i % len(bodies)], headers=headers)
            except Exception as exc:  # noqa: BLE001 - a benchmark reports, it does not stop
                load.errors[type(exc).__name__] += 1
                await asyncio.sleep(0.05)
                continue
            finally:
                i += concurrency
            if resp.status_code == 200:
                load.latencies_ms.append((time.perf_counter() - started) * 1000)
                load.ok += 1
            else:
                load.errors[str(resp.status_code)] += 1

    limits = httpx.Limits(max_connections=concurrency * 2, max_keepalive_connections=concurrency * 2)
    spies: dict[int, tuple[subprocess.Popen, Path]] = {}
    async with httpx.AsyncClient(base_url=base_url, timeout=120, limits=limits) as client:
        tasks = [asyncio.create_task(worker(client, k)) for k in range(concurrency)]
        try:
            await asyncio.sleep(warmup_s)
            if not load.ok:
                raise RuntimeError(f"no request succeeded in {warmup_s:g} s of warm-up: {dict(load.errors)}")
            progress(f"warmed up ({load.ok} requests); py-spy on {len(targets) if rate else 0} processes")
            for t in targets if rate else ():
                raw = workdir / f"{t.pid}.raw.txt"
                spies[t.pid] = (start_spy(t.pid, rate, raw), raw)
            await asyncio.sleep(SETTLE_S)
            dead = {pid: raw for pid, (sp, raw) in spies.items() if sp.poll() is not None}
            if dead:
                logs = {pid: raw.with_suffix(".log").read_text(errors="replace")[-500:] for pid, raw in dead.items()}
                raise RuntimeError(f"py-spy exited early: {logs}")
            pids = [*watch, os.getpid(), *(sp.pid for sp, _ in spies.values())]
            before = snapshot(load, pids)
            progress(f"window open: {duration_s:g} s at c={concurrency}")
            await asyncio.sleep(duration_s)
            after = snapshot(load, pids)
            progress(f"window closed: {after.ok - before.ok} requests")
        finally:
            for sp, _ in spies.values():
                if sp.poll() is None:
                    sp.send_signal(signal.SIGINT)
            stop.set()
            await asyncio.gather(*tasks, return_exceptions=True)
            await _reap(spies)
    return Window(before, after, load, {pid: {"pid": sp.pid, "raw": raw, "log": raw.with_suffix(".log"),
                                              "rc": sp.returncode} for pid, (sp, raw) in spies.items()})


async def _reap(spies: dict[int, tuple[subprocess.Popen, Path]]) -> None:
    """Wait for each py-spy to write its file; kill what does not finish in time."""
    deadline = time.perf_counter() + SPY_STOP_S
    while any(sp.poll() is None for sp, _ in spies.values()) and time.perf_counter() < deadline:
        await asyncio.sleep(0.1)
    for sp, _ in spies.values():
        if sp.poll() is None:
            sp.kill()
            sp.wait(timeout=10)
