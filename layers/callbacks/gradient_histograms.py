"""Gradient and activation histograms for TensorBoard."""

from __future__ import annotations

import os

import keras
import numpy as np
import tensorflow as tf

from layers.callbacks.batches import iterate_batches

BUCKET_COUNT = 30


def histogram_tensor(values, bucket_count: int = BUCKET_COUNT) -> np.ndarray:
    """TensorBoard's histogram layout: rows of `(left edge, right edge, count)`, equal widths."""
    values = np.asarray(values, np.float64).ravel()
    if values.size == 0:
        return np.zeros((0, 3), np.float64)
    counts, edges = np.histogram(values, bins=bucket_count)
    return np.stack([edges[:-1], edges[1:], counts.astype(np.float64)], axis=1)


def _histogram_metadata() -> tf.compat.v1.SummaryMetadata:
    metadata = tf.compat.v1.SummaryMetadata()
    metadata.plugin_data.plugin_name = "histograms"
    return metadata


def write_histogram(tag: str, values, step: int) -> None:
    """Writes a histogram summary to the default writer.

    `tf.summary.histogram` needs the `tensorboard` package installed; this writes the same
    summary (the histograms plugin's `[k, 3]` tensor) with TensorFlow alone.
    """
    tf.summary.write(
        tag, histogram_tensor(keras.ops.convert_to_numpy(values)), step, _histogram_metadata()
    )


class GradientHistograms(keras.callbacks.Callback):
    """Writes histograms of the loss gradients and of every layer's activations to TensorBoard.

    Keras's `TensorBoard` callback logs weight histograms only. Every `freq` epochs (on epochs
    0, `freq`, `2 * freq`, ..., the convention of `TensorBoard(histogram_freq=...)`) this
    callback computes, on the fixed batch `data`, the gradient of the compiled loss with
    respect to each trainable variable (tag `gradients/<variable path>`) and the output of each
    layer (tag `activations/<layer name>`), and writes their histograms to `log_dir/train`, the
    run Keras's `TensorBoard(log_dir)` writes its training summaries to. Both are computed in
    inference mode, so logging changes neither BatchNormalization statistics nor any random
    state. Activations are logged for functional and `Sequential` models; for subclassed models
    only gradients are.

    Args:
        log_dir: the TensorBoard log directory.
        freq: log every `freq` epochs. Defaults to `1`.
        data: the fixed batch, `(x, y)` or `(x, y, sample_weight)` arrays, on which gradients
            and activations are computed; keep it small (one batch). Required.

    Example:

    ```python
    callback = GradientHistograms("logs/run1", freq=2, data=(x_val[:64], y_val[:64]))
    model.fit(x_train, y_train, epochs=10, callbacks=[callback])
    # tensorboard --logdir logs
    ```

    Reference: Glorot and Bengio, "Understanding the difficulty of training deep feedforward
    neural networks", AISTATS 2010 (activation and gradient histograms as a diagnostic).
    """

    def __init__(self, log_dir: str, freq: int = 1, *, data=None):
        super().__init__()
        if not isinstance(log_dir, str | os.PathLike) or not str(log_dir):
            raise ValueError(f"`log_dir` must be a non-empty path. Received: log_dir={log_dir!r}")
        if isinstance(freq, bool) or not isinstance(freq, int) or freq < 1:
            raise ValueError(f"`freq` must be a positive integer. Received: freq={freq!r}")
        if not isinstance(data, tuple | list) or len(data) not in (2, 3):
            raise ValueError(
                "`data` must be an `(x, y)` or `(x, y, sample_weight)` tuple of arrays (one "
                f"batch). Received: data of type {type(data).__name__}"
            )
        self.log_dir = os.fspath(log_dir)
        self.freq = freq
        self.data = tuple(data)
        self._writer = None
        self._activation_model = None

    def on_train_begin(self, logs=None):
        self._writer = tf.summary.create_file_writer(os.path.join(self.log_dir, "train"))
        self._activation_model = _activation_model(self.model)

    def on_epoch_end(self, epoch, logs=None):
        if epoch % self.freq:
            return
        with self._writer.as_default():
            for variable, gradient in self.gradients():
                if gradient is not None:
                    write_histogram(f"gradients/{variable.path}", gradient, epoch)
            for name, activation in self.activations().items():
                write_histogram(f"activations/{name}", activation, epoch)
        self._writer.flush()

    def gradients(self) -> list[tuple[keras.Variable, tf.Tensor | None]]:
        """`(variable, gradient)` pairs of the compiled loss on `data`, in inference mode."""
        x, y = next(iterate_batches(self.data[:2], batch_size=_length(self.data[0])))
        sample_weight = self.data[2] if len(self.data) == 3 else None
        variables = self.model.trainable_variables

        def compute():
            with tf.GradientTape() as tape:
                y_pred = self.model(x, training=False)
                loss = self.model.compute_loss(x, y, y_pred, sample_weight, training=False)
            return tape.gradient(loss, variables)

        gradients, replicas = self._on_one_replica(compute)
        # Under a strategy Keras divides each replica's loss by the replica count; every replica
        # saw the whole batch here, so undo that to log the gradient of the loss itself.
        if replicas > 1:
            gradients = [None if g is None else g * replicas for g in gradients]
        return list(zip(variables, gradients, strict=True))

    def activations(self) -> dict[str, tf.Tensor]:
        """Each layer's output on `data`'s inputs (empty for subclassed models)."""
        if self._activation_model is None:
            return {}
        outputs, _ = self._on_one_replica(
            lambda: self._activation_model(self.data[0], training=False)
        )
        return {
            name: tf.cast(value, tf.float32)
            for name, value in outputs.items()
            if keras.backend.is_float_dtype(value.dtype)
        }

    def _on_one_replica(self, fn):
        """Runs `fn` where the model's variables can be read; returns its result (from the
        first replica under a multi-replica strategy) and the replica count."""
        strategy = self.model.distribute_strategy
        replicas = strategy.num_replicas_in_sync
        if replicas == 1:
            return fn(), 1
        with strategy.scope():
            per_replica = strategy.run(fn)
        first = keras.tree.map_structure(
            lambda v: strategy.experimental_local_results(v)[0], per_replica
        )
        return first, replicas

    def on_train_end(self, logs=None):
        if self._writer is not None:
            self._writer.close()
            self._writer = None


def _length(x) -> int:
    return int(np.shape(keras.tree.flatten(x)[0])[0])


def _activation_model(model: keras.Model) -> keras.Model | None:
    """A model mapping `model`'s inputs to a dict of its layers' outputs, where it has a graph."""
    if not isinstance(model, keras.Sequential) and not hasattr(model, "_operations"):
        return None
    try:
        inputs = model.inputs[0] if len(model.inputs) == 1 else model.inputs
        outputs = {}
        for layer in model.layers:
            if isinstance(layer, keras.layers.InputLayer):
                continue
            for i, output in enumerate(keras.tree.flatten(layer.output)):
                outputs[layer.name if i == 0 else f"{layer.name}_{i}"] = output
    except (AttributeError, ValueError):
        # A layer called several times has no single output; such graphs are not supported.
        return None
    return keras.Model(inputs, outputs)
