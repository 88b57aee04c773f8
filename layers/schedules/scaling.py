"""Scaling a learning rate with the batch size."""

from __future__ import annotations

import math

from layers.validation import check_choice, check_positive_float, check_positive_int

RULES = ("linear", "sqrt")


def scale_learning_rate(
    base_lr: float, batch_size: int, base_batch_size: int = 256, rule: str = "linear"
) -> float:
    """The learning rate for `batch_size`, given one that works at `base_batch_size`.

    `"linear"` multiplies by `batch_size / base_batch_size` (Goyal et al. 2017, for SGD);
    `"sqrt"` by its square root (Krizhevsky 2014; often used for adaptive optimizers). Large
    scaled rates usually need a warmup: wrap the schedule in `LinearWarmup`.

    Args:
        base_lr: the rate tuned at `base_batch_size`.
        batch_size: the global batch size to train with (all replicas together).
        base_batch_size: the batch size `base_lr` was tuned for. Defaults to `256`.
        rule: `"linear"` or `"sqrt"`. Defaults to `"linear"`.

    Returns:
        The scaled learning rate.

    Example:

    ```python
    scale_learning_rate(0.1, batch_size=1024)  # 0.4
    scale_learning_rate(1e-3, batch_size=1024, rule="sqrt")  # 0.002
    ```

    Reference:
        Goyal et al., "Accurate, Large Minibatch SGD: Training ImageNet in 1 Hour", 2017,
        https://arxiv.org/abs/1706.02677.
    """
    check_positive_float("base_lr", base_lr)
    check_positive_int("batch_size", batch_size)
    check_positive_int("base_batch_size", base_batch_size)
    check_choice("rule", rule, RULES)
    ratio = batch_size / base_batch_size
    return float(base_lr * (ratio if rule == "linear" else math.sqrt(ratio)))
