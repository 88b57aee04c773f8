"""Few-shot accuracy over test episodes, with its 95% confidence interval."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable

import numpy as np

# The normal quantile of a two-sided 95% interval.
Z_95 = 1.96


@dataclasses.dataclass(frozen=True)
class FewShotAccuracy:
    """Mean query accuracy over episodes and the half-width of its 95% confidence interval.

    Attributes:
        mean: mean of the per-episode accuracies, in [0, 1].
        ci95: `1.96 * std / sqrt(num_episodes)`, the sample standard deviation (ddof=1) of
            the per-episode accuracies: the interval the few-shot papers report.
        per_episode: the accuracy of every episode.
    """

    mean: float
    ci95: float
    per_episode: np.ndarray

    @property
    def num_episodes(self) -> int:
        return len(self.per_episode)

    def __str__(self) -> str:
        return f"{100 * self.mean:.2f} +- {100 * self.ci95:.2f}%"

    @classmethod
    def from_accuracies(cls, accuracies) -> FewShotAccuracy:
        """The mean and 95% interval of per-episode accuracies (at least two episodes)."""
        accuracies = np.asarray(accuracies, dtype="float64")
        if accuracies.ndim != 1 or len(accuracies) < 2:
            raise ValueError(
                "A confidence interval needs the accuracies of at least two episodes. "
                f"Received: accuracies with shape {accuracies.shape}"
            )
        ci95 = Z_95 * accuracies.std(ddof=1) / np.sqrt(len(accuracies))
        return cls(float(accuracies.mean()), float(ci95), accuracies)


def few_shot_accuracy(
    classify: Callable, episodes: Iterable, num_episodes: int | None = None
) -> FewShotAccuracy:
    """Query accuracy of a few-shot classifier over test episodes, with a 95% interval.

    Args:
        classify: `classify(support_x, support_y, query_x) -> logits or probabilities
            [num_queries, n_way]`, e.g. `PrototypicalNetwork.classify`, or for MAML
            `lambda sx, sy, qx: maml.adapt(sx, sy)(qx)`.
        episodes: `(support_x, support_y, query_x, query_y)` episodes, such as
            `EpisodeSampler(...).dataset(600)` (the papers use 600 test episodes).
        num_episodes: stop after this many episodes. Defaults to `None`: all of them.

    Returns:
        A `FewShotAccuracy`.

    Example:

    ```python
    test = EpisodeSampler(data.test.x, data.test.y, n_way=5, k_shot=1, seed=1)
    result = few_shot_accuracy(proto.classify, test.dataset(600))
    print(result)  # e.g. "97.31 +- 0.30%"
    ```
    """
    accuracies = []
    for support_x, support_y, query_x, query_y in episodes:
        scores = np.asarray(classify(support_x, support_y, query_x))
        accuracies.append(np.mean(scores.argmax(axis=-1) == np.asarray(query_y)))
        if num_episodes is not None and len(accuracies) == num_episodes:
            break
    return FewShotAccuracy.from_accuracies(accuracies)
