"""Adversarial training with the fast gradient sign method, as used by deep ensembles."""

from __future__ import annotations

import keras
import tensorflow as tf


class FGSMTrainer(keras.Model):
    """Trains a compiled `model` on each batch and its FGSM-perturbed copy.

    The perturbed inputs are `x + epsilon * sign(grad_x loss(x, y))` (Goodfellow et al. 2015);
    the training objective is `loss(x, y) + loss(x_adv, y)`, as in Lakshminarayanan et al.'s
    deep ensembles. The wrapper shares `model`'s weights, optimizer and loss, so after `fit`
    the trained `model` is used (and saved) on its own; the wrapper itself is not saved.

    Args:
        model: a compiled Keras model with a single float input.
        epsilon: size of the sign perturbation, in input units (the paper uses 1% of the
            input range).
    """

    def __init__(self, model: keras.Model, epsilon: float, **kwargs):
        super().__init__(**kwargs)
        if not model.compiled:
            raise ValueError("`model` must be compiled before adversarial training.")
        self.model = model
        self.epsilon = float(epsilon)
        super().compile(optimizer=model.optimizer, loss=model.loss)

    def call(self, inputs, training=None):
        return self.model(inputs, training=training)

    def _loss(self, x, y, sample_weight):
        y_pred = self(x, training=True)
        return self.compute_loss(x=x, y=y, y_pred=y_pred, sample_weight=sample_weight)

    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        x = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            clean = self._loss(x, y, sample_weight)
        x_adv = tf.stop_gradient(x + self.epsilon * tf.sign(tape.gradient(clean, x)))
        with tf.GradientTape() as tape:
            loss = self._loss(x, y, sample_weight) + self._loss(x_adv, y, sample_weight)
            scaled = self.optimizer.scale_loss(loss)
        gradients = tape.gradient(scaled, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        self._loss_tracker.update_state(loss, sample_weight=tf.shape(x)[0])
        return {"loss": self._loss_tracker.result()}
