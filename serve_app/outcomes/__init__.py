"""Outcome routing at serve time: per-tier success estimates and the outcome memory."""
