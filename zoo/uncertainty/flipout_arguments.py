"""The arguments every Flipout layer of a Bayesian classifier shares, checked once."""

from __future__ import annotations

from typing import Any

from layers.validation import check_bool, check_non_negative_float

# The training split of scikit-learn's digits in `zoo.datasets.load_digits()` (80% of 1,797):
# the Bayesian classifiers' default `kl_weight` is one over it.
DIGITS_TRAINING_EXAMPLES = 1437


def flipout_arguments(
    kl_weight: float, prior, posterior_scale_init: float, deterministic: bool
) -> dict[str, Any]:
    """Checks the model-level Bayesian arguments and returns them as layer keyword arguments.

    `kl_weight` must be a number >= 0 and `deterministic` a bool; `prior` and
    `posterior_scale_init` are checked by the layers (`layers.bayesian`).
    """
    check_non_negative_float("kl_weight", kl_weight)
    check_bool("deterministic", deterministic)
    return {
        "kl_weight": kl_weight,
        "prior": prior,
        "posterior_scale_init": posterior_scale_init,
        "deterministic": deterministic,
    }
