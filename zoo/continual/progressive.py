"""Progressive Neural Networks (Rusu et al. 2016): one frozen column per finished task.

A progressive network learns a stream of tasks without forgetting: each task gets a new column
(an MLP here), every earlier column is frozen, and lateral adapters feed the earlier columns'
activations into each layer of the new one, so what was learnt transfers forward while the
earlier tasks' outputs stay exactly as they were. The price is that the network grows with every
task and must be told which task an input belongs to.

Call signature. The model takes one dict, `{"features": [B, ...], "task_id": [B]}`, and
returns the logits of each example's own task column, `[B, max(task_outputs)]` (a head with
fewer outputs is padded with `PADDING_LOGIT`, which softmax turns into probability 0). One
tensor in, one tensor out: `fit`, `evaluate` and sparse cross-entropy work as for any
classifier, a batch may mix tasks, and `serving_model()` gives a functional model with two named
inputs (`features`, `task_id`) that `serving.export` writes for TF Serving. A dict of outputs
keyed by task would make every `fit` name the one output it trains and every request compute
and return all heads.
"""

from __future__ import annotations

import math
from typing import Any

import keras
import numpy as np
import tensorflow as tf

from layers.validation import check_positive_float, check_positive_int, check_positive_ints
from zoo.models.arguments import resolve_dtype_policy
from zoo.registry import register

# Logit given to the outputs a task's head does not have (heads of different sizes share one
# output tensor): exp(-1e9 - max) is 0 in float32, so those classes get probability 0.
PADDING_LOGIT = -1e9
INPUT_KEYS = ("features", "task_id")


@keras.saving.register_keras_serializable(package="keras_zoo")
class LateralAdapter(keras.layers.Layer):
    """The non-linear lateral adapter of a progressive network: `σ(V (α · h))`.

    `h` is the concatenation of the earlier columns' activations at one layer; a learned scalar
    `α` scales it (so the adapter starts from the scale of the new column's own input) and a
    dense projection `V` with the non-linearity `σ` reduces it to `units` (one column's width,
    as in the paper). The paper's `U` is the part of the next layer's kernel that reads the
    adapter's output: the column's layer reads `[h_own, adapter(h)]` (see `ProgressiveColumn`).

    Args:
        units: width of the projection `V` (the adapter's output).
        activation: the non-linearity `σ`. Defaults to `"relu"`.
        initial_scale: initial value of `α`. Defaults to `1.0`.
        **kwargs: `name`, `dtype` and the other `keras.layers.Layer` arguments.

    Example:

    ```python
    adapter = LateralAdapter(units=32)
    lateral = adapter(keras.ops.ones((4, 64)))  # (4, 32)
    ```

    Reference:
        Rusu et al., "Progressive Neural Networks", arXiv:1606.04671, 2016 (Eq. 2).
    """

    def __init__(self, units: int, activation: str = "relu", initial_scale: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        self.activation = activation
        self.initial_scale = check_positive_float("initial_scale", initial_scale)
        self.projection = keras.layers.Dense(
            units, activation=activation, name="projection", dtype=self.dtype_policy
        )

    def build(self, input_shape):
        self.scale = self.add_weight(
            shape=(), initializer=keras.initializers.Constant(self.initial_scale), name="scale"
        )
        self.projection.build(input_shape)

    def call(self, inputs):
        return self.projection(inputs * keras.ops.cast(self.scale, inputs.dtype))

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], self.units)

    def get_config(self):
        return {
            **super().get_config(),
            "units": self.units,
            "activation": self.activation,
            "initial_scale": self.initial_scale,
        }


