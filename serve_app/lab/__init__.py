"""Tooling around the runtime (corpora, evaluations, benchmarks).

The runtime never imports this package; it imports the runtime.
"""
