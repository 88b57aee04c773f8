"""DistilBERT-style distillation of a text teacher into a smaller student, on `keras.distillation`.

The training objective of Sanh et al. (2019) is a weighted sum of three losses: the soft-target
loss (KL divergence between the teacher's and the student's distributions at temperature `T`,
scaled by `T^2`), the student's own task loss (masked-LM or classification cross-entropy) and
the cosine loss between the teacher's and the student's last hidden states. `TextDistiller` is a
`keras.distillation.Distiller` with those three terms; `distil` runs it; and
`init_student_from_teacher` gives the student DistilBERT's initialisation (one teacher layer out
of two).
"""

from __future__ import annotations

import keras
import tensorflow as tf
from keras import ops

from layers.validation import check_non_negative_float, check_positive_float, check_positive_int
from zoo.text.albert.backbone import AlbertBackbone
from zoo.text.distillation_losses import (
    HiddenStateCosineDistillation,
    SoftTargetDistillation,
    weighted_mean,
)
from zoo.text.encoder import TextBackbone
from zoo.text.inputs import model_input_names, select_model_inputs

__all__ = [
    "HiddenStateCosineDistillation",
    "SoftTargetDistillation",
    "TextDistiller",
    "distil",
    "init_student_from_teacher",
]


def _check_task_model(argument: str, model) -> None:
    if not isinstance(model, keras.Model) or not hasattr(model, "backbone"):
        raise TypeError(
            f"`{argument}` must be a zoo.text task model (BertMaskedLM, BertClassifier, "
            f"BertTokenClassifier). Received: {argument}={model!r}"
        )
    if getattr(model, "output_activation", None) is not None:
        raise ValueError(
            f"`{argument}` must output logits (output_activation=None) for distillation. "
            f"Received: output_activation={model.output_activation!r}"
        )
    if getattr(model, "head", "softmax") == "crf":
        raise ValueError(
            f"`{argument}` must output logits for distillation; a CRF head outputs decoded "
            f"tags. Received: {argument} with head='crf'"
        )


def _check_pair(teacher: keras.Model, student: keras.Model, cosine_weight: float) -> None:
    teacher_vocabulary = teacher.backbone.vocabulary_size
    student_vocabulary = student.backbone.vocabulary_size
    if teacher_vocabulary != student_vocabulary:
        raise ValueError(
            "The student must share the teacher's vocabulary: the teacher has "
            f"vocabulary_size={teacher_vocabulary}. Received: student vocabulary_size="
            f"{student_vocabulary}"
        )
    if tuple(teacher.output.shape[1:]) != tuple(student.output.shape[1:]):
        raise ValueError(
            "The student must predict what the teacher predicts (same classes, same number of "
            f"masked tokens): teacher output shape {tuple(teacher.output.shape)}. Received: "
            f"student output shape {tuple(student.output.shape)}"
        )
    missing = [
        name for name in model_input_names(student) if name not in model_input_names(teacher)
    ]
    if missing:
        raise ValueError(
            f"The student takes inputs the teacher does not: {missing}. Received: teacher "
            f"inputs {model_input_names(teacher)}"
        )
    if cosine_weight > 0 and teacher.backbone.hidden_dim != student.backbone.hidden_dim:
        raise ValueError(
            "The hidden-state cosine loss needs equal widths (set cosine_weight=0 otherwise): "
            f"teacher hidden_dim={teacher.backbone.hidden_dim}. Received: student hidden_dim="
            f"{student.backbone.hidden_dim}"
        )


