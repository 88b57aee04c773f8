"""Shared base for task models (classifiers and the like) built as functional subclasses."""

from __future__ import annotations

import keras


class ClassifierTask(keras.Model):
    """Base class for functional classifiers: `compile()` with no arguments is ready to train.

    Subclasses build their graph in `__init__`, pass `inputs`/`outputs` to `super().__init__`,
    store every constructor argument and return them from `get_config` (so `from_config` is
    `cls(**config)`), and call `self.compile()` last. The model outputs logits when
    `activation=None` and probabilities when `activation="softmax"`; the default loss follows.
    """

    @staticmethod
    def resolve_dtype_policy(dtype) -> keras.DTypePolicy:
        """The policy for this model's layers: `dtype` if given, else the global policy.

        Subclasses pass it to every layer they create and to `super().__init__`, so a model
        built under `mixed_float16` reloads as `mixed_float16` whatever the global policy is.
        """
        return keras.dtype_policies.get(dtype) if dtype is not None else keras.config.dtype_policy()

    def base_config(self) -> dict:
        """The `keras.Model` part of `get_config`: name, trainable and dtype policy."""
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
        }

    def compile(
        self,
        optimizer="auto",
        loss="auto",
        metrics="auto",
        learning_rate: float = 1e-3,
        weight_decay: float = 1e-4,
        **kwargs,
    ):
        """Configures the model for training, with classification defaults.

        Args:
            optimizer: an optimizer or `"auto"` for `keras.optimizers.AdamW`.
            loss: a loss or `"auto"` for sparse categorical cross-entropy that matches the
                output activation (logits or probabilities).
            metrics: metrics or `"auto"` for sparse categorical accuracy named `"accuracy"`.
            learning_rate: learning rate of the `"auto"` optimizer. Defaults to `1e-3`.
            weight_decay: weight decay of the `"auto"` optimizer. Defaults to `1e-4`.
            **kwargs: passed to `keras.Model.compile` (e.g. `jit_compile`).
        """
        if optimizer == "auto":
            optimizer = keras.optimizers.AdamW(learning_rate, weight_decay=weight_decay)
        if loss == "auto":
            from_logits = getattr(self, "output_activation", None) is None
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=from_logits)
        if metrics == "auto":
            metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def compile_from_config(self, config):
        # Keras skips models whose `compile` is overridden; ours takes the same arguments, so the
        # saved optimizer (and its state, restored right after) comes back on load.
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if self.built:
            self.optimizer.build(self.trainable_variables)

    @classmethod
    def from_config(cls, config):
        return cls(**config)
