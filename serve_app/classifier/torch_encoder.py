"""The torch backend: a BERT-family model with mean pooling, L2-normalised.

torch and transformers are imported inside `TorchEncoder.__init__`, never at
module import, so importing this module is free.
"""

from __future__ import annotations

import os

import numpy as np

from serve_app.classifier.tokens import RowEncoder, TokenRows, default_model_path


class TorchEncoder(RowEncoder):
    """Embeds texts; one instance per process (it sets torch's thread count)."""

    def __init__(self, path: str | None = None, max_tokens: int = 256, torch_threads: int | None = None):
        import torch
        from transformers import AutoModel, AutoTokenizer

        self._torch = torch
        if torch_threads:
            torch.set_num_threads(torch_threads)
        self.path = path or default_model_path()
        # A local directory never needs the hub; a hub id is left to the
        # environment (HF_HUB_OFFLINE), so users with a hub can still use one.
        local = os.path.isdir(self.path)
        self._tokenizer = AutoTokenizer.from_pretrained(self.path, local_files_only=local)
        self._model = AutoModel.from_pretrained(self.path, local_files_only=local)
        self._model.eval()
        limit = getattr(self._model.config, "max_position_embeddings", 512)
        self._rows = TokenRows(self._tokenizer, max_tokens, limit)
        self.max_tokens = self._rows.max_tokens
        self._pad_id = self._rows.pad_id
        self.dim = int(self._model.config.hidden_size)

    def _embed(self, rows: list[list[int]]) -> np.ndarray:
        torch = self._torch
        width = max(len(r) for r in rows)  # pad to the longest in this batch only
        input_ids = torch.full((len(rows), width), self._pad_id, dtype=torch.long)
        mask = torch.zeros((len(rows), width), dtype=torch.long)
        for i, r in enumerate(rows):
            input_ids[i, : len(r)] = torch.tensor(r, dtype=torch.long)
            mask[i, : len(r)] = 1
        with torch.inference_mode():
            hidden = self._model(input_ids=input_ids, attention_mask=mask).last_hidden_state
            weights = mask.unsqueeze(-1).to(hidden.dtype)
            pooled = (hidden * weights).sum(1) / weights.sum(1).clamp(min=1e-9)
            pooled = torch.nn.functional.normalize(pooled, p=2, dim=1)
        return pooled.float().numpy()
