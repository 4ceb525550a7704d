"""Semantic cache: keys, hit guards, stores (embedded Qdrant edge, Qdrant server), deployment."""
