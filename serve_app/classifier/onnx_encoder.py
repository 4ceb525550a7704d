"""The sentence encoder on ONNX Runtime with int8 weights: same contract as Encoder.

Why: fp32 PyTorch MiniLM takes 42 ms for a 186-token prompt on one thread
(26 ms on two), over the classifier's latency budget; dynamically quantised
int8 on ONNX Runtime takes 17 ms (2.3 ms for 20 tokens vs 12.5) at an embedding
cosine of ~0.99 to fp32; see serve_app/lab/bench/encoder_speed.py for the numbers
and the routing-accuracy cost.

The model is converted once per machine into
`<cache>/encoders/<name>-<key>-int8/` (model.onnx, tokenizer files,
encoder.json) by serve_app.convert_cache: atomic, marker-checked and locked,
so concurrent replicas convert once and never read half a directory. `key`
hashes the source model and the recipe below, so a changed model or recipe
gets a fresh directory instead of a stale one. Serving needs only
onnxruntime, numpy and the tokenizer; torch is used by the conversion alone.
Tokenisation and head+tail truncation are Encoder's (TokenRows), so token
counts and truncation flags match the torch backend exactly.
"""

from __future__ import annotations

import hashlib
import json
import os
import warnings
from pathlib import Path

import numpy as np

from serve_app.classifier.tokens import RowEncoder, TokenRows, default_model_path

# Measured on 50 dataset prompts against fp32 PyTorch (mean/min cosine):
# per-tensor 0.956/0.921, per-tensor + reduce_range 0.853/0.743, per-channel
# 0.994/0.988, per-channel on MatMul only 0.995/0.992 at the same speed. The
# word-embedding Gather stays fp32 in the last: it is a lookup, so int8 there
# saves memory (~35 MB) but no time. reduce_range (7-bit weights, for CPUs
# without VNNI, where u8*s8 can saturate) cost a little accuracy and no time
# on VNNI CPUs, so it is off. onnxruntime's suggested pre-processing
# (quant_pre_process; it logs a warning without) changed neither cosine nor
# speed here. Fusing the graph first (onnxruntime.transformers optimizer,
# QAttention) was 8% slower on 1 thread, 12% faster on 2, at the same
# agreement: not worth the model-specific step. Bump "version" on any change.
RECIPE = {"version": 1, "opset": 17, "weight_type": "QInt8", "per_channel": True,
          "reduce_range": False, "op_types": ["MatMul"]}
# How the session runs the graph; part of the embedding space (encoder.py),
# since it moves the vectors a little. ORT fuses residual Add + LayerNorm into
# SkipLayerNormalization, whose CPU kernel took 0.26 ms per call against
# 0.03 ms for a plain LayerNorm on a 128-token row (ORT 1.32, one thread):
# leaving the pair unfused takes a 128-token run from 13.2 to 11.8 ms
# (`triage bench encoder-ops`, loadtest/results/encoder_ops.json). Same
# arithmetic in another order, but the int8 activation quantisation of the
# next layer turns last-bit differences into embedding cosines of 0.9966 at
# least (mean 0.9995) to the fused run, so heads are trained on this one.
SESSION = {"disabled_optimizers": ["SkipLayerNormFusion"]}
# A conversion whose embeddings fall below this cosine to fp32 on the probe
# texts is refused (not published): it would silently misroute.
MIN_PROBE_COSINE = 0.97
PROBES = [
    "What is the capital of France?",
    "Write a Python function that reverses a linked list in place.",
    "A baker sells 3/4 of 24 muffins. How many are left? Explain each step.",
    "Summarise the obligations of each party in the following vendor agreement. " * 12,
]
MODEL_FILE = "model.onnx"
META_FILE = "encoder.json"


