"""Samplers, `BasicDecoder` and `dynamic_decode`: TensorFlow Addons' numbers, graphs, XLA, fit,
`.keras` files and bad input."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from layers.seq2seq.basic_decoder import BasicDecoder, BasicDecoderOutput
from layers.seq2seq.decoder import BaseDecoder, Decoder, dynamic_decode
from layers.seq2seq.samplers import (
    CustomSampler,
    GreedyEmbeddingSampler,
    InferenceSampler,
    SampleEmbeddingSampler,
    Sampler,
    ScheduledEmbeddingTrainingSampler,
    ScheduledOutputTrainingSampler,
    TrainingSampler,
)
from tests import harness

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tfa", "seq2seq_decoding.npz")
WANT = dict(np.load(FIXTURE))
LENGTHS = np.array([5, 2, 0], "int32")
START = np.array([1, 2, 3], "int32")
END = int(WANT["end_token"])


def lstm(prefix: str = "", input_dim: int = 4) -> keras.layers.LSTMCell:
    """An LSTMCell holding the fixture's (TFA's) weights."""
    cell = keras.layers.LSTMCell(5)
    cell.build((None, input_dim))
    cell.set_weights(
        [WANT[f"{prefix}lstm_{name}"] for name in ("kernel", "recurrent_kernel", "bias")]
    )
    return cell


def dense(scale: float = 1.0) -> keras.layers.Dense:
    layer = keras.layers.Dense(8)
    layer.build((None, 5))
    layer.set_weights([WANT["dense_kernel"] * scale, WANT["dense_bias"] * scale])
    return layer


def initial_state():
    return [tf.constant(WANT["initial_h"]), tf.constant(WANT["initial_c"])]


def lookup(ids):
    return tf.nn.embedding_lookup(WANT["embedding"], ids)


def assert_matches(result, prefix: str, atol: float = 1e-5) -> None:
    outputs, state, lengths = result
    assert isinstance(outputs, BasicDecoderOutput)
    np.testing.assert_allclose(
        outputs.rnn_output, WANT[f"{prefix}_rnn_output"], atol=atol, rtol=1e-5
    )
    np.testing.assert_array_equal(outputs.sample_id, WANT[f"{prefix}_sample_id"])
    np.testing.assert_allclose(state[0], WANT[f"{prefix}_h"], atol=atol)
    np.testing.assert_allclose(state[1], WANT[f"{prefix}_c"], atol=atol)
    np.testing.assert_array_equal(lengths, WANT[f"{prefix}_lengths"])


# --------------------------------------------------------------------------------------------
# TrainingSampler
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("impute_finished", [False, True])
def test_training_sampler_matches_tfa(impute_finished):
    decoder = BasicDecoder(lstm(), TrainingSampler(), dense(), impute_finished=impute_finished)
    result = decoder(
        WANT["training_inputs"], initial_state=initial_state(), sequence_length=LENGTHS
    )
    assert_matches(result, f"training_impute{int(impute_finished)}")


def test_training_sampler_time_major_and_maximum_iterations_match_tfa():
    decoder = BasicDecoder(
        lstm(), TrainingSampler(time_major=True), dense(), output_time_major=True
    )
    inputs = np.transpose(WANT["training_inputs"], [1, 0, 2])
    result = decoder(inputs, initial_state=initial_state(), sequence_length=LENGTHS)
    assert_matches(result, "training_time_major")
    decoder = BasicDecoder(lstm(), TrainingSampler(), dense(), maximum_iterations=2)
    result = decoder(
        WANT["training_inputs"], initial_state=initial_state(), sequence_length=LENGTHS
    )
    assert_matches(result, "training_max2")


def test_training_sampler_mask_equals_sequence_length_in_a_graph():
    decoder = BasicDecoder(lstm(), TrainingSampler(), dense())
    mask = tf.sequence_mask(LENGTHS, 5)
    decode = tf.function(lambda x, m: decoder(x, initial_state=initial_state(), mask=m))
    assert_matches(decode(WANT["training_inputs"], mask), "training_impute0")
    left_padded = tf.reverse(mask, axis=[1])
    with pytest.raises(tf.errors.InvalidArgumentError, match="right-padded"):
        decoder(WANT["training_inputs"], initial_state=initial_state(), mask=left_padded)


# --------------------------------------------------------------------------------------------
# Inference samplers
# --------------------------------------------------------------------------------------------


def custom_sampler() -> CustomSampler:
    return CustomSampler(
        initialize_fn=lambda start_inputs: (tf.zeros([3], tf.bool), start_inputs),
        sample_fn=lambda time, outputs, state: tf.argmax(outputs, -1, output_type=tf.int32),
        next_inputs_fn=lambda time, outputs, state, sample_ids: (
            tf.fill([3], time + 1 >= 4),
            lookup(sample_ids) * 0.5,
            state,
        ),
    )


SAMPLERS = {
    "greedy": GreedyEmbeddingSampler,
    "sample_tiny_temperature": lambda: SampleEmbeddingSampler(softmax_temperature=1e-6, seed=1),
    "inference": lambda: InferenceSampler(
        sample_fn=lambda outputs: tf.argmax(outputs, -1, output_type=tf.int32),
        sample_shape=[],
        sample_dtype=tf.int32,
        end_fn=lambda ids: tf.equal(ids, END),
        next_inputs_fn=lookup,
    ),
    "custom": custom_sampler,
}


def decode_inference(name, decoder):
    if name in ("greedy", "sample_tiny_temperature"):
        return decoder(
            WANT["embedding"], start_tokens=START, end_token=END, initial_state=initial_state()
        )
    return decoder(lookup(START), initial_state=initial_state())


@pytest.mark.parametrize("impute_finished", [False, True])
@pytest.mark.parametrize("name", sorted(SAMPLERS))
def test_inference_samplers_match_tfa(name, impute_finished):
    decoder = BasicDecoder(
        lstm(), SAMPLERS[name](), dense(), maximum_iterations=6, impute_finished=impute_finished
    )
    assert_matches(decode_inference(name, decoder), f"{name}_impute{int(impute_finished)}")


@pytest.mark.parametrize("jit_compile", [False, True])
def test_greedy_decoding_in_tf_function_and_xla(jit_compile):
    decoder = BasicDecoder(lstm(), GreedyEmbeddingSampler(), dense(), maximum_iterations=6)
    decode = tf.function(
        lambda embedding, start: decoder(
            embedding, start_tokens=start, end_token=END, initial_state=initial_state()
        ),
        jit_compile=jit_compile,
    )
    outputs, _, lengths = decode(WANT["embedding"], START)
    np.testing.assert_array_equal(lengths, WANT["greedy_impute0_lengths"])
    # Under XLA the outputs always have `maximum_iterations` steps (here they do anyway).
    np.testing.assert_array_equal(outputs.sample_id, WANT["greedy_impute0_sample_id"])
    np.testing.assert_allclose(outputs.rnn_output, WANT["greedy_impute0_rnn_output"], atol=1e-5)


def test_greedy_sampler_uses_each_calls_embedding_and_an_embedding_layer():
    embedding = keras.layers.Embedding(8, 4)
    embedding.build((None,))
    embedding.set_weights([WANT["embedding"]])
    decoder = BasicDecoder(lstm(), GreedyEmbeddingSampler(embedding), dense(), maximum_iterations=6)
    result = decoder(None, start_tokens=START, end_token=END, initial_state=initial_state())
    assert_matches(result, "greedy_impute0")
    decoder = BasicDecoder(lstm(), GreedyEmbeddingSampler(), dense(), maximum_iterations=6)
    decoder(
        np.zeros((8, 4), "float32"),
        start_tokens=START,
        end_token=END,
        initial_state=initial_state(),
    )
    result = decoder(
        WANT["embedding"], start_tokens=START, end_token=END, initial_state=initial_state()
    )
    assert_matches(result, "greedy_impute0")  # TFA would keep the first call's embedding


# --------------------------------------------------------------------------------------------
# Scheduled samplers and random draws
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("probability", [0.0, 1.0])
def test_scheduled_samplers_match_tfa_without_randomness(probability):
    sampler = ScheduledEmbeddingTrainingSampler(probability, seed=3, scheduling_seed=4)
    decoder = BasicDecoder(lstm(), sampler, dense(scale=1000.0))
    result = decoder(
        WANT["training_inputs"],
        initial_state=initial_state(),
        sequence_length=LENGTHS,
        embedding=WANT["embedding"],
    )
    assert_matches(result, f"scheduled_embedding_p{int(probability)}", atol=2e-3)

    def feed_back(outputs):
        return lookup(tf.argmax(outputs, -1, output_type=tf.int32))

    sampler = ScheduledOutputTrainingSampler(probability, seed=5, next_inputs_fn=feed_back)
    decoder = BasicDecoder(lstm(), sampler, dense())
    result = decoder(
        WANT["training_inputs"], initial_state=initial_state(), sequence_length=LENGTHS
    )
    assert_matches(result, f"scheduled_output_p{int(probability)}")


def test_scheduled_output_sampler_with_auxiliary_inputs_matches_tfa():
    sampler = ScheduledOutputTrainingSampler(
        1.0, next_inputs_fn=lambda out: lookup(tf.argmax(out, -1, output_type=tf.int32))
    )
    decoder = BasicDecoder(lstm("aux_", input_dim=6), sampler, dense())
    result = decoder(
        WANT["training_inputs"],
        initial_state=initial_state(),
        sequence_length=LENGTHS,
        auxiliary_inputs=WANT["aux_inputs"],
    )
    assert_matches(result, "scheduled_output_aux")


def test_random_samplers_draw_from_the_right_distributions():
    tf.random.set_seed(0)
    batch = 20000
    logits = tf.constant([[0.0, 1.0, 2.0, -1.0]])
    tiled = tf.tile(logits, [batch, 1])
    for temperature in (None, 2.0):
        sampler = SampleEmbeddingSampler(softmax_temperature=temperature)
        draws = sampler.sample(0, tiled, None).numpy()
        frequencies = np.bincount(draws, minlength=4) / batch
        expected = tf.nn.softmax(logits / (temperature or 1.0))[0].numpy()
        np.testing.assert_allclose(frequencies, expected, atol=0.015)

    inputs = np.zeros((batch, 2, 4), "float32")
    sampler = ScheduledEmbeddingTrainingSampler(0.3, embedding_fn=lookup)
    sampler.initialize(inputs)
    ids = sampler.sample(0, tiled, None).numpy()
    assert abs(np.mean(ids > -1) - 0.3) < 0.015
    sampled = ids[ids > -1]
    np.testing.assert_allclose(
        np.bincount(sampled, minlength=4) / len(sampled), tf.nn.softmax(logits)[0], atol=0.03
    )
    sampler = ScheduledOutputTrainingSampler(tf.fill([batch], 0.75))
    sampler.initialize(inputs)
    flags = sampler.sample(0, tiled, None).numpy()
    assert flags.shape == (batch,) and abs(flags.mean() - 0.75) < 0.015


# --------------------------------------------------------------------------------------------
# dynamic_decode, the decoder interfaces, shared checks, fit, saving
# --------------------------------------------------------------------------------------------


class CountingDecoder(Decoder):
    """Emits its state (a counter) and stops after `steps` steps."""

    def __init__(self, steps):
        self.steps = steps

    batch_size = 2
    output_size = tf.TensorShape([])
    output_dtype = tf.int32

    def initialize(self, name=None):
        return tf.zeros([2], tf.bool), tf.zeros([2], tf.int32), tf.zeros([2], tf.int32)

    def step(self, time, inputs, state, training=None, name=None):
        return state, state + 1, inputs, tf.fill([2], time + 1 >= self.steps)


def test_dynamic_decode_runs_a_plain_decoder():
    outputs, state, lengths = dynamic_decode(CountingDecoder(4))
    np.testing.assert_array_equal(outputs, [[0, 1, 2, 3]] * 2)
    np.testing.assert_array_equal(state, [4, 4])
    np.testing.assert_array_equal(lengths, [4, 4])
    outputs, _, lengths = dynamic_decode(
        CountingDecoder(4), output_time_major=True, maximum_iterations=tf.constant(3)
    )
    np.testing.assert_array_equal(outputs, [[0, 0], [1, 1], [2, 2]])
    np.testing.assert_array_equal(lengths, [3, 3])


def test_dynamic_decode_tflite_convertible_gives_the_same_outputs():
    decoder = BasicDecoder(lstm(), GreedyEmbeddingSampler(), dense())

    @tf.function
    def decode(start_tokens, tflite):
        return dynamic_decode(
            decoder,
            maximum_iterations=6,
            enable_tflite_convertible=tflite,
            decoder_init_input=WANT["embedding"],
            decoder_init_kwargs=dict(
                start_tokens=start_tokens,
                end_token=END,
                initial_state=[s[: tf.size(start_tokens)] for s in initial_state()],
            ),
        )

    lite, plain = decode(START[:1], True), decode(START[:1], False)
    # Static TensorArrays: the outputs have `maximum_iterations` steps, the first ones equal.
    steps = plain[0].rnn_output.shape[1]
    assert lite[0].rnn_output.shape[1] == 6
    np.testing.assert_array_equal(lite[0].rnn_output[:, :steps], plain[0].rnn_output)
    # As in TFA, scalar ids come back as [batch, time, 1] in this mode.
    np.testing.assert_array_equal(lite[0].sample_id[:, :steps, 0], plain[0].sample_id)
    harness.assert_allclose(lite[1:], plain[1:], 0, 0, "enable_tflite_convertible")
    with pytest.raises(tf.errors.InvalidArgumentError, match="batch size of 1"):
        decode(START[:2], True)


def test_basic_decoder_shared_checks():
    """Outputs mix floats and int ids, so the harness skips its training steps (also mixed
    precision and MirroredStrategy training): XLA fit is
    `test_basic_decoder_trains_in_fit_with_and_without_xla`."""
    rng = np.random.default_rng(0)
    harness.run_layer_test(
        BasicDecoder,
        {
            "cell": keras.layers.LSTMCell(5),
            "sampler": TrainingSampler(),
            "output_layer": keras.layers.Dense(8),
            "maximum_iterations": 3,
        },
        rng.normal(size=(2, 3, 4)).astype("float32"),
    )


def _teacher_forcing_model(jit_compile: bool) -> keras.Model:
    keras.utils.set_random_seed(0)
    ids = keras.Input((4,), dtype="int32")
    embedded = keras.layers.Embedding(8, 4)(ids)
    decoder = BasicDecoder(
        keras.layers.LSTMCell(5), TrainingSampler(), keras.layers.Dense(8), maximum_iterations=4
    )
    outputs, _, _ = decoder(embedded)
    model = keras.Model(ids, outputs.rnn_output)
    model.compile(
        optimizer=keras.optimizers.SGD(0.1),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        jit_compile=jit_compile,
    )
    return model


def test_basic_decoder_trains_in_fit_with_and_without_xla():
    rng = np.random.default_rng(1)
    x = rng.integers(0, 8, size=(8, 4)).astype("int32")
    y = np.roll(x, -1, axis=1)
    plain, compiled = _teacher_forcing_model(False), _teacher_forcing_model(True)
    history = plain.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False)
    compiled.fit(x, y, batch_size=4, epochs=2, verbose=0, shuffle=False)
    assert history.history["loss"][-1] < history.history["loss"][0]
    harness.assert_allclose(compiled.get_weights(), plain.get_weights(), 1e-5, 1e-4, "XLA fit")


def test_greedy_decoder_with_an_embedding_layer_saves_to_keras_file():
    embedding = keras.layers.Embedding(8, 4)
    decoder = BasicDecoder(
        keras.layers.LSTMCell(5),
        GreedyEmbeddingSampler(embedding),
        keras.layers.Dense(8),
        maximum_iterations=5,
    )
    start = keras.Input((), dtype="int32")
    outputs, _, _ = decoder(None, start_tokens=start, end_token=END)
    model = keras.Model(start, outputs.rnn_output)
    before = model(START)
    assert len(decoder.weights) == 6  # LSTM 3, Dense 2 and the sampler's embedding
    with harness.temporary_path("greedy.keras") as path:
        model.save(path)
        loaded = keras.saving.load_model(path)
    harness.assert_allclose(loaded(START), before, 1e-6, 1e-6, ".keras round trip")


@keras.saving.register_keras_serializable(package="test_seq2seq_decoding")
def first_feature(outputs):
    return outputs[:, 0]


@keras.saving.register_keras_serializable(package="test_seq2seq_decoding")
def is_negative(sample_ids):
    return sample_ids < 0


@pytest.mark.parametrize(
    "sampler",
    [
        TrainingSampler(time_major=True),
        ScheduledEmbeddingTrainingSampler(0.25, seed=1, scheduling_seed=2),
        ScheduledOutputTrainingSampler([0.5, 0.25], seed=3),
        SampleEmbeddingSampler(softmax_temperature=0.5, seed=4),
        InferenceSampler(first_feature, [], "float32", is_negative),
    ],
    ids=lambda sampler: type(sampler).__name__,
)
def test_samplers_round_trip_their_config(sampler):
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(sampler))
    assert type(restored) is type(sampler) and restored.get_config() == sampler.get_config()


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


def test_bad_arguments_raise_errors_that_name_them():
    cell = keras.layers.LSTMCell(5)
    with pytest.raises(ValueError, match="Received: maximum_iterations=0"):
        BasicDecoder(cell, TrainingSampler(), maximum_iterations=0)
    with pytest.raises(ValueError, match="maximum_iterations=-2"):
        dynamic_decode(CountingDecoder(2), maximum_iterations=-2)
    with pytest.raises(TypeError, match="sampler"):
        BasicDecoder(cell, "greedy")
    with pytest.raises(TypeError, match="cell"):
        BasicDecoder(keras.layers.Dense(3), TrainingSampler())
    with pytest.raises(TypeError, match="output_layer"):
        BasicDecoder(cell, TrainingSampler(), output_layer=tf.nn.softmax)
    with pytest.raises(TypeError, match="time_major"):
        TrainingSampler(time_major="yes")
    with pytest.raises(ValueError, match="sampling_probability"):
        ScheduledEmbeddingTrainingSampler([[0.5]])
    with pytest.raises(ValueError, match="sampling_probability=1.5"):
        ScheduledOutputTrainingSampler(1.5)
    with pytest.raises(ValueError, match="softmax_temperature=0"):
        SampleEmbeddingSampler(softmax_temperature=0)
    with pytest.raises(ValueError, match="batch_size"):
        _ = GreedyEmbeddingSampler().batch_size

    greedy = BasicDecoder(lstm(), GreedyEmbeddingSampler(), dense(), maximum_iterations=3)
    embedding = WANT["embedding"]
    with pytest.raises(ValueError, match="start_tokens with shape"):
        greedy(embedding, start_tokens=[[1, 2]], end_token=END)
    with pytest.raises(ValueError, match="end_token with shape"):
        greedy(embedding, start_tokens=START, end_token=[END, END])
    with pytest.raises(ValueError, match="embedding"):
        greedy(None, start_tokens=START, end_token=END)
    training = BasicDecoder(lstm(), TrainingSampler(), dense())
    inputs = WANT["training_inputs"]
    with pytest.raises(ValueError, match="not both"):
        training(inputs, sequence_length=LENGTHS, mask=tf.sequence_mask(LENGTHS, 5))
    with pytest.raises(ValueError, match="sequence_length with shape"):
        training(inputs, sequence_length=[[5, 2, 0]])
    with pytest.raises(ValueError, match="mask with dtype"):
        training(inputs, mask=np.ones((3, 5), "int32"))
    with pytest.raises(ValueError, match="XLA"):
        tf.function(lambda x: training(x), jit_compile=True)(inputs)


def test_interfaces_are_abstract():
    with pytest.raises(TypeError):
        Sampler()
    with pytest.raises(TypeError):
        Decoder()
    assert issubclass(BasicDecoder, BaseDecoder)
