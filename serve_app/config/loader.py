"""Read a router config file and turn every problem into a path + message."""

from __future__ import annotations

import os
import re
from pathlib import Path

import yaml
from pydantic import ValidationError

from serve_app.config.schema import RouterConfig, cross_check
from serve_app.errors import ConfigError, ConfigProblem


def load_config(path: str | os.PathLike) -> RouterConfig:
    """Load and validate a router config YAML; raise ConfigError listing all problems."""
    source = str(path)
    try:
        text = Path(path).read_text()
    except OSError as exc:
        raise ConfigError(source, [ConfigProblem("", f"cannot read file: {exc.strerror}")]) from None
    return load_config_text(text, source)


def load_config_text(text: str, source: str = "<config>") -> RouterConfig:
    """The same, from YAML text (a RayService's inline router config)."""
    text, unset = interpolate_env(text)
    if unset:
        raise ConfigError(source, [ConfigProblem("", f"environment variable {v} is not set") for v in dict.fromkeys(unset)])
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(source, [ConfigProblem("", f"not valid YAML: {exc}")]) from None
    return parse_config(data, source)


_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


def interpolate_env(text: str) -> tuple[str, list[str]]:
    """Replace ${NAME} and ${NAME:-default}; return the text and the unset names.

    Text-level, so references also work unquoted inside flow mappings; whole
    comment lines are left alone (a ${VAR} there documents, it does not refer).
    """
    unset: list[str] = []

    def sub(m: re.Match) -> str:
        value = os.environ.get(m.group(1), m.group(2))
        if value is None:
            unset.append(m.group(1))
            return m.group(0)
        return value

    lines = text.splitlines(keepends=True)
    return "".join(line if line.lstrip().startswith("#") else _ENV_REF.sub(sub, line) for line in lines), unset


def parse_config(data: object, source: str = "<config>") -> RouterConfig:
    if not isinstance(data, dict):
        raise ConfigError(source, [ConfigProblem("", "the top level must be a mapping")])
    try:
        cfg = RouterConfig.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(source, [_problem(e) for e in exc.errors()]) from None
    problems = [ConfigProblem(p, m) for p, m in cross_check(cfg)]
    if problems:
        raise ConfigError(source, problems)
    return cfg


def _problem(err: dict) -> ConfigProblem:
    # pydantic puts the discriminator value into the location of union members
    # ("models.0.engine.dry_run.latency_ms"); users wrote no such key, drop it.
    loc = [str(p) for p in err["loc"]]
    loc = [p for i, p in enumerate(loc) if not (i > 0 and loc[i - 1] == "engine" and p in _ENGINE_TAGS)]
    msg = err["msg"]
    if err["type"] == "extra_forbidden":
        msg = "unknown key"
    elif err["type"] == "missing":
        msg = "required key is missing"
    elif err["type"] == "literal_error" or err["type"] == "union_tag_invalid":
        msg = f"{msg} (got {err.get('input')!r})"
    return ConfigProblem(".".join(loc), msg)


_ENGINE_TAGS = {"dry_run", "transformers", "openai", "vllm"}


def resolve_path(value: str, base: str | os.PathLike | None = None) -> str:
    """Expand ~ and env vars; relative paths are taken from `base` (or the cwd)."""
    p = Path(os.path.expandvars(os.path.expanduser(value)))
    if not p.is_absolute() and base is not None:
        p = Path(base) / p
    return str(p)
