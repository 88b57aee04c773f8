"""LazyAdam: Adam that updates only the embedding rows a batch touches."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from layers.xla import compiling_with_xla


def merge_duplicate_rows(gradient: tf.IndexedSlices, num_slots: int | None = None):
    """Sums the rows of a sparse gradient that share an index, with static shapes (XLA).

    Returns:
        `(rows, values, valid)`: `[E]` row indices, `[E, ...]` summed values and a `[E]` mask;
        the first `U` entries (one per distinct index, in increasing order) are valid, the
        others are padding (index 0, values 0).
    """
    indices, values = gradient.indices, gradient.values
    order = tf.argsort(indices, stable=True)
    sorted_indices = tf.gather(indices, order)
    first = tf.concat([[True], sorted_indices[1:] != sorted_indices[:-1]], axis=0)
    slot = tf.cumsum(tf.cast(first, tf.int32)) - 1
    size = tf.shape(indices)[0] if num_slots is None else num_slots
    merged = tf.math.unsorted_segment_sum(tf.gather(values, order), slot, size)
    rows = tf.math.unsorted_segment_max(sorted_indices, slot, size)
    valid = tf.range(size) < tf.reduce_max(tf.concat([slot, [-1]], axis=0)) + 1
    return tf.where(valid, rows, tf.zeros_like(rows)), merged, valid


@keras.saving.register_keras_serializable(package="keras_zoo")
class LazyAdam(keras.optimizers.Adam):
    """Adam whose sparse updates touch only the rows present in the gradient.

    For a dense gradient this is `keras.optimizers.Adam`. For a `tf.IndexedSlices` gradient (an
    `Embedding` lookup's), only the rows it holds move: their first and second moments and
    their values take Adam's step (with the bias correction of the global step), every other
    row keeps its moments and its value, where Adam would decay every row's moments and move
    rows the batch never saw. Rows listed several times are summed first. This is TensorFlow
    Addons' `LazyAdam`, with the same numbers, for large vocabularies where a dense update of
    the whole table each step costs more than the step itself.

    Args:
        learning_rate: a float, a `keras.optimizers.schedules.LearningRateSchedule`, or a
            callable returning the rate. Defaults to `0.001`.
        beta_1: decay of the first-moment average. Defaults to `0.9`.
        beta_2: decay of the second-moment average. Defaults to `0.999`.
        epsilon: added to the square root of the second moment. Defaults to `1e-7`.
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
        ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name: as in
            every `keras.optimizers.Optimizer`. `name` defaults to `"lazy_adam"`.

    Example:

    ```python
    model = keras.Sequential([keras.layers.Embedding(1_000_000, 64), keras.layers.Dense(1)])
    model.compile(optimizer=LazyAdam(1e-3), loss="mse")
    ```

    Reference:
        Kingma and Ba, "Adam: A Method for Stochastic Optimization", ICLR 2015; the lazy
        variant is TensorFlow Addons' `tfa.optimizers.LazyAdam`.
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str = "lazy_adam",
        **kwargs,
    ):
        if kwargs.pop("amsgrad", False):
            raise ValueError(
                "LazyAdam has no AMSGrad variant (nor has TensorFlow Addons'). Received: "
                "amsgrad=True"
            )
        super().__init__(
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=False,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            name=name,
            **kwargs,
        )

    def update_step(self, gradient, variable, learning_rate):
        if not isinstance(gradient, tf.IndexedSlices):
            return super().update_step(gradient, variable, learning_rate)
        dtype = variable.dtype
        step = ops.cast(self.iterations + 1, dtype)
        beta_1, beta_2 = ops.cast(self.beta_1, dtype), ops.cast(self.beta_2, dtype)
        alpha = (
            ops.cast(learning_rate, dtype)
            * ops.sqrt(1 - ops.power(beta_2, step))
            / (1 - ops.power(beta_1, step))
        )
        index = self._get_variable_index(variable)
        m, v = self._momentums[index], self._velocities[index]
        values = tf.cast(gradient.values, dtype)
        if not compiling_with_xla():
            # Distinct rows with a dynamic count: one scatter write per row and moment. The new
            # rows are written (a scatter update), not subtracted in place: on TensorFlow 2.21
            # a scatter subtraction costs about 3.5 times a scatter update of the same rows.
            rows, slot = tf.unique(gradient.indices)
            # Summed in slot order: a sorted segment sum is faster than an unsorted one.
            order = tf.argsort(slot, stable=True)
            grad = tf.math.segment_sum(tf.gather(values, order), tf.gather(slot, order))
            old_m, old_v = tf.gather(m.value, rows), tf.gather(v.value, rows)
            new_m, new_v, step_rows = self._moments_and_step(old_m, old_v, grad, alpha)
            self.assign(m, tf.IndexedSlices(new_m, rows))
            self.assign(v, tf.IndexedSlices(new_v, rows))
            table = variable.value if isinstance(variable, keras.Variable) else variable
            new_rows = tf.gather(table, rows) - step_rows
            self.assign(variable, tf.IndexedSlices(new_rows, rows))
            return
        # XLA needs static shapes: as many slots as gradient rows, the padding slots masked.
        rows, grad, valid = merge_duplicate_rows(
            tf.IndexedSlices(values, gradient.indices, gradient.dense_shape)
        )
        old_m, old_v = tf.gather(m.value, rows), tf.gather(v.value, rows)
        new_m, new_v, step_rows = self._moments_and_step(old_m, old_v, grad, alpha)
        mask = tf.reshape(valid, tf.concat([tf.shape(valid), tf.ones_like(tf.shape(grad)[1:])], 0))

        def changes(delta):  # padding slots add nothing
            return tf.IndexedSlices(tf.where(mask, delta, tf.zeros_like(delta)), rows)

        self.assign_add(m, changes(new_m - old_m))
        self.assign_add(v, changes(new_v - old_v))
        self.assign_sub(variable, changes(step_rows))

    def _moments_and_step(self, old_m, old_v, grad, alpha):
        """The rows' new first and second moments, and the step to subtract from them."""
        dtype = grad.dtype
        beta_1, beta_2 = ops.cast(self.beta_1, dtype), ops.cast(self.beta_2, dtype)
        new_m = beta_1 * old_m + (1 - beta_1) * grad
        new_v = beta_2 * old_v + (1 - beta_2) * tf.square(grad)
        step_rows = alpha * new_m / (tf.sqrt(new_v) + ops.cast(self.epsilon, dtype))
        return new_m, new_v, step_rows

    def get_config(self):
        config = super().get_config()
        del config["amsgrad"]
        return config