@keras.saving.register_keras_serializable(package="keras_zoo")
class TextDistiller(keras.distillation.Distiller):
    """DistilBERT's distillation of a zoo.text teacher into a student, as a Keras `Distiller`.

    The loss is `(a_ce * L_ce + a_task * L_task + a_cos * L_cos) / (a_ce + a_task + a_cos)`:
    `L_ce` the soft-target loss (`SoftTargetDistillation`), `L_task` the student's own
    cross-entropy against the labels (masked tokens or classes; mean over `sample_weight`),
    `L_cos` the hidden-state cosine loss (`HiddenStateCosineDistillation`) over real tokens.
    This is `keras.distillation.Distiller` (which freezes the teacher, extracts the hidden states
    and tracks `student_loss`, `distillation_loss` and `total_loss`) with what it lacks for text
    models: sample weights (masked-LM padding slots), a padding mask for the hidden states,
    teacher and student with different inputs (a DistilBERT student has no `segment_ids`), one
    student forward pass for logits and hidden states, and losses scaled consistently under
    `tf.distribute`. The `1 / (a_ce + a_task + a_cos)` factor maps the paper's weights onto
    `Distiller`'s `student_loss_weight` and `distillation_loss_weights`; Adam-type optimizers
    are insensitive to it.

    The teacher and the student must be task models of the same kind (e.g. two `BertMaskedLM`
    with the same `num_masked`, or two `BertClassifier` with the same `num_classes`) that output
    logits, over the same vocabulary. After training, `distiller.student` is an ordinary zoo
    model: save, load and export it alone.

    Args:
        teacher: the trained teacher (frozen by the distiller).
        student: the model to train.
        temperature: softmax temperature of the soft targets. Defaults to `2.0`.
        soft_target_weight: `a_ce`. Defaults to `5.0` (DistilBERT's).
        task_weight: `a_task`, the weight of the student's own loss. Defaults to `2.0`.
        cosine_weight: `a_cos`, needs equal hidden widths; `0` turns it off. Defaults to `1.0`.
        name: name of the model. Defaults to `"text_distiller"`.
        **kwargs: other `keras.Model` arguments.

    Example:

    ```python
    distiller = TextDistiller(teacher_mlm, student_mlm, temperature=2.0)
    distiller.compile(optimizer=keras.optimizers.Adam(5e-4))
    distiller.fit(mlm_dataset(files, preprocessor, num_masked=8), epochs=3)
    distiller.student.save("student.keras")
    ```

    Reference:
        Sanh et al., "DistilBERT, a distilled version of BERT: smaller, faster, cheaper and
        lighter", 2019; Hinton et al., "Distilling the Knowledge in a Neural Network", 2015.
    """

    def __init__(
        self,
        teacher,
        student,
        temperature: float = 2.0,
        soft_target_weight: float = 5.0,
        task_weight: float = 2.0,
        cosine_weight: float = 1.0,
        name: str = "text_distiller",
        **kwargs,
    ):
        teacher = _deserialize(teacher)
        student = _deserialize(student)
        _check_task_model("teacher", teacher)
        _check_task_model("student", student)
        check_positive_float("temperature", temperature)
        check_non_negative_float("soft_target_weight", soft_target_weight)
        check_non_negative_float("task_weight", task_weight)
        check_non_negative_float("cosine_weight", cosine_weight)
        distilled = soft_target_weight + cosine_weight
        if distilled <= 0:
            raise ValueError(
                "At least one of `soft_target_weight` and `cosine_weight` must be positive. "
                f"Received: soft_target_weight={soft_target_weight}, "
                f"cosine_weight={cosine_weight}"
            )
        _check_pair(teacher, student, cosine_weight)
        losses = [SoftTargetDistillation(temperature)]
        weights = [soft_target_weight / distilled]
        if cosine_weight > 0:
            losses.append(
                HiddenStateCosineDistillation(teacher.backbone.name, student.backbone.name)
            )
            weights.append(cosine_weight / distilled)
        # A model deserialized with `trainable=False` keeps its sublayers trainable, and
        # setting `False` again (as `Distiller` does) does not reach them (keras 3.15): the
        # reloaded teacher would train. Setting `True` first makes the freeze propagate.
        teacher.trainable = True
        super().__init__(
            teacher,
            student,
            distillation_losses=losses,
            distillation_loss_weights=weights,
            student_loss_weight=task_weight / (distilled + task_weight),
            name=name,
            **kwargs,
        )
        self.temperature = temperature
        self.soft_target_weight = soft_target_weight
        self.task_weight = task_weight
        self.cosine_weight = cosine_weight

    # `Distiller` maps the teacher's and the student's input lists onto each other; ours may
    # differ by `segment_ids`, which `_check_pair` has already allowed.
    def _validate_input_compatibility(self, teacher, student):
        pass

    def _validate_dtype_compatibility(self, teacher, student):
        pass

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """Configures training.

        Args:
            optimizer: an optimizer, or `"auto"` for DistilBERT's Adam (learning rate 5e-4,
                epsilon 1e-6, gradient norm clipped at 5).
            loss: the student's task loss, a `keras.losses.Loss` with `reduction=None` (it is
                averaged over `sample_weight` here), or `"auto"`/`None` for sparse categorical
                cross-entropy from logits.
            metrics: metrics weighted by `sample_weight`, or `"auto"` for accuracy.
            **kwargs: passed to `keras.Model.compile` (e.g. `jit_compile`).
        """
        if optimizer == "auto":
            optimizer = keras.optimizers.Adam(5e-4, epsilon=1e-6, clipnorm=5.0)
        if loss is None or (isinstance(loss, str) and loss == "auto"):
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, reduction=None)
        if isinstance(metrics, str) and metrics == "auto":
            metrics = [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]
        # Distiller routes `metrics` through unweighted metrics; masked-LM accuracy must skip
        # the padding slots, so they go in as weighted metrics.
        super().compile(optimizer=optimizer, loss=loss, weighted_metrics=metrics, **kwargs)

    def get_compile_config(self):
        # `Distiller` passes `loss=None` to `Model.compile`; keep the student's loss instead.
        config = super().get_compile_config()
        if config:
            config["loss"] = keras.saving.serialize_keras_object(self._student_loss)
        return config

    def compile_from_config(self, config):
        # Keras skips models whose `compile` is overridden (and `Distiller` does not reload its
        # compile state); ours rebuilds the same setup, so a reloaded distiller resumes with its
        # optimizer state.
        config = keras.saving.deserialize_keras_object(config)
        config.pop("metrics", None)
        config["metrics"] = config.pop("weighted_metrics", None) or "auto"
        self.compile(**config)
        if self.built:
            self.optimizer.build(self.trainable_variables)

    def call(self, inputs, training=None):
        return self.student(select_model_inputs(self.student, inputs), training=training)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        teacher_x = select_model_inputs(self.teacher, x)
        student_x = select_model_inputs(self.student, x)
        if self._teacher_feature_extractor is not None:
            teacher_features = self._teacher_feature_extractor(teacher_x, training=False)
            # One student pass gives both logits and hidden states (Distiller runs two).
            student_features = self._student_feature_extractor(student_x, training=training)
        else:
            teacher_features = {"final_output": self.teacher(teacher_x, training=False)}
            if y_pred is None:
                y_pred = self(x, training=training)
            student_features = {"final_output": y_pred}
        teacher_features = keras.tree.map_structure(ops.stop_gradient, teacher_features)
        logits = student_features["final_output"]

        task_loss = ops.convert_to_tensor(0.0)
        if y is not None and self.student_loss_weight > 0:
            task_loss = weighted_mean(self._student_loss(y, logits), sample_weight)
        distillation_loss = ops.convert_to_tensor(0.0)
        for loss, weight in zip(
            self.distillation_losses, self.distillation_loss_weights, strict=True
        ):
            if isinstance(loss, HiddenStateCosineDistillation):
                value = loss.compute_loss(
                    teacher_features[loss.teacher_layer_name],
                    student_features[loss.student_layer_name],
                    padding_mask=student_x.get("padding_mask") if isinstance(x, dict) else None,
                )
            else:
                value = loss.compute_loss(
                    teacher_features["final_output"], logits, sample_weight=sample_weight
                )
            distillation_loss = distillation_loss + weight * value
        total = (
            self.student_loss_weight * task_loss
            + (1.0 - self.student_loss_weight) * distillation_loss
        )
        self.student_loss_tracker.update_state(task_loss)
        self.distillation_loss_tracker.update_state(distillation_loss)
        self.total_loss_tracker.update_state(total)
        # Keras losses divide by the number of replicas (gradients are summed across them);
        # these means are per replica, so they do the same.
        return total / tf.distribute.get_strategy().num_replicas_in_sync

    def get_config(self):
        return {
            "name": self.name,
            "trainable": self.trainable,
            "dtype": keras.dtype_policies.serialize(self.dtype_policy),
            "teacher": keras.saving.serialize_keras_object(self.teacher),
            "student": keras.saving.serialize_keras_object(self.student),
            "temperature": self.temperature,
            "soft_target_weight": self.soft_target_weight,
            "task_weight": self.task_weight,
            "cosine_weight": self.cosine_weight,
        }

    @classmethod
    def from_config(cls, config):
        return cls(**config)


