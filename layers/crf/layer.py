"""`CRF`: a linear-chain conditional random field layer (TensorFlow Addons' `tfa.layers.CRF`)."""

from __future__ import annotations

import threading

import keras
import tensorflow as tf

from layers.crf.decode import crf_decode
from layers.validation import check_bool, check_positive_int


@keras.saving.register_keras_serializable(package="keras_zoo")
class CRF(keras.layers.Layer):
    """Linear-chain CRF: projects features to tag potentials and Viterbi-decodes them.

    The layer holds the CRF's `[units, units]` transition matrix (`chain_kernel`), optional
    start and end scores (`left_boundary`, `right_boundary`, added to the potentials of each
    sequence's first and last step) and an optional dense projection (`kernel`, `bias`) from
    the features to the `units` tag potentials. Its call returns
    `[decoded_sequence, potentials, sequence_length, chain_kernel]`: the decoded int32 tags,
    the potentials, the int64 lengths and the transition matrix, the last three being what
    `crf_log_likelihood` needs to train it (`CRFModelWrapper` does that with `fit`).

    This is TFA's `tfa.layers.CRF` with the same arguments, weights (order and shapes:
    `chain_kernel`, `left_boundary`, `right_boundary`, `kernel`, `bias`, so
    `set_weights(tfa_layer.get_weights())` gives TFA's outputs) and outputs. A mask (from
    `mask_zero=True` or `keras.layers.Masking`, or passed as `mask=`) sets the lengths; like
    TFA, only right padding is supported: an eager call whose mask is `False` at the first
    step of a sequence raises `NotImplementedError` (inside a graph that check is not made).
    Under a mixed precision policy the layer computes in its variable dtype (float32), as TFA's
    did. TensorFlow-only (it decodes with `tf.scan`).

    Args:
        units: number of tags. Must be positive.
        chain_initializer: initializer of the transition matrix. Defaults to `"orthogonal"`.
        use_boundary: learn start and end scores per tag. Defaults to `True`.
        boundary_initializer: their initializer. Defaults to `"zeros"`.
        use_kernel: project the inputs with a dense layer; without it the inputs' last
            dimension must be `units`. Defaults to `True`.
        kernel_initializer, bias_initializer: initializers of the projection (keras-zoo
            additions; TFA used these defaults). Default to `"glorot_uniform"` and `"zeros"`.
        kernel_regularizer, bias_regularizer: optional regularizers of the projection
            (keras-zoo additions). Default to `None`.
        **kwargs: base layer arguments (`name`, `dtype`, `trainable`).

    Call arguments:
        inputs: a `[batch_size, max_seq_len, features]` float tensor.
        mask: optional `[batch_size, max_seq_len]` boolean mask, right padded.

    Example:

    ```python
    layer = CRF(4)
    decoded, potentials, lengths, transitions = layer(np.random.rand(2, 5, 8))
    decoded.shape  # (2, 5), int32
    ```

    Reference:
        Lafferty, McCallum and Pereira, "Conditional Random Fields: Probabilistic Models for
        Segmenting and Labeling Sequence Data", ICML 2001.
    """

    def __init__(
        self,
        units: int,
        chain_initializer="orthogonal",
        use_boundary: bool = True,
        boundary_initializer="zeros",
        use_kernel: bool = True,
        kernel_initializer="glorot_uniform",
        bias_initializer="zeros",
        kernel_regularizer=None,
        bias_regularizer=None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.units = check_positive_int("units", units)
        self.use_boundary = check_bool("use_boundary", use_boundary)
        self.use_kernel = check_bool("use_kernel", use_kernel)
        self.chain_initializer = keras.initializers.get(chain_initializer)
        self.boundary_initializer = keras.initializers.get(boundary_initializer)
        self.kernel_initializer = keras.initializers.get(kernel_initializer)
        self.bias_initializer = keras.initializers.get(bias_initializer)
        self.kernel_regularizer = keras.regularizers.get(kernel_regularizer)
        self.bias_regularizer = keras.regularizers.get(bias_regularizer)
        self.supports_masking = True
        # What the last call of each thread (each replica) returned: `last_outputs()`.
        self._last_call = threading.local()

    def last_outputs(self):
        """The outputs of this thread's last call (`None` before any): the CRF's training hook.

        A model whose output is the decoded tags finds here, in `compute_loss`, the potentials,
        lengths and transitions of the call that produced its `y_pred` (compare
        `last_outputs()[0] is y_pred`), and trains without running the model a second time.
        Under a distribution strategy each replica runs in its own thread and sees its own call.
        """
        return getattr(self._last_call, "value", None)

    @property
    def input_dtype(self):
        # The CRF runs in the variable dtype (float32 under mixed precision), as TFA's did.
        return self.variable_dtype

    def build(self, input_shape):
        features = input_shape[-1]
        if not self.use_kernel and features is not None and features != self.units:
            raise ValueError(
                "With `use_kernel=False` the inputs are the potentials: their last dimension "
                f"must be `units`={self.units}. Received: input_shape={tuple(input_shape)}"
            )

        def weight(name, shape, initializer, regularizer=None):
            # autocast=False: float32 under mixed precision too.
            return self.add_weight(
                name=name,
                shape=shape,
                initializer=initializer,
                regularizer=regularizer,
                autocast=False,
            )

        self.chain_kernel = weight("chain_kernel", (self.units, self.units), self.chain_initializer)
        if self.use_boundary:
            self.left_boundary = weight("left_boundary", (self.units,), self.boundary_initializer)
            self.right_boundary = weight("right_boundary", (self.units,), self.boundary_initializer)
        if self.use_kernel:
            self.kernel = weight(
                "kernel", (features, self.units), self.kernel_initializer, self.kernel_regularizer
            )
            self.bias = weight("bias", (self.units,), self.bias_initializer, self.bias_regularizer)

    def call(self, inputs, mask=None):
        inputs = tf.cast(inputs, self.variable_dtype)
        if mask is not None:
            mask = tf.cast(mask, tf.bool)
            if mask.shape.rank != 2:
                raise ValueError(
                    "The mask of a CRF must have shape [batch_size, max_seq_len]. "
                    f"Received: mask.shape={tuple(mask.shape)}"
                )
            if tf.executing_eagerly() and not bool(tf.reduce_all(mask[:, 0])):
                raise NotImplementedError(
                    "The CRF layer supports right padding only: the mask must be True at the "
                    "first step of every sequence. Received: a mask with mask[:, 0] False"
                )
        potentials = inputs
        if self.use_kernel:
            potentials = tf.matmul(inputs, self.kernel) + self.bias
        if self.use_boundary:
            potentials = self._add_boundary_scores(potentials, mask)
        if mask is None:
            sequence_length = tf.fill(tf.shape(inputs)[:1], tf.cast(tf.shape(inputs)[1], tf.int64))
        else:
            sequence_length = tf.reduce_sum(tf.cast(mask, tf.int64), axis=1)
        chain_kernel = tf.convert_to_tensor(self.chain_kernel)
        decoded_sequence, _ = crf_decode(potentials, chain_kernel, sequence_length)
        outputs = [decoded_sequence, potentials, sequence_length, chain_kernel]
        self._last_call.value = tuple(outputs)
        return outputs

    def _add_boundary_scores(self, potentials, mask):
        """Adds the start scores at each sequence's first step and the end scores at its last."""
        start = tf.convert_to_tensor(self.left_boundary)
        end = tf.convert_to_tensor(self.right_boundary)
        if mask is None:
            max_seq_len = tf.shape(potentials)[1]
            steps = tf.range(max_seq_len)[tf.newaxis, :, tf.newaxis]
            is_first = tf.cast(steps == 0, potentials.dtype)
            is_last = tf.cast(steps == max_seq_len - 1, potentials.dtype)
        else:
            # A first step is True after False (or at the start); a last one True before False
            # (or at the end): with a mask of holes, every run gets both.
            before = tf.pad(mask[:, :-1], [[0, 0], [1, 0]])
            after = tf.pad(mask[:, 1:], [[0, 0], [0, 1]])
            is_first = tf.cast(mask & ~before, potentials.dtype)[:, :, tf.newaxis]
            is_last = tf.cast(mask & ~after, potentials.dtype)[:, :, tf.newaxis]
        return potentials + is_first * start + is_last * end

    def compute_mask(self, inputs, mask=None):
        # The decoded tags and the potentials keep the mask; lengths and transitions have none.
        if mask is None:
            return None
        return [mask, mask, None, None]

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "units": self.units,
                "chain_initializer": keras.initializers.serialize(self.chain_initializer),
                "use_boundary": self.use_boundary,
                "boundary_initializer": keras.initializers.serialize(self.boundary_initializer),
                "use_kernel": self.use_kernel,
                "kernel_initializer": keras.initializers.serialize(self.kernel_initializer),
                "bias_initializer": keras.initializers.serialize(self.bias_initializer),
                "kernel_regularizer": keras.regularizers.serialize(self.kernel_regularizer),
                "bias_regularizer": keras.regularizers.serialize(self.bias_regularizer),
            }
        )
        return config
