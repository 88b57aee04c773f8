"""The Bayesian classifiers' named configurations and search spaces, registered in the zoo."""

from __future__ import annotations

from zoo.basic.search_spaces import conv_stack_space, dense_stack_space
from zoo.registry import register
from zoo.uncertainty.bayesian_cnn import BayesianCNN
from zoo.uncertainty.bayesian_mlp import BayesianMLP


def posterior_space(hp) -> dict:
    """The weight prior (`"normal"` or `"scale_mixture"`) and the initial posterior scale.

    `kl_weight` is not searched: it follows from the training set's size (pin it with
    `zoo tune ... --fix kl_weight=...` for other data than the digits).
    """
    return {
        "prior": hp.Choice("prior", ["normal", "scale_mixture"]),
        "posterior_scale_init": hp.Float("posterior_scale_init", 1e-3, 1e-1, sampling="log"),
    }


def bayesian_mlp_search_space(hp) -> dict:
    """Depth, width and activation of `BayesianMLP`, its prior and initial posterior scale."""
    return {**dense_stack_space(hp), **posterior_space(hp)}


def bayesian_cnn_search_space(hp) -> dict:
    """Stages, width, kernel size and activation of `BayesianCNN`, its prior and posterior."""
    return {**conv_stack_space(hp), **posterior_space(hp)}


# The tiny configurations use the posterior mean so that the registry's shared checks, which
# compare outputs across calls, apply; tests/zoo/test_uncertainty.py runs the sampling models.
register(
    "bayesian_mlp_digits",
    BayesianMLP,
    family="uncertainty",
    task="classifier",
    search_space=bayesian_mlp_search_space,
    description="Bayesian (Flipout) MLP for 8x8 digits flattened to 64 features.",
    tiny={"hidden_units": (8,), "deterministic": True},
    input_shape=(64,),
    num_classes=10,
)
register(
    "bayesian_cnn_digits",
    BayesianCNN,
    family="uncertainty",
    task="classifier",
    search_space=bayesian_cnn_search_space,
    description="Bayesian (Flipout) CNN for 8x8x1 digits (2 conv stages, 32 and 64 filters).",
    tiny={"filters": (4,), "deterministic": True},
    input_shape=(8, 8, 1),
    num_classes=10,
)
