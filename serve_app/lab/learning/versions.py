"""Versions of the learned adjustment, beside the outcome logs:

    <outcome folder>/versions/<scope>/v0003.json   one file per promoted version
    <outcome folder>/versions/current.json         {scope: version in force}
    <outcome folder>/versions/history.jsonl        every promotion, refusal and rollback

A scope is a tenant, or "*" for every tenant (learning.scope "shared").
Versions are never deleted, so a rollback is a pointer move.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

SHARED_DIR = "_shared"  # "*" is not a friendly directory name


class Versions:
    def __init__(self, folder: Path):
        self.root = folder / "versions"

    def _dir(self, scope: str) -> Path:
        return self.root / (SHARED_DIR if scope == "*" else scope)

    def _current(self) -> dict[str, int]:
        path = self.root / "current.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.exists() else {}

    def current(self, scope: str) -> dict | None:
        v = self._current().get(scope, 0)
        return self.load(scope, v) if v else None

    def in_force(self) -> dict[str, dict]:
        """{scope: adjustment} for every scope with a version in force: the Classifier's user_config."""
        return {scope: self.load(scope, v) for scope, v in sorted(self._current().items()) if v}

    def load(self, scope: str, version: int) -> dict:
        return json.loads((self._dir(scope) / f"v{version:04d}.json").read_text(encoding="utf-8"))["adjustment"]

    def parent(self, scope: str, version: int) -> int:
        return json.loads((self._dir(scope) / f"v{version:04d}.json").read_text(encoding="utf-8"))["parent"]

    def next_version(self, scope: str) -> int:
        d = self._dir(scope)
        return 1 + max((int(p.stem[1:]) for p in d.glob("v*.json")), default=0) if d.exists() else 1

    def promote(self, scope: str, adjustment: dict, report: dict) -> None:
        d = self._dir(scope)
        d.mkdir(parents=True, exist_ok=True)
        v = adjustment["version"]
        record = {"scope": scope, "version": v, "parent": self._current().get(scope, 0), "created_at": time.time(),
                  "report": report, "adjustment": adjustment}
        _write(d / f"v{v:04d}.json", record)
        self._set(scope, v, "promoted", report)

    def rollback(self, scope: str) -> int:
        """Back to the version before the one in force (0: none); returns it."""
        v = self._current().get(scope, 0)
        if not v:
            raise ValueError(f"scope {scope!r} has no learned version in force")
        parent = self.parent(scope, v)
        self._set(scope, parent, "rollback", {"from": v})
        return parent

    def refused(self, scope: str, report: dict) -> None:
        self._history({"scope": scope, "event": "refused", "report": report})

    def _set(self, scope: str, version: int, event: str, report: dict) -> None:
        current = self._current() | {scope: version}
        _write(self.root / "current.json", current)
        self._history({"scope": scope, "event": event, "version": version, "report": report})

    def _history(self, line: dict) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / "history.jsonl").open("a", encoding="utf-8") as f:
            f.write(json.dumps({**line, "at": time.time()}) + "\n")


def _write(path: Path, data: dict) -> None:
    # Whole or not at all: a crash mid-write must not leave a broken pointer.
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
    tmp.replace(path)
