"""Training-data pipeline for the router classifier (sources -> labelled JSONL).

Submodules are imported explicitly by their users; nothing is loaded here.
"""
