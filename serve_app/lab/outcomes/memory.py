"""The outcome memory in Qdrant (qdrant-edge, in-process HNSW), as the classifier would query it.

One point per outcome prompt: the unit MiniLM vector (cosine) and a payload
with the per-tier success (`slm`, `srm`, `llm`, `lrm`, a key missing where
the source has no model of the tier) and the `source`. A lookup returns the k
nearest points with their similarity; success.knn_estimate does the rest.
Points are ints 0..n-1 (Qdrant ids), so `idx` matches the memory arrays.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from serve_app.lab.outcomes import tiers


class OutcomeMemory:
    def __init__(self, path: str | Path, dim: int = 384, hnsw_m: int = 16, ef: int = 128):
        import qdrant_edge as q

        self.q = q
        self.path = os.path.abspath(str(path))
        self.dim = dim
        self.ef = ef
        config = q.EdgeConfig(vectors=q.EdgeVectorParams(size=dim, distance=q.Distance.Cosine),
                              hnsw_config=q.HnswIndexConfig(m=hnsw_m, ef_construct=100, full_scan_threshold=1000))
        exists = os.path.exists(os.path.join(self.path, "edge_config.json"))
        os.makedirs(self.path, exist_ok=True)
        self.shard = q.EdgeShard.load(self.path, config) if exists else q.EdgeShard.create(self.path, config)

    def build(self, vectors: np.ndarray, success: np.ndarray, sources: list[str], batch: int = 1000) -> None:
        q = self.q
        for start in range(0, len(vectors), batch):
            points = []
            for i in range(start, min(start + batch, len(vectors))):
                payload = {t: float(v) for t, v in zip(tiers.TIERS, success[i]) if not math.isnan(v)}
                payload["source"] = sources[i]
                points.append(q.Point(i, [float(x) for x in vectors[i]], payload))
            self.shard.update(q.UpdateOperation.upsert_points(points))
        self.shard.optimize()
        self.shard.flush()

    def count(self) -> int:
        return self.shard.info().points_count

    def search(self, vector: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """(similarities [k], success rows [k, 4] with NaN for a missing tier)."""
        q = self.q
        req = q.QueryRequest(limit=k, query=q.Query.Nearest([float(x) for x in vector]), with_payload=True,
                             with_vector=False, params=q.SearchParams(hnsw_ef=self.ef))
        pts = self.shard.query(req)
        sims = np.array([p.score for p in pts], np.float32)
        ys = np.array([[p.payload.get(t, np.nan) for t in tiers.TIERS] for p in pts], np.float64)
        return sims, ys.reshape(len(pts), len(tiers.TIERS))

    def close(self) -> None:
        self.shard.close()


def estimate(memory: OutcomeMemory, vector: np.ndarray, prior: np.ndarray, k: int, alpha: float,
             floor: float) -> np.ndarray:
    """success.knn_estimate for one prompt, from a Qdrant lookup."""
    from serve_app.lab.outcomes import success

    sims, ys = memory.search(vector, k)
    return success.knn_estimate(sims[None, :], np.arange(len(sims))[None, :], ys, prior[None, :], k, alpha, floor)[0][0]
