"""Clipped per-example gradient sums without per-example gradients, for Dense and Conv2D.

For a layer `z = a W + b`, example `i`'s kernel gradient is `a_i^T g_i`, with `a_i` the layer's
input and `g_i = dL_i / dz_i` the gradient at its output (`[T, d]` rows for a sequence or for
the patches of a convolution). Its squared norm needs no `[d_in, d_out]` matrix per example:
`||a_i^T g_i||^2 = sum_{t,s} (a_t . a_s)(g_t . g_s)` (Goodfellow 2015's per-example norm trick,
generalised as "ghost clipping" by Li et al. 2022), or, when `T (d_in + d_out) >= d_in d_out`,
the per-example gradient itself is the cheaper way. One forward pass records every `a` and `z`, one
backward pass of `sum_i L_i` gives every `g_i` (the examples do not interact), the norms give
the clipping factors `c_i`, and the clipped sum is `sum_i c_i a_i^T g_i = A^T (c * G)`: one
matrix product per layer. The cost is about that of a plain step plus the norms, against one
vectorised forward-and-backward per example for `tf.vectorized_map`.

It applies to functional and `Sequential` models whose trainable weights all belong to
`keras.layers.Dense` and `keras.layers.Conv2D` layers (channels-last, no dilation or groups,
called once, no activity regulariser, no LoRA or quantisation); `ghost_clipping_plan` returns
`None` for any other model, which then takes the vectorised path.

References:
    Goodfellow, "Efficient Per-Example Gradient Computations", arXiv:1510.01799, 2015.
    Li, Tramer, Liang and Hashimoto, "Large Language Models Can Be Strong Differentially
    Private Learners", ICLR 2022 (ghost clipping).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops


def _graph(model):
    """The functional graph that runs `model`, or `None` (a subclassed model)."""
    graph = model._functional if isinstance(model, keras.Sequential) else model
    if not isinstance(graph, keras.Model) or not hasattr(graph, "_run_through_graph"):
        return None
    if not hasattr(graph, "_nodes_by_depth"):
        return None
    return graph


def _is_supported(layer) -> bool:
    if getattr(layer, "activity_regularizer", None) is not None:
        return False
    if getattr(layer, "lora_enabled", False) or getattr(layer, "quantization_mode", None):
        return False
    if len(getattr(layer, "_inbound_nodes", ())) != 1:
        return False  # a shared layer: its gradient sums over several calls
    if type(layer) is keras.layers.Conv2D:
        if layer.data_format != "channels_last" or tuple(layer.dilation_rate) != (1, 1):
            return False
        if layer.groups != 1 or layer.padding not in ("valid", "same"):
            return False
    elif type(layer) is not keras.layers.Dense:
        return False
    weights = [layer.kernel] + ([layer.bias] if layer.use_bias else [])
    return {id(w) for w in layer.trainable_weights} == {id(w) for w in weights}


class GhostClippingPlan:
    """Runs a supported model with its Dense and Conv2D layers recorded, and turns the
    per-example losses into clipped gradient sums (see the module docstring).

    Build it with `ghost_clipping_plan(model)`, which returns `None` for unsupported models.

    Example:

    ```python
    plan = ghost_clipping_plan(model)
    sums, y_pred = plan.clipped_gradient_sums(per_example_losses_fn, x, l2_norm_clip=1.0)
    ```
    """

    def __init__(self, model, graph, layers):
        self.model = model
        self.graph = graph
        self.layers = {id(layer): layer for layer in layers}

    def _operation_fn(self, records):
        def wrap(operation):
            if id(operation) in self.layers:
                return lambda inputs, **kwargs: _recorded_call(operation, inputs, records)

            def call(*args, **kwargs):
                if "training" in getattr(operation, "_call_context_args", ()):
                    kwargs["training"] = True
                return operation(*args, **kwargs)

            return call

        return wrap

    def clipped_gradient_sums(self, losses_fn, x, l2_norm_clip):
        """`(sums, y_pred)`: `sum_i clip(grad L_i)` for every trainable weight (in
        `model.trainable_weights` order) and the predictions.

        Args:
            losses_fn: `y_pred -> [B]` per-example losses.
            x: the batch's inputs.
            l2_norm_clip: the clipping bound on each example's whole-model gradient norm.
        """
        records = []
        with tf.GradientTape() as tape:
            inputs = self.graph._standardize_inputs(x)
            outputs = self.graph._run_through_graph(
                inputs, operation_fn=self._operation_fn(records)
            )
            y_pred = (
                outputs[0] if isinstance(outputs, list | tuple) and len(outputs) == 1 else outputs
            )
            total = tf.reduce_sum(tf.cast(losses_fn(y_pred), "float32"))
        outputs_grads = tape.gradient(
            total,
            [z for _, _, z in records],
            unconnected_gradients=tf.UnconnectedGradients.ZERO,
        )
        outputs_grads = [tf.cast(g, "float32") for g in outputs_grads]
        rows = [_rows(layer, a, g) for (layer, a, _), g in zip(records, outputs_grads, strict=True)]
        squared = tf.add_n(
            [
                _squared_norms(a_rows, g_rows, layer.use_bias)
                for (layer, _, _), (a_rows, g_rows) in zip(records, rows, strict=True)
            ]
        )
        scale = l2_norm_clip / tf.maximum(tf.sqrt(squared), l2_norm_clip)
        sums = {}
        for (layer, a, _), g, (a_rows, g_rows) in zip(records, outputs_grads, rows, strict=True):
            scaled = g * tf.reshape(scale, [-1] + [1] * (len(g.shape) - 1))
            if isinstance(layer, keras.layers.Conv2D):
                # TensorFlow's own filter gradient, of the scaled output gradients.
                kernel = tf.compat.v1.nn.conv2d_backprop_filter(
                    tf.cast(a, "float32"),
                    layer.kernel.shape,
                    scaled,
                    strides=[1, *layer.strides, 1],
                    padding=layer.padding.upper(),
                )
            else:
                kernel = tf.einsum("bti,bto->io", a_rows, g_rows * scale[:, None, None])
            sums[id(layer.kernel)] = tf.reshape(kernel, layer.kernel.shape)
            if layer.use_bias:
                sums[id(layer.bias)] = tf.reduce_sum(scaled, axis=list(range(len(g.shape) - 1)))
        return [sums[id(w)] for w in self.model.trainable_weights], y_pred


def _recorded_call(layer, inputs, records):
    """The layer's own computation, with its input and pre-activation output recorded."""
    inputs = ops.cast(inputs, layer.compute_dtype)
    if isinstance(layer, keras.layers.Conv2D):
        z = layer.convolution_op(inputs, layer.kernel)
    else:
        z = ops.matmul(inputs, layer.kernel)
    if layer.use_bias:
        z = z + layer.bias
    records.append((layer, inputs, z))
    return layer.activation(z) if layer.activation is not None else z


