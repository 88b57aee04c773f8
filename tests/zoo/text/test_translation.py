"""The generated translation task and `AttentionTranslator`: training, greedy and beam search
decoding, `.keras` round trip, SavedModel export and serving over REST and gRPC."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import serving
from zoo.text.translation import (
    BOS_ID,
    EOS_ID,
    PAD_ID,
    AttentionTranslator,
    TranslationSearch,
    TranslationTask,
    mask_after_end,
    sequence_exact_match,
)

TINY_TASK = dict(source_vocab_size=10, min_length=2, max_length=4, seed=3)
TINY_MODEL = dict(embedding_dim=8, units=16)


@pytest.fixture(scope="module")
def task():
    return TranslationTask(**TINY_TASK)


@pytest.fixture(scope="module")
def trained(task):
    """A tiny translator fitted a few epochs under XLA (what `jit_compile="auto"` picks on a
    GPU), and the loss of each epoch."""
    keras.utils.set_random_seed(0)
    pairs = task.sample(256, seed=0)
    model = AttentionTranslator(
        task.source_vocab_size,
        task.target_vocab_size,
        max_target_length=task.max_target_length,
        **TINY_MODEL,
    )
    model.compile(optimizer=keras.optimizers.Adam(2e-2), jit_compile=True)
    history = model.fit(pairs.inputs, pairs.target_out, batch_size=32, epochs=4, verbose=0)
    return model, history.history["loss"]


@pytest.fixture(scope="module")
def source(task):
    return task.sample(6, seed=9).source


# -- the generated task ----------------------------------------------------------------------


def test_task_is_deterministic_from_its_seeds():
    a, b = TranslationTask(seed=5), TranslationTask(seed=5)
    assert a.dictionary == b.dictionary and a.modifiers == b.modifiers
    for x, y in zip(
        vars(a.sample(50, seed=2)).values(), vars(b.sample(50, seed=2)).values(), strict=True
    ):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a.sample(50, seed=2).source, a.sample(50, seed=3).source)
    assert TranslationTask(seed=6).dictionary != a.dictionary


def test_task_follows_its_grammar():
    task = TranslationTask(source_vocab_size=21, expand_fraction=0.25, modifier_fraction=0.3)
    words = range(1, 21)
    expanding = [w for w in words if len(task.dictionary[w]) == 2]
    assert len(expanding) == 5 and len(task.modifiers) == 6
    particles = {task.dictionary[w][0] for w in expanding}
    assert particles <= set(range(23, 23 + task.num_particles)) and task.target_vocab_size == 26
    # Every word has its own target word, never a special id.
    heads = [task.dictionary[w][-1] for w in words]
    assert sorted(heads) == list(range(3, 23))

    modifier = min(task.modifiers)
    other_modifier = max(task.modifiers)
    noun = next(w for w in words if w not in task.modifiers)
    t = task.dictionary
    assert task.translate([modifier, noun]) == [*t[noun], *t[modifier]]
    assert task.translate([noun, modifier]) == [*t[noun], *t[modifier]]
    assert task.translate([other_modifier, modifier, noun]) == [
        *t[other_modifier],
        *t[noun],
        *t[modifier],
    ]


def test_pairs_are_padded_with_bos_and_eos(task):
    pairs = task.sample(200, seed=1)
    n, width = pairs.target_out.shape
    assert pairs.source.shape == (n, task.max_length) and width == 2 * task.max_length + 1
    assert all(a.dtype == np.int32 for a in (pairs.source, pairs.target_in, pairs.target_out))
    lengths = (pairs.source != PAD_ID).sum(1)
    assert lengths.min() >= task.min_length and lengths.max() <= task.max_length
    # Padding only at the end of each row.
    np.testing.assert_array_equal(pairs.source[:, 0] != PAD_ID, True)
    assert all((row[:k] != PAD_ID).all() for row, k in zip(pairs.source, lengths, strict=True))
    assert ((pairs.target_out == EOS_ID).sum(1) == 1).all()
    np.testing.assert_array_equal(mask_after_end(pairs.target_out, EOS_ID), pairs.target_out)
    np.testing.assert_array_equal(pairs.target_in[:, 0], BOS_ID)
    shifted = np.where(pairs.target_out == EOS_ID, PAD_ID, pairs.target_out)[:, :-1]
    np.testing.assert_array_equal(pairs.target_in[:, 1:], shifted)
    for i in range(5):
        sentence = pairs.source[i][: lengths[i]]
        expected = [*task.translate(sentence), EOS_ID]
        np.testing.assert_array_equal(pairs.target_out[i][: len(expected)], expected)


def test_splits_are_disjoint(task):
    train, test = task.splits(300, 100, seed=4)
    assert len(train) == 300 and 0 < len(test) <= 100
    assert not {r.tobytes() for r in train.source} & {r.tobytes() for r in test.source}


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"source_vocab_size": 2}, "source_vocab_size=2"),
        ({"min_length": 0}, "min_length=0"),
        ({"min_length": 4, "max_length": 3}, "max_length=3"),
        ({"expand_fraction": 1.5}, "expand_fraction=1.5"),
        ({"num_particles": 0}, "num_particles=0"),
    ],
)
def test_task_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TranslationTask(**kwargs)


def test_task_rejects_unknown_words(task):
    with pytest.raises(ValueError, match=r"sentence=\[1, 10\]"):
        task.translate([1, 10])


def test_mask_after_end_and_exact_match():
    ids = np.array([[5, 2, 7, 2], [5, 6, 7, 8], [2, 3, 0, 0]])
    np.testing.assert_array_equal(
        mask_after_end(ids, end_id=2), [[5, 2, 0, 0], [5, 6, 7, 8], [2, 0, 0, 0]]
    )
    assert sequence_exact_match([[4, 2, 0]], [[4, 2, 0, 0, 0]]) == 1.0
    assert sequence_exact_match([[4, 2], [4, 2]], [[4, 2], [4, 3]]) == 0.5
    with pytest.raises(ValueError, match="same number of rows"):
        sequence_exact_match([[1]], [[1], [2]])


# -- the translator ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"units": 0}, "units=0"),
        ({"embedding_dim": 1.5}, "embedding_dim=1.5"),
        ({"target_vocab_size": 2}, "target_vocab_size=2"),
        ({"bos_id": 0}, "bos_id=0"),
        ({"eos_id": 1}, "eos_id=1"),
        ({"max_target_length": 0}, "max_target_length=0"),
    ],
)
def test_translator_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        AttentionTranslator(**{"source_vocab_size": 10, "target_vocab_size": 12, **kwargs})


def test_translator_trains_and_its_loss_falls(trained):
    _, losses = trained
    assert losses[-1] < 0.7 * losses[0], losses


def test_weights_are_listed_encoder_first_then_tfa_attention_wrapper_order(trained, task):
    model, _ = trained
    e, u, v = TINY_MODEL["embedding_dim"], TINY_MODEL["units"], task.target_vocab_size
    layout = [
        ("source_embedding/embeddings", (task.source_vocab_size, e)),
        ("encoder/lstm_cell/kernel", (e, 4 * u)),
        ("encoder/lstm_cell/recurrent_kernel", (u, 4 * u)),
        ("encoder/lstm_cell/bias", (4 * u,)),
        ("target_embedding/embeddings", (v, e)),
        # TFA's AttentionWrapper order: attention layer, cell, attention mechanism.
        ("attention_wrapper/attention_layer/kernel", (2 * u, u)),
        ("attention_wrapper/decoder_lstm/kernel", (e + u, 4 * u)),
        ("attention_wrapper/decoder_lstm/recurrent_kernel", (u, 4 * u)),
        ("attention_wrapper/decoder_lstm/bias", (4 * u,)),
        ("memory_layer/kernel", (u, u)),
        ("output_projection/kernel", (u, v)),
        ("output_projection/bias", (v,)),
    ]
    assert [(w.path.split("/", 1)[1], tuple(w.shape)) for w in model.weights] == layout
    assert [w.shape for w in model.get_weights()] == [shape for _, shape in layout]


def test_call_takes_a_tuple_or_a_dict(trained, task):
    model, _ = trained
    pairs = task.sample(3, seed=5)
    logits = model(pairs.inputs)
    assert logits.shape == (3, task.max_target_length, task.target_vocab_size)
    as_dict = model({"source": pairs.source, "target_in": pairs.target_in})
    np.testing.assert_allclose(as_dict, logits, atol=1e-6)
    with pytest.raises(ValueError, match="target_in"):
        model({"source": pairs.source})


def test_greedy_and_beam_translations_end_with_eos_then_padding(trained, source, task):
    model, _ = trained
    greedy = model.translate(source)
    beam = model.translate(source, beam_width=3, length_penalty_weight=0.6)
    short = model.translate(source, beam_width=2, maximum_iterations=3)
    assert greedy.shape == beam.shape == (len(source), task.max_target_length)
    assert short.shape == (len(source), 3)
    for ids in (greedy, beam):
        assert ids.dtype == np.int32
        np.testing.assert_array_equal(mask_after_end(ids, EOS_ID), ids)
        # Trained a little, the model ends its translations.
        assert (ids == EOS_ID).any(axis=1).all(), ids


def test_beam_width_one_equals_greedy(trained, task):
    model, _ = trained
    source = task.sample(16, seed=11).source
    np.testing.assert_array_equal(model.translate(source, beam_width=1), model.translate(source))


def test_translate_rejects_bad_arguments(trained, source):
    model, _ = trained
    with pytest.raises(ValueError, match="beam_width=0"):
        model.translate(source, beam_width=0)
    with pytest.raises(ValueError, match="length_penalty_weight=-1"):
        model.translate(source, beam_width=2, length_penalty_weight=-1.0)
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        model.translate(source[0])
    with pytest.raises(TypeError, match="translator="):
        TranslationSearch("not a translator")


def test_keras_file_round_trip_translates_the_same(trained, source, tmp_path):
    model, _ = trained
    config = model.get_config()
    for name, value in {**TINY_MODEL, "bos_id": BOS_ID, "eos_id": EOS_ID}.items():
        assert config[name] == value
    path = tmp_path / "translator.keras"
    model.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, AttentionTranslator)
    assert loaded.get_config() == config
    for beam_width in (None, 3):
        np.testing.assert_array_equal(
            loaded.translate(source, beam_width=beam_width),
            model.translate(source, beam_width=beam_width),
        )


# -- export and serving ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def exported(trained, tmp_path_factory):
    model, _ = trained
    base = tmp_path_factory.mktemp("models")
    search = model.inference_model(beam_width=3)
    path = serving.export(search, base, "translator", warmup=[np.ones((1, 3), np.int32)])
    return base, path


def test_inference_model_is_functional_and_matches_translate(trained, source, tmp_path):
    model, _ = trained
    search = model.inference_model(beam_width=3, maximum_iterations=5)
    assert [t.name for t in search.inputs] == ["source"] and search.output_names == ["target_ids"]
    assert search.outputs[0].shape == (None, 5)
    expected = model.translate(source, 3, maximum_iterations=5)
    np.testing.assert_array_equal(search.predict(source, verbose=0), expected)
    search.save(tmp_path / "search.keras")
    loaded = keras.saving.load_model(tmp_path / "search.keras")
    np.testing.assert_array_equal(loaded.predict(source, verbose=0), expected)


def test_saved_model_runs_beam_search_like_translate(trained, exported, source):
    model, _ = trained
    _, path = exported
    loaded = tf.saved_model.load(path)
    outputs = loaded.signatures["serving_default"](source=tf.constant(source))
    assert list(outputs) == ["target_ids"]
    np.testing.assert_array_equal(outputs["target_ids"], model.translate(source, beam_width=3))


def test_served_over_rest_and_grpc(trained, exported, source):
    model, _ = trained
    base, _ = exported
    expected = model.translate(source, beam_width=3)
    with serving.local_server(base, grpc_port=0, poll_interval=0.2) as server:
        rest = serving.Client(server.url, "translator").predict({"source": source})
        np.testing.assert_array_equal(rest, expected)
        with serving.GrpcClient(server.grpc_target, "translator") as client:
            outputs = client.predict({"source": source})
        np.testing.assert_array_equal(outputs["target_ids"], expected)


# -- learning run ----------------------------------------------------------------------------


# Measured: 0.965 greedy and 0.965 with 5 beams (seed 0, 12-core CPU, ~45 s); the bar leaves
# room for other machines' arithmetic.
GREEDY_BAR = 0.85


@pytest.mark.slow
def test_translator_learns_the_generated_task():
    """The default task (31 words, 3-8 words a sentence, 200 held-out sentences): greedy
    decoding reaches GREEDY_BAR exact-match sequence accuracy and 5 beams do at least as well."""
    keras.utils.set_random_seed(0)
    task = TranslationTask(seed=0)
    train, test = task.splits(num_train=3000, num_test=200, seed=1)
    model = AttentionTranslator(
        task.source_vocab_size,
        task.target_vocab_size,
        embedding_dim=32,
        units=64,
        max_target_length=task.max_target_length,
    )
    epochs, batch_size = 10, 64
    schedule = keras.optimizers.schedules.CosineDecay(1e-2, epochs * -(-len(train) // batch_size))
    model.compile(optimizer=keras.optimizers.Adam(schedule, clipnorm=1.0))
    model.fit(train.inputs, train.target_out, batch_size=batch_size, epochs=epochs, verbose=0)
    greedy = sequence_exact_match(model.translate(test.source), test.target_out)
    beam = sequence_exact_match(model.translate(test.source, beam_width=5), test.target_out)
    assert greedy >= GREEDY_BAR, (greedy, beam)
    assert beam >= greedy, (greedy, beam)
