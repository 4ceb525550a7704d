"""Classification metrics, pure numpy (hand-checkable; no sklearn needed).

Rows whose label is missing (None) are skipped per head by the callers.
"""

from __future__ import annotations

import numpy as np


def multiclass(y_true: list[str], y_pred: list[str], labels: list[str]) -> dict:
    """Accuracy, macro-F1 over classes present in y_true, per-class P/R/F1, confusion."""
    index = {lab: i for i, lab in enumerate(labels)}
    cm = np.zeros((len(labels), len(labels)), dtype=np.int64)
    for t, p in zip(y_true, y_pred):
        cm[index[t], index[p]] += 1
    n = int(cm.sum())
    per_class = {}
    for lab, i in index.items():
        tp = int(cm[i, i])
        support = int(cm[i].sum())
        predicted = int(cm[:, i].sum())
        prec = tp / predicted if predicted else 0.0
        rec = tp / support if support else 0.0
        f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
        per_class[lab] = {"precision": prec, "recall": rec, "f1": f1, "support": support}
    present = [lab for lab in labels if per_class[lab]["support"]]
    return {
        "n": n,
        "accuracy": float(np.trace(cm) / n) if n else 0.0,
        # Over the classes that occur in this file: a held-out file without
        # any "llm" row should not score a zero F1 for it.
        "macro_f1": float(np.mean([per_class[lab]["f1"] for lab in present])) if present else 0.0,
        "per_class": per_class,
        "labels": list(labels),
        "confusion": cm.tolist(),
    }


def binary(y_true: list[bool], scores: list[float], threshold: float) -> dict:
    """P/R/F1 at `threshold`, plus recall at 95% precision over all thresholds."""
    y = np.asarray(y_true, dtype=bool)
    s = np.asarray(scores, dtype=np.float64)
    pred = s >= threshold
    tp = int((pred & y).sum())
    fp = int((pred & ~y).sum())
    fn = int((~pred & y).sum())
    prec = tp / (tp + fp) if tp + fp else 0.0
    rec = tp / (tp + fn) if tp + fn else 0.0
    return {
        "n": int(len(y)), "positives": int(y.sum()), "threshold": threshold,
        "precision": prec, "recall": rec,
        "f1": 2 * prec * rec / (prec + rec) if prec + rec else 0.0,
        "accuracy": float((pred == y).mean()) if len(y) else 0.0,
        "recall_at_95_precision": recall_at_precision(y, s, 0.95),
    }


def recall_at_precision(y: np.ndarray, s: np.ndarray, min_precision: float) -> float:
    """Best recall among thresholds whose precision reaches `min_precision`."""
    if not y.any():
        return 0.0
    order = np.argsort(-s, kind="stable")
    ys, ss = y[order], s[order]
    tp = np.cumsum(ys)
    fp = np.cumsum(~ys)
    # Only cut between distinct scores: tied rows go in together.
    last_of_tie = np.r_[ss[1:] != ss[:-1], True]
    precision = tp / (tp + fp)
    ok = last_of_tie & (precision >= min_precision)
    return float(tp[ok].max() / y.sum()) if ok.any() else 0.0


def best_f1_threshold(y: np.ndarray, s: np.ndarray) -> float:
    """The score cut with the highest F1 (ties: the higher cut)."""
    best, best_t = -1.0, 0.5
    for t in np.unique(s):
        pred = s >= t
        tp = (pred & y).sum()
        f1 = 2 * tp / (pred.sum() + y.sum()) if pred.sum() + y.sum() else 0.0
        if f1 >= best:
            best, best_t = f1, float(t)
    return best_t


def threshold_for_recall(y: np.ndarray, s: np.ndarray, min_recall: float) -> float:
    """The highest cut that still keeps `min_recall` of the positives."""
    pos = np.sort(s[y])[::-1]
    if len(pos) == 0:
        return 0.5
    k = int(np.ceil(min_recall * len(pos))) - 1
    return float(pos[max(k, 0)])
