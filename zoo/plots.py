"""Training-curve plots written as PNG files (matplotlib, no display needed)."""

from __future__ import annotations

import os


def pyplot():
    """`matplotlib.pyplot` on the Agg backend (writes files, needs no display)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(figure, path: str) -> str:
    """Lays out `figure`, writes it to the PNG `path` (parent folders created), closes it.

    Returns:
        `path`.
    """
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    figure.tight_layout()
    figure.savefig(path, dpi=100)
    pyplot().close(figure)
    return path


def plot_history(history: dict[str, list[float]], path: str, title: str = "training") -> str:
    """Plots every metric in a Keras `History.history` dict, train and validation together.

    Args:
        history: `History.history`: metric name to per-epoch values (`val_` prefixed for
            validation).
        path: PNG file to write; parent directories are created.
        title: figure title. Defaults to `"training"`.

    Returns:
        `path`.
    """
    plt = pyplot()
    metrics = [name for name in history if not name.startswith("val_")]
    if not metrics:
        raise ValueError(f"`history` has no training metrics. Received: history={history!r}")
    figure, axes = plt.subplots(1, len(metrics), figsize=(4.5 * len(metrics), 3.5), squeeze=False)
    for axis, name in zip(axes[0], metrics, strict=True):
        epochs = range(1, len(history[name]) + 1)
        axis.plot(epochs, history[name], label="train")
        if f"val_{name}" in history:
            axis.plot(epochs, history[f"val_{name}"], label="validation")
        axis.set_xlabel("epoch")
        axis.set_title(name)
        axis.grid(alpha=0.3)
        axis.legend()
    figure.suptitle(title)
    return save_figure(figure, path)
