"""Load tests for Triage: Locust users for the OpenAI API, a headless runner and a side-by-side run.

Run from the repository root (`triage load run ...`); see loadtest/README.md.
Nothing here is imported by the router itself.
"""