def cache_name(path: str) -> str:
    """`<slug>-<key>-int8`: readable, and unique per source model and recipe."""
    h = hashlib.sha256(json.dumps(RECIPE, sort_keys=True).encode())
    p = Path(path)
    if p.is_dir():
        # Content, not location: the same model installed elsewhere reuses the entry.
        cfg = p / "config.json"
        h.update(cfg.read_bytes() if cfg.is_file() else b"")
        for w in sorted(p.glob("*.safetensors")) + sorted(p.glob("*.bin")):
            h.update(f"{w.name}:{w.stat().st_size}".encode())
        slug = "all-minilm-l6-v2" if p.resolve() == Path(default_model_path()).resolve() else p.name
    else:  # a hub id
        h.update(path.encode())
        slug = path.replace("/", "--")
    return f"{slug.lower()}-{h.hexdigest()[:10]}-int8"


def is_converted(path: str | os.PathLike) -> bool:
    """A directory this module wrote (model.onnx + encoder.json): load it as is."""
    p = Path(path)
    return (p / MODEL_FILE).is_file() and (p / META_FILE).is_file()


def ensure_int8_model(path: str | None = None, cache_dir: str | None = None) -> Path:
    """The converted model directory for `path` (default: the packaged MiniLM)."""
    from serve_app.convert_cache import default_cache_dir, ensure_converted

    path = path or default_model_path()
    root = Path(cache_dir or default_cache_dir()) / "encoders"
    return ensure_converted(root, cache_name(path), lambda out: convert(path, out))


def convert(path: str, out: Path, recipe: dict = RECIPE) -> dict:
    """Export `path` to ONNX, quantise it to int8 into `out` by `recipe`, and check it."""
    import time

    import torch
    from onnxruntime.quantization import QuantType, quantize_dynamic
    from transformers import AutoModel, AutoTokenizer

    local = os.path.isdir(path)
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=local)
    # Eager attention exports as plain MatMul/Softmax, which ORT fuses and
    # quantises; the graph outputs hidden states only, pooling stays in numpy.
    model = AutoModel.from_pretrained(path, local_files_only=local, attn_implementation="eager")
    model.eval()
    ref = _torch_embed(torch, model, tokenizer, PROBES)
    fp32 = out / "fp32.onnx"
    t0 = time.perf_counter()
    _export(torch, model, fp32, recipe["opset"])
    t1 = time.perf_counter()
    quantize_dynamic(
        str(fp32), str(out / MODEL_FILE),
        weight_type=getattr(QuantType, recipe["weight_type"]),
        per_channel=recipe["per_channel"], reduce_range=recipe["reduce_range"],
        op_types_to_quantize=recipe["op_types"],
    )
    t2 = time.perf_counter()
    fp32.unlink()
    tokenizer.save_pretrained(str(out))
    meta = {"source": path, "dim": int(model.config.hidden_size),
            "max_position_embeddings": int(getattr(model.config, "max_position_embeddings", 512)),
            "recipe": recipe}
    (out / META_FILE).write_text(json.dumps(meta, indent=2) + "\n")
    cos = float((ref * OnnxEncoder.from_dir(out, threads=1).encode(PROBES).embeddings).sum(axis=1).min())
    if cos < MIN_PROBE_COSINE:
        raise RuntimeError(f"int8 encoder too far from fp32: probe cosine {cos:.4f} < {MIN_PROBE_COSINE}")
    return {**meta, "export_seconds": round(t1 - t0, 2), "quantize_seconds": round(t2 - t1, 2),
            "probe_min_cosine": round(cos, 5)}


