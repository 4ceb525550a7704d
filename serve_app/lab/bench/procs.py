"""Gateway processes for `triage bench gateways`: start, wait, count CPU, stop.

Every gateway runs as its own process tree, started in a new session (so it
is its own process group) with its output in a log file. CPU is counted over
the tree (the root and every descendant, found with psutil each time, so
worker processes started after the root are counted too), as user + system
seconds. Stopping asks politely first (one signal to the root), then kills
the group and any descendant that left it.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import psutil


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Gateway:
    """One started process tree."""

    name: str
    popen: subprocess.Popen
    log: Path
    _seen: dict[int, psutil.Process] = field(default_factory=dict)

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def tree(self) -> list[psutil.Process]:
        """The root and its descendants now; remembered, so stop() reaches them."""
        try:
            root = psutil.Process(self.pid)
            procs = [root, *root.children(recursive=True)]
        except psutil.NoSuchProcess:
            procs = []
        for p in procs:
            self._seen.setdefault(p.pid, p)
        return procs

    def cpu_seconds(self) -> float:
        """User + system CPU of the whole tree, as of now."""
        return tree_cpu_seconds(self.tree())

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""


def tree_cpu_seconds(procs: list[psutil.Process]) -> float:
    total = 0.0
    for p in procs:
        try:
            t = p.cpu_times()
        except (psutil.NoSuchProcess, psutil.AccessDenied):
            continue
        total += t.user + t.system
    return total


def start(name: str, argv: list[str], log: Path, env: dict[str, str] | None, cwd: str | None = None) -> Gateway:
    log.parent.mkdir(parents=True, exist_ok=True)
    out = open(log, "wb")  # noqa: SIM115 - the child holds it; closed with our copy below
    try:
        popen = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                 env=env, cwd=cwd, start_new_session=True)
    finally:
        out.close()
    gw = Gateway(name, popen, log)
    gw.tree()
    return gw


def stop(gw: Gateway, first: int = signal.SIGTERM, grace_s: float = 30.0) -> dict:
    """Stop the tree: `first` to the root, then SIGKILL to what is left.

    Returns how it went (seconds taken, whether anything had to be killed).
    """
    started = time.perf_counter()
    gw.tree()
    killed: list[int] = []
    if gw.alive():
        try:
            os.kill(gw.pid, first)
        except ProcessLookupError:
            pass
        try:
            gw.popen.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            pass
    # A root that shut down cleanly leaves its children a moment to follow it.
    waited = time.perf_counter() - started
    psutil.wait_procs([p for p in gw._seen.values() if _running(p)], timeout=max(1.0, min(10.0, grace_s - waited)))
    # Whatever is still running, in the group or remembered from the tree.
    leftovers = [p for p in gw._seen.values() if _running(p)]
    try:
        os.killpg(gw.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    for p in leftovers:
        killed.append(p.pid)
        try:
            p.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(leftovers, timeout=10)
    try:
        gw.popen.wait(timeout=10)
    except subprocess.TimeoutExpired:
        pass
    return {"stop_s": round(time.perf_counter() - started, 1), "killed_after_grace": killed,
            "exit_code": gw.popen.returncode}


def _running(p: psutil.Process) -> bool:
    try:
        return p.is_running() and p.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def wait_http(gw: Gateway, url: str, timeout_s: float, ok=lambda r: r.status_code == 200,
              headers: dict | None = None, method: str = "GET", body: bytes | None = None) -> float:
    """Poll `url` until `ok(response)`; the seconds it took. Raises if the process
    exits or time runs out, with the end of its log."""
    import httpx

    started = time.perf_counter()
    last = "no answer yet"
    while time.perf_counter() - started < timeout_s:
        if not gw.alive():
            raise RuntimeError(f"{gw.name} exited with {gw.popen.returncode} before it was ready "
                               f"({gw.log}):\n{gw.log_tail()}")
        try:
            r = httpx.request(method, url, headers=headers, content=body, timeout=5)
            if ok(r):
                return time.perf_counter() - started
            last = f"{r.status_code} {r.text[:200]}"
        except httpx.HTTPError as exc:
            last = type(exc).__name__
        time.sleep(0.5)
    raise RuntimeError(f"{gw.name} not ready after {timeout_s:.0f}s at {url} (last: {last}; "
                       f"log {gw.log}):\n{gw.log_tail()}")


def wait_log(gw: Gateway, text: str, count: int, timeout_s: float) -> float:
    """Wait until `text` appears `count` times in the log (e.g. one line per worker)."""
    started = time.perf_counter()
    while time.perf_counter() - started < timeout_s:
        if not gw.alive():
            raise RuntimeError(f"{gw.name} exited with {gw.popen.returncode} ({gw.log}):\n{gw.log_tail()}")
        try:
            if gw.log.read_text(errors="replace").count(text) >= count:
                return time.perf_counter() - started
        except OSError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"{gw.name}: {text!r} seen fewer than {count} times after {timeout_s:.0f}s "
                       f"({gw.log}):\n{gw.log_tail()}")
