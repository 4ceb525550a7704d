"""The pure half of `triage bench profile`: CPU counters, py-spy stacks, stages.

Nothing here starts a process. It reads /proc stat lines, parses py-spy's raw
(collapsed) output, sorts each sampled stack into a named stage, and turns CPU
seconds into milliseconds per routed request.

How a replica's CPU is split (per thread, then summed):
- a thread py-spy sampled: its CPU x the share of its samples in each stage
  (a sample without any Python frame takes the thread's THREAD_RULES stage);
- a thread py-spy never saw (Ray's C++ threads, native pools, Python threads
  that were idle at every sample): a stage by its OS thread name (THREAD_RULES);
- the process total minus its live threads' sum (threads that exited during
  the window; the kernel also rounds thread and process times apart): EXITED,
  or shared by the samples of threads no longer alive.
"""

from __future__ import annotations

import math
import os
import re
from collections import Counter, defaultdict
from dataclasses import dataclass, field

# One table: stage -> colour (chart and flame graphs) and the frame substrings
# that select it. A sample goes to the stage of its innermost (leaf-most) frame
# that matches any rule; within one frame, the first rule in this order wins.
# Frames are "function (full/path.py:line)" as py-spy --full-filenames writes them.
STAGE_RULES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("encoder", "#d62728", ("/onnxruntime/", "/serve_app/classifier/onnx_encoder.py",
                            "/serve_app/classifier/torch_encoder.py", "/torch/")),
    ("tokenize", "#ff7f0e", ("/tokenizers/", "/transformers/tokenization", "/serve_app/classifier/tokens.py")),
    ("heads & policy", "#bcbd22", ("/serve_app/classifier/", "/serve_app/policy/", "/serve_app/service.py",
                                   "/serve_app/privacy/", "/serve_app/meta_router.py")),
    ("serialization", "#9467bd", ("pickle", "/ray/_private/serialization", "/msgpack/")),
    ("json & pydantic", "#c5b0d5", ("/json/", "pydantic", "orjson")),
    ("gRPC", "#393b79", ("/grpc/",)),
    ("Serve handle & router", "#1f77b4", ("/ray/serve/_private/router", "/ray/serve/_private/request_router",
                                          "/ray/serve/_private/replica_scheduler", "/ray/serve/handle.py")),
    ("Serve replica & proxy", "#aec7e8", ("/ray/serve/",)),
    ("Ray core", "#17becf", ("/ray/",)),
    ("HTTP", "#2ca02c", ("/uvicorn/", "/starlette/", "/fastapi/", "/h11/", "httptools", "/anyio/", "/httpx/",
                         "/httpcore/", "/http/")),
    ("logging", "#8c564b", ("/logging/",)),
    ("asyncio", "#98df8a", ("/asyncio/", "/selectors.py")),
    ("triage (other)", "#dbdb8d", ("/serve_app/",)),
    # Generic thread frames, reached only when no frame inside matched: the
    # thread is in native code they called (py-spy --nonblocking sees Python
    # frames only; --native cannot go with it). Ray's "AsyncIO Thread" runs uvloop
    # (Cython) straight from Thread.run, so the loop's own work, socket I/O and
    # Cython callbacks without a Python frame land in the first.
    ("uvloop & Cython (native)", "#ffbb78", ("uvloop", "Thread.run (")),
    ("thread pool (native)", "#e7cb94", ("/concurrent/futures/thread.py",)),
)
NATIVE_UNDER = ("uvloop & Cython (native)", "thread pool (native)")  # stacks' fallbacks, not a frame's own colour
OTHER = "other"  # sampled, but no frame matched a rule
NO_FRAME = "(no Python frame)"  # a sample of a thread in native code only; staged by its thread's name
NATIVE = "Ray core (C++ threads)"
UNSAMPLED = "other native threads"
EXITED = "exited threads, rounding"
HAPROXY = "HAProxy (native process)"  # a process without Python: its CPU, unsplit
# Threads without a Python frame (py-spy never saw them, or saw them with an
# empty stack), by OS thread name (/proc/<pid>/task/<tid>/comm, 15 characters
# at most): Ray's C++ core worker and gRPC threads name themselves; the rest
# (named after the process, or by a native pool) are UNSAMPLED.
THREAD_RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (NATIVE, ("worker.io", "client.poll", "server.poll", "event_engine", "grpc", "gcs_client", "default-executo",
              "resolver-execut", "timer_manager", "nexting_thread", "task_event_buff", "global.accessor",
              "lifeguard", "worker.user_obj", "io_service", "core_worker", "periodical_run")),
)
COLOURS = {name: colour for name, colour, _ in STAGE_RULES} | {
    OTHER: "#7f7f7f", NATIVE: "#e377c2", UNSAMPLED: "#c7c7c7", EXITED: "#f7b6d2", HAPROXY: "#31a354"}