@keras.saving.register_keras_serializable(package="keras_zoo")
class ProgressiveColumn(keras.layers.Layer):
    """One column of a progressive network: an MLP whose layers also take lateral inputs.

    Layer `i` computes `h_i = f(W_i h_{i-1} + U_i a_i + b_i)` with `a_i = A_i(h_{i-1}^{<k})`,
    the `LateralAdapter` output on the concatenation of the `num_earlier_columns` earlier
    columns' activations at layer `i - 1` (one dense layer reads `[h_{i-1}, a_i]`, its kernel
    holding `W_i` and `U_i`). The first layer reads the shared input only; the head (a float32
    dense layer) also reads an adapter of the earlier columns' last layer.

    Args:
        feature_dim: width of the flat input.
        hidden_units: width of each hidden layer.
        num_outputs: width of the head.
        num_earlier_columns: how many columns feed this one. Defaults to `0`.
        activation: hidden and adapter activation. Defaults to `"relu"`.
        lateral_scale: initial scale `α` of the adapters. Defaults to `1.0`.
        **kwargs: `name`, `dtype` and the other `keras.layers.Layer` arguments.

    Example:

    ```python
    column = ProgressiveColumn(64, (32, 32), num_outputs=2, num_earlier_columns=1)
    activations, logits = column(x, [h0_of_column_0, h1_of_column_0])
    ```

    Reference:
        Rusu et al., "Progressive Neural Networks", arXiv:1606.04671, 2016.
    """

    def __init__(
        self,
        feature_dim: int,
        hidden_units,
        num_outputs: int,
        num_earlier_columns: int = 0,
        activation: str = "relu",
        lateral_scale: float = 1.0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.feature_dim = check_positive_int("feature_dim", feature_dim)
        self.hidden_units = check_positive_ints("hidden_units", hidden_units)
        self.num_outputs = check_positive_int("num_outputs", num_outputs)
        if not isinstance(num_earlier_columns, int) or num_earlier_columns < 0:
            raise ValueError(
                "`num_earlier_columns` must be a non-negative integer. "
                f"Received: num_earlier_columns={num_earlier_columns!r}"
            )
        self.num_earlier_columns = num_earlier_columns
        self.activation = activation
        self.lateral_scale = lateral_scale
        policy = self.dtype_policy
        self.hidden = [
            keras.layers.Dense(units, activation=activation, name=f"hidden_{i}", dtype=policy)
            for i, units in enumerate(self.hidden_units)
        ]
        self.head = keras.layers.Dense(num_outputs, name="logits", dtype="float32")
        # adapters[i] reads the earlier columns' hidden layer i and feeds layer i + 1 (the
        # last one feeds the head).
        self.adapters = []
        if num_earlier_columns:
            self.adapters = [
                LateralAdapter(
                    units,
                    activation=activation,
                    initial_scale=lateral_scale,
                    name=f"lateral_{i + 1}",
                    dtype=policy,
                )
                for i, units in enumerate(self.hidden_units)
            ]

    def build(self, input_shape=None):
        lateral_units = self.hidden_units if self.adapters else (0,) * len(self.hidden_units)
        previous = self.feature_dim
        for i, layer in enumerate(self.hidden):
            layer.build((None, previous + (lateral_units[i - 1] if i else 0)))
            previous = layer.units
        self.head.build((None, previous + lateral_units[-1]))
        for adapter, units in zip(self.adapters, self.hidden_units, strict=False):
            adapter.build((None, self.num_earlier_columns * units))

    def call(self, features, earlier_activations=None):
        activations = []
        x = features
        for i, layer in enumerate(self.hidden):
            if i and self.adapters:
                x = self._with_lateral(x, i - 1, earlier_activations)
            x = layer(x)
            activations.append(x)
        if self.adapters:
            x = self._with_lateral(x, len(self.hidden) - 1, earlier_activations)
        return activations, self.head(x)

    def _with_lateral(self, x, i, earlier_activations):
        return keras.ops.concatenate([x, self.adapters[i](earlier_activations[i])], axis=-1)

    def get_config(self):
        return {
            **super().get_config(),
            "feature_dim": self.feature_dim,
            "hidden_units": list(self.hidden_units),
            "num_outputs": self.num_outputs,
            "num_earlier_columns": self.num_earlier_columns,
            "activation": self.activation,
            "lateral_scale": self.lateral_scale,
        }


@keras.saving.register_keras_serializable(package="keras_zoo")
class ProgressiveNetwork(keras.Model):
    """A Progressive Neural Network: one MLP column per task, earlier columns frozen.

    Column `k` has the same hidden widths as the others; each of its layers after the first
    (and its head) also receives the activations of columns `0 .. k-1` at the layer below,
    through a `LateralAdapter` (the paper's non-linear adapter `U σ(V α h)`, `U` being part of
    the layer's kernel). `add_task` appends a column and freezes every earlier one, so training
    the new task leaves the earlier tasks' outputs exactly unchanged (zero forgetting), at the
    cost of a network that grows with every task and needs each input's task id.

    Inputs are a dict `{"features": [B, *input_shape], "task_id": [B] int}` (`task_inputs`
    builds it); the output is each example's task logits, `[B, max(task_outputs)]`, a head
    with fewer outputs padded with `PADDING_LOGIT`. Task ids must be below `num_tasks`: an
    eager call checks them; inside a compiled step TensorFlow's gather fails on CPU but gives
    zeros on GPU, so check ids that come from outside. The model comes compiled like the zoo's
    classifiers (AdamW, sparse categorical cross-entropy on logits, accuracy; `compile` fills
    in those defaults for what it is not given, as `zoo.models.Task.compile` does); `add_task`
    compiles it again with the same settings and a fresh optimizer (the new column's variables
    need their own slots). Its config holds `task_outputs`, so a saved network reloads with all
    its columns and the earlier ones frozen. `serving_model()` is the functional view that
    `serving.export` writes.

    Args:
        input_shape: shape of one example, without the batch axis; inputs of rank > 1 are
            flattened. Defaults to `(64,)` (the 8x8 digits, flattened).
        task_outputs: number of outputs of each task's head, one entry per column (the number
            of tasks is its length). Defaults to `(2,)`.
        hidden_units: width of each hidden layer of every column. Defaults to `(64, 64)`.
        activation: hidden and adapter activation, any name keras accepts. Defaults to
            `"relu"`.
        lateral_scale: initial value of each adapter's learned scale `α` (the paper draws it
            from {1, 0.1, 0.01}). Defaults to `1.0`.
        **kwargs: `name`, `dtype` (a dtype policy such as `"mixed_float16"`; defaults to the
            global policy) and the other `keras.Model` arguments.

    Example:

    ```python
    net = ProgressiveNetwork(input_shape=(64,), task_outputs=(2,))
    net.fit(task_inputs(x0, 0), y0, epochs=5)
    net.add_task(2)  # column 1; column 0 is frozen
    net.fit(task_inputs(x1, 1), y1, epochs=5)
    logits_0 = net.predict(task_inputs(x0, 0))  # as before the second task
    ```

    Reference:
        Rusu, Rabinowitz, Desjardins, Soyer, Kirkpatrick, Kavukcuoglu, Pascanu and Hadsell,
        "Progressive Neural Networks", arXiv:1606.04671, 2016.
    """

    default_learning_rate: float = 1e-3
    default_weight_decay: float = 1e-4

    def __init__(
        self,
        input_shape=(64,),
        task_outputs=(2,),
        hidden_units=(64, 64),
        activation: str = "relu",
        lateral_scale: float = 1.0,
        **kwargs,
    ):
        input_shape = check_positive_ints("input_shape", input_shape)
        task_outputs = check_positive_ints("task_outputs", task_outputs)
        if not task_outputs:
            raise ValueError(
                f"`task_outputs` must name at least one task. Received: task_outputs={task_outputs}"
            )
        hidden_units = check_positive_ints("hidden_units", hidden_units)
        if not hidden_units:
            raise ValueError(
                "`hidden_units` must have at least one layer (the lateral connections start "
                f"after the first). Received: hidden_units={hidden_units}"
            )
        keras.activations.get(activation)  # raises for an unknown name
        check_positive_float("lateral_scale", lateral_scale)
        dtype = resolve_dtype_policy(kwargs.pop("dtype", None))
        super().__init__(dtype=dtype, **kwargs)
        self.input_shape_ = input_shape
        self.feature_dim = math.prod(input_shape)
        self.hidden_units = hidden_units
        self.activation = activation
        self.lateral_scale = lateral_scale
        self.task_outputs = ()
        self.columns = []
        for num_outputs in task_outputs:
            self._append_column(num_outputs)
        self.built = True  # every column builds its weights as it is added
        self.compile()

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """Configures the model for training, with the zoo classifiers' defaults.

        Args:
            optimizer: an optimizer or `"auto"` for `keras.optimizers.AdamW` with the class's
                `default_learning_rate` and `default_weight_decay`.
            loss: a loss or `"auto"` for sparse categorical cross-entropy on logits.
            metrics: metrics or `"auto"` for sparse categorical accuracy named `"accuracy"`.
            **kwargs: passed to `keras.Model.compile`.
        """
        if isinstance(optimizer, str) and optimizer == "auto":
            optimizer = keras.optimizers.AdamW(
                self.default_learning_rate, weight_decay=self.default_weight_decay
            )
        if isinstance(loss, str) and loss == "auto":
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        if isinstance(metrics, str) and metrics == "auto":
            metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def compile_from_config(self, config):
        # Keras skips models whose `compile` is overridden; ours takes the same arguments, so
        # the saved optimizer (and its state, restored right after) comes back on load.
        self.compile(**keras.saving.deserialize_keras_object(config))
        self.optimizer.build(self.trainable_variables)

    def _lock_state(self):
        # Unlike other layers (and like `keras.Sequential`), the network grows after it is
        # built: `add_task` adds a column.
        pass

    @property
    def num_tasks(self) -> int:
        """The number of columns (tasks)."""
        return len(self.columns)

    @property
    def num_classes(self) -> int:
        """Width of the output: the largest head's number of outputs."""
        return max(self.task_outputs)

    def _append_column(self, num_outputs: int) -> ProgressiveColumn:
        for column in self.columns:
            column.trainable = False
        column = ProgressiveColumn(
            self.feature_dim,
            self.hidden_units,
            num_outputs,
            num_earlier_columns=len(self.columns),
            activation=self.activation,
            lateral_scale=self.lateral_scale,
            name=f"column_{len(self.columns)}",
            dtype=self.dtype_policy,
        )
        column.build()
        self.columns.append(column)
        self.task_outputs = (*self.task_outputs, num_outputs)
        return column

    def add_task(self, num_outputs: int) -> int:
        """Adds a column for a new task with `num_outputs` outputs and freezes the others.

        The model is compiled again with its current compile settings and a fresh optimizer
        (learning-rate schedules restart with the new task).

        Args:
            num_outputs: the new head's number of outputs.

        Returns:
            The new task's id (`num_tasks - 1`).
        """
        check_positive_int("num_outputs", num_outputs)
        compile_config = self.get_compile_config() if self.compiled else None
        self._append_column(num_outputs)
        if compile_config is not None:
            self.compile_from_config(compile_config)
        return self.num_tasks - 1

    def call(self, inputs, training=None):
        features, task_id = _split_inputs(inputs)
        values_per_example = features.shape[1:]
        if None not in values_per_example and math.prod(values_per_example) != self.feature_dim:
            raise ValueError(
                f"`features` must hold {self.feature_dim} values per example (input_shape="
                f"{self.input_shape_}). Received: features.shape={tuple(features.shape)}"
            )
        if tf.executing_eagerly() and not isinstance(task_id, keras.KerasTensor):
            # Inside a compiled step an id out of range fails in the gather below (on CPU).
            ids = np.asarray(keras.ops.convert_to_numpy(task_id))
            if ids.size and (ids.min() < 0 or ids.max() >= self.num_tasks):
                raise ValueError(
                    f"`task_id` must be in [0, {self.num_tasks}) (one id per column). "
                    f"Received: task_id values from {ids.min()} to {ids.max()}"
                )
        features = keras.ops.reshape(features, (-1, self.feature_dim))
        activations = []  # activations[k][i]: column k's hidden layer i
        padded_logits = []
        width = self.num_classes
        for k, column in enumerate(self.columns):
            earlier = None
            if k:
                earlier = [
                    keras.ops.concatenate([activations[j][i] for j in range(k)], axis=-1)
                    for i in range(len(self.hidden_units))
                ]
            column_activations, logits = column(features, earlier)
            activations.append(column_activations)
            if logits.shape[-1] < width:
                padding = [[0, 0], [0, width - logits.shape[-1]]]
                logits = keras.ops.pad(logits, padding, constant_values=PADDING_LOGIT)
            padded_logits.append(logits)
        stacked = keras.ops.stack(padded_logits, axis=1)  # [B, tasks, width]
        task_id = keras.ops.reshape(keras.ops.cast(task_id, "int32"), (-1, 1, 1))
        return keras.ops.take_along_axis(stacked, task_id, axis=1)[:, 0, :]

    def compute_output_spec(self, inputs, training=None):
        features, _ = _split_inputs(inputs)
        return keras.KerasTensor((features.shape[0], self.num_classes), dtype="float32")

    def serving_model(self) -> keras.Model:
        """A functional model over this network (same weights) for `serving.export`.

        Its inputs are named `features` (float32 `[B, *input_shape]`) and `task_id` (int32
        `[B]`); its output is `{"logits": [B, max(task_outputs)]}`. Build it again after
        `add_task`.

        Example:

        ```python
        serving.export(net.serving_model(), "models", "progressive")
        ```
        """
        features = keras.Input(self.input_shape_, name="features")
        task_id = keras.Input((), dtype="int32", name="task_id")
        logits = self({"features": features, "task_id": task_id})
        return keras.Model(
            {"features": features, "task_id": task_id}, {"logits": logits}, name="serving"
        )

    def get_config(self) -> dict[str, Any]:
        # Written by hand (not `zoo.models.arguments.ConstructorConfig`): `task_outputs` grows
        # with `add_task` after construction, and the config must describe every column.
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
            "input_shape": list(self.input_shape_),
            "task_outputs": list(self.task_outputs),
            "hidden_units": list(self.hidden_units),
            "activation": self.activation,
            "lateral_scale": self.lateral_scale,
        }

    @classmethod
    def from_config(cls, config: dict[str, Any]):
        return cls(**config)


