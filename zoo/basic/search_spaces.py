"""KerasTuner search spaces of the small classifiers (`zoo tune`, `zoo.tuning`).

A search space is a callable `(hp) -> overrides` of the registered model's constructor
arguments. The architecture parts (`dense_stack_space`, `conv_stack_space`) are shared with
the Bayesian classifiers of `zoo.uncertainty`, which search the same layouts.
"""

from __future__ import annotations


def dense_stack_space(hp) -> dict:
    """Depth, width and activation of a stack of equal dense layers (`hidden_units`)."""
    depth = hp.Int("depth", 1, 3)
    width = hp.Choice("width", [32, 64, 128, 256])
    return {
        "hidden_units": (width,) * depth,
        "activation": hp.Choice("activation", ["relu", "swish", "elu"]),
    }


def conv_stack_space(hp) -> dict:
    """Stages (each doubling the filters), width, kernel size and activation of conv stages."""
    stages = hp.Int("stages", 1, 3)
    width = hp.Choice("width", [16, 32, 64])
    return {
        "filters": tuple(width * 2**i for i in range(stages)),
        "kernel_size": hp.Choice("kernel_size", [3, 5]),
        "activation": hp.Choice("activation", ["relu", "swish", "elu"]),
    }


def dropout_space(hp) -> dict:
    """The dropout rate, 0 to 0.5 in steps of 0.1."""
    return {"dropout": hp.Float("dropout", 0.0, 0.5, step=0.1)}


def mlp_search_space(hp) -> dict:
    """Depth, width, activation and dropout of `MLPClassifier`."""
    return {**dense_stack_space(hp), **dropout_space(hp)}


def cnn_search_space(hp) -> dict:
    """Stages, width, kernel size, activation and dropout of `SmallCNNClassifier`."""
    return {**conv_stack_space(hp), **dropout_space(hp)}
