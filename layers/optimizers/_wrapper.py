"""The shared base of optimizers that wrap another Keras optimizer."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras.src.utils import tracking

# Options the wrapped optimizer owns. Accepting them on the wrapper too would give two places to
# set one thing, so the wrapper refuses them and says where they go.
_INNER_OPTIONS = (
    "learning_rate",
    "weight_decay",
    "clipnorm",
    "clipvalue",
    "global_clipnorm",
    "use_ema",
    "ema_momentum",
    "ema_overwrite_frequency",
    "loss_scale_factor",
    "gradient_accumulation_steps",
)


def resolve_optimizer(optimizer) -> keras.optimizers.Optimizer:
    """An optimizer instance from an instance, a serialised config, or a Keras name."""
    if isinstance(optimizer, str | dict):
        optimizer = keras.optimizers.get(optimizer)
    if not isinstance(optimizer, keras.optimizers.Optimizer):
        raise TypeError(
            "`optimizer` must be a `keras.optimizers.Optimizer`, its serialised config or its "
            f"name. Received: optimizer={optimizer!r}"
        )
    return optimizer


class OptimizerWrapper(keras.optimizers.Optimizer):
    """Base class for an optimizer that wraps another one, as `LossScaleOptimizer` does.

    The wrapped optimizer keeps everything it owns (learning rate, weight decay, clipping,
    gradient accumulation, EMA, its iteration count and its slots) and applies the gradients
    itself; a subclass changes the gradients first (`transform_gradients`) or the variables
    afterwards (`after_apply`). The wrapper's `variables` are its own followed by the wrapped
    optimizer's, so `.keras` files and checkpoints hold both.

    Args:
        optimizer: the `keras.optimizers.Optimizer` to wrap, its serialised config, or its name.
        name: name of the wrapper. Defaults to the snake-cased class name.
    """

    def __init__(self, optimizer, name: str | None = None, **kwargs):
        for option in _INNER_OPTIONS:
            if option in kwargs:
                raise ValueError(
                    f"{type(self).__name__} takes `{option}` from the optimizer it wraps; set it "
                    f"there, e.g. {type(self).__name__}(keras.optimizers.Adam({option}=...)). "
                    f"Received: {option}={kwargs[option]!r}"
                )
        if kwargs:
            raise TypeError(f"{type(self).__name__} got unexpected arguments {sorted(kwargs)}")
        optimizer = resolve_optimizer(optimizer)
        super().__init__(learning_rate=0.0, name=name)
        self.inner_optimizer = optimizer

    @tracking.no_automatic_dependency_tracking
    def build(self, var_list):
        if not self.inner_optimizer.built:
            self.inner_optimizer.build(var_list)
        super().build(var_list)

    @property
    def variables(self):
        return self._variables + self.inner_optimizer.variables

    def apply(self, grads, trainable_variables=None):
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be "
                    "built on a list of variables."
                )
            trainable_variables = self._trainable_variables
        trainable_variables = list(trainable_variables)
        if not self.built:
            with keras.name_scope(self.name, caller=self):
                self.build(trainable_variables)
            self.built = True
        grads = self.transform_gradients(list(grads), trainable_variables)
        before = self.before_apply(trainable_variables)
        self.inner_optimizer.apply(grads, trainable_variables)
        self.after_apply(trainable_variables, before)

    def transform_gradients(self, grads, trainable_variables):
        """Returns the gradients the wrapped optimizer applies. Runs in the replica context."""
        return grads

    def before_apply(self, trainable_variables):
        """Runs before the wrapped optimizer's update; its result goes to `after_apply`."""
        return None

    def after_apply(self, trainable_variables, before) -> None:
        """Runs after the wrapped optimizer's update, in the replica context."""

    def update_each_replica(self, fn, variables, *args) -> None:
        """Runs `fn(variable, *args)` on every replica's copy of each variable.

        Model variables are mirrored under `tf.distribute`; they can only be written from a
        cross-replica update, which is what Keras's own optimizers do in `update_step` too.
        """
        # A plain `tf.Variable` (custom training loops written for TFA pass them) has a
        # `value` method, not the wrapped variable that a `keras.Variable`'s `value` is.
        tf_variables = [v.value if isinstance(v, keras.Variable) else v for v in variables]

        def merged(distribution, *merged_args):
            for variable in tf_variables:
                distribution.extended.update(variable, fn, args=merged_args, group=False)

        tf.__internal__.distribute.interim.maybe_merge_call(
            merged, self._distribution_strategy, *args
        )

    @property
    def learning_rate(self):
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, learning_rate):
        self.inner_optimizer.learning_rate = learning_rate

    @property
    def iterations(self):
        return self.inner_optimizer.iterations

    @property
    def loss_scale_factor(self):
        inner = self.__dict__.get("inner_optimizer")
        return None if inner is None else inner.loss_scale_factor

    @loss_scale_factor.setter
    def loss_scale_factor(self, value):
        # `LossScaleOptimizer` sets this to None on what it wraps so that gradients are not
        # unscaled twice; the wrapped optimizer is where the unscaling would happen.
        inner = self.__dict__.get("inner_optimizer")
        if inner is not None:
            inner.loss_scale_factor = value

    def scale_loss(self, loss):
        return self.inner_optimizer.scale_loss(loss)

    def finalize_variable_values(self, var_list):
        self.inner_optimizer.finalize_variable_values(var_list)

    def get_config(self):
        # The base config's options belong to the wrapped optimizer and live in its config.
        return {
            "name": self.name,
            "optimizer": keras.saving.serialize_keras_object(self.inner_optimizer),
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        config = dict(config)
        config["optimizer"] = keras.saving.deserialize_keras_object(
            config["optimizer"], custom_objects=custom_objects
        )
        return cls(**config)
