"""`BeamSearchDecoder`, `gather_tree`, `gather_tree_from_array`, `tile_batch`: TensorFlow
Addons' numbers (fixtures and TFA's own test expectations), graphs, XLA, SavedModel, attention
with a coverage penalty, and bad input."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from layers.seq2seq import beam_search_decoder as bsd
from layers.seq2seq.beam_search_decoder import (
    BeamSearchDecoder,
    BeamSearchDecoderOutput,
    BeamSearchDecoderState,
    FinalBeamSearchDecoderOutput,
    gather_tree,
    gather_tree_from_array,
    tile_batch,
)
from tests import harness

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tfa", "seq2seq_decoding.npz")
WANT = dict(np.load(FIXTURE))
START = np.array([1, 2, 3], "int32")
END = int(WANT["end_token"])


def lstm() -> keras.layers.LSTMCell:
    cell = keras.layers.LSTMCell(5)
    cell.build((None, 4))
    cell.set_weights([WANT[f"lstm_{name}"] for name in ("kernel", "recurrent_kernel", "bias")])
    return cell


def dense(kernel=None) -> keras.layers.Dense:
    layer = keras.layers.Dense(8)
    kernel = WANT["dense_kernel"] if kernel is None else kernel
    layer.build((None, kernel.shape[0]))
    layer.set_weights([kernel, WANT["dense_bias"]])
    return layer


def tiled_state():
    return tile_batch([tf.constant(WANT["initial_h"]), tf.constant(WANT["initial_c"])], 3)


def assert_beams_match(result, prefix, atol=1e-5):
    outputs, state, lengths = result
    assert isinstance(outputs, FinalBeamSearchDecoderOutput)
    assert isinstance(state, BeamSearchDecoderState)
    steps = outputs.beam_search_decoder_output
    assert isinstance(steps, BeamSearchDecoderOutput)
    np.testing.assert_array_equal(outputs.predicted_ids, WANT[f"{prefix}_predicted_ids"])
    np.testing.assert_array_equal(steps.predicted_ids, WANT[f"{prefix}_step_ids"])
    np.testing.assert_array_equal(steps.parent_ids, WANT[f"{prefix}_parent_ids"])
    np.testing.assert_allclose(steps.scores, WANT[f"{prefix}_scores"], atol=atol, rtol=1e-5)
    np.testing.assert_array_equal(lengths, WANT[f"{prefix}_lengths"])
    np.testing.assert_allclose(state.log_probs, WANT[f"{prefix}_log_probs"], atol=atol, rtol=1e-5)
    np.testing.assert_array_equal(state.lengths, WANT[f"{prefix}_state_lengths"])
    np.testing.assert_array_equal(state.finished, WANT[f"{prefix}_finished"])


# --------------------------------------------------------------------------------------------
# gather_tree, gather_tree_from_array, tile_batch (TFA's test expectations and fixture)
# --------------------------------------------------------------------------------------------


def _time_major(x):
    return np.transpose(np.asarray(x), [1, 0, 2]).astype("int32")


def test_gather_tree_matches_tfa_test_expectations():
    beams = gather_tree(
        _time_major([[[1, 2, 3], [4, 5, 6], [7, 8, 9], [-1, -1, -1]]]),
        _time_major([[[0, 0, 0], [0, 1, 1], [2, 1, 2], [-1, -1, -1]]]),
        max_sequence_lengths=[3],
        end_token=10,
    )
    np.testing.assert_array_equal(beams, _time_major([[[2, 2, 2], [6, 5, 6], [7, 8, 9], [10] * 3]]))
    beams = gather_tree(
        _time_major([[[1, 2, 3], [4, 5, 6], [7, 8, 9]], [[2, 3, 4], [5, 6, 7], [8, 9, 10]]]),
        _time_major([[[0, 0, 0], [0, 1, 1], [2, 1, 2]], [[0, 0, 0], [1, 2, 0], [2, 1, 1]]]),
        max_sequence_lengths=[3, 3],
        end_token=11,
    )
    expected = [[[2, 2, 2], [6, 5, 6], [7, 8, 9]], [[2, 4, 4], [7, 6, 6], [8, 9, 10]]]
    np.testing.assert_array_equal(beams, _time_major(expected))
    with pytest.raises(tf.errors.InvalidArgumentError, match="parent id"):
        gather_tree(
            _time_major([[[1, 2, 3], [4, 5, 6], [7, 8, 9], [-1, -1, -1]]]),
            _time_major([[[0, 0, 0], [0, -1, 1], [2, 1, 2], [-1, -1, -1]]]),
            max_sequence_lengths=[3],
            end_token=10,
        )


@pytest.mark.parametrize("jit_compile", [False, True])
def test_gather_tree_matches_tfas_kernel_on_random_trajectories(jit_compile):
    """Lengths 0, 2, max_time and past it; ids after an end token become end tokens."""
    fn = tf.function(gather_tree, jit_compile=jit_compile)
    beams = fn(
        WANT["gather_tree_step_ids"],
        WANT["gather_tree_parent_ids"],
        WANT["gather_tree_lengths"],
        WANT["gather_tree_end_token"],
    )
    np.testing.assert_array_equal(beams, WANT["gather_tree_expected"])


GATHER_ARRAY = np.array(
    [[[1, 2, 3], [4, 5, 6], [7, 8, 9], [0, 0, 0]], [[2, 3, 4], [5, 6, 7], [8, 9, 10], [11, 12, 0]]]
).transpose([1, 0, 2])
GATHER_PARENTS = np.array(
    [
        [[0, 0, 0], [0, 1, 1], [2, 1, 2], [-1, -1, -1]],
        [[0, 0, 0], [1, 1, 0], [2, 0, 1], [0, 1, 0]],
    ]
).transpose([1, 0, 2])
GATHER_EXPECTED = np.array(
    [[[2, 2, 2], [6, 5, 6], [7, 8, 9], [0, 0, 0]], [[2, 3, 2], [7, 5, 7], [8, 9, 8], [11, 12, 0]]]
).transpose([1, 0, 2])


@pytest.mark.parametrize(
    "depth_ndims, merged_batch_beam", [(0, False), (1, False), (1, True), (2, False)]
)
def test_gather_tree_from_array_matches_tfa_test_expectations(depth_ndims, merged_batch_beam):
    array = tf.constant(GATHER_ARRAY, tf.float32)
    expected = tf.constant(GATHER_EXPECTED, tf.float32)
    if merged_batch_beam:
        array, expected = tf.reshape(array, [4, 6]), tf.reshape(expected, [4, 6])
    for _ in range(depth_ndims):
        array = tf.stack([array, array + 1], -1)
        expected = tf.stack([expected, expected + 1], -1)
    ordered = gather_tree_from_array(array, GATHER_PARENTS, [[3, 3, 3], [4, 4, 3]])
    np.testing.assert_array_equal(ordered, expected)


def test_gather_tree_from_array_complex_trajectory():
    array = np.array(
        [[25, 12, 114, 89, 97], [9, 91, 64, 11, 162], [34] * 5, [2, 4, 2, 2, 4]]
        + [[2, 3, 6, 2, 2], [2, 2, 2, 3, 2], [2] * 5],
        "float32",
    )[:, None, :, None]
    parents = np.array(
        [[0] * 5, [0] * 5, [0, 1, 2, 3, 4], [0, 0, 1, 2, 1], [0, 1, 1, 2, 3]]
        + [[0, 1, 3, 1, 2], [0, 1, 2, 3, 4]]
    )[:, None, :]
    expected = np.array(
        [[25] * 5, [9, 9, 91, 9, 9], [34] * 5, [2, 4, 2, 4, 4], [2, 3, 6, 3, 6]]
        + [[2, 2, 2, 3, 2], [2] * 5],
        "float32",
    )[:, None, :, None]
    ordered = gather_tree_from_array(array, parents, [[4, 6, 4, 7, 6]])
    np.testing.assert_array_equal(ordered, expected)


def test_tile_batch_repeats_each_entry_and_keeps_static_shapes():
    tiled = tile_batch({"a": tf.constant([[1, 2], [3, 4]]), "b": [tf.constant([5, 6])]}, 2)
    np.testing.assert_array_equal(tiled["a"], [[1, 2], [1, 2], [3, 4], [3, 4]])
    np.testing.assert_array_equal(tiled["b"][0], [5, 5, 6, 6])
    spec = tf.TensorSpec([None, 7], tf.float32)
    traced = tf.function(lambda t: tile_batch(t, 3)).get_concrete_function(spec)
    assert traced.structured_outputs.shape.as_list() == [None, 7]
    with pytest.raises(ValueError, match="multiplier=0"):
        tile_batch(tf.ones([2, 3]), 0)
    with pytest.raises(ValueError, match="rank"):
        tile_batch(tf.constant(1.0), 2)


# --------------------------------------------------------------------------------------------
# One beam step (TFA's test expectations)
# --------------------------------------------------------------------------------------------


def _step_logits():
    logits = np.full([2, 3, 5], 0.0001)
    logits[0, 0, 2], logits[0, 0, 3], logits[0, 1, 3], logits[0, 1, 4] = 1.9, 2.1, 3.1, 0.9
    logits[1, 0, 1], logits[1, 1, 2], logits[1, 2, 2], logits[1, 2, 3] = 0.5, 2.7, 10.0, 0.2
    return logits


def _step(logits, lengths, finished, log_probs=None):
    state = BeamSearchDecoderState(
        cell_state=tf.zeros([2, logits.shape[1]]),
        log_probs=tf.nn.log_softmax(tf.ones(logits.shape[:2])) if log_probs is None else log_probs,
        lengths=tf.constant(lengths, tf.int64),
        finished=tf.constant(finished),
        accumulated_attention_probs=(),
    )
    logits = tf.constant(logits, tf.float32)
    outputs, next_state = bsd._beam_search_step(
        time=2,
        logits=logits,
        next_cell_state=state.cell_state,
        beam_state=state,
        batch_size=tf.constant(2),
        beam_width=logits.shape[1],
        end_token=0,
        length_penalty_weight=0.6,
        coverage_penalty_weight=0.0,
        output_all_scores=False,
    )
    return outputs, next_state, state, tf.nn.log_softmax(logits).numpy()


def test_beam_step_matches_tfa_test_expectations():
    outputs, next_state, state, log_probs = _step(
        _step_logits(), np.full([2, 3], 2), np.zeros([2, 3], bool)
    )
    np.testing.assert_array_equal(outputs.predicted_ids, [[3, 3, 2], [2, 2, 1]])
    np.testing.assert_array_equal(outputs.parent_ids, [[1, 0, 0], [2, 1, 0]])
    np.testing.assert_array_equal(next_state.lengths, [[3, 3, 3], [3, 3, 3]])
    np.testing.assert_array_equal(next_state.finished, np.zeros([2, 3], bool))
    expected = state.log_probs.numpy()
    for (b, k), (parent, word) in {
        (0, 0): (1, 3), (0, 1): (0, 3), (0, 2): (0, 2), (1, 0): (2, 2), (1, 1): (1, 2),
        (1, 2): (0, 1),
    }.items():  # fmt: skip
        expected[b, k] += log_probs[b, parent, word]
    np.testing.assert_allclose(next_state.log_probs, expected, rtol=1e-6)


def test_beam_step_with_eos_matches_tfa_test_expectations():
    logits = _step_logits()
    logits[1, 1, 2], logits[1, 2, 2] = 5.7, 1.0
    finished = np.array([[False, True, False], [False, False, True]])
    outputs, next_state, state, log_probs = _step(logits, [[2, 1, 2], [2, 2, 1]], finished)
    np.testing.assert_array_equal(outputs.parent_ids, [[1, 0, 0], [1, 2, 0]])
    np.testing.assert_array_equal(outputs.predicted_ids, [[0, 3, 2], [2, 0, 1]])
    np.testing.assert_array_equal(next_state.lengths, [[1, 3, 3], [3, 1, 3]])
    np.testing.assert_array_equal(next_state.finished, [[True, False, False], [False, True, False]])
    expected = state.log_probs.numpy()
    expected[0, 1] += log_probs[0, 0, 3]
    expected[0, 2] += log_probs[0, 0, 2]
    expected[1, 0] += log_probs[1, 1, 2]
    expected[1, 2] += log_probs[1, 0, 1]
    np.testing.assert_allclose(next_state.log_probs, expected, rtol=1e-6)


def test_large_beam_step_matches_tfa_test_expectations():
    logits = np.concatenate([_step_logits(), np.full([2, 5, 5], 0.0001)], axis=1)
    alive = np.arange(8) == 0
    log_probs = tf.constant(np.where(alive, 0.0, -np.inf)[None].repeat(2, 0), tf.float32)
    lengths = np.where(alive, 2, 0)[None].repeat(2, 0)
    outputs, next_state, _, _ = _step(logits, lengths, ~alive[None].repeat(2, 0), log_probs)
    assert outputs.predicted_ids[0, 0] == 3 and outputs.predicted_ids[0, 1] == 2
    assert outputs.predicted_ids[1, 0] == 1
    np.testing.assert_array_equal(next_state.log_probs[:, -3:], np.full([2, 3], -np.inf))
    assert np.all(next_state.log_probs[:, :-3] > -np.inf)
    assert np.all(next_state.lengths[:, :-3] > 0)
    np.testing.assert_array_equal(next_state.lengths[:, -3:], np.zeros([2, 3]))


def test_finished_beams_put_all_probability_on_the_end_token():
    probs = tf.constant(
        [
            [[-0.2] * 5, [-0.3, -0.3, -0.3, 3, 0], [5, 6, 0, 0, 0]],
            [[-0.2, -0.2, -0.2, -0.2, 0], [-0.3, -0.3, -0.1, 3, 0], [5, 6, 3, 0, 0]],
        ]
    )
    finished = np.array([[0, 1, 0], [0, 1, 1]], bool)
    masked = bsd._mask_probs(probs, 0, finished).numpy()
    np.testing.assert_array_equal(masked[~finished], probs.numpy()[~finished])
    np.testing.assert_array_equal(masked[finished][:, 0], 0)
    np.testing.assert_array_equal(masked[finished][:, 1:], np.finfo("float32").min)


# --------------------------------------------------------------------------------------------
# BeamSearchDecoder against TFA
# --------------------------------------------------------------------------------------------

CASES = {"beam": {}, "beam_penalty": {"length_penalty_weight": 0.8}}
CASES["beam_all_scores"] = {"output_all_scores": True}


@pytest.mark.parametrize("prefix", sorted(CASES))
def test_beam_search_matches_tfa(prefix):
    decoder = BeamSearchDecoder(
        lstm(), 3, output_layer=dense(), maximum_iterations=7, **CASES[prefix]
    )
    result = decoder(
        WANT["embedding"], start_tokens=START, end_token=END, initial_state=tiled_state()
    )
    assert_beams_match(result, prefix)
    cell_state = result[1].cell_state
    np.testing.assert_allclose(cell_state[0], WANT[f"{prefix}_h"], atol=1e-5)
    np.testing.assert_allclose(cell_state[1], WANT[f"{prefix}_c"], atol=1e-5)


@pytest.mark.parametrize("jit_compile", [False, True])
def test_beam_search_in_tf_function_and_xla_time_major(jit_compile):
    embedding = keras.layers.Embedding(8, 4)
    embedding.build((None,))
    embedding.set_weights([WANT["embedding"]])
    decoder = BeamSearchDecoder(
        lstm(),
        3,
        embedding_fn=embedding,
        output_layer=dense(),
        length_penalty_weight=0.8,
        maximum_iterations=7,
        output_time_major=True,
    )
    decode = tf.function(
        lambda start: decoder(None, start, END, tiled_state()), jit_compile=jit_compile
    )
    outputs, state, lengths = decode(tf.constant(START))
    np.testing.assert_array_equal(
        outputs.predicted_ids, np.transpose(WANT["beam_penalty_predicted_ids"], [1, 0, 2])
    )
    np.testing.assert_allclose(
        outputs.beam_search_decoder_output.scores,
        np.transpose(WANT["beam_penalty_scores"], [1, 0, 2]),
        atol=1e-5,
    )
    np.testing.assert_array_equal(lengths, WANT["beam_penalty_lengths"])


def test_beam_search_runs_from_a_reloaded_saved_model():
    class Translator(tf.Module):
        def __init__(self):
            self.decoder = BeamSearchDecoder(
                lstm(), 3, output_layer=dense(), length_penalty_weight=0.8, maximum_iterations=7
            )
            self.embedding = tf.Variable(WANT["embedding"])

        @tf.function(
            input_signature=[
                tf.TensorSpec([None], tf.int32),
                tf.TensorSpec([None, 5], tf.float32),
                tf.TensorSpec([None, 5], tf.float32),
            ]
        )
        def translate(self, start_tokens, h, c):
            outputs, _, lengths = self.decoder(
                self.embedding, start_tokens, END, tile_batch([h, c], 3)
            )
            return {"ids": outputs.predicted_ids, "lengths": lengths}

    with harness.temporary_path("beam_search") as path:
        tf.saved_model.save(Translator(), path)
        reloaded = tf.saved_model.load(path)
        result = reloaded.translate(START, WANT["initial_h"], WANT["initial_c"])
    np.testing.assert_array_equal(result["ids"], WANT["beam_penalty_predicted_ids"])
    np.testing.assert_array_equal(result["lengths"], WANT["beam_penalty_lengths"])


def test_beam_search_decoder_shared_checks():
    """Outputs are int ids and float scores: the harness skips its training steps (the decoder
    has no trainable path from its outputs' ids); XLA is checked by the harness's XLA call and
    `test_beam_search_in_tf_function_and_xla_time_major`."""
    harness.run_layer_test(
        BeamSearchDecoder,
        {"cell": lstm(), "beam_width": 3, "output_layer": dense(), "maximum_iterations": 7},
        WANT["embedding"],
        call_kwargs={"start_tokens": START, "end_token": END},
    )


# --------------------------------------------------------------------------------------------
# Attention with a coverage penalty
# --------------------------------------------------------------------------------------------


def test_beam_search_over_attention_with_coverage_penalty_matches_tfa():
    attention = pytest.importorskip("layers.seq2seq.attention_wrapper")
    mechanisms = pytest.importorskip("layers.seq2seq.attention_mechanisms")
    beam_width = 3
    mechanism = mechanisms.BahdanauAttention(
        6,
        memory=tile_batch(tf.constant(WANT["attention_memory"]), beam_width),
        memory_sequence_length=tile_batch(WANT["attention_memory_lengths"], beam_width),
    )
    cell = attention.AttentionWrapper(
        keras.layers.LSTMCell(5), mechanism, attention_layer_size=6, alignment_history=True
    )
    state = cell.get_initial_state(batch_size=3 * beam_width, dtype="float32")
    cell(tf.zeros([3 * beam_width, 4]), state)
    count = len([k for k in WANT if k.startswith("attention_weights_")])
    cell.set_weights([WANT[f"attention_weights_{i}"] for i in range(count)])
    mechanism.setup_memory(  # keys from the memory with the new weights
        tile_batch(tf.constant(WANT["attention_memory"]), beam_width),
        memory_sequence_length=tile_batch(WANT["attention_memory_lengths"], beam_width),
    )
    decoder = BeamSearchDecoder(
        cell,
        beam_width,
        output_layer=dense(WANT["attention_output_kernel"]),
        length_penalty_weight=0.5,
        coverage_penalty_weight=0.4,
        maximum_iterations=6,
    )
    state = cell.get_initial_state(batch_size=3 * beam_width, dtype="float32")
    result = decoder(WANT["embedding"], start_tokens=START, end_token=7, initial_state=state)
    assert_beams_match(result, "attention")
    final_state = result[1]
    np.testing.assert_allclose(
        final_state.accumulated_attention_probs,
        WANT["attention_accumulated_attention_probs"],
        atol=1e-5,
    )
    # The alignment history comes back stacked and reordered along the beams, as in TFA.
    history = final_state.cell_state.alignment_history
    np.testing.assert_allclose(history, WANT["attention_alignment_history"], atol=1e-5)
    np.testing.assert_allclose(final_state.cell_state.cell_state[0], WANT["attention_h"], atol=1e-5)


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


def test_bad_arguments_raise_errors_that_name_them():
    cell = lstm()
    with pytest.raises(ValueError, match="Received: beam_width=0"):
        BeamSearchDecoder(cell, 0)
    with pytest.raises(ValueError, match="beam_width"):
        BeamSearchDecoder(cell, 2.5)
    with pytest.raises(ValueError, match="Received: maximum_iterations=0"):
        BeamSearchDecoder(cell, 3, maximum_iterations=0)
    with pytest.raises(ValueError, match="length_penalty_weight"):
        BeamSearchDecoder(cell, 3, length_penalty_weight="long")
    with pytest.raises(TypeError, match="cell"):
        BeamSearchDecoder(keras.layers.Dense(2), 3)
    decoder = BeamSearchDecoder(cell, 3, output_layer=dense(), maximum_iterations=4)
    embedding, state = WANT["embedding"], tiled_state()
    with pytest.raises(ValueError, match="start_tokens with shape"):
        decoder(embedding, start_tokens=[[1, 2, 3]], end_token=END, initial_state=state)
    with pytest.raises(ValueError, match="initial_state must hold|batch_size \\* beam_width"):
        decoder(embedding, start_tokens=[1, 2], end_token=END, initial_state=state)
    with pytest.raises(ValueError, match="end_token with shape"):
        decoder(embedding, start_tokens=START, end_token=[END], initial_state=state)
    with pytest.raises(ValueError, match="embedding"):
        decoder(None, start_tokens=START, end_token=END, initial_state=state)
    covered = BeamSearchDecoder(cell, 3, coverage_penalty_weight=0.2, maximum_iterations=4)
    with pytest.raises(ValueError, match="coverage_penalty_weight=0.2"):
        covered(embedding, start_tokens=START, end_token=END, initial_state=state)
