"""Gateway process trees: CPU is counted over the whole tree, and stop() leaves nothing behind."""

from __future__ import annotations

import sys
import time

from serve_app.lab.bench import procs

# A parent that starts a busy child, then ignores SIGTERM: stop() must still end both.
TREE = """
import signal, subprocess, sys, time
signal.signal(signal.SIGTERM, signal.SIG_IGN)
child = subprocess.Popen([sys.executable, "-c", "while True: pass"])
print("started", flush=True)
time.sleep(600)
"""


def test_tree_cpu_and_stop(tmp_path):
    gw = procs.start("tree", [sys.executable, "-c", TREE], tmp_path / "tree.log", env=None)
    try:
        procs.wait_log(gw, "started", 1, 30)
        deadline = time.time() + 10
        while len(gw.tree()) < 2 and time.time() < deadline:
            time.sleep(0.05)
        child = gw.tree()[1]
        before = gw.cpu_seconds()
        time.sleep(0.3)
        assert gw.cpu_seconds() - before > 0.05  # the busy child counts
    finally:
        stopped = procs.stop(gw, grace_s=1)
    assert not gw.alive() and not procs._running(child)
    # The parent ignored SIGTERM, so both were killed once the grace ran out.
    assert {gw.pid, child.pid} <= set(stopped["killed_after_grace"])


def test_wait_log_reports_an_early_exit(tmp_path):
    gw = procs.start("dies", [sys.executable, "-c", "print('bye')"], tmp_path / "dies.log", env=None)
    try:
        procs.wait_log(gw, "never printed", 1, 30)
    except RuntimeError as exc:
        assert "exited with 0" in str(exc) and "bye" in str(exc)
    else:
        raise AssertionError("wait_log should have failed")
    finally:
        procs.stop(gw, grace_s=1)
