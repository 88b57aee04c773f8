"""`prune_low_magnitude` and `strip_pruning`: add and remove pruning wrappers on a whole model."""

from __future__ import annotations

import keras

from layers.pruning.schedule import PolynomialSparsity
from layers.pruning.wrapper import PRUNABLE, PruneLowMagnitude, kernel_of


def _functional(model: keras.Model, what: str) -> keras.Model:
    if not isinstance(model, keras.Model) or not model.built:
        raise TypeError(
            f"`{what}` must be a built Sequential or Functional keras.Model. "
            f"Received: {what}={model!r}"
        )
    try:
        return keras.Model(model.input, model.output)
    except (AttributeError, ValueError, TypeError) as error:
        raise TypeError(
            f"`{what}` must be a Sequential or Functional keras.Model (a subclassed model has no "
            f"graph to rewrite). Received: {what}={model!r}"
        ) from error


def _clone_with(model: keras.Model, clone_function) -> keras.Model:
    clone = keras.models.clone_model(model, clone_function=clone_function)
    return clone


def prune_low_magnitude(
    model: keras.Model,
    target_sparsity: float,
    schedule: PolynomialSparsity | None = None,
) -> keras.Model:
    """Returns a copy of `model` whose Conv2D, DepthwiseConv2D and Dense kernels get pruned.

    Each such layer is wrapped in `PruneLowMagnitude`; train with `PruningCallback` to raise the
    sparsity along `schedule` (Zhu and Gupta 2017), then call `strip_pruning` before export.
    Weights are copied from `model`. Compile the returned model before `fit`.

    Args:
        model: a built Sequential or Functional model.
        target_sparsity: final fraction of zero weights in each pruned kernel, in `[0, 1)`.
        schedule: a `PolynomialSparsity`, or `None` to prune to the target at the first step.
            Defaults to `None`.

    Returns:
        A new Functional model.

    Example:

    ```python
    pruned = prune_low_magnitude(model, 0.8, PolynomialSparsity(end_step=400, frequency=50))
    pruned.compile("adam", "sparse_categorical_crossentropy")
    pruned.fit(x, y, epochs=4, callbacks=[PruningCallback()])
    final = strip_pruning(pruned)
    ```

    Reference:
        Zhu and Gupta, "To prune, or not to prune: exploring the efficacy of pruning for model
        compression", 2017. https://arxiv.org/abs/1710.01878
    """
    if not isinstance(target_sparsity, int | float) or not 0.0 <= target_sparsity < 1.0:
        raise ValueError(
            f"`target_sparsity` must be in [0, 1). Received: target_sparsity={target_sparsity!r}"
        )
    graph = _functional(model, "model")

    def clone(layer):
        copy = layer.__class__.from_config(layer.get_config())
        if isinstance(layer, PRUNABLE):
            return PruneLowMagnitude(copy, target_sparsity, schedule)
        return copy

    pruned = _clone_with(graph, clone)
    for source, target in zip(graph.layers, pruned.layers, strict=True):
        inner = target.layer if isinstance(target, PruneLowMagnitude) else target
        inner.set_weights(source.get_weights())
    return pruned


def strip_pruning(model: keras.Model) -> keras.Model:
    """Returns a copy of a pruned model without `PruneLowMagnitude` wrappers, masks applied.

    Args:
        model: a model from `prune_low_magnitude`.

    Returns:
        A Functional model with the original layer types and the pruned (zero) weights.

    Example:

    ```python
    final = strip_pruning(pruned)
    ```
    """
    graph = _functional(model, "model")

    def clone(layer):
        inner = layer.layer if isinstance(layer, PruneLowMagnitude) else layer
        return inner.__class__.from_config(inner.get_config())

    stripped = _clone_with(graph, clone)
    for source, target in zip(graph.layers, stripped.layers, strict=True):
        if isinstance(source, PruneLowMagnitude):
            source.apply_mask()
            target.set_weights(source.layer.get_weights())
        else:
            target.set_weights(source.get_weights())
    return stripped


def sparsity(model: keras.Model) -> dict[str, float]:
    """Fraction of zero entries of each Conv2D/DepthwiseConv2D/Dense kernel, by layer name.

    Works on pruned (wrapped) and stripped models.

    Args:
        model: a Keras model.

    Returns:
        `{layer name: sparsity}`.

    Example:

    ```python
    sparsity(strip_pruning(pruned))  # {"conv_0": 0.8, ...}
    ```
    """
    result = {}
    for layer in model._flatten_layers():
        if isinstance(layer, PruneLowMagnitude):
            layer = layer.layer
        elif not isinstance(layer, PRUNABLE):
            continue
        result[layer.name] = float((keras.ops.convert_to_numpy(kernel_of(layer)) == 0).mean())
    return result
