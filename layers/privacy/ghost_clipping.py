"""Clipped per-example gradient sums without per-example gradients, for Dense and Conv2D.

For a layer `z = a W + b`, example `i`'s kernel gradient is `a_i^T g_i`, with `a_i` the layer's
input and `g_i = dL_i / dz_i` the gradient at its output (`[T, d]` rows for a sequence or for
the patches of a convolution). One forward pass records every `a` and `z`, one backward pass of
`sum_i L_i` gives every `g_i` (the examples do not interact; no weight gradient is computed),
and each layer gives its share of every example's squared gradient norm:

- vectors (`T = 1`): `||a_i||^2 ||g_i||^2`;
- `T (d_in + d_out) < d_in d_out` (long rows, few of them): without any `[d_in, d_out]` matrix
  per example, `||a_i^T g_i||^2 = sum_{t,s} (a_t . a_s)(g_t . g_s)` (Goodfellow 2015's
  per-example norm trick, generalised as "ghost clipping" by Li et al. 2022);
- otherwise (a small convolution's many patches): the per-example gradients themselves, one
  batched product, no larger than the patches and output gradients they come from.

The norms give the clipping factors `c_i`, and the clipped sum `sum_i c_i a_i^T g_i` is the
weighted sum of the per-example gradients where they were formed (`d_in d_out` per example, no
second pass over the rows), else one product `A^T (c * G)` (TensorFlow's filter gradient for a
convolution). The cost is about that of a plain step plus the norms, against one vectorised
forward-and-backward per example for `tf.vectorized_map`.

A convolution's patches are copied from its padded input, by one gather (under XLA, by strided
slices side by side): `tf.image.extract_patches` costs about twice that on CPU and is a
convolution under XLA. Under XLA the recording forward pass also runs each convolution as the
product of those patches with the kernel: the backward pass through it is cheaper than through
XLA's CPU convolutions.

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
import numpy as np
import tensorflow as tf
from keras import ops

from layers.xla import compiling_with_xla


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
            [record.z for record in records],
            unconnected_gradients=tf.UnconnectedGradients.ZERO,
        )
        layer_sums = [
            _LayerSums(record, tf.cast(g, "float32"))
            for record, g in zip(records, outputs_grads, strict=True)
        ]
        squared = tf.add_n([part.squared_norms for part in layer_sums])
        scale = l2_norm_clip / tf.maximum(tf.sqrt(squared), l2_norm_clip)
        sums = {}
        for part in layer_sums:
            sums.update(part.clipped_sums(scale))
        return [sums[id(w)] for w in self.model.trainable_weights], y_pred


class _Record:
    """One recorded layer call: its input `a`, its pre-activation output `z`, and the image
    patches of a convolution's input when the forward pass computed them (under XLA)."""

    def __init__(self, layer, a, z, patches=None):
        self.layer, self.a, self.z, self.patches = layer, a, z, patches


def _recorded_call(layer, inputs, records):
    """The layer's own computation, with its input and pre-activation output recorded.

    Under XLA a convolution with known spatial sizes runs as the product of its input's image
    patches (which its per-example norms need anyway) with the kernel."""
    inputs = ops.cast(inputs, layer.compute_dtype)
    patches = None
    if isinstance(layer, keras.layers.Conv2D):
        if compiling_with_xla() and _has_spatial_shape(inputs):
            patches = _patches(layer, inputs)
            kernel = tf.cast(tf.reshape(layer.kernel, [-1, layer.filters]), patches.dtype)
            z = tf.reshape(
                tf.matmul(tf.reshape(patches, [-1, patches.shape[-1]]), kernel),
                tf.concat([tf.shape(patches)[:-1], [layer.filters]], axis=0),
            )
        else:
            z = layer.convolution_op(inputs, layer.kernel)
    else:
        z = ops.matmul(inputs, layer.kernel)
    if layer.use_bias:
        z = z + layer.bias
    records.append(_Record(layer, inputs, z, patches))
    return layer.activation(z) if layer.activation is not None else z


def _has_spatial_shape(a) -> bool:
    return a.shape.rank == 4 and a.shape[1] is not None and a.shape[2] is not None


