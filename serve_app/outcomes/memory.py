"""The outcome memory: prompts with known per-tier outcomes, searched by embedding.

`SeededMemory` is the table a model ships (`outcome_memory.npz`: unit
vectors and per-tier success) loaded into an in-process Qdrant edge shard
(HNSW, cosine), like the semantic cache's embedded backend. Each classifier
replica builds its own at start (seconds) in a private directory, removed
when the memory is collected or the process exits, and swept by the next
memory when a process died without removing it; the shipped file is the source of truth, so nothing of it
needs to persist. Payload per point: one success value per tier that the
prompt's source had a model of (absent = NaN, no evidence for that tier).

Calls are synchronous: the classifier runs them in its worker thread with
the rest of a batch.
"""

from __future__ import annotations

import math
import os
import shutil
import tempfile
import weakref
from pathlib import Path

import numpy as np

from serve_app.convert_cache import process_alive

BATCH = 1000
PREFIX = "triage-outcome-memory-"


class SeededMemory:
    def __init__(self, vectors: np.ndarray, success: np.ndarray, tiers: tuple[str, ...],
                 directory: str | None = None, ef: int = 128):
        import qdrant_edge as q

        self._q = q
        self.tiers = tiers
        self.dim = int(vectors.shape[1])
        self.size = int(len(vectors))
        self.ef = ef
        _sweep(directory or tempfile.gettempdir())
        self._dir = tempfile.mkdtemp(prefix=f"{PREFIX}{os.getpid()}-", dir=directory)
        config = q.EdgeConfig(vectors=q.EdgeVectorParams(size=self.dim, distance=q.Distance.Cosine),
                              hnsw_config=q.HnswIndexConfig(m=16, ef_construct=100, full_scan_threshold=1000))
        self._shard = q.EdgeShard.create(self._dir, config)
        for start in range(0, self.size, BATCH):
            points = [q.Point(i, [float(x) for x in vectors[i]],
                              {t: float(v) for t, v in zip(tiers, success[i]) if not math.isnan(v)})
                      for i in range(start, min(start + BATCH, self.size))]
            self._shard.update(q.UpdateOperation.upsert_points(points))
        self._shard.optimize()  # build the HNSW graph once, before the first query
        self._release = weakref.finalize(self, _release, self._shard, self._dir)

    @classmethod
    def from_file(cls, path: str | os.PathLike, tiers: tuple[str, ...], directory: str | None = None) -> SeededMemory:
        with np.load(Path(path)) as z:
            vectors = z["vectors"].astype(np.float32)
            success = z["success"].astype(np.float64)
        return cls(vectors, success, tiers, directory)

    def nearest(self, vectors: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(similarities [n, k] best first, per-tier success [n, k, tiers] with NaN
        where a neighbour has no outcome for the tier); short rows are padded
        with similarity 0 and NaN outcomes (no evidence)."""
        q = self._q
        n, t = len(vectors), len(self.tiers)
        sims = np.zeros((n, k), np.float32)
        ys = np.full((n, k, t), np.nan)
        for row, vector in enumerate(vectors):
            req = q.QueryRequest(limit=k, query=q.Query.Nearest([float(x) for x in vector]), with_payload=True,
                                 with_vector=False, params=q.SearchParams(hnsw_ef=self.ef))
            for col, p in enumerate(self._shard.query(req)[:k]):
                sims[row, col] = p.score
                ys[row, col] = [p.payload.get(tier, np.nan) for tier in self.tiers]
        return sims, ys

    def close(self) -> None:
        self._shard = None
        self._release()


def _release(shard, directory: str) -> None:
    shard.close()
    shutil.rmtree(directory, ignore_errors=True)


def _sweep(parent: str) -> None:
    """Remove the directories of processes that died without removing theirs."""
    for entry in Path(parent).glob(f"{PREFIX}*"):
        pid = entry.name[len(PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or not process_alive(int(pid)):
            shutil.rmtree(entry, ignore_errors=True)

