""".ci/run stops at the first failing step (it once ran `a && b && c` under
`set -e`, which bash does not stop on when `a` fails)."""

from __future__ import annotations

import os
import subprocess

import pytest

from tests.unit.factories import REPO_ROOT


def run_ci(tmp_path, failing: str | None) -> tuple[int, list[str]]:
    """Run .ci/run with fake pip, python and bash that log their calls; `failing` fails."""
    bin_dir, calls = tmp_path / "bin", tmp_path / "calls.log"
    bin_dir.mkdir()
    for tool in ("pip", "python", "bash"):
        code = 1 if tool == failing else 0
        (bin_dir / tool).write_text(f'#!/bin/sh\necho "{tool} $*" >> {calls}\nexit {code}\n')
        (bin_dir / tool).chmod(0o755)
    env = dict(os.environ, PATH=f"{bin_dir}:/usr/bin:/bin")
    out = subprocess.run(["/bin/bash", str(REPO_ROOT / ".ci" / "run")], env=env, capture_output=True, timeout=60)
    return out.returncode, calls.read_text().splitlines() if calls.exists() else []


def test_all_steps_run_in_order_when_they_pass(tmp_path):
    code, calls = run_ci(tmp_path, None)
    assert code == 0
    assert [c.split()[0] for c in calls] == ["pip", "pip", "python", "bash"]
    assert calls[2] == "python -m pytest" and calls[3] == "bash tests/vllm_cpu/run.sh"


@pytest.mark.parametrize("failing, ran", [("pip", ["pip"]), ("python", ["pip", "pip", "python"])])
def test_a_failing_step_fails_the_run_and_stops_it(tmp_path, failing, ran):
    code, calls = run_ci(tmp_path, failing)
    assert code != 0
    assert [c.split()[0] for c in calls] == ran
