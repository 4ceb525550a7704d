"""Pure rule functions: text -> spans, with no Presidio or spaCy import.

Each module owns one family of rules; `serve_app.privacy.recognizers` wraps
them as Presidio recognizers. Keeping them pure lets tests and the corpus
tooling call them directly and keeps the wrapping in one place.
"""
