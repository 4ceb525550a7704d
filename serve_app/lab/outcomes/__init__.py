"""Outcome table and per-tier success models (lab tooling).

tiers.py      every model of the three outcome sources -> params (with a source) -> tier
loaders.py    the three sources -> rows with per-model scores rescaled to "answered well" in [0, 1]
table.py      rows -> one outcome table (splits, per-tier success), JSONL + npy
features.py   the served features (unit MiniLM embedding + log length) and cheap text counts
success.py    per-tier heads, the kNN estimate over the outcome memory, the blend, calibration
pairs.py      weak/strong pair evaluation, per source, and the quality-target decision
fit.py        the served success model with the chosen settings (`triage train` calls it)
export.py     `triage data routing`: held-out and val routing-outcome files for `triage eval routing`
research.py   `triage experiment success-models`: the grid every choice was made on (val), with
              evaluation.py, report.py, served.py (its estimator variants), plots.py and tables.py
"""
