"""A synthetic binary classification set biased against a sensitive group through a proxy."""

from __future__ import annotations

import dataclasses

import numpy as np

from layers.validation import check_non_negative_float, check_optional_seed, check_positive_int


@dataclasses.dataclass(frozen=True)
class BiasedData:
    """Features `x` (float32, `(n, merit_features + 1)`, the proxy last), labels `y` (int32, 0
    or 1) and the sensitive attribute `sensitive` (int32, 0 or 1), kept out of `x`."""

    x: np.ndarray
    y: np.ndarray
    sensitive: np.ndarray

    def split(self, test_fraction: float = 0.3) -> tuple[BiasedData, BiasedData]:
        """The first `1 - test_fraction` of the rows and the rest (rows are already shuffled)."""
        cut = int(round(len(self.y) * (1.0 - test_fraction)))
        head = BiasedData(self.x[:cut], self.y[:cut], self.sensitive[:cut])
        tail = BiasedData(self.x[cut:], self.y[cut:], self.sensitive[cut:])
        return head, tail


def make_biased_data(
    n: int = 2000,
    bias: float = 1.0,
    proxy_noise: float = 0.3,
    merit_features: int = 3,
    seed: int | None = 0,
) -> BiasedData:
    """Draws a dataset whose labels favour group 1, with a feature that reveals the group.

    Each row has a latent merit `z ~ N(0, 1)` and a group `a ~ Bernoulli(0.5)`. The label is
    `y = 1[z + bias * (a - 0.5) + e > 0]` with `e ~ N(0, 0.5^2)`: at `bias > 0` group 1 has the
    higher base rate (about 0.69 against 0.31 at `bias=1`). The features are `merit_features`
    noisy copies of `z` (noise `N(0, 0.5^2)`) and a proxy `a + N(0, proxy_noise^2)` (a postcode,
    say); `a` itself is not a feature. A classifier fit to `y` learns to use the proxy, so its
    selection rates differ between groups: the disparity the fairness tools measure and reduce.

    Args:
        n: rows. Defaults to `2000`.
        bias: how much group membership shifts the label. Defaults to `1.0`.
        proxy_noise: noise of the proxy feature (0: the proxy is the group). Defaults to `0.3`.
        merit_features: noisy copies of the merit. Defaults to `3`.
        seed: NumPy seed; the same seed gives the same data. Defaults to `0`.

    Returns:
        `BiasedData(x, y, sensitive)`.

    Example:

    ```python
    data = make_biased_data(2000, seed=0)
    train, test = data.split(0.3)
    ```
    """
    check_positive_int("n", n)
    check_positive_int("merit_features", merit_features)
    check_non_negative_float("bias", bias)
    check_non_negative_float("proxy_noise", proxy_noise)
    seed = check_optional_seed("seed", seed)
    rng = np.random.default_rng(seed)
    merit = rng.normal(size=n)
    group = rng.integers(0, 2, size=n)
    label = merit + bias * (group - 0.5) + rng.normal(scale=0.5, size=n) > 0
    copies = merit[:, None] + rng.normal(scale=0.5, size=(n, merit_features))
    proxy = group + rng.normal(scale=proxy_noise, size=n)
    x = np.concatenate([copies, proxy[:, None]], axis=1).astype("float32")
    return BiasedData(x, label.astype("int32"), group.astype("int32"))
