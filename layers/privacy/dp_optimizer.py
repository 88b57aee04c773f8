"""DP-SGD's private optimizer: clipped per-example gradients plus Gaussian noise.

Abadi et al., "Deep Learning with Differential Privacy", CCS 2016 (https://arxiv.org/abs/1607.00133).
"""

from __future__ import annotations

import contextlib

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from layers.optimizers._wrapper import OptimizerWrapper
from layers.validation import check_finite_number_above, check_optional_seed, check_positive_int
from layers.xla import compiling_with_xla

NOT_INSTALLED = (
    "DPOptimizer received the ordinary batch-mean gradients of Keras's train step, which would "
    "train without privacy. It needs the per-example gradients of the private train step: pass "
    "`callbacks=[layers.privacy.PrivateTraining()]` to `fit`, or call "
    "`layers.privacy.private_train_step(model, data)` in a custom loop."
)


@keras.saving.register_keras_serializable(package="keras_zoo")
class DPOptimizer(OptimizerWrapper):
    """Wraps any Keras optimizer into DP-SGD's private optimizer (Abadi et al. 2016).

    Each microbatch's gradient (each example's, by default) is clipped to L2 norm at most
    `l2_norm_clip` (over all trainable weights together), the clipped gradients are summed,
    Gaussian noise of standard deviation `noise_multiplier * l2_norm_clip` is added to every
    coordinate, and the sum is divided by the number of microbatches; the wrapped optimizer then
    applies that gradient. As in TF Privacy, `num_microbatches` groups split each batch and the
    mean gradient of each group is clipped as one (fewer, cheaper clips; the privacy unit is
    still the example, the noise is per group).

    The clipped per-example gradients come from `PrivateTraining`'s train step (ghost clipping
    for Dense and Conv2D models, otherwise vectorised over the examples with
    `tf.vectorized_map`), not from Keras's ordinary step, which only computes the batch mean:
    without that callback the optimizer refuses to apply a gradient rather than train without
    privacy.

    Args:
        optimizer: the `keras.optimizers.Optimizer` that applies the private gradient (its
            serialised config or name also work).
        l2_norm_clip: the clipping bound C on each microbatch gradient's L2 norm (> 0).
        noise_multiplier: the noise's standard deviation in units of C (>= 0; 0 gives clipping
            without privacy, for tests).
        num_microbatches: the number of groups each batch is split into; must divide every batch
            size. Defaults to `None`: one group per example.
        seed: seed of the noise. Defaults to `None`: a fresh seed (a fixed seed repeats its noise
            after a reload, which weakens the privacy of the resumed run).
        name: the wrapper's name. Defaults to `"dp_optimizer"`.

    Example:

    ```python
    optimizer = make_private(keras.optimizers.SGD(0.1), l2_norm_clip=1.0, noise_multiplier=1.1)
    model.compile(optimizer=optimizer, loss="sparse_categorical_crossentropy")
    model.fit(x, y, batch_size=256, callbacks=[PrivateTraining()])
    ```
    """

    def __init__(
        self,
        optimizer,
        l2_norm_clip: float,
        noise_multiplier: float,
        num_microbatches: int | None = None,
        seed: int | None = None,
        name: str | None = None,
        **kwargs,
    ):
        l2_norm_clip = check_finite_number_above("l2_norm_clip", l2_norm_clip, 0.0, inclusive=False)
        noise_multiplier = check_finite_number_above("noise_multiplier", noise_multiplier, 0.0)
        check_positive_int("num_microbatches", num_microbatches, allow_none=True)
        check_optional_seed("seed", seed)
        super().__init__(optimizer, name=name, **kwargs)
        self.l2_norm_clip = l2_norm_clip
        self.noise_multiplier = noise_multiplier
        self.num_microbatches = num_microbatches
        self.seed = seed
        self._noise_seed = keras.random.SeedGenerator(seed, name="dp_noise_seed")
        self._private_depth = 0

    @contextlib.contextmanager
    def private_update(self):
        """The context in which `apply` accepts gradients: `private_gradients`' output only."""
        self._private_depth += 1
        try:
            yield
        finally:
            self._private_depth -= 1

    def apply(self, grads, trainable_variables=None):
        if self._private_depth == 0:
            raise RuntimeError(NOT_INSTALLED)
        return super().apply(grads, trainable_variables)

    def private_gradients(self, microbatch_gradients):
        """Clips each microbatch's gradient, sums them, adds the noise, divides by their number.

        Args:
            microbatch_gradients: one tensor per trainable weight, shaped
                `[num_microbatches, *weight.shape]`.

        Returns:
            One gradient per weight, `(sum_i clip(g_i) + N(0, (noise_multiplier * C)^2)) / m`.
        """
        grads = [ops.cast(g, "float32") for g in microbatch_gradients]
        count = ops.shape(grads[0])[0]
        squares = [ops.sum(ops.square(g), axis=tuple(range(1, len(g.shape)))) for g in grads]
        norms = ops.sqrt(ops.sum(ops.stack(squares, axis=0), axis=0))
        # TF Privacy's clip: g * C / max(||g||, C).
        scale = self.l2_norm_clip / ops.maximum(norms, self.l2_norm_clip)
        totals = [ops.tensordot(scale, g, axes=1) for g in grads]
        return self.noised_average(totals, count)

    def noised_average(self, clipped_sums, count):
        """Adds the Gaussian noise to summed clipped gradients and divides by their number.

        Args:
            clipped_sums: one tensor per trainable weight, `sum_i clip(g_i)`.
            count: the number of microbatches summed.

        Returns:
            One gradient per weight, `(sum + N(0, (noise_multiplier * C)^2)) / count`.
        """
        totals = [ops.cast(t, "float32") for t in clipped_sums]
        stddev = self.noise_multiplier * self.l2_norm_clip
        if stddev > 0:
            # One draw for all the weights (one seed update per step), split back per weight.
            sizes = [int(np.prod(t.shape)) for t in totals]
            noise = self._gaussian_noise(sum(sizes), stddev)
            ends = np.cumsum(sizes).tolist()
            totals = [
                t + ops.reshape(noise[end - size : end], t.shape)
                for t, size, end in zip(totals, sizes, ends, strict=True)
            ]
        divisor = ops.cast(count, "float32")
        return [t / divisor for t in totals]

    def _gaussian_noise(self, size: int, stddev: float):
        """`size` draws of N(0, stddev^2) from the optimizer's seed generator.

        Under XLA on CPU the generator that `keras.random.normal` picks ("auto_select") costs
        about 40 times ThreeFry's for the same draws (a 10k-parameter model's noise took longer
        than its whole step), so the algorithm is chosen here: ThreeFry when compiling with XLA,
        Philox (TensorFlow's CPU kernel) otherwise.
        """
        seed = tf.cast(tf.math.floormod(self._noise_seed.next(), 2**31 - 1), "int32")
        alg = "threefry" if compiling_with_xla() else "philox"
        return tf.random.stateless_normal((size,), seed=seed, stddev=stddev, alg=alg)

    def get_config(self):
        return {
            **super().get_config(),
            "l2_norm_clip": self.l2_norm_clip,
            "noise_multiplier": self.noise_multiplier,
            "num_microbatches": self.num_microbatches,
            "seed": self.seed,
        }


