"""DistilBERT-style distillation: the three losses, the Keras Distiller recipe, the student init."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo.text
from tests import harness
from zoo.text.distillation import (
    HiddenStateCosineDistillation,
    SoftTargetDistillation,
    TextDistiller,
    distil,
    init_student_from_teacher,
)

VOCABULARY, LENGTH, MASKED, BATCH = 40, 8, 3, 8
WIDTHS = {"num_heads": 2, "hidden_dim": 16, "intermediate_dim": 32, "max_sequence_length": 16}


def teacher_and_student(student_layers=1, hidden_dim=16, seed=0):
    keras.utils.set_random_seed(seed)
    teacher = zoo.text.BertMaskedLM(
        zoo.text.BertBackbone(VOCABULARY, 2, dropout=0.0, **WIDTHS), num_masked=MASKED
    )
    widths = {**WIDTHS, "hidden_dim": hidden_dim}
    student = zoo.text.BertMaskedLM(
        zoo.text.DistilBertBackbone(VOCABULARY, student_layers, dropout=0.0, **widths),
        num_masked=MASKED,
    )
    return teacher, student


def mlm_batch(n=BATCH, seed=0):
    """Inputs with padding at the end, targets, and weights with an unused last slot."""
    rng = np.random.default_rng(seed)
    mask = (np.arange(LENGTH)[None, :] < LENGTH - np.arange(n)[:, None] % 3).astype("int32")
    inputs = {
        "token_ids": (rng.integers(5, VOCABULARY, (n, LENGTH)) * mask).astype("int32"),
        "segment_ids": np.zeros((n, LENGTH), "int32"),
        "padding_mask": mask,
        "mask_positions": rng.integers(1, LENGTH - 2, (n, MASKED)).astype("int32"),
    }
    targets = rng.integers(5, VOCABULARY, (n, MASKED)).astype("int32")
    weights = np.ones((n, MASKED), "float32")
    weights[:, -1] = 0.0
    return inputs, targets, weights


def log_softmax(z):
    z = z - z.max(-1, keepdims=True)
    return z - np.log(np.exp(z).sum(-1, keepdims=True))


def soft_target_reference(teacher, student, temperature, weights=None):
    """Hinton et al. 2015: T^2 * KL(softmax(t/T) || softmax(s/T)), mean over predictions."""
    log_p = log_softmax(np.float64(teacher) / temperature)
    log_q = log_softmax(np.float64(student) / temperature)
    kl = (np.exp(log_p) * (log_p - log_q)).sum(-1)
    weights = np.ones_like(kl) if weights is None else weights
    return temperature**2 * (kl * weights).sum() / weights.sum()


def cosine_reference(teacher, student, mask):
    """Sanh et al. 2019: mean over real tokens of 1 - cos(h_t, h_s)."""
    cos = (teacher * student).sum(-1) / (
        np.linalg.norm(teacher, axis=-1) * np.linalg.norm(student, axis=-1)
    )
    return ((1.0 - cos) * mask).sum() / mask.sum()


def test_soft_target_loss_matches_the_formula():
    rng = np.random.default_rng(1)
    teacher = rng.normal(size=(4, 3, 10)).astype("float32") * 3
    student = rng.normal(size=(4, 3, 10)).astype("float32") * 3
    weights = (rng.random((4, 3)) > 0.3).astype("float32")
    loss = SoftTargetDistillation(temperature=2.0)
    np.testing.assert_allclose(
        float(loss.compute_loss(teacher, student, sample_weight=weights)),
        soft_target_reference(teacher, student, 2.0, weights),
        rtol=1e-5,
    )
    np.testing.assert_allclose(
        float(loss.compute_loss(teacher, student)),
        soft_target_reference(teacher, student, 2.0),
        rtol=1e-5,
    )
    # Hand check: two classes, T=1, teacher (1, 0) vs student uniform: KL = log 2.
    value = SoftTargetDistillation(1.0).compute_loss(
        np.array([[0.0, -1e9]], "float32"), np.zeros((1, 2), "float32")
    )
    np.testing.assert_allclose(float(value), np.log(2.0), rtol=1e-6)
    # Agrees with keras's LogitsDistillation given a KLDivergence instance, where no
    # probability falls below its 1e-7 clipping.
    keras_loss = keras.distillation.LogitsDistillation(2.0, loss=keras.losses.KLDivergence())
    np.testing.assert_allclose(
        float(loss.compute_loss(teacher / 3, student / 3)),
        float(keras_loss.compute_loss(teacher / 3, student / 3)),
        rtol=1e-4,
    )


def test_hidden_state_cosine_loss_matches_the_formula_and_skips_padding():
    rng = np.random.default_rng(2)
    teacher = rng.normal(size=(2, 5, 8)).astype("float32")
    student = rng.normal(size=(2, 5, 8)).astype("float32")
    mask = np.array([[1, 1, 1, 0, 0], [1, 1, 1, 1, 1]], "int32")
    loss = HiddenStateCosineDistillation()
    value = loss.compute_loss({"sequence_output": teacher}, {"sequence_output": student}, mask)
    np.testing.assert_allclose(float(value), cosine_reference(teacher, student, mask), rtol=1e-5)
    # Identical directions give 0 whatever the lengths; padding rows do not count.
    scaled = teacher * 3.0
    scaled[0, 3:] = -scaled[0, 3:]
    np.testing.assert_allclose(float(loss.compute_loss(teacher, scaled, mask)), 0.0, atol=1e-6)


def test_distiller_loss_is_the_weighted_sum_of_the_three_terms():
    teacher, student = teacher_and_student()
    inputs, targets, weights = mlm_batch()
    distiller = TextDistiller(
        teacher, student, temperature=3.0, soft_target_weight=5.0, task_weight=2.0,
        cosine_weight=1.0,
    )  # fmt: skip
    distiller.compile()
    total = float(distiller.compute_loss(inputs, targets, None, weights, training=False))

    student_inputs = {k: v for k, v in inputs.items() if k != "segment_ids"}
    backbone_inputs = {k: v for k, v in inputs.items() if k != "mask_positions"}
    teacher_logits = np.asarray(teacher(inputs))
    student_logits = np.asarray(student(student_inputs))
    teacher_hidden = np.asarray(teacher.backbone(backbone_inputs)["sequence_output"])
    student_hidden = np.asarray(
        student.backbone({k: v for k, v in student_inputs.items() if k != "mask_positions"})[
            "sequence_output"
        ]
    )
    log_q = log_softmax(np.float64(student_logits))
    cross_entropy = -np.take_along_axis(log_q, targets[..., None], -1)[..., 0]
    task = (cross_entropy * weights).sum() / weights.sum()
    soft = soft_target_reference(teacher_logits, student_logits, 3.0, weights)
    cosine = cosine_reference(teacher_hidden, student_hidden, inputs["padding_mask"])
    np.testing.assert_allclose(total, (5 * soft + 2 * task + cosine) / 8, rtol=1e-4)
    assert not teacher.trainable


def test_short_distillation_lowers_the_soft_target_loss():
    teacher, student = teacher_and_student(seed=3)
    inputs, targets, weights = mlm_batch(32, seed=3)
    dataset = tf.data.Dataset.from_tensor_slices((inputs, targets, weights)).batch(BATCH)
    student_inputs = {k: v for k, v in inputs.items() if k != "segment_ids"}
    soft = SoftTargetDistillation(2.0)

    def soft_loss():
        return float(soft.compute_loss(teacher(inputs), student(student_inputs), weights))

    before = soft_loss()
    history = distil(
        teacher, student, dataset, epochs=8, task_weight=0.0, cosine_weight=0.0,
        optimizer=keras.optimizers.Adam(3e-3), verbose=0,
    )  # fmt: skip
    assert soft_loss() < 0.5 * before
    losses = history.history["distillation_loss"]
    assert losses[-1] < losses[0]


def test_distilled_student_saves_loads_and_predicts_alone(tmp_path):
    teacher, student = teacher_and_student()
    inputs, targets, weights = mlm_batch()
    dataset = tf.data.Dataset.from_tensor_slices((inputs, targets, weights)).batch(4)
    distil(teacher, student, dataset, epochs=1, verbose=0)
    student_inputs = {k: v for k, v in inputs.items() if k != "segment_ids"}
    expected = student.predict(student_inputs, verbose=0)
    student.save(tmp_path / "student.keras")
    loaded = keras.saving.load_model(tmp_path / "student.keras")
    assert type(loaded) is zoo.text.BertMaskedLM
    assert not any(w.path.startswith(teacher.backbone.name) for w in loaded.weights)
    np.testing.assert_allclose(loaded.predict(student_inputs, verbose=0), expected, atol=1e-5)


def test_distiller_passes_model_checks():
    inputs, targets, _ = mlm_batch(4)

    def build():
        teacher = zoo.text.BertMaskedLM(
            zoo.text.BertBackbone(VOCABULARY, 1, dropout=0.0, **WIDTHS), num_masked=MASKED
        )
        student = zoo.text.BertMaskedLM(
            zoo.text.DistilBertBackbone(VOCABULARY, 1, dropout=0.0, **WIDTHS), num_masked=MASKED
        )
        distiller = TextDistiller(teacher, student, temperature=3.0, cosine_weight=0.5)
        distiller.compile(optimizer=keras.optimizers.Adam(1e-3))
        return distiller

    # XLA is checked on the teacher and student models themselves (tests/zoo/text); the
    # distiller adds loss arithmetic only, and compiling it with both models is the slowest part.
    harness.run_model_test(
        build, inputs, targets,
        init_kwargs={"temperature": 3.0, "soft_target_weight": 5.0, "task_weight": 2.0,
                     "cosine_weight": 0.5},
        run_jit=False,
    )  # fmt: skip


def test_classifier_distillation_without_cosine_between_widths():
    keras.utils.set_random_seed(4)
    teacher = zoo.text.BertClassifier(
        zoo.text.BertBackbone(VOCABULARY, 2, dropout=0.0, **WIDTHS), num_classes=3, dropout=0.0
    )
    student = zoo.text.BertClassifier(
        zoo.text.BertBackbone(VOCABULARY, 1, dropout=0.0, **{**WIDTHS, "hidden_dim": 8}),
        num_classes=3,
        dropout=0.0,
    )
    inputs, _, _ = mlm_batch(16)
    inputs.pop("mask_positions")
    labels = np.arange(16) % 3
    history = distil(teacher, student, (inputs, labels), epochs=2, cosine_weight=0.0, verbose=0)
    assert np.isfinite(history.history["loss"]).all()


def test_init_student_copies_every_other_layer():
    keras.utils.set_random_seed(5)
    teacher = zoo.text.BertBackbone(VOCABULARY, 4, **WIDTHS)
    student = zoo.text.DistilBertBackbone(VOCABULARY, 2, **{**WIDTHS, "max_sequence_length": 8})
    init_student_from_teacher(teacher, student)
    for t_name, s_name in (("transformer_layer_0", "transformer_layer_0"),
                           ("transformer_layer_2", "transformer_layer_1"),
                           ("token_embedding", "token_embedding"),
                           ("embeddings_layer_norm", "embeddings_layer_norm")):  # fmt: skip
        for t, s in zip(
            teacher.get_layer(t_name).get_weights(),
            student.get_layer(s_name).get_weights(),
            strict=True,
        ):
            np.testing.assert_array_equal(s, t)
    np.testing.assert_array_equal(
        student.get_layer("position_embedding").get_weights()[0],
        teacher.get_layer("position_embedding").get_weights()[0][:8],
    )


def test_bad_arguments_give_clear_errors():
    teacher, student = teacher_and_student()
    with pytest.raises(ValueError, match="temperature=0"):
        SoftTargetDistillation(temperature=0)
    with pytest.raises(ValueError, match="temperature=-1"):
        TextDistiller(teacher, student, temperature=-1.0)
    with pytest.raises(ValueError, match="cosine_weight=-1"):
        TextDistiller(teacher, student, cosine_weight=-1.0)
    with pytest.raises(ValueError, match="soft_target_weight=0"):
        TextDistiller(teacher, student, soft_target_weight=0.0, cosine_weight=0.0)
    other_vocabulary = zoo.text.BertMaskedLM(
        zoo.text.DistilBertBackbone(VOCABULARY + 1, 1, **WIDTHS), num_masked=MASKED
    )
    with pytest.raises(ValueError, match="vocabulary_size=41"):
        TextDistiller(teacher, other_vocabulary)
    fewer_masks = zoo.text.BertMaskedLM(student.backbone, num_masked=MASKED + 1)
    with pytest.raises(ValueError, match="student output shape"):
        TextDistiller(teacher, fewer_masks)
    _, narrow = teacher_and_student(hidden_dim=8)
    with pytest.raises(ValueError, match="hidden_dim=8"):
        TextDistiller(teacher, narrow)
    TextDistiller(teacher, narrow, cosine_weight=0.0)  # fine without the cosine loss
    with pytest.raises(TypeError, match="Received: student="):
        TextDistiller(teacher, student.backbone)
    softmax = zoo.text.BertClassifier(student.backbone, 2, output_activation="softmax")
    with pytest.raises(ValueError, match="output_activation='softmax'"):
        TextDistiller(softmax, softmax)
    crf = zoo.text.BertTokenClassifier(student.backbone, 3, head="crf")
    with pytest.raises(ValueError, match="head='crf'"):
        TextDistiller(crf, crf)
    with pytest.raises(ValueError, match="epochs=0"):
        distil(teacher, student, None, epochs=0)
    with pytest.raises(ValueError, match="hidden_dim=8"):
        init_student_from_teacher(teacher.backbone, narrow.backbone)
    deep = zoo.text.DistilBertBackbone(VOCABULARY, 3, **WIDTHS)
    with pytest.raises(ValueError, match="num_layers=3"):
        init_student_from_teacher(teacher.backbone, deep)
