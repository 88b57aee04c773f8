"""ELECTRA's replaced-token-detection pretrainer and its TFRecord corpus loop."""

import keras
import numpy as np
import pytest

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
        "loss", "mlm_loss", "rtd_loss", "mlm_accuracy", "rtd_accuracy"
    }  # fmt: skip
    assert all(len(v) == 1 and np.isfinite(v[0]) for v in history.history.values())
    assert int(model.optimizer.iterations) == -(-num_lines // 16)


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
