"""TensorFlow Addons' activation functions on Keras 3, under TFA's names and arguments.

`lisht`, `rrelu`, `snake`, `hardshrink` and `softshrink` are written here with `keras.ops`;
`gelu` is Keras's with TFA's default (`approximate=True`); `mish` and `tanhshrink` are Keras's
own (`keras.activations.mish`, `keras.activations.tanh_shrink`: the same numbers);
`sparsemax` is `layers.activation_layers.sparsemax`. Keras's `keras.activations.sparsemax`
is not used: in Keras 3.15 it gives wrong values whenever more than one logit is in the
support (its threshold sums the running sums instead of taking the k-th one).

The functions written here are registered as `keras_zoo>name`, so a layer built with
`activation=lisht` round-trips a `.keras` file.
"""

from __future__ import annotations

import numbers

import keras
from keras import ops

from layers.activation_layers.sparsemax import sparsemax
from layers.validation import check_bool, check_positive_float

mish = keras.activations.mish
tanhshrink = keras.activations.tanh_shrink

__all__ = [
    "gelu",
    "hardshrink",
    "lisht",
    "mish",
    "rrelu",
    "snake",
    "softshrink",
    "sparsemax",
    "tanhshrink",
]


def _check_bounds(lower, upper):
    for name, value in (("lower", lower), ("upper", upper)):
        if not isinstance(value, numbers.Real) or isinstance(value, bool):
            raise TypeError(f"`{name}` must be a number. Received: {name}={value!r}")
    if lower > upper:
        raise ValueError(
            f"`lower` must not be greater than `upper`. Received: lower={lower!r}, upper={upper!r}"
        )


@keras.saving.register_keras_serializable(package="keras_zoo")
def lisht(x):
    """LiSHT, the linearly scaled hyperbolic tangent: `x * tanh(x)`.

    Args:
        x: a float tensor.

    Returns:
        A tensor of the shape and dtype of `x`.

    Example:

    ```python
    lisht(keras.ops.array([-1.0, 0.0, 2.0]))  # [0.7616, 0.0, 1.9281]
    ```

    Reference:
        Roy, Manna, Dubey, Chaudhuri, "LiSHT: Non-Parametric Linearly Scaled Hyperbolic
        Tangent Activation Function for Neural Networks", 2019. https://arxiv.org/abs/1901.05894
    """
    x = ops.convert_to_tensor(x)
    return x * ops.tanh(x)


@keras.saving.register_keras_serializable(package="keras_zoo")
def gelu(x, approximate: bool = True):
    """GELU, `x * P(X <= x)` for a standard normal `X`, with TFA's default `approximate=True`.

    Keras's `keras.activations.gelu` defaults to the exact form; this one to the tanh
    approximation, as `tfa.activations.gelu` did.

    Args:
        x: a float tensor.
        approximate: use `0.5 * x * (1 + tanh(sqrt(2 / pi) * (x + 0.044715 * x**3)))`
            instead of `0.5 * x * (1 + erf(x / sqrt(2)))`. Defaults to `True`.

    Returns:
        A tensor of the shape and dtype of `x`.

    Example:

    ```python
    gelu(keras.ops.array([-1.0, 0.0, 1.0]))  # [-0.1588, 0.0, 0.8412]
    ```

    Reference:
        Hendrycks, Gimpel, "Gaussian Error Linear Units (GELUs)", 2016.
        https://arxiv.org/abs/1606.08415
    """
    check_bool("approximate", approximate)
    return keras.activations.gelu(x, approximate=approximate)


@keras.saving.register_keras_serializable(package="keras_zoo")
def snake(x, frequency=1.0):
    """Snake, a periodic activation: `x + (1 - cos(2 * frequency * x)) / (2 * frequency)`.

    (`sin(frequency * x) ** 2 / frequency` added to `x`; `layers.activation_layers.Snake` learns
    the frequency.)

    Args:
        x: a float tensor.
        frequency: positive frequency of the periodic part. Defaults to `1.0`.

    Returns:
        A tensor of the shape and dtype of `x`.

    Example:

    ```python
    snake(keras.ops.array([-1.0, 0.0, 1.0]), frequency=2.0)
    ```

    Reference:
        Ziyin, Hartwig, Ueda, "Neural Networks Fail to Learn Periodic Functions and How to Fix
        It", NeurIPS 2020. https://arxiv.org/abs/2006.08195
    """
    if isinstance(frequency, numbers.Real):
        check_positive_float("frequency", frequency, allow_numpy=True)
    x = ops.convert_to_tensor(x)
    frequency = ops.cast(frequency, x.dtype)
    return x + (1.0 - ops.cos(2.0 * frequency * x)) / (2.0 * frequency)