def make_private(
    optimizer,
    l2_norm_clip: float,
    noise_multiplier: float,
    num_microbatches: int | None = None,
    seed: int | None = None,
) -> DPOptimizer:
    """DP-SGD's private version of any Keras 3 optimizer (Abadi et al. 2016).

    Args:
        optimizer: a `keras.optimizers.Optimizer` (SGD gives DP-SGD, Adam DP-Adam).
        l2_norm_clip: the clipping bound on each per-example gradient's L2 norm (> 0).
        noise_multiplier: the Gaussian noise's standard deviation over `l2_norm_clip` (>= 0).
        num_microbatches: groups per batch clipped as one. Defaults to `None` (per example).
        seed: the noise's seed. Defaults to `None` (fresh).

    Returns:
        A `DPOptimizer`; train with `fit(..., callbacks=[PrivateTraining()])`.

    Example:

    ```python
    model.compile(
        optimizer=make_private(keras.optimizers.SGD(0.1), l2_norm_clip=1.0, noise_multiplier=1.1),
        loss="sparse_categorical_crossentropy",
    )
    model.fit(x, y, batch_size=256, callbacks=[PrivateTraining()])
    ```
    """
    return DPOptimizer(
        optimizer,
        l2_norm_clip=l2_norm_clip,
        noise_multiplier=noise_multiplier,
        num_microbatches=num_microbatches,
        seed=seed,
    )


def find_dp_optimizer(optimizer) -> DPOptimizer | None:
    """The `DPOptimizer` that `optimizer` is or wraps (through loss scaling), or `None`."""
    while optimizer is not None:
        if isinstance(optimizer, DPOptimizer):
            return optimizer
        optimizer = getattr(optimizer, "inner_optimizer", None)
    return None


def has_distribution_strategy() -> bool:
    """Whether a `tf.distribute` strategy with several replicas is in scope."""
    return tf.distribute.has_strategy() and tf.distribute.get_strategy().num_replicas_in_sync > 1