def _patches(layer, a):
    """A convolution's image patches `[B, out_h, out_w, kh * kw * c_in]`, in
    `tf.image.extract_patches`'s order (that of the kernel's `[kh, kw, c_in]` rows).

    With known spatial sizes they are copied from the input (padded as TensorFlow pads 'same'):
    by one gather of its flattened pixels, or under XLA (whose CPU gather is slower) by
    `kh * kw` strided slices side by side. Otherwise `tf.image.extract_patches`."""
    kh, kw = layer.kernel_size
    sh, sw = layer.strides
    if not _has_spatial_shape(a):
        return tf.image.extract_patches(
            a,
            sizes=[1, kh, kw, 1],
            strides=[1, sh, sw, 1],
            rates=[1, 1, 1, 1],
            padding=layer.padding.upper(),
        )
    height, width = a.shape[1], a.shape[2]
    if layer.padding == "same":
        out_h, out_w = -(-height // sh), -(-width // sw)
        pad_h = max((out_h - 1) * sh + kh - height, 0)
        pad_w = max((out_w - 1) * sw + kw - width, 0)
        if pad_h or pad_w:
            top, left = pad_h // 2, pad_w // 2
            a = tf.pad(a, [[0, 0], [top, pad_h - top], [left, pad_w - left], [0, 0]])
    else:
        out_h, out_w = (height - kh) // sh + 1, (width - kw) // sw + 1
    if (kh, kw, sh, sw) == (1, 1, 1, 1):
        return a
    if not compiling_with_xla():
        rows = np.arange(out_h)[:, None, None, None] * sh + np.arange(kh)[None, None, :, None]
        cols = np.arange(out_w)[None, :, None, None] * sw + np.arange(kw)[None, None, None, :]
        pixels = (rows * a.shape[2] + cols).reshape(-1).astype("int32")
        flat = tf.reshape(a, [-1, a.shape[1] * a.shape[2], a.shape[3]])
        return tf.reshape(tf.gather(flat, pixels, axis=1), [-1, out_h, out_w, kh * kw * a.shape[3]])
    slices = [
        a[:, i : i + (out_h - 1) * sh + 1 : sh, j : j + (out_w - 1) * sw + 1 : sw, :]
        for i in range(kh)
        for j in range(kw)
    ]
    return tf.concat(slices, axis=-1)


class _LayerSums:
    """One layer's share of the clipping: its examples' squared gradient norms
    (`squared_norms`, `[B]`), then its weights' clipped gradient sums (`clipped_sums(c)`) once
    the clipping factors are known; see the module docstring for the three cases.

    The bias gradient of example `i` is `sum_t g_i,t` in every case, formed once for its norm
    and its clipped sum."""

    def __init__(self, record, g):
        layer = self.layer = record.layer
        self.record, self.g = record, g
        self.xla = compiling_with_xla()
        a = record.a
        if isinstance(layer, keras.layers.Conv2D):
            a = record.patches if record.patches is not None else _patches(layer, a)
        a = tf.cast(a, "float32")
        batch = tf.shape(a)[0]
        a_rows = tf.reshape(a, [batch, -1, a.shape[-1]])
        g_rows = tf.reshape(g, [batch, -1, g.shape[-1]])
        steps, d_in, d_out = a_rows.shape[1], a_rows.shape[2], g_rows.shape[2]
        self.per_example = None
        if steps == 1:
            self.mode = "vectors"
            self.a_rows, self.g_rows = a_rows[:, 0], g_rows[:, 0]
            squared = tf.reduce_sum(tf.square(self.a_rows), 1) * tf.reduce_sum(
                tf.square(self.g_rows), 1
            )
            self.bias = self.g_rows if layer.use_bias else None
        elif steps is not None and steps * (d_in + d_out) < d_in * d_out:
            self.mode = "gram"
            self.a_rows, self.g_rows = a_rows, g_rows
            gram_a = tf.einsum("bti,bsi->bts", a_rows, a_rows)
            gram_g = tf.einsum("bto,bso->bts", g_rows, g_rows)
            squared = tf.reduce_sum(gram_a * gram_g, axis=[1, 2])
            self.bias = tf.reduce_sum(g_rows, axis=1) if layer.use_bias else None
        else:
            self.mode = "per_example"
            # [B, d_out, d_in]: this orientation is the cheaper batched product on CPU.
            self.per_example = tf.matmul(g_rows, a_rows, transpose_a=True)
            squared = tf.reduce_sum(tf.square(tf.reshape(self.per_example, [batch, -1])), 1)
            self.bias = tf.reduce_sum(g_rows, axis=1) if layer.use_bias else None
        if layer.use_bias:
            squared = squared + tf.reduce_sum(tf.square(self.bias), axis=1)
        self.squared_norms = squared

    def clipped_sums(self, scale):
        """`{id(weight): sum_i scale_i grad_i}` for the layer's kernel (and bias)."""
        layer = self.layer
        if self.mode == "vectors":
            kernel = tf.matmul(self.a_rows, self.g_rows * scale[:, None], transpose_a=True)
        elif self.mode == "per_example":
            if self.xla:  # XLA's CPU dot over the batch axis is slower than this reduction
                kernel = tf.reduce_sum(self.per_example * scale[:, None, None], axis=0)
            else:
                kernel = tf.tensordot(scale, self.per_example, axes=1)
            kernel = tf.transpose(kernel)
        elif isinstance(layer, keras.layers.Conv2D) and not self.xla:
            # TensorFlow's own filter gradient, of the scaled output gradients.
            g = self.g
            kernel = tf.compat.v1.nn.conv2d_backprop_filter(
                tf.cast(self.record.a, "float32"),
                layer.kernel.shape,
                g * tf.reshape(scale, [-1] + [1] * (len(g.shape) - 1)),
                strides=[1, *layer.strides, 1],
                padding=layer.padding.upper(),
            )
        else:
            d_in, d_out = self.a_rows.shape[-1], self.g_rows.shape[-1]
            kernel = tf.matmul(
                tf.reshape(self.a_rows, [-1, d_in]),
                tf.reshape(self.g_rows * scale[:, None, None], [-1, d_out]),
                transpose_a=True,
            )
        sums = {id(layer.kernel): tf.reshape(kernel, layer.kernel.shape)}
        if layer.use_bias:
            sums[id(layer.bias)] = tf.tensordot(scale, self.bias, axes=1)
        return sums


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
