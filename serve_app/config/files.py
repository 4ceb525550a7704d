"""Validating config files as an operator has them: a router config, or a
Serve config (`applications: [...]`) whose `args.config` names one."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Mapping
from pathlib import Path

import yaml

from serve_app.config.loader import load_config, load_config_text, resolve_path
from serve_app.config.schema import AuthConfig
from serve_app.errors import ConfigError, ConfigProblem

IMPORT_PATH = "serve_app.app:build_app"


def duplicate_keys(auth: AuthConfig, environ: Mapping[str, str] = os.environ) -> list[ConfigProblem]:
    """Tenants whose key variables hold the same key: the key could not say
    whose request it is. Checked by `triage validate` and at start."""
    seen: dict[str, str] = {}
    problems = []
    for tenant, var in auth.tenants.items():
        key = environ.get(var)
        if key and key in seen:
            problems.append(ConfigProblem(f"auth.tenants.{tenant}",
                                          f"${var} holds the same key as tenant {seen[key]!r}'s"))
        elif key:
            seen[key] = tenant
    return problems


def validate_file(path: str) -> str:
    """Raise ConfigError with every problem; return a one-line summary if valid."""
    try:
        data = yaml.safe_load(Path(path).read_text())
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(path, [ConfigProblem("", str(exc))]) from None
    if isinstance(data, dict) and "applications" in data:
        return _validate_serve_config(path, data)
    cfg = load_config(path)
    _check_environment(path, cfg)
    return f"{len(cfg.models)} models"


def _check_environment(source: str, cfg) -> None:
    problems = duplicate_keys(cfg.auth)
    if problems:
        raise ConfigError(source, problems)


def _validate_serve_config(path: str, data: dict) -> str:
    problems, summaries = [], []
    for i, app in enumerate(data.get("applications") or []):
        where = f"applications.{i}"
        if app.get("import_path") != IMPORT_PATH:
            problems.append(ConfigProblem(f"{where}.import_path", f"must be {IMPORT_PATH}"))
            continue
        args = app.get("args") or {}
        ref = args.get("config")
        inline = args.get("config_inline")
        if not ref and inline is None:
            problems.append(ConfigProblem(f"{where}.args.config", "required key is missing (or args.config_inline)"))
            continue
        try:
            if inline is not None:
                ref = "args.config_inline"
                _check_environment(ref, load_config_text(inline, ref))
            else:
                _check_environment(ref, load_config(resolve_path(ref)))
        except ConfigError as err:
            problems += [ConfigProblem(f"{where}.args.config -> {ref}: {p.path}", p.message)
                         for p in err.problems]
        else:
            summaries.append(ref)
    if problems:
        raise ConfigError(path, problems)
    return "router configs: " + ", ".join(summaries)


def main(argv: list[str] | None = None, prog: str | None = None) -> int:
    """`triage validate`: every problem with its key path on stderr; exit 1 if any file is invalid."""
    p = argparse.ArgumentParser(prog=prog, description="Check router configs, or Serve configs that point at one.")
    p.add_argument("config", nargs="+")
    args = p.parse_args(argv)
    failed = 0
    for path in args.config:
        try:
            summary = validate_file(path)
        except ConfigError as err:
            print(err.message, file=sys.stderr)
            failed += 1
        else:
            print(f"{path}: OK ({summary})")
    return 1 if failed else 0
