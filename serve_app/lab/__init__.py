"""Tooling: training, evaluation, benchmarks; imports the runtime, never the reverse."""