def _split_inputs(inputs):
    if not isinstance(inputs, dict) or set(inputs) != set(INPUT_KEYS):
        received = sorted(inputs) if isinstance(inputs, dict) else type(inputs).__name__
        raise ValueError(
            "ProgressiveNetwork takes a dict with keys 'features' and 'task_id' (see "
            f"`zoo.continual.progressive.task_inputs`). Received: inputs={received}"
        )
    return inputs["features"], inputs["task_id"]


def task_inputs(features, task: int) -> dict[str, np.ndarray]:
    """The input dict of a `ProgressiveNetwork` for `features` that all belong to `task`.

    Args:
        features: array `[B, ...]` of examples.
        task: the task id (the column) of every example.

    Returns:
        `{"features": features, "task_id": int32 [B] filled with task}`.

    Example:

    ```python
    logits = net.predict(task_inputs(x_test, 0))
    ```
    """
    if not isinstance(task, int | np.integer) or isinstance(task, bool) or task < 0:
        raise ValueError(f"`task` must be a non-negative integer. Received: task={task!r}")
    features = np.asarray(features, dtype="float32")
    return {"features": features, "task_id": np.full((len(features),), task, dtype="int32")}


def example_inputs(model: ProgressiveNetwork, batch_size: int) -> dict[str, np.ndarray]:
    """Random features with task ids cycling over the model's tasks (for the registry's tests)."""
    rng = np.random.default_rng(0)
    features = rng.normal(size=(batch_size, *model.input_shape_)).astype("float32")
    task_id = (np.arange(batch_size) % model.num_tasks).astype("int32")
    return {"features": features, "task_id": task_id}


def progressive_search_space(hp) -> dict[str, Any]:
    """Width and depth of every column of `ProgressiveNetwork`."""
    width = hp.Choice("units", [32, 64, 128])
    return {"hidden_units": (width,) * hp.Int("num_layers", 1, 3)}


register(
    "progressive_digits",
    ProgressiveNetwork,
    family="continual",
    task="classifier",
    description="Progressive network for 8x8 digits (64 features), a 2-way head per task.",
    tiny={"input_shape": (6,), "hidden_units": (4, 4), "task_outputs": (3, 3)},
    example_inputs=example_inputs,
    search_space=progressive_search_space,
    input_shape=(64,),
    task_outputs=(2,),
    hidden_units=(64, 64),
)
