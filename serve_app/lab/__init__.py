"""Tooling: training, evaluation, benchmarks, load tests, manifest generators.

The lab imports the runtime; the runtime never imports the lab (enforced by
import-linter, see pyproject.toml). Its extra dependencies come with
`pip install 'triage-router[lab]'`.
"""
