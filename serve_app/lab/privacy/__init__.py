"""Privacy tooling: the labelled corpus generator and the detector evaluation.

`corpus` writes the JSONL corpus (split by template into train/bench),
`evaluate` runs a PrivacyDetector over it and reports per form; the
`__main__` module is their command line. Nothing is loaded at import.
"""
