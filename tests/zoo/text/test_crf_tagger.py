"""The CRF head of the zoo's taggers (`BertTokenClassifier`, `BiLSTMTagger`), the generated
entity task, entity-level F1, and the CRF tagger served over REST and gRPC."""

import itertools

import keras
import numpy as np
import pytest

import serving
import zoo
from layers.crf import crf_decode
from tests import harness
from zoo.text import BertTokenClassifier, BiLSTMTagger, bio_entities, entity_scores
from zoo.text.inputs import token_inputs
from zoo.text.tagging_comparison import compare_heads
from zoo.text.tagging_data import (
    ENTITY_TYPES,
    MAX_ENTITY_WORDS,
    NAMES,
    TAG_NAMES,
    TRIGGERS_AFTER,
    TRIGGERS_BEFORE,
    VOCABULARY,
    make_tagging_data,
)

BILSTM = zoo.get_spec("bilstm_tagger")
BERT = zoo.get_spec("bert_token_classifier")


def crf_tagger(**overrides):
    """The tiny BiLSTM tagger with a CRF head (5 tags)."""
    return zoo.create("bilstm_tagger", **{**BILSTM.tiny, "head": "crf", **overrides})


def random_tags(model, inputs, seed=0):
    rng = np.random.default_rng(seed)
    shape = inputs["token_ids"].shape
    return rng.integers(0, model.num_classes, size=shape).astype("int32")


# ---- the generated task and entity-level F1 ----------------------------------------------------


def test_generated_sentences_are_deterministic_and_typed_by_their_context():
    data = make_tagging_data(200, seed=3)
    again = make_tagging_data(200, seed=3)
    for name in data.inputs:
        np.testing.assert_array_equal(data.inputs[name], again.inputs[name])
    np.testing.assert_array_equal(data.tags, again.tags)
    assert not np.array_equal(make_tagging_data(200, seed=4).tags, data.tags)

    mask = data.inputs["padding_mask"]
    lengths = mask.sum(axis=1)
    assert lengths.min() == 8 and lengths.max() == 20 and np.all(data.tags[mask == 0] == 0)
    assert np.all(mask == (data.inputs["token_ids"] > 0))  # padding only at the end
    assert np.all(mask[np.arange(len(mask)), lengths - 1] == 1)
    words = np.asarray(VOCABULARY)[data.inputs["token_ids"]]
    names = np.isin(words, NAMES)
    entity_count = 0
    for row, length in enumerate(lengths):
        sentence = [str(w) for w in words[row, :length]]
        for kind, first, last in bio_entities(np.asarray(TAG_NAMES)[data.tags[row, :length]]):
            entity_count += 1
            assert 1 <= last - first + 1 <= MAX_ENTITY_WORDS and all(names[row, first : last + 1])
            before = sentence[first - 1] if first else None
            after = sentence[last + 1] if last + 1 < length else None
            # The type comes from the trigger next to the run, never from the names.
            assert (before in TRIGGERS_BEFORE[kind]) != (after in TRIGGERS_AFTER[kind])
    assert entity_count > 200
    # Every type occurs, and runs of names with no trigger are not entities.
    assert {TAG_NAMES[t][2:] for t in np.unique(data.tags) if t} == set(ENTITY_TYPES)
    assert np.any(names & (data.tags == 0))


def test_generated_data_rejects_bad_arguments():
    with pytest.raises(ValueError, match="Received: num_sentences=0"):
        make_tagging_data(0)
    with pytest.raises(ValueError, match="Received: min_length=5"):
        make_tagging_data(4, min_length=5)
    with pytest.raises(ValueError, match="Received: max_length=9"):
        make_tagging_data(4, max_length=9, min_length=10)
    with pytest.raises(ValueError, match="Received: seed=-1"):
        make_tagging_data(4, seed=-1)


def test_bio_entities_read_tags_as_conlleval_does():
    assert bio_entities(["B-PER", "I-PER", "O", "I-LOC"]) == {("PER", 0, 1), ("LOC", 3, 3)}
    # A new B, or an I of another type, starts another entity.
    assert bio_entities(["B-PER", "B-PER", "I-LOC", "I-LOC"]) == {
        ("PER", 0, 0),
        ("PER", 1, 1),
        ("LOC", 2, 3),
    }
    assert bio_entities(["O", "O"]) == set()
    with pytest.raises(ValueError, match="Received: tags\\[1\\]='X-PER'"):
        bio_entities(["O", "X-PER"])