def _export(torch, model, dest: Path, opset: int) -> None:
    class HiddenStates(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, attention_mask):
            return self.m(input_ids=input_ids, attention_mask=attention_mask).last_hidden_state

    ids = torch.ones((2, 16), dtype=torch.long)
    axes = {0: "batch", 1: "sequence"}
    # dynamo=False: the TorchScript exporter needs no onnxscript and gives the
    # classic BERT graph that ORT's fusions recognise. Its tracer warnings
    # concern branches that are constant for a padded batch (checked by tests).
    with warnings.catch_warnings(), torch.no_grad():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            # .eval(): the exporter restores the wrapper's mode onto its children
            # afterwards, and a new Module is in training mode (dropout on).
            HiddenStates(model).eval(), (ids, torch.ones_like(ids)), str(dest), dynamo=False,
            input_names=["input_ids", "attention_mask"], output_names=["last_hidden_state"],
            dynamic_axes={"input_ids": axes, "attention_mask": axes, "last_hidden_state": axes},
            opset_version=opset, do_constant_folding=True,
        )


def _torch_embed(torch, model, tokenizer, texts: list[str]) -> np.ndarray:
    """fp32 embeddings of `texts`, tokenised and pooled exactly as the encoders do."""
    rows_of = TokenRows(tokenizer, 256, int(getattr(model.config, "max_position_embeddings", 512)))
    rows, _, _ = rows_of(texts)
    ids, mask = pad_rows(rows, rows_of.pad_id)
    with torch.no_grad():
        hidden = model(input_ids=torch.from_numpy(ids), attention_mask=torch.from_numpy(mask)).last_hidden_state
    return mean_pool(hidden.numpy(), mask)


def pad_rows(rows: list[list[int]], pad_id: int) -> tuple[np.ndarray, np.ndarray]:
    """int64 ids and attention mask, padded to the longest row of this batch only."""
    width = max(len(r) for r in rows)
    ids = np.full((len(rows), width), pad_id, dtype=np.int64)
    mask = np.zeros((len(rows), width), dtype=np.int64)
    for i, r in enumerate(rows):
        ids[i, : len(r)] = r
        mask[i, : len(r)] = 1
    return ids, mask


