"""Request classification: encoder, exemplar (task-vector) heads, sensitive-data rules."""