STAGES = tuple(COLOURS)  # display order


# ----------------------------------------------------------------- CPU counters


def parse_stat(line: str) -> tuple[str, int]:
    """(comm, utime + stime in clock ticks) from a /proc/<pid>[/task/<tid>]/stat line.

    The command name sits in parentheses and may itself hold spaces or ')',
    so fields are counted from the last ')': state is field 3, utime 14, stime 15.
    """
    head, _, rest = line.rpartition(")")
    comm = head.partition("(")[2]
    fields = rest.split()
    return comm, int(fields[11]) + int(fields[12])


@dataclass
class CpuSnapshot:
    """One process's CPU, in ticks: the whole process (live and exited threads) and each live thread."""

    process: int = 0
    threads: dict[int, tuple[str, int]] = field(default_factory=dict)  # tid -> (comm, ticks)


def read_cpu(pid: int, proc: str = "/proc") -> CpuSnapshot:
    """Read now; a process that has gone reads as empty."""
    snap = CpuSnapshot()
    try:
        with open(f"{proc}/{pid}/stat") as f:
            snap.process = parse_stat(f.read())[1]
        tids = os.listdir(f"{proc}/{pid}/task")
    except OSError:
        return snap
    for tid in tids:
        try:
            with open(f"{proc}/{pid}/task/{tid}/stat") as f:
                snap.threads[int(tid)] = parse_stat(f.read())
        except (OSError, ValueError, IndexError):
            continue  # exited between listdir and open
    return snap


def cpu_delta(before: CpuSnapshot, after: CpuSnapshot, hz: float) -> tuple[float, dict[int, tuple[str, float]]]:
    """Seconds of CPU between two snapshots: the process's, and each thread alive at the end
    (a thread started in between counts from zero)."""
    threads = {tid: (comm, max(0, ticks - before.threads.get(tid, ("", 0))[1]) / hz)
               for tid, (comm, ticks) in after.threads.items()}
    return max(0, after.process - before.process) / hz, threads


CPU_FIELDS = ("user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal")


def machine_ticks(text: str) -> dict[str, int]:
    """All cores' ticks by kind from the "cpu" line of /proc/stat (guest time is inside user)."""
    values = text.splitlines()[0].split()[1:]
    return dict(zip(CPU_FIELDS, map(int, values)))


def machine_busy(delta: dict[str, float]) -> float:
    """Busy out of a /proc/stat delta: processes (user, nice, system) and the kernel's
    interrupt work (irq, softirq: loopback networking lands there, in no process's
    time); not idle, iowait, or steal (time the hypervisor gave to someone else)."""
    return sum(delta.get(k, 0) for k in ("user", "nice", "system", "irq", "softirq"))


# ------------------------------------------------------------------ py-spy stacks


@dataclass(frozen=True)
class Stack:
    tid: int | None
    thread: str
    frames: tuple[str, ...]  # outermost first
    count: int


_THREAD = re.compile(r"^thread \((0x[0-9a-fA-F]+|\d+)\)(?::\s*(.*))?$")


