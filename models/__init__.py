"""Trained router models shipped with Triage, installed as `serve_app.models`.

This folder is package data (pyproject.toml maps the `serve_app.models`
package onto it), so a model is found by name from an editable checkout and
from an installed wheel alike, whatever the working directory.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path


def shipped_dir() -> Path:
    return Path(str(files(__name__)))


def shipped_names() -> list[str]:
    return sorted(p.name for p in shipped_dir().iterdir() if (p / "model.json").is_file())


def resolve(name_or_path: str) -> Path:
    """A directory path, or the name of a shipped model."""
    p = Path(name_or_path)
    if p.is_dir():
        return p
    shipped = shipped_dir() / name_or_path
    if (shipped / "model.json").is_file():
        return shipped
    raise FileNotFoundError(f"model {name_or_path!r}: no such directory, and not a shipped model "
                            f"(shipped: {', '.join(shipped_names()) or 'none'})")
