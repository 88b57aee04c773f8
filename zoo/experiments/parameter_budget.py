"""Equal parameter counts across depths: the width of a ReLU MLP that spends a budget."""

from __future__ import annotations

import math

from layers.validation import check_positive_int


def mlp_parameter_count(depth: int, width: int, input_dim: int = 1, output_dim: int = 1) -> int:
    """Weights and biases of an MLP with `depth` hidden layers of `width` units each.

    Args:
        depth: hidden layers (>= 1).
        width: units per hidden layer (>= 1).
        input_dim: input features. Defaults to 1.
        output_dim: outputs (one linear layer). Defaults to 1.

    Returns:
        `(input_dim + 1) * width + (depth - 1) * (width + 1) * width + (width + 1) * output_dim`,
        what Keras's `count_params()` reports for that stack of `Dense` layers.

    Example:

    ```python
    mlp_parameter_count(depth=1, width=10)  # 31 = 20 + 11
    ```
    """
    for name, value in (
        ("depth", depth),
        ("width", width),
        ("input_dim", input_dim),
        ("output_dim", output_dim),
    ):
        check_positive_int(name, value)
    return (input_dim + 1) * width + (depth - 1) * (width + 1) * width + (width + 1) * output_dim


def width_for_budget(depth: int, budget: int, input_dim: int = 1, output_dim: int = 1) -> int:
    """The width whose MLP parameter count is closest to `budget` (the smaller on a tie).

    The count is `(d - 1) w^2 + (input_dim + d + output_dim) w + output_dim` for `d`
    hidden layers of width `w`; the real root of `count = budget` is rounded both ways and the
    closer count wins.

    Args:
        depth: hidden layers (>= 1).
        budget: the parameter budget; must allow width 1.
        input_dim: input features. Defaults to 1.
        output_dim: outputs. Defaults to 1.

    Returns:
        The width (>= 1).

    Example:

    ```python
    width_for_budget(depth=1, budget=301)  # 100: 3 * 100 + 1 parameters
    ```
    """
    check_positive_int("depth", depth)
    check_positive_int("budget", budget)
    smallest = mlp_parameter_count(depth, 1, input_dim, output_dim)
    if budget < smallest:
        raise ValueError(
            f"`budget` must allow width 1 at depth {depth} ({smallest} parameters). "
            f"Received: budget={budget}"
        )
    a = depth - 1
    b = input_dim + depth + output_dim
    c = output_dim - budget
    root = -c / b if a == 0 else (-b + math.sqrt(b * b - 4 * a * c)) / (2 * a)
    candidates = {max(1, math.floor(root)), max(1, math.ceil(root))}
    return min(
        candidates,
        key=lambda w: (abs(mlp_parameter_count(depth, w, input_dim, output_dim) - budget), w),
    )
