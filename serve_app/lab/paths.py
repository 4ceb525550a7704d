"""Where the lab finds the public datasets: an explicit flag, else
$TRIAGE_DATASETS, else ../shared/datasets seen from the working directory
(the repository root in the README's commands). Never a path derived from
this file's location: the lab must work from an installed wheel too."""

from __future__ import annotations

import os
from pathlib import Path

ENV = "TRIAGE_DATASETS"
FALLBACK = "../shared/datasets"


def datasets_root(explicit: str | os.PathLike | None = None) -> Path:
    root = Path(explicit or os.environ.get(ENV) or FALLBACK)
    if not root.is_dir():
        raise FileNotFoundError(f"datasets root {root} is not a directory: pass --datasets or set ${ENV}")
    return root
