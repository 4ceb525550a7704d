"""Triage: a semantic router for LLM inference on Ray Serve.

Nothing happens at import time: no clients, no settings, no models.
"""

__version__ = "0.1.0"
