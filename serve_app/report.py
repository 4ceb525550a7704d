"""Step 6 of the request path: what happened, as metrics and one decision-log line.

The decision log is one JSON object per request (request id, tenant, status,
model, fallbacks with reasons, overhead, cache, the decision with its scores
and reason, the error). Where it goes is `ingress.decision_log.destination`:

- `file` (default): a JSONL file per Ingress replica, flushed at every line,
  named `triage_decisions_<replica>.jsonl`, in `decision_log.path` or else in
  the directory of the replica's own Serve log (where `ray logs` finds it);
- `replica_log`: the replica's Serve log itself (the `ray.serve` logger).
  Serve buffers that log: in its throughput-optimized mode lines appear
  1,000 at a time;
- `off`.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import threading
from pathlib import Path

from serve_app.config.schema import DecisionLogConfig
from serve_app.errors import TriageError
from serve_app.policy import Decision

SERVE_LOGGER = "ray.serve"
FILE_PREFIX = "triage_decisions_"


class DecisionLog:
    """Writes decision lines; `write` never raises (a full disk must not fail requests)."""

    def __init__(self, config: DecisionLogConfig, replica: str = ""):
        self.config = config
        self.path: Path | None = None
        self._lock = threading.Lock()
        self._file = None
        if config.destination == "file":
            directory = Path(config.path) if config.path else serve_log_dir()
            directory.mkdir(parents=True, exist_ok=True)
            name = _safe(replica) or str(os.getpid())
            self.path = directory / f"{FILE_PREFIX}{name}.jsonl"
            # Line-buffered append: each line reaches the file when written.
            self._file = self.path.open("a", encoding="utf-8", buffering=1)
        self._logger = logging.getLogger(f"{SERVE_LOGGER}.triage.decisions")

    def write(self, record: dict) -> None:
        line = json.dumps(record, ensure_ascii=False, default=str)
        try:
            if self._file is not None:
                with self._lock:
                    self._file.write(line + "\n")
            elif self.config.destination == "replica_log":
                self._logger.info(line)
        except OSError:
            logging.getLogger("triage").warning("decision log write failed", exc_info=True)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None


def serve_log_dir() -> Path:
    """The directory of this process's Serve log file (set up by Serve in
    every replica), or a temporary directory outside Serve."""
    for handler in logging.getLogger(SERVE_LOGGER).handlers:
        target = getattr(handler, "target", handler)  # Serve wraps its file handler in a MemoryHandler
        name = getattr(target, "baseFilename", None)
        if name:
            return Path(name).parent
    return Path(tempfile.gettempdir()) / "triage"


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in name)


class Reporter:
    """Metrics and the decision log for one finished request."""

    def __init__(self, metrics, log: DecisionLog | None):
        self.metrics = metrics
        self.log = log

    def request(self, request_id: str, tenant: str, decision: Decision | None, model: str,
                attempts: list[tuple[str, str]], overhead_s: float, status: str,
                error: TriageError | None = None, cache: str = "bypass", **extra) -> None:
        tier = decision.tier if decision else "none"
        domain = decision.domain if decision else "none"
        self.metrics.request(tier=tier, domain=domain, model=model, cache=cache, status=status)
        self.metrics.overhead(overhead_s, tier=tier)
        predicted = decision.scores.get(f"success.{tier}") if decision else None
        if predicted is not None:
            # Against the outcomes that come back (dashboard), drift of the estimates shows.
            self.metrics.predicted_success(predicted, tier=tier)
        if error is not None:
            self.metrics.error(type=type(error).__name__)
        if self.log is not None:
            self.log.write({
                "request_id": request_id,
                "tenant": tenant,
                "status": status,
                "model": model,
                "fallbacks": [{"model": m, "reason": r} for m, r in attempts],
                "overhead_ms": round(overhead_s * 1000, 2),
                "cache": cache,
                "decision": decision.summary() if decision else None,
                "error": error.message if error else None,
                **extra,
            })
