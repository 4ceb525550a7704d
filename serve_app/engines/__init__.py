"""Model backends (engines) and the tier deployment that hosts them."""
