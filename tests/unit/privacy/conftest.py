"""One detector per test session: building it loads spaCy (seconds on 2 cores)."""

import os
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def detector():
    from serve_app.privacy.detector import PrivacyDetector

    return PrivacyDetector()


@pytest.fixture(scope="session")
def datasets() -> Path:
    root = Path(__file__).resolve().parents[3]  # the repository (a checkout or a worktree beside it)
    for candidate in (Path(os.environ.get("TRIAGE_DATASETS", root / "../shared/datasets")),
                      root / "../shared/datasets", root / "../../shared/datasets"):
        if (candidate / "presidio_synth").is_dir():
            return candidate
    pytest.skip("shared datasets not found")
