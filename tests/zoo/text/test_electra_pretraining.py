"""ELECTRA's replaced-token-detection pretrainer and its TFRecord corpus loop."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import tfrecords
import zoo.text
from zoo.text.electra import (
    ElectraBackbone,
    ElectraDiscriminator,
    ElectraPretrainer,
    pretrain_electra,
    special_token_ids,
)
from zoo.text.electra.pretrainer import replace_at
from zoo.text.electra.pretraining import default_warmup_steps, schedule_learning_rate

SMALL = {"vocabulary_size": 60, "num_layers": 1, "num_heads": 2, "hidden_dim": 16,
         "intermediate_dim": 32, "embedding_dim": 8, "max_sequence_length": 16}  # fmt: skip
MASK = 4


def _pretrainer(**overrides):
    backbone = ElectraBackbone(**SMALL, dropout=0.0)
    arguments = {"mask_token_id": MASK, "num_masked": 3, "special_token_ids": (0, 1, 2),
                 "seed": 0, **overrides}  # fmt: skip
    return ElectraPretrainer(ElectraDiscriminator(backbone), **arguments)


def _inputs(batch=4, length=10):
    rng = np.random.default_rng(0)
    ids = rng.integers(5, SMALL["vocabulary_size"], size=(batch, length)).astype("int32")
    lengths = length - np.arange(batch) % 3
    mask = (np.arange(length)[None, :] < lengths[:, None]).astype("int32")
    ids[:, 0] = 1
    return {"token_ids": ids * mask, "segment_ids": np.zeros_like(ids), "padding_mask": mask}


def test_replace_at_writes_only_weighted_slots():
    ids = np.array([[10, 11, 12, 13]], "int32")
    out = replace_at(ids, np.array([[2, 0]]), np.array([[1.0, 0.0]]), np.array([[7, 9]]))
    np.testing.assert_array_equal(out, [[10, 11, 7, 13]])


def test_forward_corrupts_only_masked_real_tokens():
    model = _pretrainer()
    inputs = _inputs()
    out = {k: np.asarray(v) for k, v in model(inputs).items()}
    assert out["mlm_logits"].shape == (4, 3, SMALL["vocabulary_size"])
    labels = out["rtd_labels"]
    assert labels.shape == (4, 10)
    # Replaced tokens are real, not special (column 0 holds [CLS]) and at most num_masked.
    assert np.all(labels <= inputs["padding_mask"]) and np.all(labels[:, 0] == 0)
    assert np.all(labels.sum(axis=1) <= 3)
    assert out["mask_weights"].sum() > 0
    # The masked targets are the original tokens at the picked positions.
    assert np.all(out["mask_ids"][out["mask_weights"] > 0] >= 5)


def _always_sample(model, token_id):
    """Makes the generator put (numerically) all its probability on `token_id`."""
    bias = np.zeros(SMALL["vocabulary_size"], "float32")
    bias[token_id] = 1e4
    model.generator_bias.bias.assign(bias)


def _discriminate(model, token_ids, inputs):
    return np.asarray(model.discriminator({**inputs, "token_ids": token_ids}, training=False))


def test_a_sampled_token_equal_to_the_original_is_labelled_original():
    # Every real token is 7 and the generator always samples 7: nothing is replaced, although
    # tokens were masked (the paper's labels compare the sampled token with the original).
    model = _pretrainer()
    _always_sample(model, 7)
    inputs = _inputs()
    inputs["token_ids"] = np.where(inputs["padding_mask"] > 0, 7, 0).astype("int32")
    inputs["token_ids"][:, 0] = 1
    out = {k: np.asarray(v) for k, v in model(inputs).items()}
    assert out["mask_weights"].sum() > 0
    np.testing.assert_array_equal(out["corrupted_ids"], inputs["token_ids"])
    assert out["rtd_labels"].sum() == 0


def test_discriminator_scores_the_corrupted_sequence_and_labels_every_change():
    # The generator always samples 59, which no input holds: every masked slot (those kept
    # as themselves for the generator too) is replaced, and exactly those are labelled 1.
    model = _pretrainer()
    _always_sample(model, 59)
    inputs = _inputs()
    inputs["token_ids"] = np.minimum(inputs["token_ids"], 58)
    out = {k: np.asarray(v) for k, v in model(inputs).items()}
    ids, corrupted = inputs["token_ids"], out["corrupted_ids"]
    expected = np.zeros(ids.shape, "float32")
    for row in range(len(ids)):
        expected[row, out["mask_positions"][row][out["mask_weights"][row] > 0]] = 1.0
    assert expected.sum() > 0
    np.testing.assert_array_equal(out["rtd_labels"], expected)
    np.testing.assert_array_equal(corrupted, np.where(expected > 0, 59, ids))
    # The discriminator saw the corrupted ids: not the originals, not the [MASK]ed ones.
    np.testing.assert_allclose(
        out["rtd_logits"], _discriminate(model, corrupted, inputs), atol=1e-5
    )
    assert not np.allclose(out["rtd_logits"], _discriminate(model, ids, inputs), atol=1e-3)
    assert not np.any(corrupted == MASK)


def test_rtd_loss_counts_real_tokens_only():
    model = _pretrainer()
    out = dict(model(_inputs()))
    mask = np.asarray(out["padding_mask"])
    assert mask.min() == 0  # the inputs have padding
    _, _, rtd = model.pretraining_losses(out)
    logits, labels = np.asarray(out["rtd_logits"]), np.asarray(out["rtd_labels"])
    per_token = np.maximum(logits, 0) - logits * labels + np.log1p(np.exp(-np.abs(logits)))
    np.testing.assert_allclose(float(rtd), (per_token * mask).sum() / mask.sum(), rtol=1e-5)
    noisy = {**out, "rtd_logits": np.where(mask > 0, logits, 100.0).astype("float32")}
    np.testing.assert_allclose(float(model.pretraining_losses(noisy)[2]), float(rtd), rtol=1e-6)


def test_rtd_gradient_stops_at_the_sampling_and_both_losses_reach_the_embeddings():
    model = _pretrainer()
    with tf.GradientTape(persistent=True) as tape:
        _, mlm, rtd = model.pretraining_losses(model(_inputs(), training=True))
    generator_only = [*model.generator.trainable_variables, model.generator_bias.bias]
    head = [model.discriminator.get_layer(n).kernel for n in ("rtd_dense", "rtd_prediction")]
    assert all(g is None for g in tape.gradient(rtd, generator_only))
    assert all(g is None for g in tape.gradient(mlm, head))
    table = model.discriminator.backbone.token_embedding.embeddings
    for loss in (mlm, rtd):
        gradient = tf.convert_to_tensor(tape.gradient(loss, table))
        assert float(tf.norm(gradient)) > 0


@pytest.mark.slow  # a learning run (about 24 steps, most of the time tracing)
def test_discriminator_learns_to_spot_tokens_the_corpus_never_holds():
    # The corpus uses tokens 5-9 of 60; the untrained generator samples nearly uniformly, so
    # most replacements are tokens never seen as originals, detectable from the token alone
    # (until the generator learns the corpus's five tokens: hence the best epoch). A
    # pretrainer whose labels or discriminator inputs were wrong stays at the base rate
    # (always "original"), with an AUC of 0.5.
    keras.utils.set_random_seed(0)
    rng = np.random.default_rng(0)
    ids = rng.integers(5, 10, size=(256, 10)).astype("int32")
    ids[:, 0] = 1
    inputs = {
        "token_ids": ids,
        "segment_ids": np.zeros_like(ids),
        "padding_mask": np.ones_like(ids),
    }
    model = _pretrainer(num_masked=4, mask_rate=0.3)
    model.compile(optimizer=keras.optimizers.AdamW(3e-3), jit_compile=False)
    history = model.fit(inputs, batch_size=32, epochs=3, verbose=0).history
    base_rate = 1.0 - np.array(history["replaced_fraction"])
    assert np.all((base_rate > 0.65) & (base_rate < 0.85))
    margin = np.array(history["rtd_accuracy"]) - base_rate
    assert margin.max() > 0.5 * (1.0 - base_rate.mean())
    assert max(history["rtd_auc"]) > 0.85


def test_generator_shares_the_discriminator_embeddings():
    model = _pretrainer()
    vocabulary, width = SMALL["vocabulary_size"], SMALL["embedding_dim"]
    tables = [v for v in model.trainable_variables if tuple(v.shape) == (vocabulary, width)]
    assert len(tables) == 1  # one token table, the discriminator's
    generator_widths = {layer.name: layer for layer in model.generator.layers}
    assert generator_widths["mlm_dense"].units == width  # scores through the shared table
    # ELECTRA's generator: a quarter of the discriminator's width, one head per 64 units.
    block = model.generator.get_layer("transformer_layer_0")
    assert block.attention_layer.num_heads == 1
    assert model.generator.get_layer("embeddings_projection").units == 4


def test_loss_is_mlm_plus_weighted_rtd():
    model = _pretrainer(rtd_weight=50.0)
    out = model(_inputs(), training=False)
    total, mlm, rtd = (float(x) for x in model.pretraining_losses(out))
    np.testing.assert_allclose(total, mlm + 50.0 * rtd, rtol=1e-6)
    assert mlm > 0 and rtd > 0


@pytest.mark.slow  # a learning run
def test_fit_lowers_the_loss():
    model = _pretrainer()
    model.compile(optimizer=keras.optimizers.AdamW(3e-3))
    inputs = _inputs(8)
    history = model.fit(inputs, batch_size=4, epochs=6, verbose=0)
    assert np.all(np.isfinite(history.history["loss"]))
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_config_round_trip():
    model = _pretrainer(generator_size=0.5, generator_num_layers=2)
    config = model.get_config()
    clone = ElectraPretrainer.from_config(config)
    assert clone.get_config()["generator_size"] == 0.5
    assert len(clone.trainable_variables) == len(model.trainable_variables)


def _corpus(tmp_path):
    words = ["alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta", "theta"]
    rng = np.random.default_rng(0)
    lines = [" ".join(rng.choice(words, size=rng.integers(3, 8))) for _ in range(40)]
    tfrecords.write({"text": np.array(lines, dtype=object)}, str(tmp_path / "train"), verbose=0)
    vocabulary = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    preprocessor = zoo.text.BertPreprocessor(zoo.text.WordPieceTokenizer(vocabulary), 12)
    return str(tmp_path / "train"), preprocessor, len(lines)


def _corpus_pretrainer(preprocessor):
    backbone = ElectraBackbone(**{**SMALL, "vocabulary_size": 13}, dropout=0.0)
    model = ElectraPretrainer(
        ElectraDiscriminator(backbone),
        mask_token_id=preprocessor.tokenizer.token_to_id("[MASK]"),
        num_masked=3,
        special_token_ids=special_token_ids(preprocessor),
        seed=0,
    )
    return model


@pytest.mark.slow  # kept out of `make test`'s 15 minutes
def test_pretrain_electra_reads_a_tfrecord_corpus(tmp_path):
    files, preprocessor, num_lines = _corpus(tmp_path)
    assert special_token_ids(preprocessor) == (0, 2, 3, 1, 4)
    model = _corpus_pretrainer(preprocessor)
    history = pretrain_electra(model, files, preprocessor, batch_size=16, seed=0, verbose=0)
    assert set(history.history) == {
        "loss", "mlm_loss", "rtd_loss", "mlm_accuracy", "rtd_accuracy", "rtd_auc",
        "replaced_fraction",
    }  # fmt: skip
    assert all(len(v) == 1 and np.isfinite(v[0]) for v in history.history.values())
    steps = -(-num_lines // 16)
    assert int(model.optimizer.iterations) == steps
    # The paper's schedule by default: warmup (none in 3 steps), then linear decay to 0.
    rate = model.optimizer._learning_rate
    assert isinstance(rate, keras.optimizers.schedules.LearningRateSchedule)
    np.testing.assert_allclose(float(rate(0)), 5e-4, rtol=1e-6)
    np.testing.assert_allclose(float(rate(steps)), 0.0, atol=1e-9)


class _Interrupt(keras.callbacks.Callback):
    def on_epoch_begin(self, epoch, logs=None):
        if epoch == 1:
            raise RuntimeError("interrupted")


@pytest.mark.slow  # two training runs
def test_pretrain_electra_resumes_after_interruption(tmp_path):
    files, preprocessor, num_lines = _corpus(tmp_path)
    backup = str(tmp_path / "backup")
    steps = -(-num_lines // 16)
    model = _corpus_pretrainer(preprocessor)
    with pytest.raises(RuntimeError, match="interrupted"):
        pretrain_electra(
            model, files, preprocessor, epochs=2, batch_size=16, seed=0, verbose=0,
            backup_directory=backup, callbacks=[_Interrupt()],
        )  # fmt: skip
    fresh = _corpus_pretrainer(preprocessor)
    history = pretrain_electra(
        fresh, files, preprocessor, epochs=2, batch_size=16, seed=0, verbose=0,
        backup_directory=backup,
    )  # fmt: skip
    assert len(history.history["loss"]) == 1  # only the second epoch ran
    assert int(fresh.optimizer.iterations) == 2 * steps  # the optimizer state came back


def test_schedule_learning_rate_warms_up_then_decays_to_zero():
    model = _pretrainer()
    model.compile(optimizer=keras.optimizers.AdamW(1e-3, weight_decay=0.02))
    assert schedule_learning_rate(model, total_steps=100, warmup_steps=10)
    optimizer = model.optimizer
    assert isinstance(optimizer, keras.optimizers.AdamW) and optimizer.weight_decay == 0.02
    rate = optimizer._learning_rate
    values = [float(rate(step)) for step in (0, 5, 10, 55, 100)]
    np.testing.assert_allclose(values, [0.0, 5e-4, 1e-3, 5e-4, 0.0], atol=1e-9)
    # A schedule already there stays (so does one given at compile time).
    assert not schedule_learning_rate(model, total_steps=50)
    assert model.optimizer is optimizer


def test_default_warmup_is_the_papers_capped_at_a_tenth():
    assert default_warmup_steps(1_000_000) == 10_000
    assert default_warmup_steps(508) == 50
    assert default_warmup_steps(5) == 0


def test_bad_arguments_are_named():
    discriminator = ElectraDiscriminator(ElectraBackbone(**SMALL))
    with pytest.raises(ValueError, match=r"mask_token_id=-1"):
        ElectraPretrainer(discriminator, mask_token_id=-1, num_masked=3)
    with pytest.raises(ValueError, match=r"generator_size=0"):
        ElectraPretrainer(discriminator, mask_token_id=4, num_masked=3, generator_size=0)
    with pytest.raises(ValueError, match=r"num_masked=0"):
        ElectraPretrainer(discriminator, mask_token_id=4, num_masked=0)
    with pytest.raises(TypeError, match=r"discriminator="):
        ElectraPretrainer(discriminator.backbone, mask_token_id=4, num_masked=3)
    with pytest.raises(TypeError, match=r"ElectraPretrainer"):
        pretrain_electra(discriminator, "files", None)
