"""`triage bench profile`, the pure parts: /proc counters, py-spy stacks, stages, per-request arithmetic.

No Ray, no py-spy: stat lines, raw stacks and snapshots are made up here.
"""

from __future__ import annotations

import math
import os
import xml.etree.ElementTree as ET

import pytest

from serve_app.lab.bench import profile_stages as ps
from serve_app.lab.bench.profile import outputs
from serve_app.lab.bench.profile_flame import flamegraph_svg, short_frame
from serve_app.lab.bench.profile_report import summarise, table
from serve_app.lab.bench.profile_run import Load, Proc, Snapshot, Window, sampled

SP = "/usr/lib/python3.11/site-packages"
APP = "/work/main/serve_app"


def stat_line(pid: int, comm: str, utime: int, stime: int) -> str:
    # pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime cutime cstime ...
    return f"{pid} ({comm}) S 1 1 1 0 -1 4194560 100 0 0 0 {utime} {stime} 7 9 20 0 40 0 123 456 789\n"


# ---------------------------------------------------------------- /proc counters


def test_parse_stat_counts_user_plus_system_and_survives_odd_names():
    assert ps.parse_stat(stat_line(42, "ray::ServeRepli", 150, 25)) == ("ray::ServeRepli", 175)
    # A name with spaces and a ')' of its own: fields are counted from the last ')'.
    assert ps.parse_stat(stat_line(7, "a b) (c", 3, 4)) == ("a b) (c", 7)
    # Children's times (cutime, cstime: 7 and 9 above) are not the process's own.
    assert ps.parse_stat(stat_line(1, "x", 0, 0))[1] == 0


def test_read_cpu_reads_the_process_and_each_thread(tmp_path):
    (tmp_path / "10" / "task" / "10").mkdir(parents=True)
    (tmp_path / "10" / "task" / "11").mkdir()
    (tmp_path / "10" / "stat").write_text(stat_line(10, "ray::ProxyActor", 500, 100))
    (tmp_path / "10" / "task" / "10" / "stat").write_text(stat_line(10, "ray::ProxyActor", 300, 50))
    (tmp_path / "10" / "task" / "11" / "stat").write_text(stat_line(11, "worker.io", 190, 40))
    snap = ps.read_cpu(10, proc=str(tmp_path))
    assert snap.process == 600
    assert snap.threads == {10: ("ray::ProxyActor", 350), 11: ("worker.io", 230)}
    gone = ps.read_cpu(99, proc=str(tmp_path))
    assert gone.process == 0 and gone.threads == {}


def test_cpu_delta_in_seconds_with_new_threads_counted_from_zero():
    before = ps.CpuSnapshot(1000, {1: ("main", 600), 2: ("worker.io", 400)})
    after = ps.CpuSnapshot(1350, {1: ("main", 800), 2: ("worker.io", 450), 3: ("classifier", 90)})
    process_s, threads = ps.cpu_delta(before, after, hz=100)
    assert process_s == pytest.approx(3.5)
    assert threads == {1: ("main", pytest.approx(2.0)), 2: ("worker.io", pytest.approx(0.5)),
                       3: ("classifier", pytest.approx(0.9))}


def test_machine_busy_counts_processes_and_interrupts_not_idle_or_steal():
    ticks = ps.machine_ticks("cpu  100 5 40 800 10 2 3 50 0 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n")
    assert ticks == {"user": 100, "nice": 5, "system": 40, "idle": 800, "iowait": 10, "irq": 2, "softirq": 3,
                     "steal": 50}
    assert ps.machine_busy(ticks) == 150


# ------------------------------------------------------------------ py-spy stacks


RAW = f"""\
thread (4242): AsyncIO Thread: default;Thread.run ({SP}/../threading.py:982);dumps ({SP}/ray/cloudpickle/cp.py:1) 3
thread (4242): AsyncIO Thread: default;Thread.run (/usr/lib/python3.11/threading.py:982) 5
thread (0x1f);main_loop ({SP}/ray/_private/worker.py:9) 2
process 10:"ray::Ingress";thread (4243): MainThread;<module> (x.py:1) 1
garbage line
thread (4244) 4
thread (4245): named 6
"""


