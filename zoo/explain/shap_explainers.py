"""SHAP values of Keras 3 models through the `shap` package, with a thin adapter where it needs one.

What works on Keras 3.15 + TensorFlow 2.21 with shap 0.51 (tests/zoo/explain/test_shap.py):

- `"gradient"` (`shap.GradientExplainer`, expected gradients): works as is on functional and
  Sequential models with one `[B, K]` output; subclassed models, dict/list outputs and `[B]`
  outputs need the adapter.
- `"deep"` (`shap.DeepExplainer`, DeepLIFT rescale rule): the same, for the ops shap has a rule
  for (MatMul, Conv2D, ReLU, tanh, sigmoid, softmax, max/avg pooling, batch norm, ...). An op
  without a rule (GELU's `Erfc`, `LeakyRelu`, RNN loops) fails in shap with a `LookupError`
  and breaks every later `GradientTape` of the process; through the adapter it is a ValueError
  naming the op and the process stays usable.
- `"kernel"` (`shap.KernelExplainer`) and `"permutation"` (`shap.PermutationExplainer`): work
  as is on any model through a numpy function of 2-D rows; the adapter flattens inputs of any
  rank for shap and reshapes them for the model.

The adapter exists for three reasons. shap reads `model.inputs` and `model.layers[-1].output`,
which subclassed Keras 3 models lack and which are wrong for models with dict outputs, so the model
is wrapped in a one-input functional model whose last layer picks the explained output.
`DeepExplainer` patches TensorFlow's eager `record_gradient` and does not restore it when the
model has an op without a DeepLIFT rule: every later `GradientTape` in the process then fails with
"gradient registry has no entry for: shap_..." (shap issue #1406); the adapter restores it. Kernel
and permutation SHAP take a 2-D feature matrix; the adapter flattens image inputs and calls the
model directly (not `model.predict`, whose per-call overhead dominates thousands of small calls).

References: Lundberg & Lee 2017, "A Unified Approach to Interpreting Model Predictions" (kernel
and deep SHAP); Erion et al. 2021, "Improving performance of deep learning models with axiomatic
attribution priors and expected gradients" (gradient SHAP); Shrikumar et al. 2017, "Learning
Important Features Through Propagating Activation Differences" (DeepLIFT).
"""

from __future__ import annotations

import contextlib
import re
import warnings

import keras
import numpy as np

from layers.validation import check_choice, check_positive_int

SHAP_METHODS = ("gradient", "deep", "kernel", "permutation")


def import_shap():
    """The `shap` module, or an ImportError that says how to install it."""
    try:
        import shap
    except ImportError as error:
        raise ImportError(
            "SHAP explanations need the `shap` package: pip install 'keras-zoo[explain]' "
            "(or pip install shap)."
        ) from error
    return shap


class _ExplainedOutput(keras.layers.Layer):
    """Picks one output of a dict/list-output model and gives it the `[B, K]` shape shap needs."""

    def __init__(self, key=None, **kwargs):
        super().__init__(**kwargs)
        self.key = key

    def call(self, outputs):
        if self.key is not None:
            outputs = outputs[self.key]
        if len(outputs.shape) == 1:
            outputs = keras.ops.expand_dims(outputs, -1)
        return outputs


def explained_model(model, feature_shape, output=None) -> keras.Model:
    """Wraps `model` as the one-input, one-`[B, K]`-output functional model shap expects.

    Args:
        model: a Keras model (functional, Sequential or subclassed) taking one tensor input.
        feature_shape: the shape of one example, without the batch dimension.
        output: the key (dict outputs) or index (list outputs) of the output to explain; `None`
            for a model with a single tensor output. Defaults to `None`.

    Returns:
        A functional `keras.Model` sharing `model`'s weights.
    """
    features = keras.Input(shape=tuple(feature_shape), name="shap_features")
    outputs = model(features, training=False)
    if isinstance(outputs, dict | list | tuple):
        keys = list(outputs) if isinstance(outputs, dict) else list(range(len(outputs)))
        if output not in keys:
            raise ValueError(
                f"`output` must name one of the model's outputs {keys}. Received: output={output!r}"
            )
    elif output is not None:
        raise ValueError(
            f"`output` must be None for a model with a single output. Received: output={output!r}"
        )
    else:
        output = None
    selected = _ExplainedOutput(output, name="shap_explained_output")(outputs)
    if len(selected.shape) != 2:
        raise ValueError(
            "SHAP explains outputs of shape [batch] or [batch, outputs]; this output has shape "
            f"{tuple(selected.shape)}. Received: output={output!r}"
        )
    return keras.Model(inputs=[features], outputs=selected, name="shap_adapter")


@contextlib.contextmanager
def _deep_explainer_guard():
    """Restores what DeepExplainer patches and names the op it has no rule for."""
    from tensorflow.python.eager import execute

    record_gradient = execute.record_gradient
    try:
        yield
    except Exception as error:  # shap raises LookupError wrapped in a tf StagingError
        missing = re.search(r"gradient registry has no entry for: shap_(\w+)", str(error))
        if missing is None:
            raise
        raise ValueError(
            f"shap's DeepExplainer has no DeepLIFT rule for the TensorFlow op {missing.group(1)!r} "
            "in this model (e.g. GELU uses Erfc); use method='gradient', 'kernel' or "
            "'permutation'. Received: method='deep'"
        ) from error
    finally:
        execute.record_gradient = record_gradient