def _deserialize(model):
    if isinstance(model, dict):
        return keras.saving.deserialize_keras_object(model)
    return model


def distil(
    teacher: keras.Model,
    student: keras.Model,
    data,
    epochs: int = 1,
    temperature: float = 2.0,
    soft_target_weight: float = 5.0,
    task_weight: float = 2.0,
    cosine_weight: float = 1.0,
    optimizer="auto",
    **fit_kwargs,
) -> keras.callbacks.History:
    """Distils `teacher` into `student` with DistilBERT's loss; trains `student` in place.

    Args:
        teacher: a trained zoo.text task model that outputs logits (it is frozen).
        student: a task model of the same kind and vocabulary; see `TextDistiller`.
        data: a `tf.data.Dataset` of `(inputs, labels[, sample_weight])` batches (e.g.
            `mlm_dataset(...)` for masked-LM students), or a tuple of such arrays.
        epochs: passes over `data`. Defaults to `1`.
        temperature: softmax temperature. Defaults to `2.0`.
        soft_target_weight: weight of the soft-target loss. Defaults to `5.0`.
        task_weight: weight of the student's own loss. Defaults to `2.0`.
        cosine_weight: weight of the hidden-state cosine loss (`0` when widths differ).
            Defaults to `1.0`.
        optimizer: an optimizer or `"auto"` (see `TextDistiller.compile`). Defaults to `"auto"`.
        **fit_kwargs: passed to `fit` (`validation_data`, `callbacks`, `verbose`, ...).

    Returns:
        The `History` of `fit`, with `student_loss`, `distillation_loss` and `total_loss`.

    Example:

    ```python
    student = BertMaskedLM(DistilBertBackbone(vocabulary_size, 3, 12, 768, 3072), num_masked=20)
    init_student_from_teacher(teacher.backbone, student.backbone)
    distil(teacher, student, mlm_dataset("corpus/train", preprocessor, 20), epochs=3)
    student.save("distilled.keras")
    ```

    Reference:
        Sanh et al., "DistilBERT, a distilled version of BERT", 2019.
    """
    check_positive_int("epochs", epochs)
    distiller = TextDistiller(
        teacher,
        student,
        temperature=temperature,
        soft_target_weight=soft_target_weight,
        task_weight=task_weight,
        cosine_weight=cosine_weight,
    )
    distiller.compile(optimizer=optimizer)
    if isinstance(data, tuple):  # `(x, y[, sample_weight])` arrays, as `fit` takes them
        return distiller.fit(*data, epochs=epochs, **fit_kwargs)
    return distiller.fit(data, epochs=epochs, **fit_kwargs)


