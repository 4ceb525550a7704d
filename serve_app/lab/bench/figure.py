"""One way for a bench to write its chart: matplotlib on the Agg backend
(no display), a suptitle, a tight layout, 110 dpi, and the figure closed."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def saved_figure(path: str, title: str, ncols: int = 1, figsize: tuple[float, float] = (8, 4)) -> Iterator:
    """Yields (fig, axes) from plt.subplots(1, ncols); written to `path` when the block ends."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, ncols, figsize=figsize)
    try:
        yield fig, axes
        fig.suptitle(title, fontsize=10)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
    finally:
        plt.close(fig)
