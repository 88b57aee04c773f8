"""`DartsSearchModel`: the DARTS supernet and its bilevel optimisation, as a `keras.Model`."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

from layers.schedules.factory import learning_rate_schedule
from layers.validation import (
    check_non_negative_float,
    check_positive_float,
    check_positive_int,
)
from zoo.nas.darts.cells import SearchCell, cell_plan
from zoo.nas.darts.genotype import Genotype, derive, num_edges
from zoo.nas.ops import BN_EPSILON, BN_MOMENTUM, OP_NAMES, check_op_name
from zoo.vision.inputs import check_image_shape

# The paper's search settings (§3.1.1, A.1.1): weights by SGD with momentum 0.9, learning rate
# 0.025 annealed to 0.001 by a cosine, weight decay 3e-4, gradients clipped to norm 5; the
# architecture by Adam at 3e-4 with betas (0.5, 0.999) and weight decay 1e-3.
LEARNING_RATE = 0.025
MIN_LEARNING_RATE = 0.001
ARCH_LEARNING_RATE = 3e-4


@keras.saving.register_keras_serializable(package="keras_zoo")
class DartsSearchModel(keras.Model):
    """The DARTS supernet: a stem, `num_cells` `SearchCell`s and a classifier, with the
    architecture parameters `alpha_normal` and `alpha_reduce` (`(num_edges, len(op_names))`,
    shared by all normal and all reduction cells; the mixing weights are their softmax).

    `fit` runs the bilevel optimisation on batches `((x_train, y_train), (x_val, y_val))`
    (`zoo.nas.darts.search_batches` makes them from two halves of the data): each step first
    updates the architecture on the validation batch with its own optimizer (Adam), then the
    network weights on the training batch (SGD with momentum, cosine schedule). With
    `unrolled=False` the architecture gradient is the first-order one, `dL_val(w, a)/da`; with
    `unrolled=True` it is the paper's second-order approximation, the gradient at the unrolled
    weights `w' = w - xi dL_train/dw` less `xi` times a Hessian-vector product by finite
    differences (eq. 7-8, `xi` the current weight learning rate, the step without momentum).
    `derive()` returns the discrete `Genotype`.

    Args:
        num_classes: classes. Defaults to `10`.
        input_shape: `(height, width, channels)` of the images. Defaults to `(8, 8, 1)`.
        image_size: side the images are resized to inside the model. Defaults to `16`.
        channels: width of the first cells (doubled at each reduction). Defaults to `8`.
        num_cells: cells; those at one and two thirds of the depth reduce. Defaults to `5`.
        num_nodes: intermediate nodes per cell. Defaults to `4`.
        stem_multiplier: the stem's width is `stem_multiplier * channels`. Defaults to `3`.
        op_names: candidate operations. Defaults to the paper's eight (`OP_NAMES`).
        unrolled: second-order architecture gradient. Defaults to `False` (first order).
        weight_decay: L2 weight decay of the network weights. Defaults to `3e-4`.
        arch_weight_decay: L2 weight decay of the architecture parameters. Defaults to `1e-3`.
        grad_clip: global norm the weight gradients are clipped to. Defaults to `5.0`.
        seed: seed of the architecture parameters' initialisation (N(0, 1e-3)). Defaults to `0`.
        **kwargs: `name` and the other `keras.Model` arguments.

    Example:

    ```python
    model = DartsSearchModel(num_classes=10, input_shape=(8, 8, 1))
    steps = steps_per_epoch(len(x), 64)
    model.compile(total_steps=epochs * steps)
    model.fit(search_batches(x, y, 64, epochs=epochs), epochs=epochs, steps_per_epoch=steps)
    genotype = model.derive()  # or darts_search(x, y, epochs=epochs), which also resumes
    ```

    Reference:
        Liu, Simonyan and Yang, "DARTS: Differentiable Architecture Search", ICLR 2019.
    """

    def __init__(
        self,
        num_classes: int = 10,
        input_shape=(8, 8, 1),
        image_size: int = 16,
        channels: int = 8,
        num_cells: int = 5,
        num_nodes: int = 4,
        stem_multiplier: int = 3,
        op_names=OP_NAMES,
        unrolled: bool = False,
        weight_decay: float = 3e-4,
        arch_weight_decay: float = 1e-3,
        grad_clip: float = 5.0,
        seed: int = 0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.num_classes = check_positive_int("num_classes", num_classes)
        self.image_shape = check_image_shape("input_shape", input_shape, allow_none=False)
        self.image_size = check_positive_int("image_size", image_size)
        self.channels = check_positive_int("channels", channels)
        self.num_cells = check_positive_int("num_cells", num_cells)
        self.num_nodes = check_positive_int("num_nodes", num_nodes)
        self.stem_multiplier = check_positive_int("stem_multiplier", stem_multiplier)
        if isinstance(op_names, str) or not list(op_names):
            raise ValueError(f"`op_names` must be a list of names. Received: op_names={op_names!r}")
        self.op_names = [check_op_name(name) for name in op_names]
        self.unrolled = bool(unrolled)
        self.weight_decay = check_non_negative_float("weight_decay", weight_decay)
        self.arch_weight_decay = check_non_negative_float("arch_weight_decay", arch_weight_decay)
        self.grad_clip = check_positive_float("grad_clip", grad_clip)
        self.seed = seed

        self.resize = None
        if self.image_shape[:2] != (image_size, image_size):
            self.resize = keras.layers.Resizing(image_size, image_size, name="resize")
        self.stem_conv = keras.layers.Conv2D(
            stem_multiplier * channels, 3, padding="same", use_bias=False, name="stem_conv"
        )
        self.stem_bn = keras.layers.BatchNormalization(
            momentum=BN_MOMENTUM, epsilon=BN_EPSILON, name="stem_bn"
        )
        self.cells = [
            SearchCell(self.op_names, width, num_nodes, reduction, reduction_prev, name=f"cell_{k}")
            for k, (width, reduction, reduction_prev) in enumerate(cell_plan(num_cells, channels))
        ]
        self.global_pool = keras.layers.GlobalAveragePooling2D(name="global_pool")
        self.classifier = keras.layers.Dense(num_classes, name="logits")
        shape = (num_edges(num_nodes), len(self.op_names))
        self.alpha_normal, self.alpha_reduce = (
            self.add_weight(
                shape=shape,
                initializer=keras.initializers.RandomNormal(stddev=1e-3, seed=seed + i),
                name=name,
            )
            for i, name in enumerate(("alpha_normal", "alpha_reduce"))
        )
        self.loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.arch_loss_tracker = keras.metrics.Mean(name="arch_loss")
        self.accuracy_metric = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
        self.arch_optimizer = None
        self(keras.ops.zeros((1, *self.image_shape)))  # builds every layer

    # --- the network -----------------------------------------------------------------------

    @property
    def alpha_variables(self) -> list:
        """The architecture parameters `[alpha_normal, alpha_reduce]`."""
        return [self.alpha_normal, self.alpha_reduce]

    @property
    def weight_variables(self) -> list:
        """The trainable network weights (everything trainable but the alphas)."""
        alphas = {id(v) for v in self.alpha_variables}
        return [v for v in self.trainable_variables if id(v) not in alphas]

    def call(self, inputs, training=None, mixing_weights=None):
        """Logits; `mixing_weights=(normal, reduce)` replaces the softmax of the alphas."""
        if mixing_weights is None:
            mixing_weights = (
                keras.ops.softmax(self.alpha_normal, axis=-1),
                keras.ops.softmax(self.alpha_reduce, axis=-1),
            )
        x = keras.ops.cast(inputs, self.compute_dtype)
        if self.resize is not None:
            x = self.resize(x)
        s0 = s1 = self.stem_bn(self.stem_conv(x), training=training)
        for cell in self.cells:
            weights = mixing_weights[1] if cell.reduction else mixing_weights[0]
            s0, s1 = s1, cell(s0, s1, weights, training=training)
        return self.classifier(self.global_pool(s1))

    def mixing_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """The softmax of `alpha_normal` and `alpha_reduce`, as NumPy arrays."""
        return tuple(
            keras.ops.convert_to_numpy(keras.ops.softmax(a, axis=-1)) for a in self.alpha_variables
        )

    def derive(self) -> Genotype:
        """The discrete architecture of the current alphas (`zoo.nas.darts.derive`)."""
        return derive(*self.mixing_weights(), op_names=self.op_names)

    # --- training ----------------------------------------------------------------------------

    def compile(
        self,
        optimizer="auto",
        arch_optimizer="auto",
        total_steps: int | None = None,
        learning_rate: float = LEARNING_RATE,
        **kwargs,
    ):
        """Sets the weight optimizer (`optimizer`) and the architecture one (`arch_optimizer`).

        Args:
            optimizer: `"auto"` for the paper's SGD (momentum 0.9) at `learning_rate`, cosine-
                annealed to 0.001 over `total_steps` (constant without it), or an optimizer.
            arch_optimizer: `"auto"` for the paper's Adam (3e-4, betas 0.5 and 0.999), or an
                optimizer.
            total_steps: steps of the whole search, for the cosine schedule. Defaults to `None`.
            learning_rate: the weights' initial learning rate. Defaults to `0.025`.
            **kwargs: passed to `keras.Model.compile`. `jit_compile` defaults to `False`: XLA
                takes minutes to compile the supernet's step on a CPU (every op of every edge).
        """
        kwargs.setdefault("jit_compile", False)
        if isinstance(optimizer, str) and optimizer == "auto":
            rate = learning_rate
            if total_steps is not None:
                check_positive_int("total_steps", total_steps)
                rate = learning_rate_schedule(
                    "cosine", learning_rate, total_steps, alpha=MIN_LEARNING_RATE / learning_rate
                )
            optimizer = keras.optimizers.SGD(rate, momentum=0.9)
        if isinstance(arch_optimizer, str) and arch_optimizer == "auto":
            arch_optimizer = keras.optimizers.Adam(ARCH_LEARNING_RATE, beta_1=0.5, beta_2=0.999)
        super().compile(optimizer=optimizer, **kwargs)
        self.arch_optimizer = arch_optimizer
        self.optimizer.build(self.weight_variables)
        self.arch_optimizer.build(self.alpha_variables)

    @property
    def metrics(self):
        return [self.loss_tracker, self.arch_loss_tracker, self.accuracy_metric]

    def _loss(self, x, y):
        logits = self(x, training=True)
        return self.loss_fn(y, logits), logits

    def _gradients(self, x, y, variables):
        with tf.GradientTape() as tape:
            loss, logits = self._loss(x, y)
        grads = tape.gradient(loss, variables)
        return [
            tf.zeros_like(v) if g is None else g for g, v in zip(grads, variables, strict=True)
        ], loss

    def _arch_gradients(self, train, val):
        """The architecture gradient: first order, or the unrolled second-order one."""
        alphas = self.alpha_variables
        if not self.unrolled:
            return self._gradients(*val, alphas)
        weights = self.weight_variables
        xi = tf.cast(self.optimizer.learning_rate, "float32")
        backup = [tf.identity(v) for v in weights]
        grads, _ = self._gradients(*train, weights)
        for v, g in zip(weights, grads, strict=True):
            v.assign_sub(xi * (g + self.weight_decay * v))  # w' (one step, no momentum)
        both, val_loss = self._gradients(*val, alphas + weights)
        d_alpha, d_weights = both[: len(alphas)], both[len(alphas) :]
        epsilon = 0.01 / (tf.linalg.global_norm(d_weights) + 1e-12)
        sides = []
        for sign in (1.0, -1.0):  # w +- epsilon dL_val(w')/dw'
            for v, b, d in zip(weights, backup, d_weights, strict=True):
                v.assign(b + sign * epsilon * d)
            sides.append(self._gradients(*train, alphas)[0])
        for v, b in zip(weights, backup, strict=True):
            v.assign(b)
        hessian = [(p - m) / (2.0 * epsilon) for p, m in zip(*sides, strict=True)]
        return [d - xi * h for d, h in zip(d_alpha, hessian, strict=True)], val_loss

    def train_step(self, data):
        train, val = data
        arch_grads, arch_loss = self._arch_gradients(train, val)
        arch_grads = [
            g + self.arch_weight_decay * a
            for g, a in zip(arch_grads, self.alpha_variables, strict=True)
        ]
        self.arch_optimizer.apply_gradients(zip(arch_grads, self.alpha_variables, strict=True))

        weights = self.weight_variables
        with tf.GradientTape() as tape:
            loss, logits = self._loss(*train)
        grads = tape.gradient(loss, weights)
        grads = [
            (tf.zeros_like(v) if g is None else g) + self.weight_decay * v
            for g, v in zip(grads, weights, strict=True)
        ]
        grads, _ = tf.clip_by_global_norm(grads, self.grad_clip)
        self.optimizer.apply_gradients(zip(grads, weights, strict=True))

        self.loss_tracker.update_state(loss)
        self.arch_loss_tracker.update_state(arch_loss)
        self.accuracy_metric.update_state(train[1], logits)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x, y = data[:2]
        logits = self(x, training=False)
        self.loss_tracker.update_state(self.loss_fn(y, logits))
        self.accuracy_metric.update_state(y, logits)
        return {"loss": self.loss_tracker.result(), "accuracy": self.accuracy_metric.result()}

    def get_config(self):
        return {
            **super().get_config(),
            "num_classes": self.num_classes,
            "input_shape": list(self.image_shape),
            "image_size": self.image_size,
            "channels": self.channels,
            "num_cells": self.num_cells,
            "num_nodes": self.num_nodes,
            "stem_multiplier": self.stem_multiplier,
            "op_names": self.op_names,
            "unrolled": self.unrolled,
            "weight_decay": self.weight_decay,
            "arch_weight_decay": self.arch_weight_decay,
            "grad_clip": self.grad_clip,
            "seed": self.seed,
        }
