"""Features the success heads see: what the classifier already computes, plus
a few text counts (regex over the raw prompt, ~20 us each at 1k characters).

served(embeddings, tokens): unit MiniLM embedding (onnx-int8, 128-token
head+tail budget) + log1p(tokens)/8, exactly `heads.features`.
counts(prompts): TEXT_FEATURES, each log-scaled into roughly [0, 1].
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import numpy as np

from serve_app.classifier.heads import features as served_features

ENCODER = {"backend": "onnx-int8", "max_tokens": 128}

_NUMBER = re.compile(r"(?<![\w.])[-+]?\d+(?:[.,]\d+)*(?:\.\d+)?%?")
_OPTION = re.compile(r"^\s*\(?[A-J][.)]\s", re.M)
_MATH = re.compile(r"[=+*/^<>√∑∫π×÷≤≥]|\\(?:frac|sqrt|int|sum|cdot)")
_SENTENCE = re.compile(r"[.!?](?:\s|$)")
_CODE = re.compile(r"```|\bdef |\breturn\b|\bassert\b|[{};]\s*$", re.M)

TEXT_FEATURES = ("numbers", "distinct_numbers", "options", "math_symbols", "questions", "sentences", "lines",
                 "code_marks", "chars")


def text_counts(prompt: str) -> list[float]:
    nums = _NUMBER.findall(prompt)
    raw = (len(nums), len(set(nums)), len(_OPTION.findall(prompt)), len(_MATH.findall(prompt)),
           prompt.count("?"), len(_SENTENCE.findall(prompt)), prompt.count("\n") + 1,
           len(_CODE.findall(prompt)), len(prompt))
    # log1p keeps huge prompts in range; the divisors put typical prompts near 0..1.
    scale = (4, 4, 2.5, 4, 3, 4, 4, 3, 9)
    return [math.log1p(v) / s for v, s in zip(raw, scale)]


def counts(prompts: list[str]) -> np.ndarray:
    return np.array([text_counts(p) for p in prompts], np.float32).reshape(len(prompts), len(TEXT_FEATURES))


def served(embeddings: np.ndarray, tokens) -> np.ndarray:
    return served_features(embeddings, tokens)


def embed(prompts: list[str], cache_dir: Path, progress=None, encoder: str | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Serving embeddings, cached on disk by embed.py (a rerun embeds nothing).
    `encoder`: the model's fine-tuned encoder directory, None for the packaged MiniLM."""
    from serve_app.lab.training.embed import embed_prompts

    return embed_prompts(prompts, backend=ENCODER["backend"], max_tokens=ENCODER["max_tokens"],
                         cache_dir=Path(cache_dir), threads=1, progress=progress, encoder=encoder)
