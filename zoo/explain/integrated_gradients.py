"""Integrated gradients: per-feature attributions that add up to the change of the output."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from layers.validation import check_choice, check_positive_int
from zoo.explain.model_outputs import check_class_index, check_model_input, class_scores

METHODS = ("gauss_legendre", "riemann_trapezoid")


def path_points(steps: int, method: str = "gauss_legendre") -> tuple[np.ndarray, np.ndarray]:
    """`(alphas, weights)`: where on the path from baseline to input the gradient is taken, and
    how much each point counts (the weights sum to 1).

    Args:
        steps: number of points (gradient evaluations); at least 2 for `"riemann_trapezoid"`.
        method: `"gauss_legendre"` (exact for polynomials of degree `2 * steps - 1` along the
            path) or `"riemann_trapezoid"` (evenly spaced, both ends included). Defaults to
            `"gauss_legendre"`.

    Returns:
        Two float64 arrays of `steps` values.

    Example:

    ```python
    alphas, weights = path_points(3)  # Gauss-Legendre nodes on [0, 1]
    ```
    """
    check_positive_int("steps", steps)
    check_choice("method", method, METHODS)
    if method == "gauss_legendre":
        nodes, weights = np.polynomial.legendre.leggauss(steps)
        return (nodes + 1.0) / 2.0, weights / 2.0
    if steps < 2:
        raise ValueError(
            f"`steps` must be at least 2 for method='riemann_trapezoid'. Received: steps={steps}"
        )
    weights = np.full(steps, 1.0 / (steps - 1))
    weights[[0, -1]] /= 2.0
    return np.linspace(0.0, 1.0, steps), weights


def _baseline_for(baseline, inputs: np.ndarray) -> np.ndarray:
    if baseline is None:
        return np.zeros_like(inputs)
    array = np.asarray(baseline, dtype="float32")
    try:
        return np.broadcast_to(array, inputs.shape).astype("float32")
    except ValueError:
        raise ValueError(
            f"`baseline` must broadcast to the inputs' shape {inputs.shape} (a number, one "
            f"example or one per example). Received: baseline.shape={array.shape}"
        ) from None


def _scores(model: keras.Model, inputs: np.ndarray) -> np.ndarray:
    return class_scores(model(tf.constant(inputs), training=False)).numpy()


def integrated_gradients(
    model: keras.Model,
    inputs,
    target,
    baseline=None,
    steps: int = 50,
    method: str = "gauss_legendre",
    batch_size: int | None = None,
) -> np.ndarray:
    """Integrated gradients of the `target` output with respect to each input feature.

    `(x - x') * integral_0^1 grad f(x' + a (x - x')) da` from the baseline `x'` to the input `x`,
    the integral taken by quadrature (`path_points`). The interpolated inputs of all examples
    and steps go through the model as one batch, or in batches of `batch_size`. The
    attributions of an example add up to `f(x) - f(x')` (completeness; `completeness_gap`
    measures how closely they do), and for a linear model they are `(x - x') * w` exactly.

    Args:
        model: a Keras model with one input and `(batch, outputs)` (or `(batch,)`) outputs.
        inputs: `(batch, ...)` inputs as the model takes them.
        target: the output explained: an index, or one index per example.
        baseline: the reference input `x'`: `None` for zeros, a number, one example or one per
            example. Defaults to `None`.
        steps: number of points on the path. Defaults to `50`.
        method: `"gauss_legendre"` or `"riemann_trapezoid"`. Defaults to `"gauss_legendre"`.
        batch_size: most interpolated inputs per model call, or `None` for all at once.
            Defaults to `None`.

    Returns:
        float32 attributions shaped like `inputs`.

    Example:

    ```python
    attributions = zoo.explain.integrated_gradients(model, images[:8], target=labels[:8])
    gaps = zoo.explain.completeness_gap(model, images[:8], attributions, target=labels[:8])
    ```

    Reference:
        Sundararajan, Taly and Yan, "Axiomatic Attribution for Deep Networks", ICML 2017.
    """
    alphas, weights = path_points(steps, method)
    check_positive_int("batch_size", batch_size, allow_none=True)
    inputs = check_model_input(model, "inputs", inputs)
    baseline = _baseline_for(baseline, inputs)
    count = inputs.shape[0]
    targets = check_class_index("target", target, _scores(model, inputs[:1]).shape[-1], count)
    difference = inputs - baseline
    # Step-major: point k of example i is row k * count + i.
    shape = (-1, *inputs.shape[1:])
    path = baseline[None] + alphas.astype("float32").reshape(-1, *[1] * inputs.ndim) * difference
    path = path.reshape(shape)
    path_targets = np.tile(targets, steps)
    chunk = batch_size or path.shape[0]
    gradients = []
    for start in range(0, path.shape[0], chunk):
        points = tf.constant(path[start : start + chunk])
        with tf.GradientTape() as tape:
            tape.watch(points)
            scores = class_scores(model(points, training=False))
            picked = tf.gather(scores, path_targets[start : start + chunk], axis=1, batch_dims=1)
        gradients.append(tape.gradient(picked, points).numpy())
    gradients = np.concatenate(gradients).reshape(steps, *inputs.shape)
    average = np.tensordot(weights, gradients.astype("float64"), axes=1)
    return (difference * average).astype("float32")


def completeness_gap(model: keras.Model, inputs, attributions, target, baseline=None) -> np.ndarray:
    """How far each example's attributions are from adding up to `f(x) - f(baseline)`.

    Args:
        model: the model explained.
        inputs: the `(batch, ...)` inputs explained.
        attributions: their attributions (`integrated_gradients`).
        target: the output explained, an index or one per example.
        baseline: the baseline used. Defaults to `None` (zeros).

    Returns:
        `(batch,)` float64 `sum(attributions) - (f(x) - f(baseline))`; compare its magnitude
        with a tolerance (more steps shrink it for a smooth model).

    Example:

    ```python
    gaps = completeness_gap(model, x, integrated_gradients(model, x, 0), 0)
    assert np.all(np.abs(gaps) < 1e-3)
    ```

    Reference:
        Sundararajan, Taly and Yan, "Axiomatic Attribution for Deep Networks", ICML 2017,
        proposition 1.
    """
    inputs = check_model_input(model, "inputs", inputs)
    attributions = np.asarray(attributions, dtype="float64")
    if attributions.shape != inputs.shape:
        raise ValueError(
            f"`attributions` must be shaped like the inputs, {inputs.shape}. "
            f"Received: attributions.shape={attributions.shape}"
        )
    baseline = _baseline_for(baseline, inputs)
    at_inputs, at_baseline = _scores(model, inputs), _scores(model, baseline)
    targets = check_class_index("target", target, at_inputs.shape[-1], inputs.shape[0])
    rows = np.arange(inputs.shape[0])
    change = at_inputs[rows, targets].astype("float64") - at_baseline[rows, targets]
    return attributions.reshape(inputs.shape[0], -1).sum(axis=1) - change