def _as_array(name, value):
    array = np.asarray(value, dtype="float32")
    if array.ndim < 2 or array.shape[0] == 0:
        raise ValueError(
            f"`{name}` must be a non-empty batch of examples, shape [batch, ...features]. "
            f"Received: {name}.shape={array.shape}"
        )
    return array


def _flat_model_function(model, feature_shape, batch_size=4096):
    """A numpy function on `[N, prod(feature_shape)]` rows, as kernel/permutation SHAP call it."""

    def predict(rows):
        rows = np.asarray(rows, dtype="float32").reshape((-1, *feature_shape))
        chunks = [
            keras.ops.convert_to_numpy(model([rows[start : start + batch_size]], training=False))
            for start in range(0, len(rows), batch_size)
        ]
        return np.concatenate(chunks)

    return predict


@contextlib.contextmanager
def _numpy_global_seed(seed):
    """KernelExplainer draws from numpy's global generator: seed it, then put it back."""
    state = np.random.get_state()
    np.random.seed(seed)
    try:
        yield
    finally:
        np.random.set_state(state)


def shap_values(
    model,
    inputs,
    background,
    method: str = "gradient",
    output=None,
    nsamples: int | None = None,
    seed: int = 0,
    check_additivity: bool = True,
) -> np.ndarray:
    """SHAP values of `model`'s outputs for `inputs`, against a `background` sample.

    Args:
        model: a Keras model with one tensor input (functional, Sequential or subclassed).
        inputs: the examples to explain, `[B, ...features]`.
        background: the reference sample whose expectation the values are measured from,
            `[N, ...features]` (a few dozen to a few hundred training rows).
        method: one of `"gradient"`, `"deep"`, `"kernel"`, `"permutation"` (see the module
            docstring for what each needs). Defaults to `"gradient"`.
        output: the key or index of the output to explain for a dict/list-output model.
            Defaults to `None` (the model's only output).
        nsamples: samples per example: expected-gradient samples (`"gradient"`, default 200),
            coalitions (`"kernel"`, default shap's `2 * features + 2048`) or model evaluations
            (`"permutation"`, default `max(500, 2 * features + 1)`); unused by `"deep"`.
            Defaults to `None`.
        seed: seed of the sampling methods. Defaults to `0`.
        check_additivity: for `"deep"`, check that values sum to `f(x) - E[f(background)]`.
            Defaults to `True`.

    Returns:
        float array `[B, ...features, K]`, `K` the number of explained outputs (`1` for a
        `[B]` or `[B, 1]` output). For `"deep"`, `"kernel"` and `"permutation"` the values of
        each example sum over features to `f(x) - mean(f(background))`; `"gradient"` does so in
        expectation over its samples.

    Example:

    ```python
    values = shap_values(model, x_test[:8], x_train[:100], method="deep")
    zoo.explain.shap_summary_plot(values, x_test[:8], "shap_summary.png", output_index=3)
    ```
    """
    shap = import_shap()
    check_choice("method", method, SHAP_METHODS)
    check_positive_int("nsamples", nsamples, allow_none=True)
    inputs = _as_array("inputs", inputs)
    background = _as_array("background", background)
    if inputs.shape[1:] != background.shape[1:]:
        raise ValueError(
            "`inputs` and `background` must have the same example shape. "
            f"Received: inputs.shape={inputs.shape}, background.shape={background.shape}"
        )
    feature_shape = inputs.shape[1:]
    adapter = explained_model(model, feature_shape, output)

    if method == "gradient":
        explainer = shap.GradientExplainer(adapter, background)
        values = explainer.shap_values(inputs, nsamples=nsamples or 200, rseed=seed)
    elif method == "deep":
        with _deep_explainer_guard(), warnings.catch_warnings():
            # shap warns on every TF >= 2.4 that TF1 graph mode is gone; eager is what we use.
            warnings.filterwarnings("ignore", message="Your TensorFlow version is newer")
            explainer = shap.DeepExplainer(adapter, background)
            values = explainer.shap_values(inputs, check_additivity=check_additivity)
    else:
        predict = _flat_model_function(adapter, feature_shape)
        flat_inputs = inputs.reshape(len(inputs), -1)
        flat_background = background.reshape(len(background), -1)
        if method == "kernel":
            explainer = shap.KernelExplainer(predict, flat_background)
            with _numpy_global_seed(seed):
                values = explainer.shap_values(
                    flat_inputs, nsamples=nsamples or "auto", silent=True
                )
        else:
            explainer = shap.PermutationExplainer(predict, flat_background, seed=seed)
            max_evals = nsamples or max(500, 2 * flat_inputs.shape[1] + 1)
            values = explainer(flat_inputs, max_evals=max_evals, silent=True).values
    values = np.asarray(values)
    num_outputs = adapter.output_shape[-1]
    return values.reshape((len(inputs), *feature_shape, num_outputs))