def parse_collapsed(text: str) -> list[Stack]:
    """py-spy `--format raw --threads` output: "thread (TID): NAME;frame;...;frame COUNT" a line.

    A leading "process PID:..." frame (--subprocesses) is dropped; a line
    without a thread frame keeps tid None.
    """
    out = []
    for line in text.splitlines():
        stack, _, count = line.rstrip().rpartition(" ")
        if not stack or not count.isdigit():
            continue
        frames = stack.split(";")
        if frames[0].startswith("process "):
            frames = frames[1:]
        tid, thread = None, ""
        m = _THREAD.match(frames[0]) if frames else None
        if m:
            tid = int(m.group(1), 0)
            thread = m.group(2) or ""
            frames = frames[1:]
        out.append(Stack(tid, thread, tuple(frames), int(count)))
    return out


def frame_stage(frame: str) -> str | None:
    """The stage one frame's own rule gives it, or None."""
    for name, _, needles in STAGE_RULES:
        if any(n in frame for n in needles):
            return name
    return None


def stack_stage(frames: tuple[str, ...] | list[str]) -> str:
    """The stage of a sampled stack: that of its innermost frame a rule matches
    (NO_FRAME for a stack without any Python frame)."""
    if not frames:
        return NO_FRAME
    for frame in reversed(frames):
        stage = frame_stage(frame)
        if stage:
            return stage
    return OTHER


def thread_stage(comm: str) -> str:
    for name, prefixes in THREAD_RULES:
        if comm.startswith(prefixes):
            return name
    return UNSAMPLED


# ---------------------------------------------------------------- the breakdown


def stage_samples(stacks: list[Stack]) -> dict[int | None, Counter]:
    """tid -> Counter(stage -> samples)."""
    by_thread: dict[int | None, Counter] = defaultdict(Counter)
    for s in stacks:
        by_thread[s.tid][stack_stage(s.frames)] += s.count
    return dict(by_thread)


def breakdown(process_s: float, threads: dict[int, tuple[str, float]], stacks: list[Stack]) -> dict[str, float]:
    """CPU seconds by stage for one process, summing to `process_s` (or to its live
    threads' sum, where tick rounding makes that a little larger).

    Samples of a thread no longer alive at the end (or without a tid) share out
    the exited threads' CPU.
    """
    out: Counter = Counter()
    samples = stage_samples(stacks)
    for tid, (comm, seconds) in threads.items():
        counts = samples.get(tid)
        if counts and NO_FRAME in counts:
            counts = counts.copy()
            counts[thread_stage(comm)] += counts.pop(NO_FRAME)
        if counts:
            _share(out, seconds, counts)
        elif seconds > 0:
            out[thread_stage(comm)] += seconds
    exited = process_s - sum(s for _, s in threads.values())
    if exited > 0:
        orphans = Counter()
        for tid, counts in samples.items():
            if tid is None or tid not in threads:
                orphans.update(counts)
        orphans[UNSAMPLED] += orphans.pop(NO_FRAME, 0)
        if +orphans:
            _share(out, exited, +orphans)
        else:
            out[EXITED] += exited
    return {stage: out[stage] for stage in STAGES if out[stage] > 0}


def _share(out: Counter, seconds: float, counts: Counter) -> None:
    total = sum(counts.values())
    for stage, n in counts.items():
        out[stage] += seconds * n / total


def per_request_ms(seconds: float, requests: int) -> float:
    """CPU milliseconds per routed request (NaN with no request)."""
    return seconds * 1000 / requests if requests > 0 else math.nan


def stage_table(stages_s: dict[str, float], requests: int) -> dict[str, dict[str, float]]:
    """stage -> {ms_per_request, share} (share of the process's staged CPU)."""
    total = sum(stages_s.values())
    return {stage: {"ms_per_request": round(per_request_ms(s, requests), 4),
                    "share": round(s / total, 4) if total else 0.0}
            for stage, s in stages_s.items()}


def safe_name(name: str) -> str:
    """A replica name fit for a file name: "Model:bench-slm" -> "Model_bench-slm"."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name).strip("_.") or "replica"