_SHARED_LAYERS = (
    "token_embedding",
    "position_embedding",
    "segment_embedding",
    "embeddings_layer_norm",
    "pooled_dense",
)


def init_student_from_teacher(teacher_backbone: keras.Model, student_backbone: keras.Model) -> None:
    """DistilBERT's initialisation: copies the embeddings and one teacher layer out of every few.

    Student layer `i` gets teacher layer `i * (teacher layers // student layers)` (every other
    layer when the student is half as deep); token, position (the first rows, when the student
    has fewer), segment and embedding-norm weights, and the pooler, are copied where both
    backbones have them. Works across BERT, RoBERTa and DistilBERT backbones of equal widths.

    Args:
        teacher_backbone: the trained backbone.
        student_backbone: a backbone with the same `vocabulary_size`, `hidden_dim`,
            `intermediate_dim` and `num_heads`, and at most as many layers.

    Example:

    ```python
    student = DistilBertBackbone(30522, num_layers=6, num_heads=12, hidden_dim=768,
                                 intermediate_dim=3072)
    init_student_from_teacher(bert_base, student)
    ```

    Reference:
        Sanh et al., "DistilBERT, a distilled version of BERT", 2019, section 3 ("taking one
        layer out of two").
    """

    arguments = {"teacher_backbone": teacher_backbone, "student_backbone": student_backbone}
    for argument, backbone in arguments.items():
        if not isinstance(backbone, TextBackbone) or isinstance(backbone, AlbertBackbone):
            raise TypeError(
                f"`{argument}` must be a BERT, RoBERTa or DistilBERT backbone (ALBERT shares "
                f"one layer). Received: {argument}={backbone!r}"
            )
    for attribute in ("vocabulary_size", "hidden_dim", "intermediate_dim", "num_heads"):
        teacher_value = getattr(teacher_backbone, attribute)
        student_value = getattr(student_backbone, attribute)
        if teacher_value != student_value:
            raise ValueError(
                f"The student's `{attribute}` must equal the teacher's ({teacher_value}) to "
                f"copy weights. Received: {attribute}={student_value}"
            )
    if student_backbone.num_layers > teacher_backbone.num_layers:
        raise ValueError(
            f"The student must not be deeper than the teacher ({teacher_backbone.num_layers} "
            f"layers). Received: num_layers={student_backbone.num_layers}"
        )
    stride = teacher_backbone.num_layers // student_backbone.num_layers
    pairs = [(name, name) for name in _SHARED_LAYERS]
    pairs += [
        (f"transformer_layer_{i * stride}", f"transformer_layer_{i}")
        for i in range(student_backbone.num_layers)
    ]
    teacher_names = {layer.name for layer in teacher_backbone.layers}
    student_names = {layer.name for layer in student_backbone.layers}
    for teacher_name, student_name in pairs:
        if teacher_name not in teacher_names or student_name not in student_names:
            continue
        source = teacher_backbone.get_layer(teacher_name).get_weights()
        target = student_backbone.get_layer(student_name)
        if "position_embedding" in teacher_name:
            source = [w[: target.get_weights()[0].shape[0]] for w in source]
        target.set_weights(source)
