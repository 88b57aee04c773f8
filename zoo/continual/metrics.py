"""Continual-learning metrics over the accuracy matrix R, and its plot.

`R[i, j]` is the accuracy on task `j`'s test data after training on tasks `0 .. i`; `T` is the
number of tasks trained (rows). All formulas are in Lopez-Paz & Ranzato 2017 (section 4) except
forgetting (Chaudhry et al. 2018).
"""

from __future__ import annotations

import os

import numpy as np


def _matrix(accuracy_matrix, square: bool = True) -> np.ndarray:
    matrix = np.asarray(accuracy_matrix, np.float64)
    if matrix.ndim != 2 or matrix.shape[0] == 0 or (square and matrix.shape[0] > matrix.shape[1]):
        raise ValueError(
            "`accuracy_matrix` must be a 2-D array R[i, j] with a row per trained task and a "
            f"column per task (at least as many columns as rows). Received: shape={matrix.shape}"
        )
    if not np.all(np.isfinite(matrix)):
        raise ValueError(f"`accuracy_matrix` has non-finite values. Received: {matrix.tolist()}")
    return matrix


def average_accuracy(accuracy_matrix) -> float:
    """ACC: the mean accuracy over the tasks trained so far, after the last one.

    `ACC = 1/T * sum_j R[T-1, j]` for `j < T`.

    Example: `average_accuracy([[0.9, 0.1], [0.6, 0.8]]) == 0.7`.
    """
    matrix = _matrix(accuracy_matrix)
    tasks = matrix.shape[0]
    return float(matrix[-1, :tasks].mean())


def backward_transfer(accuracy_matrix) -> float:
    """BWT: how training later tasks changed accuracy on earlier ones (negative: forgetting).

    `BWT = 1/(T-1) * sum_{j < T-1} (R[T-1, j] - R[j, j])`; 0 for a single task.

    Example: `backward_transfer([[0.9, 0.1], [0.6, 0.8]]) == -0.3`.
    """
    matrix = _matrix(accuracy_matrix)
    tasks = matrix.shape[0]
    if tasks == 1:
        return 0.0
    diagonal = np.diag(matrix)[: tasks - 1]
    return float(np.mean(matrix[-1, : tasks - 1] - diagonal))


def forward_transfer(accuracy_matrix, baseline) -> float:
    """FWT: accuracy on a task before training on it, over that of a randomly initialised model.

    `FWT = 1/(T-1) * sum_{1 <= j < T} (R[j-1, j] - b[j])`, `b[j]` the accuracy on task `j` at
    random initialisation; 0 for a single task.

    Args:
        accuracy_matrix: R, `T` rows.
        baseline: `b`, one accuracy per task (at least `T`).
    """
    matrix = _matrix(accuracy_matrix)
    baseline = np.asarray(baseline, np.float64).reshape(-1)
    tasks = matrix.shape[0]
    if len(baseline) < tasks:
        raise ValueError(
            f"`baseline` needs an accuracy for each of the {tasks} tasks. "
            f"Received: baseline={baseline.tolist()}"
        )
    if tasks == 1:
        return 0.0
    before = np.array([matrix[j - 1, j] for j in range(1, tasks)])
    return float(np.mean(before - baseline[1:tasks]))


def forgetting_per_task(accuracy_matrix) -> np.ndarray:
    """How much of its best accuracy each earlier task has lost by the end.

    `f[j] = max_{j <= l <= T-2} R[l, j] - R[T-1, j]` for `j < T-1` (Chaudhry et al. 2018,
    eq. 4, over the rows after task `j` was trained: accuracy on a task not yet learned is no
    knowledge to forget). Can be negative (backward transfer).

    Returns:
        An array of `T - 1` values (empty for a single task).
    """
    matrix = _matrix(accuracy_matrix)
    tasks = matrix.shape[0]
    return np.array([matrix[j : tasks - 1, j].max() - matrix[-1, j] for j in range(tasks - 1)])


def forgetting(accuracy_matrix) -> float:
    """Average forgetting: the mean of `forgetting_per_task` (0 for a single task).

    Example: `forgetting([[0.9, 0.1, 0.0], [0.7, 0.8, 0.1], [0.5, 0.9, 0.7]]) == 0.15`
    (task 0: 0.9 - 0.5; task 1: 0.8 - 0.9).

    Reference: Chaudhry et al., "Riemannian Walk for Incremental Learning: Understanding
    Forgetting and Intransigence", ECCV 2018.
    """
    values = forgetting_per_task(accuracy_matrix)
    return float(values.mean()) if len(values) else 0.0


def summarize(accuracy_matrix) -> dict[str, float]:
    """`{"average_accuracy", "backward_transfer", "forgetting"}` of R."""
    return {
        "average_accuracy": average_accuracy(accuracy_matrix),
        "backward_transfer": backward_transfer(accuracy_matrix),
        "forgetting": forgetting(accuracy_matrix),
    }


def plot_accuracy_matrix(accuracy_matrix, path: str, title: str = "accuracy matrix") -> str:
    """Writes R as an annotated heatmap PNG (rows: after training task i; columns: task j).

    Args:
        accuracy_matrix: R, one row per trained task (fewer rows than columns while the
            stream is under way).
        path: PNG file to write; parent directories are created.
        title: figure title; ACC, BWT and forgetting are added. Defaults to `"accuracy matrix"`.

    Returns:
        `path`.
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    matrix = _matrix(accuracy_matrix)
    rows, columns = matrix.shape
    size = (max(5.0, 2.0 + 0.8 * columns), max(4.0, 1.5 + 0.7 * rows))
    figure, axis = plt.subplots(figsize=size)
    image = axis.imshow(matrix, vmin=0.0, vmax=1.0, cmap="viridis")
    for i in range(rows):
        for j in range(columns):
            color = "black" if matrix[i, j] > 0.6 else "white"
            axis.text(j, i, f"{matrix[i, j]:.2f}", ha="center", va="center", color=color)
    axis.set_xticks(range(columns))
    axis.set_yticks(range(rows))
    axis.set_xlabel("evaluated on task j")
    axis.set_ylabel("after training task i")
    figure.colorbar(image, ax=axis, label="accuracy")
    metrics = summarize(matrix)
    axis.set_title(
        f"{title}\nACC {metrics['average_accuracy']:.3f}  BWT "
        f"{metrics['backward_transfer']:+.3f}  forgetting {metrics['forgetting']:.3f}",
        fontsize=10,
    )
    figure.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path
