"""MAML (Finn et al. 2017), first-order MAML, and Meta-SGD's learned inner rates (Li et al.)."""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from layers.validation import check_bool
from zoo.meta.functional import (
    current_weights,
    dense_gradients,
    support_gradients,
)
from zoo.meta.meta_learner import EpisodicMetaLearner


@keras.saving.register_keras_serializable(package="keras_zoo")
class MAML(EpisodicMetaLearner):
    """Model-Agnostic Meta-Learning: learns initial weights that adapt in a few gradient steps.

    For each task of a meta-batch, the inner loop takes `inner_steps` gradient steps of size
    `inner_lr` on the support set, starting from the wrapped model's weights θ; the query loss
    of the adapted weights is differentiated with respect to θ through those steps (nested
    `tf.GradientTape`s, second order) and averaged over the tasks; the compiled optimizer
    applies it to θ (the paper: Adam). `first_order=True` drops the second-order terms
    (FOMAML: the query gradient at the adapted weights is used as θ's gradient).
    `learn_inner_lr=True` is Meta-SGD: one learned inner rate per parameter, initialised to
    `inner_lr` and meta-trained with θ.

    `fit`/`evaluate` take batched episodes (see `EpisodicMetaLearner`) and report the query
    loss after adaptation; `compile(optimizer, loss=...)` names the task loss. BatchNormalization
    uses the batch's statistics in the inner loop, on the query set and in the adapted model
    (`adapt`), as the paper does: predictions are transductive, so predict a task's query set
    as one batch. The whole train step runs under `jit_compile=True`.

    Args:
        model: a built Keras model (Functional or Sequential; a subclassed model needs
            `get_config`/`from_config` and no BatchNormalization).
        inner_lr: the inner-loop step size α (Meta-SGD: its initial value). Defaults to `0.01`.
        inner_steps: gradient steps on the support set. Defaults to `1`.
        first_order: FOMAML, no second-order terms. Defaults to `False`.
        learn_inner_lr: Meta-SGD's per-parameter learned inner rates. Defaults to `False`.

    Example:

    ```python
    tasks = SinusoidTasks(seed=0)
    maml = MAML(sinusoid_mlp(), inner_lr=0.01, inner_steps=1)
    maml.compile(keras.optimizers.Adam(1e-3), loss="mse")
    maml.fit(tasks.dataset(k_shot=10, n_query=10).batch(25), steps_per_epoch=100, epochs=5)
    support_x, support_y, query_x, query_y = tasks.sample(1, 10, 100)
    adapted = maml.adapt(support_x[0], support_y[0])
    predictions = adapted.predict(query_x[0])
    ```

    References:
        Finn, Abbeel and Levine, "Model-Agnostic Meta-Learning for Fast Adaptation of Deep
        Networks", ICML 2017. Li, Zhou, Chen and Li, "Meta-SGD: Learning to Learn Quickly for
        Few-Shot Learning", 2017.
    """

    def __init__(
        self,
        model: keras.Model,
        inner_lr: float = 0.01,
        inner_steps: int = 1,
        first_order: bool = False,
        learn_inner_lr: bool = False,
        **kwargs,
    ):
        check_bool("first_order", first_order)
        check_bool("learn_inner_lr", learn_inner_lr)
        super().__init__(model, inner_lr, inner_steps, **kwargs)
        self.first_order = first_order
        self.learn_inner_lr = learn_inner_lr
        self.inner_lrs = [
            self.add_weight(
                shape=variable.shape,
                initializer=keras.initializers.Constant(self.inner_lr),
                dtype=variable.dtype,
                name=f"inner_lr_{i}",
            )
            for i, variable in enumerate(model.trainable_variables)
            if learn_inner_lr
        ]
        self.built = True

    @property
    def meta_variables(self) -> list:
        """The variables the outer loop trains: the model's trainable ones, then the rates."""
        return [*self.model.trainable_variables, *self.inner_lrs]

    def _adapted_weights(self, support_x, support_y) -> list[tf.Tensor]:
        weights, non_trainable = current_weights(self.model)
        if self.learn_inner_lr:
            rates = [tf.convert_to_tensor(rate.value) for rate in self.inner_lrs]
        else:
            rates = [self.inner_lr] * len(weights)
        task_loss = self._require_loss()
        for _ in range(self.inner_steps):
            gradients = support_gradients(
                self.model, task_loss, weights, non_trainable, support_x, support_y
            )
            if self.first_order:
                gradients = [tf.stop_gradient(g) for g in gradients]
            weights = [w - r * g for w, r, g in zip(weights, rates, gradients, strict=True)]
        return weights

    def _task_gradients(self, episode, scaled: bool):
        variables = self.meta_variables
        with tf.GradientTape() as tape:
            loss, predictions = self._adapt_and_score(episode)
            # Under mixed_float16 `fit`'s optimizer is a LossScaleOptimizer, which unscales.
            target = self.optimizer.scale_loss(loss) if scaled else loss
        gradients = dense_gradients(tape.gradient(target, variables), variables)
        return ops.cast(loss, "float32"), predictions, gradients

    def _meta_gradients(self, episodes, scaled: bool = False):
        variables = self.meta_variables
        spec = (
            tf.TensorSpec([], "float32"),
            self._prediction_spec(episodes),
            [tf.TensorSpec(v.shape, v.dtype) for v in variables],
        )
        losses, predictions, gradients = tf.map_fn(
            lambda episode: self._task_gradients(episode, scaled),
            episodes,
            fn_output_signature=spec,
        )
        return losses, predictions, [tf.reduce_mean(g, axis=0) for g in gradients]

    def meta_gradients(self, support_x, support_y, query_x, query_y) -> list[tf.Tensor]:
        """The meta-gradient of the query loss after adaptation, averaged over the tasks.

        Args:
            support_x, support_y, query_x, query_y: one episode, or a meta-batch of them
                (leading task axis).

        Returns:
            One gradient per `model.trainable_variables` (Meta-SGD's inner-rate gradients are
            left out; `fit` applies them).
        """
        self._require_loss()
        episodes = self._meta_batch((support_x, support_y, query_x, query_y))
        _, _, gradients = self._meta_gradients(episodes)
        return gradients[: len(self.model.trainable_variables)]

    def train_step(self, data):
        episodes = self._meta_batch(data)
        losses, predictions, gradients = self._meta_gradients(episodes, scaled=True)
        self.optimizer.apply(gradients, self.meta_variables)
        return self._report(losses, episodes, predictions)

    def get_config(self) -> dict:
        config = super().get_config()
        config["first_order"] = self.first_order
        config["learn_inner_lr"] = self.learn_inner_lr
        return config