def test_parse_collapsed_reads_threads_frames_and_counts():
    stacks = ps.parse_collapsed(RAW)
    assert [(s.tid, s.thread, len(s.frames), s.count) for s in stacks] == [
        (4242, "AsyncIO Thread: default", 2, 3), (4242, "AsyncIO Thread: default", 1, 5), (0x1F, "", 1, 2),
        (4243, "MainThread", 1, 1), (4244, "", 0, 4), (4245, "named", 0, 6)]
    assert stacks[0].frames[-1].startswith("dumps (")


@pytest.mark.parametrize("frames, stage", [
    # The innermost matching frame decides: onnxruntime under the classifier is the encoder ...
    (["Thread.run (/usr/lib/python3.11/threading.py:982)", f"classify_texts ({APP}/classifier/pipeline.py:32)",
      f"OnnxEncoder._run ({APP}/classifier/onnx_encoder.py:275)",
      f"Session.run ({SP}/onnxruntime/capi/onnxruntime_inference_collection.py:406)"], "encoder"),
    # ... a stdlib helper with no rule of its own goes to its caller's stage ...
    ([f"classify_texts ({APP}/classifier/pipeline.py:32)", "isinstance_helper (/usr/lib/python3.11/abc.py:1)"],
     "heads & policy"),
    # ... pickling inside Serve's router is serialization, the router itself is not.
    ([f"_route ({SP}/ray/serve/_private/router.py:5)", f"dumps ({SP}/ray/cloudpickle/cloudpickle.py:1)"],
     "serialization"),
    ([f"_route ({SP}/ray/serve/_private/router.py:5)"], "Serve handle & router"),
    ([f"handle_request ({SP}/ray/serve/_private/replica.py:5)"], "Serve replica & proxy"),
    ([f"app ({SP}/starlette/routing.py:1)", f"chat ({APP}/ingress.py:84)", f"route ({APP}/service.py:131)"],
     "heads & policy"),
    ([f"app ({SP}/uvicorn/protocols/http/httptools_impl.py:1)"], "HTTP"),
    # asyncio's Handle._run is the event loop, not the encoder's _run.
    (["Handle._run (/usr/lib/python3.11/asyncio/events.py:84)"], "asyncio"),
    # Nothing inside Thread.run: native code straight under the thread (Ray's uvloop).
    (["Thread._bootstrap (/usr/lib/python3.11/threading.py:1002)", "Thread.run (/usr/lib/python3.11/threading.py:982)"],
     "uvloop & Cython (native)"),
    (["mystery (/opt/elsewhere/thing.py:1)"], ps.OTHER),
    ([], ps.NO_FRAME),
])
def test_stack_stage(frames, stage):
    assert ps.stack_stage(frames) == stage


def test_every_stage_has_a_colour_and_rules_have_no_duplicate_names():
    names = [name for name, _, _ in ps.STAGE_RULES]
    assert len(names) == len(set(names))
    assert set(names) | {ps.OTHER, ps.NATIVE, ps.UNSAMPLED, ps.EXITED, ps.HAPROXY} == set(ps.STAGES) == set(ps.COLOURS)


def test_thread_stage_by_os_thread_name():
    assert ps.thread_stage("worker.io") == ps.NATIVE
    assert ps.thread_stage("client.poll0") == ps.NATIVE
    assert ps.thread_stage("ray::IDLE") == ps.UNSAMPLED


# ---------------------------------------------------------------- the breakdown


def _stack(tid, frames, count, thread="t"):
    return ps.Stack(tid, thread, tuple(frames), count)


ENC = f"Session.run ({SP}/onnxruntime/capi/x.py:1)"
TOK = f"TokenRows.__call__ ({APP}/classifier/tokens.py:74)"


def test_breakdown_splits_each_threads_cpu_by_its_samples():
    threads = {1: ("ray::IDLE", 3.0), 2: ("worker.io", 0.5), 3: ("ray::IDLE", 0.25), 4: ("ray::IDLE", 0.0)}
    stacks = [_stack(1, [ENC], 3), _stack(1, [TOK], 1)]
    out = ps.breakdown(3.75, threads, stacks)
    assert out == {"encoder": pytest.approx(2.25), "tokenize": pytest.approx(0.75), ps.NATIVE: pytest.approx(0.5),
                   ps.UNSAMPLED: pytest.approx(0.25)}
    assert sum(out.values()) == pytest.approx(3.75)
    assert list(out) == [s for s in ps.STAGES if s in out]  # display order