def _rows(layer, a, g):
    """`(a_rows [B, T, d_in], g_rows [B, T, d_out])`: the rows whose outer products sum to each
    example's kernel gradient (image patches for a convolution)."""
    a = tf.cast(a, "float32")
    if isinstance(layer, keras.layers.Conv2D):
        kh, kw = layer.kernel_size
        sh, sw = layer.strides
        a = tf.image.extract_patches(
            a,
            sizes=[1, kh, kw, 1],
            strides=[1, sh, sw, 1],
            rates=[1, 1, 1, 1],
            padding=layer.padding.upper(),
        )
    batch = tf.shape(a)[0]
    return (
        tf.reshape(a, [batch, -1, a.shape[-1]]),
        tf.reshape(g, [batch, -1, g.shape[-1]]),
    )


def _squared_norms(a_rows, g_rows, use_bias):
    """Each example's squared kernel (and bias) gradient norm, `[B]`, by the cheaper of the
    Gram-matrix identity (`T^2 (d_in + d_out)` multiplications) and the per-example gradient
    (`T d_in d_out`)."""
    steps, d_in, d_out = a_rows.shape[1], a_rows.shape[2], g_rows.shape[2]
    if steps == 1:
        kernel = tf.reduce_sum(tf.square(a_rows), [1, 2]) * tf.reduce_sum(tf.square(g_rows), [1, 2])
    elif steps is not None and steps * (d_in + d_out) < d_in * d_out:
        gram_a = tf.einsum("bti,bsi->bts", a_rows, a_rows)
        gram_g = tf.einsum("bto,bso->bts", g_rows, g_rows)
        kernel = tf.reduce_sum(gram_a * gram_g, axis=[1, 2])
    else:
        per_example = tf.einsum("bti,bto->bio", a_rows, g_rows)
        kernel = tf.reduce_sum(tf.square(per_example), axis=[1, 2])
    if not use_bias:
        return kernel
    return kernel + tf.reduce_sum(tf.square(tf.reduce_sum(g_rows, axis=1)), axis=1)


def ghost_clipping_plan(model) -> GhostClippingPlan | None:
    """A `GhostClippingPlan` for `model`, or `None` when some trainable weight is outside a
    supported Dense or Conv2D layer (or the model is not functional).

    Example:

    ```python
    plan = ghost_clipping_plan(model)  # None: use the vectorised per-example gradients
    ```
    """
    graph = _graph(model)
    if graph is None or not model.trainable_weights:
        return None
    layers = [op for op in graph.operations if op.trainable_weights]
    if not all(isinstance(layer, keras.layers.Layer) and _is_supported(layer) for layer in layers):
        return None
    covered = {id(w) for layer in layers for w in layer.trainable_weights}
    if covered != {id(w) for w in model.trainable_weights}:
        return None
    return GhostClippingPlan(model, graph, layers)
