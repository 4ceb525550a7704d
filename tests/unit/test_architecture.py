"""The package's shape, checked: import contracts, the package list, the model-deployment protocol.

Runs in the README's test command, so CI enforces it.
"""

from __future__ import annotations

import ast
import shutil
import subprocess

import pytest
import tomllib

from tests.unit.factories import REPO_ROOT

PYPROJECT = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
NOT_RUNTIME = {"serve_app.lab", "serve_app.cli", "serve_app.__main__", "serve_app.models"}


def test_import_contracts_are_kept():
    """The runtime never imports the lab; policy stays pure; no import cycles."""
    lint = shutil.which("lint-imports")
    assert lint, "lint-imports not found: pip install -e '.[test]'"
    out = subprocess.run([lint, "--config", str(REPO_ROOT / "pyproject.toml")], cwd=REPO_ROOT,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stdout[-4000:] + out.stderr[-2000:]
    assert "0 broken" in out.stdout


def test_every_runtime_module_is_under_the_runtime_contract():
    """A new top-level module must join the "runtime never imports the lab"
    contract (or be tooling): nothing slips past it by being left out."""
    contract = next(c for c in PYPROJECT["tool"]["importlinter"]["contracts"] if c["type"] == "forbidden")
    listed = set(contract["source_modules"])
    top = {f"serve_app.{p.stem}" for p in (REPO_ROOT / "serve_app").glob("*.py") if p.stem != "__init__"}
    top |= {f"serve_app.{p.parent.name}" for p in (REPO_ROOT / "serve_app").glob("*/__init__.py")}
    assert top - NOT_RUNTIME == listed


def test_package_list_matches_the_tree():
    """pyproject lists packages by hand (serve_app.models maps to models/):
    a package missing from the list would be missing from the wheel."""
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(REPO_ROOT).parts) for p in (REPO_ROOT / "serve_app").rglob("__init__.py")}
    assert listed == found | {"serve_app.models"}
    assert PYPROJECT["tool"]["setuptools"]["package-dir"] == {"serve_app.models": "models"}
    assert (REPO_ROOT / "models" / "__init__.py").is_file()


def _methods(path, class_name: str) -> dict[str, list[str]]:
    """Method name -> parameter names of a class, read from source (these
    deployments import Ray or vLLM, which unit tests never import)."""
    tree = ast.parse((REPO_ROOT / path).read_text())
    cls = next(n for n in ast.walk(tree) if isinstance(n, ast.ClassDef) and n.name == class_name)
    return {f.name: [a.arg for a in f.args.args + f.args.kwonlyargs]
            for f in cls.body if isinstance(f, (ast.FunctionDef, ast.AsyncFunctionDef))}


PROTOCOL = _methods("serve_app/engines/base.py", "ModelDeployment")


@pytest.mark.parametrize("path, name", [("serve_app/engines/deployment.py", "ModelServer"),
                                        ("serve_app/engines/vllm_server.py", "TriageLLMServer")])
def test_model_deployments_implement_the_protocol(path, name):
    """The handle adapter calls exactly the protocol's methods, so every model
    deployment has them, with the same parameters."""
    methods = _methods(path, name)
    for method, params in PROTOCOL.items():
        assert methods.get(method) == params, (name, method, methods.get(method), params)


def test_handle_adapter_calls_only_protocol_methods():
    """RemoteModel reaches a model only through ModelDeployment's names."""
    tree = ast.parse((REPO_ROOT / "serve_app/engines/remote.py").read_text())
    called = {n.func.value.attr for n in ast.walk(tree)
              if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "remote"
              and isinstance(n.func.value, ast.Attribute)}
    assert called == set(PROTOCOL)


def test_ruff_is_clean():
    ruff = shutil.which("ruff")
    assert ruff, "ruff not found: pip install -e '.[test]'"
    out = subprocess.run([ruff, "check", "serve_app", "tests", "loadtest", "models"], cwd=REPO_ROOT,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stdout[-4000:]
