"""Benchmarks run by `triage bench ...`: scripts that measure and report, never judge.

Nothing here is imported by the router itself.
"""
