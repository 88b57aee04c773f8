"""`CRFModelWrapper`: a model with a CRF head that trains with plain `fit`
(TensorFlow Addons' `tfa.text.CRFModelWrapper`)."""

from __future__ import annotations

import keras
import tensorflow as tf

from layers.crf.layer import CRF
from layers.crf.scores import crf_log_likelihood


@keras.saving.register_keras_serializable(package="keras_zoo")
class CRFModelWrapper(keras.Model):
    """Puts a `CRF` head on a model and trains it with the CRF's negative log-likelihood.

    `base_model` maps the inputs to `[batch_size, max_seq_len, features]` features (its mask,
    if any, sets the sequence lengths); the wrapper adds `CRF(units, ...)`. Calling the model
    (and `predict`) returns the Viterbi-decoded int32 tags; `fit` and `evaluate` minimise the
    mean negative log-likelihood of the true tags `y` (`[batch_size, max_seq_len]` integers),
    weighted by `sample_weight` (one weight per sequence) when given, plus the model's
    regularization losses. The loss `compile` is given is not used; its metrics see the
    decoded tags. `fit` also reports `crf_loss`, the CRF part of the loss.

    This is TFA's `tfa.text.CRFModelWrapper`. It overrides `compute_loss` (Keras 3's hook for
    a custom loss), not `train_step`, so XLA (`jit_compile=True`), mixed precision and
    distribution strategies work as for any model. Differences: extra keyword arguments go to
    the `keras.Model` (TFA passed them to the CRF layer); `return_crf_internal=True` in a call
    returns `((potentials, sequence_length, chain_kernel), decoded_sequence)` as in TFA.
    TensorFlow-only (the CRF functions use `tf.scan`).

    Args:
        base_model: a Keras model (or layer) producing the features.
        units: number of tags.
        chain_initializer, use_boundary, boundary_initializer, use_kernel: as in `CRF`.
        **kwargs: `keras.Model` arguments (`name`, `dtype`, `trainable`).

    Example:

    ```python
    import numpy as np
    import keras
    from layers.crf import CRFModelWrapper

    # Any model giving [batch_size, max_seq_len, features]: a BiLSTM, a transformer...
    tokens = keras.Input((None,), dtype="int32")
    features = keras.layers.Embedding(100, 16, mask_zero=True)(tokens)  # 0 is padding
    features = keras.layers.Dense(16, activation="tanh")(features)
    model = CRFModelWrapper(keras.Model(tokens, features), units=5)
    model.compile(optimizer="adam")

    x = np.random.randint(1, 100, size=(32, 12))
    y = np.random.randint(0, 5, size=(32, 12))
    model.fit(x, y, batch_size=8, epochs=1, verbose=0)
    tags = model.predict(x, verbose=0)  # [32, 12] decoded int32 tags
    ```

    Reference:
        Lafferty, McCallum and Pereira, "Conditional Random Fields: Probabilistic Models for
        Segmenting and Labeling Sequence Data", ICML 2001.
    """

    def __init__(
        self,
        base_model,
        units: int,
        chain_initializer="orthogonal",
        use_boundary: bool = True,
        boundary_initializer="zeros",
        use_kernel: bool = True,
        **kwargs,
    ):
        super().__init__(**kwargs)
        if not callable(base_model):
            raise TypeError(
                f"`base_model` must be a Keras model or layer. Received: base_model={base_model!r}"
            )
        # The CRF first: the weights are in TFA's order (the CRF's, then the base model's).
        self.crf_layer = CRF(
            units=units,
            chain_initializer=chain_initializer,
            use_boundary=use_boundary,
            boundary_initializer=boundary_initializer,
            use_kernel=use_kernel,
            dtype=self.dtype_policy,
            name="crf",
        )
        self.base_model = base_model
        self.units = units
        self.use_boundary = use_boundary
        self.use_kernel = use_kernel
        self.crf_loss_tracker = keras.metrics.Mean(name="crf_loss")

    def call(self, inputs, training=None, mask=None, return_crf_internal=False):
        if mask is None:
            features = self.base_model(inputs, training=training)
        else:
            features = self.base_model(inputs, training=training, mask=mask)
        decoded_sequence, potentials, sequence_length, chain_kernel = self.crf_layer(features)
        internals = (potentials, sequence_length, chain_kernel)
        if return_crf_internal:
            return internals, decoded_sequence
        return decoded_sequence

    def compute_crf_loss(self, potentials, sequence_length, kernel, y, sample_weight=None):
        """The mean negative log-likelihood of the tags `y` (weighted per sequence)."""
        log_likelihood, _ = crf_log_likelihood(potentials, y, sequence_length, kernel)
        loss = -log_likelihood
        if sample_weight is not None:
            loss = loss * tf.reshape(tf.cast(sample_weight, loss.dtype), [-1])
        return tf.reduce_mean(loss)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if y is None:
            raise ValueError(
                "CRFModelWrapper trains on the true tags: pass `y` ([batch_size, max_seq_len] "
                "integer tags) to `fit`/`evaluate`. Received: y=None"
            )
        last = self.crf_layer.last_outputs()
        if last is None:
            raise ValueError(
                "`compute_loss` needs the CRF's potentials of the call that produced `y_pred`: "
                "call the model first. Received: no call"
            )
        _, potentials, sequence_length, kernel = last
        crf_loss = self.compute_crf_loss(potentials, sequence_length, kernel, y, sample_weight)
        self.crf_loss_tracker.update_state(crf_loss)
        replicas = tf.distribute.get_strategy().num_replicas_in_sync
        total = crf_loss / tf.cast(replicas, crf_loss.dtype)  # summed over replicas
        for loss in self.losses:
            total = total + tf.cast(self._aggregate_additional_loss(loss), total.dtype)
        return total

    def get_config(self):
        config = super().get_config()
        config.update(
            {
                "base_model": keras.saving.serialize_keras_object(self.base_model),
                "units": self.units,
                "chain_initializer": keras.initializers.serialize(self.crf_layer.chain_initializer),
                "use_boundary": self.use_boundary,
                "boundary_initializer": keras.initializers.serialize(
                    self.crf_layer.boundary_initializer
                ),
                "use_kernel": self.use_kernel,
            }
        )
        return config

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["base_model"] = keras.saving.deserialize_keras_object(config["base_model"])
        return cls(**config)