@keras.saving.register_keras_serializable(package="keras_zoo")
def hardshrink(x, lower=-0.5, upper=0.5):
    """Hard shrinkage: `x` outside `[lower, upper]`, 0 inside.

    Keras's `keras.activations.hard_shrink` takes one symmetric threshold; this takes TFA's two
    bounds.

    Args:
        x: a float tensor.
        lower: lower bound of the zeroed interval. Defaults to `-0.5`.
        upper: upper bound of the zeroed interval, not below `lower`. Defaults to `0.5`.

    Returns:
        A tensor of the shape and dtype of `x`.

    Example:

    ```python
    hardshrink(keras.ops.array([-1.0, 0.2, 0.9]))  # [-1.0, 0.0, 0.9]
    ```
    """
    _check_bounds(lower, upper)
    x = ops.convert_to_tensor(x)
    keep = ops.logical_or(x < lower, x > upper)
    return x * ops.cast(keep, x.dtype)


@keras.saving.register_keras_serializable(package="keras_zoo")
def softshrink(x, lower=-0.5, upper=0.5):
    """Soft shrinkage: `x - lower` below `lower`, `x - upper` above `upper`, 0 between.

    Keras's `keras.activations.soft_shrink` takes one symmetric threshold; this takes TFA's two
    bounds.

    Args:
        x: a float tensor.
        lower: lower bound of the zeroed interval. Defaults to `-0.5`.
        upper: upper bound of the zeroed interval, not below `lower`. Defaults to `0.5`.

    Returns:
        A tensor of the shape and dtype of `x`.

    Example:

    ```python
    softshrink(keras.ops.array([-1.0, 0.2, 0.9]))  # [-0.5, 0.0, 0.4]
    ```
    """
    _check_bounds(lower, upper)
    x = ops.convert_to_tensor(x)
    zero = ops.zeros_like(x)
    below = ops.where(x < lower, x - lower, zero)
    above = ops.where(x > upper, x - upper, zero)
    return below + above


@keras.saving.register_keras_serializable(package="keras_zoo")
def rrelu(x, lower=0.125, upper=1.0 / 3.0, training=None, seed=None, rng=None):
    """Randomized leaky ReLU: `x` for `x >= 0`, else `a * x`.

    In training (`training=True`) each element draws its own slope `a ~ U(lower, upper)`; in
    inference (`training` `False` or `None`: Keras 3 has no global learning phase, and TFA's
    defaulted to inference) `a = (lower + upper) / 2`. The random stream is Keras's
    (`keras.random.uniform`), not TensorFlow's, so training-mode values differ from TFA's
    for the same seed; their distribution is the same.

    Args:
        x: a float tensor.
        lower: lower bound of the slope. Defaults to `0.125`.
        upper: upper bound of the slope, not below `lower`. Defaults to `1 / 3`.
        training: Python bool or `None`, whether to draw random slopes. Defaults to `None`.
        seed: `None`, an integer (the same slopes at every call) or a
            `keras.random.SeedGenerator` (new slopes at every call, also in graphs and XLA).
            Defaults to `None` (Keras's global seed generator).
        rng: a `tf.random.Generator` to draw from instead (TensorFlow only); not together with
            `seed`. Defaults to `None`.

    Returns:
        A tensor of the shape and dtype of `x`.

    Example:

    ```python
    rrelu(keras.ops.array([-1.0, 2.0]))  # [-0.2292, 2.0]
    rrelu(keras.random.normal((4,)), training=True, seed=keras.random.SeedGenerator(1))
    ```

    Reference:
        Xu, Wang, Chen, Li, "Empirical Evaluation of Rectified Activations in Convolutional
        Network", 2015. https://arxiv.org/abs/1505.00853
    """
    _check_bounds(lower, upper)
    if training is not None and not isinstance(training, bool):
        raise TypeError(f"`training` must be a bool or None. Received: training={training!r}")
    if rng is not None and seed is not None:
        raise ValueError(
            "Pass either `seed` or `rng`, not both. "
            f"Received: seed={seed!r}, rng={type(rng).__name__}"
        )
    x = ops.convert_to_tensor(x)
    if training:
        if rng is not None:
            slope = rng.uniform(ops.shape(x), minval=lower, maxval=upper, dtype=x.dtype)
        else:
            slope = keras.random.uniform(
                ops.shape(x), minval=lower, maxval=upper, dtype=x.dtype, seed=seed
            )
    else:
        slope = ops.cast((lower + upper) / 2.0, x.dtype)
    return ops.where(x >= 0, x, slope * x)
