"""The two distillation losses of DistilBERT: soft targets at a temperature and hidden-state cosine.

Both subclass `keras.distillation`'s losses so `keras.distillation.Distiller` (and
`zoo.text.distillation.TextDistiller`) can use them; see each class for what keras's own lacks.
"""

from __future__ import annotations

import keras
from keras import ops

from layers.validation import check_positive_float


def weighted_mean(values, weights=None):
    """The float32 mean of `values`, weighted by `weights` (reshaped to them) when given."""
    values = ops.cast(values, "float32")
    if weights is None:
        return ops.mean(values)
    weights = ops.cast(ops.reshape(weights, ops.shape(values)), "float32")
    return ops.divide_no_nan(ops.sum(values * weights), ops.sum(weights))


@keras.saving.register_keras_serializable(package="keras_zoo")
class SoftTargetDistillation(keras.distillation.LogitsDistillation):
    """Hinton's soft-target loss, `T^2 * KL(softmax(t / T) || softmax(s / T))`, masked.

    Averages the KL divergence between the teacher's and the student's distributions at
    temperature `T` over predictions (each masked token, each sequence), optionally weighted,
    and scales it by `T^2` so that its gradients keep their size when `T` changes.

    It is `keras.distillation.LogitsDistillation` with two things that class lacks (keras 3.15):
    per-prediction weights (the masked-LM batches carry padding slots with weight 0, which must
    not count) and a KL divergence computed from log-softmax. `LogitsDistillation`'s default
    `loss="kl_divergence"` resolves to a function, not a `keras.losses.KLDivergence`, so it
    compares temperature-scaled logits directly without softmax or `T^2`; and
    `KLDivergence` clips probabilities at 1e-7, which flattens the gradient of a large
    vocabulary's low-probability tail.

    Args:
        temperature: softmax temperature `T`, positive. Defaults to `2.0` (DistilBERT's).

    Example:

    ```python
    loss = SoftTargetDistillation(temperature=2.0)
    value = loss.compute_loss(teacher_logits, student_logits, sample_weight=mask_weights)
    ```

    Reference:
        Hinton et al., "Distilling the Knowledge in a Neural Network", 2015; Sanh et al.,
        "DistilBERT, a distilled version of BERT", 2019, section 2.
    """

    def __init__(self, temperature: float = 2.0):
        check_positive_float("temperature", temperature)
        super().__init__(temperature=float(temperature), loss=keras.losses.KLDivergence())

    def compute_loss(self, teacher_outputs, student_outputs, sample_weight=None, **kwargs):
        teacher = ops.cast(teacher_outputs, "float32") / self.temperature
        student = ops.cast(student_outputs, "float32") / self.temperature
        teacher_log_probs = ops.log_softmax(teacher, axis=-1)
        kl = ops.sum(
            ops.exp(teacher_log_probs) * (teacher_log_probs - ops.log_softmax(student, axis=-1)),
            axis=-1,
        )
        return weighted_mean(kl, sample_weight) * (self.temperature**2)

    def get_config(self):
        return {"temperature": self.temperature}

    @classmethod
    def from_config(cls, config):
        return cls(**config)


@keras.saving.register_keras_serializable(package="keras_zoo")
class HiddenStateCosineDistillation(keras.distillation.FeatureDistillation):
    """DistilBERT's cosine loss: `1 - cos(h_teacher, h_student)`, averaged over real tokens.

    Aligns the directions of the teacher's and the student's hidden states token by token (the
    widths must match). It is `keras.distillation.FeatureDistillation` with the padding mask
    that class lacks: padding positions carry no meaning and are left out of the mean.

    Args:
        teacher_layer_name: the teacher layer whose output holds the hidden states (a text
            backbone: its `"sequence_output"` is used). Defaults to `None` (the final output).
        student_layer_name: the same for the student. Defaults to `None`.

    Example:

    ```python
    loss = HiddenStateCosineDistillation("bert_backbone", "distil_bert_backbone")
    value = loss.compute_loss(teacher_hidden, student_hidden, padding_mask=mask)
    ```

    Reference:
        Sanh et al., "DistilBERT, a distilled version of BERT", 2019, section 2 ("cosine
        embedding loss").
    """

    def __init__(
        self, teacher_layer_name: str | None = None, student_layer_name: str | None = None
    ):
        super().__init__(
            loss="cosine_similarity",
            teacher_layer_name=teacher_layer_name,
            student_layer_name=student_layer_name,
        )

    def compute_loss(self, teacher_outputs, student_outputs, padding_mask=None, **kwargs):
        if isinstance(teacher_outputs, dict):
            teacher_outputs = teacher_outputs["sequence_output"]
        if isinstance(student_outputs, dict):
            student_outputs = student_outputs["sequence_output"]
        teacher = ops.cast(teacher_outputs, "float32")
        student = ops.cast(student_outputs, "float32")
        cosine = ops.sum(_unit(teacher) * _unit(student), axis=-1)
        return weighted_mean(1.0 - cosine, padding_mask)

    def get_config(self):
        return {
            "teacher_layer_name": self.teacher_layer_name,
            "student_layer_name": self.student_layer_name,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _unit(x):
    # The epsilon matches torch's `CosineEmbeddingLoss` (1e-8 on the norm product) closely
    # enough and keeps all-zero rows finite.
    return x / ops.sqrt(ops.maximum(ops.sum(ops.square(x), axis=-1, keepdims=True), 1e-16))
