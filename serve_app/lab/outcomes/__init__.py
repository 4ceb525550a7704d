"""Outcome table and per-tier success models (research tooling).

tiers.py     every model of the three outcome sources -> params (with a source) -> tier
loaders.py   the three sources -> rows with per-model scores rescaled to "answered well" in [0, 1]
table.py     rows -> one outcome table (splits, per-tier success), JSONL + npy
features.py  the served features (unit MiniLM embedding + log length) and cheap text counts
success.py   per-tier heads, the kNN estimate over the outcome memory, the blend, calibration
pairs.py     weak/strong pair evaluation, per source, and the quality-target decision
memory.py    the outcome memory in Qdrant (qdrant-edge), as the classifier would query it
research.py  `python -m serve_app.lab.outcomes.research`: every number of the report
"""