def test_breakdown_samples_without_a_python_frame_take_the_threads_name():
    out = ps.breakdown(1.0, {7: ("worker.io", 1.0)}, [_stack(7, [], 1), _stack(7, [ENC], 1)])
    assert out == {"encoder": pytest.approx(0.5), ps.NATIVE: pytest.approx(0.5)}


def test_breakdown_cpu_of_exited_threads():
    # No samples from a dead thread: the remainder is EXITED.
    assert ps.breakdown(2.0, {1: ("x", 1.5)}, [_stack(1, [ENC], 1)]) == {
        "encoder": pytest.approx(1.5), ps.EXITED: pytest.approx(0.5)}
    # Samples of a thread gone by the end share the remainder out.
    out = ps.breakdown(2.0, {1: ("x", 1.5)}, [_stack(1, [ENC], 1), _stack(9, [TOK], 1)])
    assert out == {"encoder": pytest.approx(1.5), "tokenize": pytest.approx(0.5)}
    # Live threads summing above the process (rounding): nothing negative.
    assert ps.breakdown(1.0, {1: ("x", 1.02)}, [_stack(1, [ENC], 1)]) == {"encoder": pytest.approx(1.02)}


def test_per_request_arithmetic():
    assert ps.per_request_ms(2.5, 100) == pytest.approx(25.0)
    assert math.isnan(ps.per_request_ms(1.0, 0))
    tbl = ps.stage_table({"encoder": 3.0, "HTTP": 1.0}, 200)
    assert tbl == {"encoder": {"ms_per_request": 15.0, "share": 0.75}, "HTTP": {"ms_per_request": 5.0, "share": 0.25}}


def test_safe_names_and_tagged_outputs():
    assert ps.safe_name("Model:bench-slm") == "Model_bench-slm"
    assert ps.safe_name("Ingress#2") == "Ingress_2"
    assert ps.safe_name("::") == "replica"
    assert outputs("loadtest/results/profile.json", None) == (
        __import__("pathlib").Path("loadtest/results/profile.json"), "profile")
    path, stem = outputs("/tmp/x/profile.json", "ingress")
    assert (str(path), stem) == ("/tmp/x/profile_ingress.json", "profile_ingress")


# ------------------------------------------------------------ pictures and summary


def test_flamegraph_is_svg_with_one_box_per_frame_and_stage_colours():
    stacks = [_stack(1, ["Thread.run (/usr/lib/python3.11/threading.py:982)", ENC], 3, thread="classifier_0"),
              _stack(2, [], 1, thread="")]
    svg = flamegraph_svg(stacks, "Classifier <test>", comms={2: "worker.io"})
    root = ET.fromstring(svg)
    titles = [t.text for t in root.iter("{http://www.w3.org/2000/svg}title")]
    assert "all - 4 samples (100.0%)" in titles
    assert "thread: classifier_0 - 3 samples (75.0%)" in titles
    assert "thread: 2 (worker.io) - 1 samples (25.0%)" in titles
    assert any(t.startswith("Session.run (onnxruntime/capi/x.py:1)") for t in titles)
    assert f'fill="{ps.COLOURS["encoder"]}"' in svg
    assert "Classifier &lt;test&gt;" in svg


def test_short_frame_drops_install_prefixes():
    assert short_frame(f"f ({SP}/ray/serve/handle.py:12)") == "f (ray/serve/handle.py:12)"
    assert short_frame(f"g ({APP}/service.py:3)") == "g (serve_app/service.py:3)"
    assert short_frame("h (/usr/lib/python3.11/threading.py:982)") == "h (threading.py:982)"
    assert short_frame("thread: x") == "thread: x"


