"""Convert-once directories in the shared cache: atomic, marker-checked, locked.

For every "derive an artifact directory from a model once per machine" step
(SmolLM2's HF directory, the ONNX int8 encoder):
- the converter writes into a temp dir beside the target, which is renamed
  into place atomically; a reader never sees a half-written directory;
- a marker file written last says "complete"; a directory without it is
  garbage and is replaced;
- an advisory file lock makes concurrent replicas on one machine wait for the
  first conversion instead of all burning CPU on the same work (correctness
  does not depend on the lock: the rename does that).
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import socket
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

log = logging.getLogger(__name__)

MARKER = ".triage-complete"
# A temp dir older than this belongs to a conversion that died.
_STALE_TMP_S = 3600


def default_cache_dir() -> str:
    return os.environ.get("TRIAGE_CACHE_DIR") or os.path.join(os.path.expanduser("~"), ".cache", "triage")


def read_marker(path: str | os.PathLike) -> dict | None:
    """The marker's JSON (what the converter reported), or None if incomplete."""
    try:
        return json.loads((Path(path) / MARKER).read_text())
    except (OSError, ValueError):
        return None


def ensure_converted(root: str | os.PathLike, name: str, convert: Callable[[Path], dict]) -> Path:
    """Return `root/name`, running `convert(tmp_dir) -> info` first if it is not complete.

    `convert` fills the empty directory it is given and returns a JSON-able
    dict, stored in the marker with the seconds it took. It must raise if the
    result is unusable: nothing is published then.
    """
    root = Path(root)
    final = root / name
    if (final / MARKER).is_file():
        return final
    root.mkdir(parents=True, exist_ok=True)
    with _file_lock(root / f".{name}.lock"):
        # Another replica may have finished while we waited for the lock.
        if (final / MARKER).is_file():
            return final
        _remove_stale_tmp(root, name)
        tmp = Path(tempfile.mkdtemp(prefix=f"{_tmp_prefix(name)}{os.getpid()}-", dir=root))
        os.chmod(tmp, 0o755)  # mkdtemp's 0700 would hide it from other users of a shared cache
        try:
            t0 = time.perf_counter()
            info = dict(convert(tmp) or {})
            info.update(convert_seconds=round(time.perf_counter() - t0, 2), created=int(time.time()))
            (tmp / MARKER).write_text(json.dumps(info) + "\n")
            _publish(tmp, final, name)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        _remove_stale_tmp(root, name)  # including any left while we converted
    log.info("%s converted into %s in %.1f s", name, final, info["convert_seconds"])
    return final


def _publish(tmp: Path, final: Path, name: str) -> None:
    """Atomically move the finished conversion into place."""
    if final.exists():
        # Only an incomplete leftover can be here (complete ones return early):
        # move it aside first, because rename() will not replace a non-empty dir.
        trash = Path(tempfile.mkdtemp(prefix=f".{name}.tmp-old-", dir=final.parent))
        with contextlib.suppress(FileNotFoundError):
            os.rename(final, trash / "old")
        shutil.rmtree(trash, ignore_errors=True)
    try:
        os.rename(tmp, final)
    except OSError:
        # Lost a race with a replica on another machine sharing this cache.
        if not (final / MARKER).is_file():
            raise


def _tmp_prefix(name: str) -> str:
    # Host and pid in the name let the next converter tell a dead one's leftovers.
    return f".{name}.tmp-{socket.gethostname()}-"


def _remove_stale_tmp(root: Path, name: str) -> None:
    """Delete what killed conversions left behind."""
    now, mine = time.time(), _tmp_prefix(name)
    for d in root.glob(f".{name}.tmp-*"):
        with contextlib.suppress(OSError, ValueError):
            pid = int(d.name[len(mine):].split("-", 1)[0]) if d.name.startswith(mine) else None
            if (pid is not None and not process_alive(pid)) or now - d.stat().st_mtime > _STALE_TMP_S:
                shutil.rmtree(d, ignore_errors=True)


def process_alive(pid: int) -> bool:
    """Whether a process of this host with this pid still runs (not a zombie)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    # A killed process can linger as a zombie and still answer kill(0).
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