def test_entity_scores_count_exact_spans_only():
    names = ["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]
    gold = [[1, 2, 0, 3, 4, 0], [3, 0, 1, 0, 0, 0]]  # PER 0-1, LOC 3-4 | LOC 0, PER 2
    predicted = [[1, 2, 0, 3, 0, 0], [3, 0, 3, 0, 0, 1]]  # right, LOC 3 (short) | right, wrong
    scores = entity_scores(gold, predicted, names)
    assert scores.precision == pytest.approx(2 / 5) and scores.recall == pytest.approx(2 / 4)
    assert scores.f1 == pytest.approx(2 * 0.4 * 0.5 / 0.9)
    # The padding (here the last two positions) is left out: the spurious PER goes.
    mask = np.array([[1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 0, 0]])
    assert entity_scores(gold, predicted, names, mask).precision == pytest.approx(2 / 4)
    assert entity_scores([[0, 0]], [[0, 0]], names) == (0.0, 0.0, 0.0)
    with pytest.raises(ValueError, match="predicted_tags.shape=\\(1, 3\\)"):
        entity_scores([[0, 0]], [[0, 0, 0]], names)


# ---- the head option ---------------------------------------------------------------------------


def test_head_arguments_are_checked():
    with pytest.raises(ValueError, match="Received: head='crf2'"):
        crf_tagger(head="crf2")
    with pytest.raises(ValueError, match="Received: output_activation='softmax'"):
        crf_tagger(output_activation="softmax")
    with pytest.raises(ValueError, match="Received: head='CRF'"):
        zoo.create("bert_token_classifier", **BERT.tiny, head="CRF")
    with pytest.raises(ValueError, match="Received: loss='mse'"):
        crf_tagger().compile(loss="mse")
    with pytest.raises(TypeError, match="Received: backbone='bilstm'"):
        BiLSTMTagger("bilstm", num_classes=3)


def test_softmax_head_stays_the_default_with_its_layers_and_config():
    tagger = zoo.create("bert_token_classifier", **BERT.tiny)
    config = tagger.get_config()
    assert config["head"] == "softmax" and tagger.head == "softmax"
    assert tagger.output.shape == (None, None, 9) and tagger.get_layer("logits")
    assert "crf" not in [layer.name for layer in tagger.layers]
    # A config saved before `head` existed builds the same softmax tagger.
    del config["head"]
    again = BertTokenClassifier.from_config(config)
    assert again.head == "softmax" and again.output.shape == (None, None, 9)
    compiled = tagger.get_compile_config()
    assert compiled["loss"]["class_name"] == "SparseCategoricalCrossentropy"


def test_crf_heads_output_decoded_tags_of_their_potentials():
    for tagger in (
        crf_tagger(),
        zoo.create("bert_token_classifier", **BERT.tiny, head="crf", num_classes=4),
    ):
        inputs = token_inputs(tagger, 3)
        tags = np.asarray(tagger(inputs))  # as `predict` (the shared checks compare them)
        assert tags.dtype == np.int32 and tags.shape == inputs["token_ids"].shape
        assert tagger.get_compile_config()["loss"] is None
        # The Viterbi path of the CRF's potentials (rows have 8, 7 and 6 tokens).
        potentials, lengths = tagger._crf_scores(inputs, training=False)
        np.testing.assert_array_equal(lengths, [8, 7, 6])
        transitions = tagger.get_layer("crf").chain_kernel
        expected, _ = crf_decode(potentials, transitions, lengths)
        mask = inputs["padding_mask"] == 1
        np.testing.assert_array_equal(tags[mask], np.asarray(expected)[mask])


def test_crf_loss_is_the_negative_log_likelihood_of_the_gold_tags():
    tagger = crf_tagger(num_classes=3)
    inputs = token_inputs(tagger, 2, length=4)  # rows of 4 and 3 tokens
    tags = random_tags(tagger, inputs)
    potentials, _ = tagger._crf_scores(inputs, training=False)
    potentials = np.asarray(potentials)
    transitions = np.asarray(tagger.get_layer("crf").chain_kernel)

    def score(row, path):
        unary = sum(potentials[row, t, tag] for t, tag in enumerate(path))
        return unary + sum(transitions[a, b] for a, b in itertools.pairwise(path))

    # By brute force: log of the sum over every tag path, minus the gold path's score.
    nll = []
    for row, length in enumerate([4, 3]):
        paths = itertools.product(range(3), repeat=length)
        log_norm = np.logaddexp.reduce([score(row, path) for path in paths])
        nll.append(log_norm - score(row, tags[row, :length]))

    def loss(sample_weight=None):
        value = tagger.compute_loss(inputs, tags, None, sample_weight, training=False)
        return float(value)

    assert loss() == pytest.approx(np.mean(nll), rel=1e-5)
    # With the y_pred of the call just made, the loss reads that call's potentials.
    y_pred = tagger(inputs, training=False)
    assert float(tagger.compute_loss(inputs, tags, y_pred)) == pytest.approx(np.mean(nll), rel=1e-5)
    # The padding mask as a per-token weight changes nothing; per-sequence weights weight.
    assert loss(inputs["padding_mask"]) == pytest.approx(np.mean(nll), rel=1e-5)
    assert loss(np.array([0.0, 1.0])) == pytest.approx(nll[1], rel=1e-5)
    # `evaluate` reports it, with the token accuracy of the decoded tags (padding left out).
    first = tagger.evaluate(
        inputs, tags, sample_weight=np.array([1.0, 0.0]), verbose=0, return_dict=True
    )
    assert first["loss"] == pytest.approx(nll[0], rel=1e-5)
    decoded = np.asarray(tagger(inputs))
    assert first["accuracy"] == pytest.approx(np.mean(decoded[0] == tags[0]))


@pytest.mark.parametrize("jit_compile", [False, True])
def test_crf_training_runs_the_model_once_per_step(jit_compile):
    tagger = crf_tagger()
    second_passes = []
    up_to_potentials = tagger._crf_scores.call

    def counted(*args, **kwargs):
        second_passes.append(1)
        return up_to_potentials(*args, **kwargs)

    tagger._crf_scores.call = counted
    inputs = token_inputs(tagger, 4)
    tagger.compile(optimizer="adam", jit_compile=jit_compile)
    history = tagger.fit(inputs, random_tags(tagger, inputs), epochs=3, verbose=0).history
    assert history["loss"][-1] < history["loss"][0]
    assert second_passes == []  # compute_loss took the potentials of the training call


@pytest.mark.heavy
def test_crf_bilstm_tagger_passes_model_checks():
    # .keras round trip, XLA predict and fit, mixed precision under a MirroredStrategy.
    config = {**BILSTM.tiny, "head": "crf"}
    tagger = crf_tagger()
    inputs = token_inputs(tagger, 4)
    harness.run_model_test(
        crf_tagger, inputs, random_tags(tagger, inputs), init_kwargs={**BILSTM.defaults, **config}
    )


def test_crf_bert_token_classifier_trains_under_xla_and_round_trips(tmp_path):
    tagger = zoo.create("bert_token_classifier", **BERT.tiny, head="crf", num_classes=4)
    assert tagger.jit_compile is True  # the family's default holds with the CRF head
    inputs = token_inputs(tagger, 4)
    tags = random_tags(tagger, inputs)
    tagger.compile(learning_rate=1e-2)
    history = tagger.fit(inputs, tags, epochs=3, batch_size=4, verbose=0).history
    assert history["loss"][-1] < history["loss"][0]
    tagger.save(tmp_path / "tagger.keras")
    loaded = keras.saving.load_model(tmp_path / "tagger.keras")
    assert loaded.head == "crf" and loaded.jit_compile is True
    np.testing.assert_array_equal(loaded(inputs), tagger(inputs))


# ---- serving -----------------------------------------------------------------------------------


def test_crf_tagger_serves_decoded_tags_over_rest_and_grpc(tmp_path):
    tagger = crf_tagger()
    inputs = token_inputs(tagger, 3)
    expected = tagger.predict(inputs, verbose=0)
    serving.export(tagger, tmp_path, "tagger")
    with serving.local_server(tmp_path, grpc_port=0, poll_interval=0.2) as server:
        rest = serving.Client(server.url, "tagger").predict(inputs)
        with serving.GrpcClient(server.grpc_target, "tagger") as client:
            over_grpc = client.predict(inputs)
    assert list(over_grpc) == ["crf"] and over_grpc["crf"].dtype == np.int32
    np.testing.assert_array_equal(over_grpc["crf"], expected)
    np.testing.assert_array_equal(rest, expected)


# ---- learning ----------------------------------------------------------------------------------


@pytest.mark.slow
def test_crf_head_beats_softmax_head_on_entity_f1():
    # The BiLSTM tagger, same data, seed and budget (4 epochs of 600 sentences) for both heads.
    scores = compare_heads("bilstm", epochs=4, seed=0)
    print(f"entity F1 on 300 held-out sentences: {scores}")
    assert scores["crf"] > scores["softmax"] + 0.1
    assert scores["crf"] > 0.7