def test_summarise_turns_one_window_into_ms_per_request(tmp_path):
    me = os.getpid()
    raw = tmp_path / "101.raw.txt"
    raw.write_text(f"thread (1011): AsyncIO Thread: default;{TOK} 1\nthread (1011): AsyncIO Thread: default;{ENC} 3\n")
    raw.with_suffix(".log").write_text("py-spy> Wrote raw flamegraph data. Samples: 4 Errors: 0\n")
    t0 = {"user": 0, "nice": 0, "system": 0, "idle": 0, "iowait": 0, "irq": 0, "softirq": 0, "steal": 0}
    t1 = {**t0, "user": 900, "system": 100, "softirq": 20, "idle": 980}
    before = Snapshot(0.0, 50, 0, {101: ps.CpuSnapshot(0, {1011: ("ray::IDLE", 0)}), 202: ps.CpuSnapshot(0),
                                   me: ps.CpuSnapshot(0), 303: ps.CpuSnapshot(0)}, t0)
    after = Snapshot(10.0, 250, 3, {101: ps.CpuSnapshot(400, {1011: ("ray::IDLE", 400)}),
                                    202: ps.CpuSnapshot(100), me: ps.CpuSnapshot(50), 303: ps.CpuSnapshot(200)}, t1)
    load = Load(ok=250, latencies_ms=[10.0, 20.0, 30.0])
    w = Window(before, after, load, {101: {"pid": 303, "raw": raw, "log": raw.with_suffix(".log"), "rc": 0}})
    procs = [Proc("Classifier", "replica", 101, "Classifier"), Proc("raylet", "background", 202)]
    hz = os.sysconf("SC_CLK_TCK")
    r = summarise(w, procs, tmp_path / "out", "profile_t")

    assert r["load"]["requests"] == 200 and r["load"]["req_per_s"] == 20.0 and r["load"]["p50_ms"] == 20.0
    clf = r["processes"][0]
    assert clf["cpu_ms_per_request"] == pytest.approx(400 / hz * 1000 / 200, rel=1e-3)
    assert clf["stages"]["encoder"]["share"] == 0.75 and clf["stages"]["tokenize"]["share"] == 0.25
    assert clf["samples"] == 4 and clf["py_spy"].endswith("Samples: 4 Errors: 0")
    assert (tmp_path / "out" / "profile_t_Classifier.svg").is_file()
    un = r["unprofiled"]
    assert un["raylet"]["cpu_ms_per_request"] == pytest.approx(100 / hz * 1000 / 200, rel=1e-3)
    assert un["py-spy"]["cpu_s"] == pytest.approx(200 / hz, rel=1e-3)
    assert un["kernel irq + softirq"]["cpu_s"] == pytest.approx(20 / hz, rel=1e-3)
    # The machine was busy 1020 ticks; the processes and the kernel account for 770 of them.
    assert un["unaccounted (rest of the machine)"]["cpu_s"] == pytest.approx(250 / hz, rel=1e-3)
    assert r["totals"]["machine_busy_ms_per_request"] == pytest.approx(1020 / hz * 1000 / 200, rel=1e-3)

    text = table({"settings": {"config": "x/overhead_router.yaml", "placement": "deployment", "concurrency": 16,
                               "prompt": {"size": "~200", "tokens_mean": 196.0}},
                  "machine": {"cores": 2}, **r})
    assert "encoder" in text and "Classifier" in text and "raylet" in text
    assert "200 requests answered 200, 20.0 req/s" in text


def test_haproxy_is_counted_as_router_cpu_but_never_sampled(tmp_path):
    me = os.getpid()
    t0 = {"user": 0, "nice": 0, "system": 0, "idle": 0, "iowait": 0, "irq": 0, "softirq": 0, "steal": 0}
    before = Snapshot(0.0, 0, 0, {404: ps.CpuSnapshot(0), me: ps.CpuSnapshot(0)}, t0)
    after = Snapshot(10.0, 100, 0, {404: ps.CpuSnapshot(50), me: ps.CpuSnapshot(0)}, {**t0, "user": 50})
    procs = [Proc("HAProxy", "native", 404), Proc("HAProxyManager", "proxy", 405),
             Proc("Ingress", "replica", 406, "Ingress"), Proc("raylet", "background", 202)]
    assert [p.name for p in sampled(procs)] == ["HAProxyManager", "Ingress"]

    r = summarise(Window(before, after, Load(ok=100), {}), procs[:1], tmp_path, "profile_h")
    hz = os.sysconf("SC_CLK_TCK")
    (row,) = r["processes"]
    assert row["name"] == "HAProxy" and row["samples"] == 0 and row["flamegraph"] is None
    assert row["stages"] == {ps.HAPROXY: {"ms_per_request": pytest.approx(50 / hz * 1000 / 100, rel=1e-3),
                                          "share": 1.0}}
    assert r["totals"]["router_cpu_ms_per_request"] == pytest.approx(50 / hz * 1000 / 100, rel=1e-3)
    assert ps.HAPROXY in ps.COLOURS
