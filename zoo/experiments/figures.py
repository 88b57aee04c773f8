"""The two experiments' figures as PNG files (matplotlib's Agg backend, no display needed)."""

from __future__ import annotations

import numpy as np

from zoo.plots import pyplot, save_figure


def plot_depth_vs_width(result: dict, path: str) -> str:
    """RMSE against depth and against width, one line per target (mean over seeds, with the
    seeds' spread as error bars), from `run_depth_vs_width`'s result.

    Args:
        result: what `run_depth_vs_width` returned.
        path: the PNG to write; parent folders are created.

    Returns:
        `path`.
    """
    plt = pyplot()
    figure, (by_depth, by_width) = plt.subplots(1, 2, figsize=(11, 4))
    targets = list(dict.fromkeys(row["target"] for row in result["rows"]))
    for target in targets:
        rows = [row for row in result["rows"] if row["target"] == target]
        means = [row["rmse_mean"] for row in rows]
        spread = [row["rmse_std"] for row in rows]
        for axis, key in ((by_depth, "depth"), (by_width, "width")):
            axis.errorbar([row[key] for row in rows], means, yerr=spread, marker="o", label=target)
    budget = result["config"]["budget"]
    for axis, label in ((by_depth, "depth (hidden layers)"), (by_width, "width (units per layer)")):
        axis.set_yscale("log")
        axis.set_xlabel(label)
        axis.set_ylabel("RMSE on a dense grid")
        axis.grid(alpha=0.3)
        axis.legend(fontsize=8)
    by_width.set_xscale("log")
    by_depth.set_title(f"equal parameter count (~{budget}): error vs depth")
    by_width.set_title("the same networks: error vs width")
    return save_figure(figure, path)


def plot_information_plane(result: dict, path: str) -> str:
    """I(T;Y) against I(X;T) per layer over training: one panel per activation and estimator,
    points coloured by epoch (log scale), from `run_information_plane`'s result.

    Args:
        result: what `run_information_plane` returned.
        path: the PNG to write; parent folders are created.

    Returns:
        `path`.
    """
    plt = pyplot()
    from matplotlib.colors import LogNorm

    activations = list(result["runs"])
    estimators = ("binning", "kde")
    figure, axes = plt.subplots(
        len(activations), 2, figsize=(11, 4.2 * len(activations)), squeeze=False
    )
    for row, activation in enumerate(activations):
        run = result["runs"][activation]
        epochs = np.asarray(run["epochs"])
        norm = LogNorm(vmin=1, vmax=max(2, int(epochs.max())))
        for column, estimator in enumerate(estimators):
            axis = axes[row][column]
            values = np.asarray(run[estimator])  # (epochs, layers, 2)
            for layer in range(values.shape[1]):
                axis.plot(values[:, layer, 0], values[:, layer, 1], color="0.7", lw=0.8, zorder=1)
                points = axis.scatter(
                    values[:, layer, 0],
                    values[:, layer, 1],
                    c=epochs,
                    cmap="viridis",
                    norm=norm,
                    s=14,
                    zorder=2,
                )
                axis.annotate(
                    f"L{layer + 1}",
                    values[-1, layer],
                    fontsize=7,
                    xytext=(3, 3),
                    textcoords="offset points",
                )
            statistics = run["compression"][estimator]
            axis.set_title(
                f"{activation}, {estimator}: compression mean {statistics['mean']:.2f}, "
                f"max {statistics['max']:.2f} bits",
                fontsize=10,
            )
            axis.set_xlabel("I(X;T) (bits)")
            axis.set_ylabel("I(T;Y) (bits)")
            axis.grid(alpha=0.3)
            figure.colorbar(points, ax=axis, label="epoch")
    return save_figure(figure, path)