def mean_pool(hidden: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Masked mean over tokens, L2-normalised, float32 (as Encoder does in torch)."""
    w = mask[..., None].astype(np.float32)
    pooled = (hidden.astype(np.float32) * w).sum(axis=1) / np.maximum(w.sum(axis=1), 1e-9)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    return (pooled / np.maximum(norms, 1e-12)).astype(np.float32)


def load_tokenizer(model_dir: Path):
    """The saved tokenizer, through `tokenizers` alone when tokenizer.json exists.

    transformers' AutoTokenizer imports torch (~250 MB of memory and ~2 s per
    replica) for nothing here; the Rust tokenizer behind it gives the same ids
    (checked by tests/unit/test_onnx_encoder.py against Encoder's counts).
    """
    if not (model_dir / "tokenizer.json").is_file():
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(str(model_dir), local_files_only=True)
    return _RustTokenizer(model_dir)


class _RustTokenizer:
    """The slice of the HF tokenizer call that TokenRows uses, over `tokenizers`."""

    def __init__(self, model_dir: Path):
        from tokenizers import Tokenizer

        self._tok = Tokenizer.from_file(str(model_dir / "tokenizer.json"))
        # Lengths are TokenRows' business (head+tail), never the tokenizer's.
        self._tok.no_truncation()
        self._tok.no_padding()
        cfg_path = model_dir / "tokenizer_config.json"
        cfg = json.loads(cfg_path.read_text()) if cfg_path.is_file() else {}
        pad = cfg.get("pad_token")
        pad = pad.get("content") if isinstance(pad, dict) else pad
        self.pad_token_id = self._tok.token_to_id(pad) if pad else None

    def __call__(self, texts, add_special_tokens: bool = True, verbose: bool = False) -> dict:
        if isinstance(texts, str):
            return {"input_ids": self._tok.encode(texts, add_special_tokens=add_special_tokens).ids}
        encs = self._tok.encode_batch(list(texts), add_special_tokens=add_special_tokens)
        return {"input_ids": [e.ids for e in encs]}


class OnnxEncoder(RowEncoder):
    """Embeds texts with the int8 ONNX model; `encode` as Encoder.encode.

    threads (ONNX Runtime intra-op threads) defaults to 1: the classifier
    scales by replicas, one per core, and a second thread per replica mostly
    competes with the proxy, the ingress and the other replica. Measured on 2
    idle cores (encoder_speed bench): a 186-token prompt takes 17 ms on 1
    thread and 17 ms on 2; batches of 16 run at 49 vs 57 prompts/s, so two
    1-thread replicas out-serve one 2-thread replica. Only with `spin` (idle
    pool threads spin-wait instead of sleeping) do 2 threads help a lone
    request, 12 ms, at the price of CPU burnt that the rest of the router
    shares; so it is off unless asked for.
    """

    def __init__(self, path: str | None = None, max_tokens: int = 256, threads: int | None = None,
                 cache_dir: str | None = None, spin: bool = False):
        self.path = path or default_model_path()
        self._load(ensure_int8_model(self.path, cache_dir), max_tokens, threads, spin)

    @classmethod
    def from_dir(cls, model_dir: str | os.PathLike, max_tokens: int = 256, threads: int | None = None,
                 spin: bool = False):
        """Load an already converted directory (no cache lookup, no conversion)."""
        self = cls.__new__(cls)
        self.path = str(model_dir)
        self._load(Path(model_dir), max_tokens, threads, spin)
        return self

    def _load(self, model_dir: Path, max_tokens: int, threads: int | None, spin: bool) -> None:
        from serve_app.convert_cache import read_marker

        self.model_dir = str(model_dir)
        self.conversion = read_marker(model_dir)  # None while converting (the probe)
        meta = json.loads((model_dir / META_FILE).read_text())
        self._rows = TokenRows(load_tokenizer(model_dir), max_tokens, meta["max_position_embeddings"])
        self.max_tokens = self._rows.max_tokens
        self.dim = int(meta["dim"])
        self.threads = int(threads or 1)
        self._session = open_session(model_dir / MODEL_FILE, self.threads, spin)

    def _embed(self, rows: list[list[int]]) -> np.ndarray:
        # One text per run, never a padded batch: dynamic int8 quantises the
        # activations per tensor, so in a batch a text's embedding would depend
        # on its batch-mates (cosine ~0.99 to itself alone: near-ties would
        # route differently under load). Alone is also no slower on 1 thread
        # (16 x 200 tokens: 320 ms vs 513 ms batched; 16 x 20: 38 vs 34 ms),
        # as one text's activations stay in cache.
        return np.concatenate([self._run(r) for r in rows])

    def _run(self, row: list[int]) -> np.ndarray:
        ids = np.asarray([row], dtype=np.int64)
        mask = np.ones_like(ids)
        (hidden,) = self._session.run(["last_hidden_state"], {"input_ids": ids, "attention_mask": mask})
        return mean_pool(hidden, mask)


def open_session(model_file: Path, threads: int, spin: bool = False, optimized_to: Path | None = None,
                 disabled_optimizers: list[str] | None = None, profile: bool = False):
    """The ONNX Runtime session every OnnxEncoder runs: `threads` intra-op
    threads, full graph optimisation but SESSION's. For tests and the
    encoder-ops bench: `optimized_to` also writes the graph as optimised,
    `disabled_optimizers` replaces SESSION's list, `profile` records op times."""
    import onnxruntime as ort

    if disabled_optimizers is None:
        disabled_optimizers = SESSION["disabled_optimizers"]
    opts = ort.SessionOptions()
    opts.enable_profiling = profile
    opts.intra_op_num_threads = threads
    opts.inter_op_num_threads = 1
    opts.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    opts.add_session_config_entry("session.intra_op.allow_spinning", "1" if spin else "0")
    if optimized_to is not None:
        opts.optimized_model_filepath = str(optimized_to)
    return ort.InferenceSession(str(model_file), opts, providers=["CPUExecutionProvider"],
                                disabled_optimizers=disabled_optimizers)
