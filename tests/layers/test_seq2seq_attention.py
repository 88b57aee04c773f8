"""Seq2seq attention: TensorFlow Addons' numbers (mechanisms, monotonic attention,
`AttentionWrapper`), the shared checks, `keras.layers.RNN`, beam-search state handling, errors."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from layers.seq2seq.attention_mechanisms import (
    AttentionMechanism,
    BahdanauAttention,
    LuongAttention,
    hardmax,
)
from layers.seq2seq.attention_wrapper import AttentionWrapper, AttentionWrapperState
from layers.seq2seq.monotonic_mechanisms import (
    BahdanauMonotonicAttention,
    LuongMonotonicAttention,
    monotonic_attention,
    safe_cumprod,
)
from tests import harness

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tfa", "seq2seq_attention.npz")
TFA = dict(np.load(FIXTURE))
MEMORY, LENGTHS = TFA["memory"], TFA["lengths"]


def _weights(prefix: str) -> list[np.ndarray]:
    count = sum(key.startswith(prefix + "weights_") for key in TFA)
    return [TFA[f"{prefix}weights_{i}"] for i in range(count)]


# --------------------------------------------------------------------------------------------
# Mechanisms against TFA (weights from TFA's weight lists, in its order)
# --------------------------------------------------------------------------------------------

MECHANISMS = {
    "luong": (LuongAttention, dict(units=6), "query6"),
    "luong_scale": (LuongAttention, dict(units=6, scale=True), "query6"),
    "luong_hardmax": (LuongAttention, dict(units=6, probability_fn="hardmax"), "query6"),
    "bahdanau": (BahdanauAttention, dict(units=4), "query3"),
    "bahdanau_norm": (BahdanauAttention, dict(units=4, normalize=True), "query3"),
    "bahdanau_mask": (BahdanauAttention, dict(units=4), "query3"),
    "bmono_norm": (BahdanauMonotonicAttention, dict(units=4, normalize=True), "query3"),
}
for _mode in ("parallel", "recursive", "hard"):
    MECHANISMS[f"bmono_{_mode}"] = (
        BahdanauMonotonicAttention,
        dict(units=4, mode=_mode, score_bias_init=-0.5),
        "query3",
    )
    MECHANISMS[f"lmono_{_mode}"] = (
        LuongMonotonicAttention,
        dict(units=6, mode=_mode, scale=True, score_bias_init=0.3),
        "query6",
    )


def _set_up(mechanism, case):
    if case == "bahdanau_mask":
        mechanism.setup_memory(MEMORY, memory_mask=TFA["mask"])
    else:
        mechanism.setup_memory(MEMORY, memory_sequence_length=LENGTHS)


@pytest.mark.parametrize("case", sorted(MECHANISMS))
def test_mechanism_matches_tensorflow_addons(case):
    cls, kwargs, query_key = MECHANISMS[case]
    prefix = f"mech/{case}/"
    query, state = TFA[query_key], TFA[prefix + "state"]
    mechanism = cls(**kwargs)
    _set_up(mechanism, case)
    mechanism([query, state])  # builds the query side
    mechanism.set_weights(_weights(prefix))
    _set_up(mechanism, case)  # keys from the new memory kernel, as in TFA
    alignments, next_state = mechanism([query, state])
    np.testing.assert_allclose(alignments, TFA[prefix + "alignments"], atol=1e-5)
    np.testing.assert_allclose(next_state, alignments)
    initial = mechanism.initial_alignments(2, "float32")
    np.testing.assert_array_equal(initial, TFA[prefix + "initial_alignments"])


def test_every_way_to_give_the_memory_agrees():
    """Constructor, setup_memory, TFA's call(setup_memory=True), and the memory as an input."""
    query, state = TFA["query3"], TFA["mech/bahdanau/state"]
    reference = BahdanauAttention(4)
    reference.setup_memory(MEMORY, LENGTHS)
    reference([query, state])
    reference.set_weights(_weights("mech/bahdanau/"))
    reference.setup_memory(MEMORY, LENGTHS)
    want = TFA["mech/bahdanau/alignments"]
    np.testing.assert_allclose(reference([query, state])[0], want, atol=1e-5)
    # TFA's third input, the processed memory, changes nothing.
    np.testing.assert_allclose(reference([query, state, reference.values])[0], want, atol=1e-5)

    built = BahdanauAttention(4, memory=MEMORY, memory_sequence_length=LENGTHS)
    built([query, state])
    built.set_weights(reference.get_weights())
    values = built([MEMORY, LENGTHS], setup_memory=True)
    np.testing.assert_allclose(values[1, 3:], 0.0)  # past the length: zeroed
    np.testing.assert_allclose(built([query, state])[0], want, atol=1e-5)

    fresh = BahdanauAttention(4)
    fresh([query, state, MEMORY, LENGTHS])
    fresh.set_weights(reference.get_weights())
    np.testing.assert_allclose(fresh([query, state, MEMORY, LENGTHS])[0], want, atol=1e-5)
    assert not fresh.memory_initialized  # the memory input served that call only


def test_symbolic_memory_builds_every_weight():
    mechanism = BahdanauMonotonicAttention(4, normalize=True)
    mechanism.setup_memory(keras.KerasTensor((None, None, 6)))
    mechanism.build([(None, 3), (None, None)])
    assert [tuple(w.shape) for w in mechanism.weights] == [(4,), (), (), (4,), (3, 4), (6, 4)]
    assert mechanism.get_build_config()["input_shape"][2] == [None, None, 6]


# --------------------------------------------------------------------------------------------
# Monotonic attention and the helpers
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mode", ["parallel", "recursive", "hard"])
@pytest.mark.parametrize("jit", [False, True])
def test_monotonic_attention_matches_tensorflow_addons(mode, jit):
    p, previous = (
        (TFA["fn/hard_p"], TFA["fn/hard_previous"])
        if mode == "hard"
        else (
            TFA["fn/p"],
            TFA["fn/previous"],
        )
    )
    fn = tf.function(lambda a, b: monotonic_attention(a, b, mode), jit_compile=jit)
    np.testing.assert_allclose(fn(p, previous), TFA[f"fn/monotonic_{mode}"], atol=1e-6)


def test_monotonic_attention_docstring_example():
    got = monotonic_attention([[0.5, 0.5, 1.0]], [[1.0, 0.0, 0.0]], "parallel")
    np.testing.assert_allclose(got, [[0.5, 0.25, 0.25]], atol=1e-6)


def test_safe_cumprod_and_hardmax_match_tensorflow_addons():
    x = TFA["fn/cumprod_x"]
    np.testing.assert_allclose(safe_cumprod(x, axis=1), TFA["fn/cumprod"], atol=1e-6)
    exclusive = safe_cumprod(x, axis=1, exclusive=True)
    np.testing.assert_allclose(exclusive, TFA["fn/cumprod_exclusive"], atol=1e-6)
    np.testing.assert_array_equal(hardmax(TFA["fn/hardmax_logits"]), TFA["fn/hardmax"])


def test_sigmoid_noise_draws_from_its_seed():
    def alignments(noise, seed):
        keras.utils.set_random_seed(0)  # the same kernels each time
        mechanism = LuongMonotonicAttention(6, sigmoid_noise=noise, sigmoid_noise_seed=seed)
        mechanism.setup_memory(MEMORY, LENGTHS)
        return mechanism([TFA["query6"], mechanism.initial_state(2, "float32")])[0].numpy()

    quiet, noisy = alignments(0.0, None), alignments(2.0, 3)
    np.testing.assert_allclose(noisy, alignments(2.0, 3))
    assert not np.allclose(noisy, quiet)
    assert np.all(noisy >= 0) and np.all(noisy.sum(axis=1) <= 1 + 1e-6)


# --------------------------------------------------------------------------------------------
# AttentionWrapper against TFA
# --------------------------------------------------------------------------------------------


def _wrapper(case: str) -> AttentionWrapper:
    cell = keras.layers.LSTMCell(4)
    if case == "luong":
        return AttentionWrapper(cell, LuongAttention(4, MEMORY, LENGTHS))
    if case == "bahdanau":
        mechanism = BahdanauAttention(3, MEMORY, LENGTHS, normalize=True)
        return AttentionWrapper(cell, mechanism, attention_layer_size=5, alignment_history=True)
    mechanisms = [
        LuongAttention(4, MEMORY, LENGTHS, scale=True),
        BahdanauMonotonicAttention(3, MEMORY, LENGTHS, score_bias_init=0.2),
    ]
    return AttentionWrapper(
        cell,
        mechanisms,
        attention_layer_size=[3, 2],
        alignment_history=True,
        output_attention=False,
    )


def _tfa_wrapper(case: str) -> AttentionWrapper:
    """The wrapper with TFA's weights (and the keys recomputed from them)."""
    wrapper = _wrapper(case)
    wrapper.build((None, 3))
    wrapper.set_weights(_weights(f"wrap/{case}/"))
    for mechanism in wrapper._attention_mechanisms:
        mechanism.setup_memory(MEMORY, LENGTHS)
    return wrapper


def _run_steps(wrapper, inputs):
    state = wrapper.get_initial_state(batch_size=2, dtype="float32")
    outputs = []
    for x in inputs:
        output, state = wrapper(x, state)
        outputs.append(output)
    histories = [h.stack() for h in tf.nest.flatten(state.alignment_history)]
    return outputs, state._replace(alignment_history=()), histories  # XLA returns no arrays


@pytest.mark.parametrize(
    "case, jit", [("luong", False), ("luong", True), ("bahdanau", False), ("two", False)]
)
def test_wrapper_steps_match_tensorflow_addons(case, jit):
    prefix = f"wrap/{case}/"
    wrapper = _tfa_wrapper(case)
    inputs = [TFA[f"{prefix}inputs_{t}"] for t in range(3)]
    run = tf.function(_run_steps, jit_compile=True) if jit else _run_steps
    outputs, state, histories = run(wrapper, inputs)
    for t, output in enumerate(outputs):
        np.testing.assert_allclose(output, TFA[f"{prefix}output_{t}"], atol=1e-5)
    np.testing.assert_allclose(state.attention, TFA[f"{prefix}attention_2"], atol=1e-5)
    np.testing.assert_allclose(state.cell_state[0], TFA[f"{prefix}h_2"], atol=1e-5)
    np.testing.assert_allclose(state.cell_state[1], TFA[f"{prefix}c_2"], atol=1e-5)
    for k, alignments in enumerate(tf.nest.flatten(state.alignments)):
        np.testing.assert_allclose(alignments, TFA[f"{prefix}alignments_2_{k}"], atol=1e-5)
    assert len(histories) == sum(key.startswith(prefix + "history_") for key in TFA)
    for k, history in enumerate(histories):  # [steps, batch, max_time]
        np.testing.assert_allclose(history, TFA[f"{prefix}history_{k}"], atol=1e-5)


def test_alignment_history_is_refused_under_xla():
    """XLA sizes a TensorArray once: a growing history would come out empty."""
    wrapper = _wrapper("two")
    compiled = tf.function(
        lambda: wrapper.get_initial_state(batch_size=2).attention, jit_compile=True
    )
    with pytest.raises(ValueError, match="XLA .*Received: alignment_history=True"):
        compiled()


def test_wrapper_inside_keras_rnn_matches_tensorflow_addons():
    wrapper = _tfa_wrapper("bahdanau")
    sequence = np.stack([TFA[f"wrap/bahdanau/inputs_{t}"] for t in range(3)], axis=1)
    # Keras's RNN carries tensors only: the same cell without alignment history.
    rnn = keras.layers.RNN(
        AttentionWrapper(
            keras.layers.LSTMCell(4),
            BahdanauAttention(3, MEMORY, LENGTHS, normalize=True),
            attention_layer_size=5,
        ),
        return_sequences=True,
        return_state=True,
    )
    rnn(sequence)
    rnn.set_weights(wrapper.get_weights())
    for mechanism in rnn.cell._attention_mechanisms:
        mechanism.setup_memory(MEMORY, LENGTHS)
    outputs, (h, c), attention, alignments, _, _ = rnn(sequence)
    want = np.stack([TFA[f"wrap/bahdanau/output_{t}"] for t in range(3)], axis=1)
    np.testing.assert_allclose(outputs, want, atol=1e-5)
    np.testing.assert_allclose(h, TFA["wrap/bahdanau/h_2"], atol=1e-5)
    np.testing.assert_allclose(alignments, TFA["wrap/bahdanau/alignments_2_0"], atol=1e-5)
    compiled = tf.function(lambda x: rnn(x)[0], jit_compile=True)
    np.testing.assert_allclose(compiled(sequence), want, atol=1e-5)


def test_tensorflow_addons_docstring_example():
    memory = np.random.default_rng(0).uniform(size=(4, 7, 32)).astype("float32")
    mechanism = LuongAttention(32)
    mechanism.setup_memory(memory, np.full([4], 7))
    cell = AttentionWrapper(keras.layers.LSTMCell(32), mechanism, attention_layer_size=32)
    inputs = np.ones((4, 32), "float32")
    output, state = cell(inputs, cell.get_initial_state(inputs))
    assert tuple(output.shape) == (4, 32) and isinstance(state, AttentionWrapperState)
    assert cell.output_size == 32
    assert cell.state_size.cell_state == [32, 32] and cell.state_size.alignments == 7


# --------------------------------------------------------------------------------------------
# State: beam-search use, clone, tf.nest
# --------------------------------------------------------------------------------------------


def test_beam_search_initial_state_clone_and_nest():
    beam = 3
    tiled_memory, tiled_lengths = np.repeat(MEMORY, beam, 0), np.repeat(LENGTHS, beam, 0)
    mechanism = BahdanauAttention(4)
    mechanism.setup_memory(tiled_memory, tiled_lengths)
    cell = AttentionWrapper(keras.layers.LSTMCell(4), mechanism, alignment_history=True)
    encoder_state = [np.ones((2, 4), "float32"), np.full((2, 4), 2.0, "float32")]
    tiled_state = [np.repeat(s, beam, 0) for s in encoder_state]
    state = cell.get_initial_state(batch_size=2 * beam, dtype="float32")
    state = state.clone(cell_state=tiled_state)
    np.testing.assert_array_equal(state.cell_state[1], tiled_state[1])
    assert isinstance(state.alignment_history, tf.TensorArray)
    # BeamSearchDecoder maps over every tensor of the state.
    doubled = tf.nest.map_structure(lambda t: t if isinstance(t, tf.TensorArray) else t * 2, state)
    assert isinstance(doubled, AttentionWrapperState)
    output, state = cell(np.zeros((2 * beam, 3), "float32"), doubled)
    assert tuple(state.alignment_history.stack().shape) == (1, 2 * beam, 5)
    with pytest.raises(ValueError, match="shape"):
        state.clone(attention=np.zeros((5, 6), "float32"))
    with pytest.raises(ValueError, match="batch size .* differs from the memory's"):
        cell.get_initial_state(batch_size=2, dtype="float32")


def test_initial_cell_state_and_custom_cell_input_fn():
    mechanism = LuongAttention(4, MEMORY, LENGTHS)
    initial = [np.ones((2, 4), "float32"), np.zeros((2, 4), "float32")]
    cell = AttentionWrapper(
        keras.layers.GRUCell(4),
        mechanism,
        cell_input_fn=lambda inputs, attention: inputs,  # no input feeding
        initial_cell_state=initial[0],
    )
    state = cell.get_initial_state(batch_size=2, dtype="float32")
    np.testing.assert_array_equal(state.cell_state, initial[0])
    output, state = cell(np.ones((2, 3), "float32"), state)
    assert tuple(output.shape) == (2, 6)  # the context (memory depth 6)
    assert cell._cell.weights[0].shape == (3, 12)  # the cell reads the inputs only
    with pytest.raises(ValueError, match="initial_cell_state"):
        AttentionWrapper(keras.layers.GRUCell(4), mechanism, initial_cell_state=initial[0][:1])


# --------------------------------------------------------------------------------------------
# Shared checks
# --------------------------------------------------------------------------------------------


def _mechanism_inputs(query_depth: int):
    """`[query, state, memory, memory_sequence_length]`: the memory as an input."""
    rng = np.random.default_rng(1)
    state = rng.uniform(0.1, 1.0, size=(4, 5)).astype("float32")
    return [
        rng.normal(size=(4, query_depth)).astype("float32"),
        state / state.sum(axis=1, keepdims=True),
        rng.normal(size=(4, 5, 6)).astype("float32"),
        np.array([5, 3, 2, 4], "int32"),
    ]


@pytest.mark.parametrize(
    "cls, kwargs, query_depth",
    [
        (LuongAttention, dict(units=6, scale=True), 6),
        (BahdanauAttention, dict(units=4, normalize=True), 3),
        (BahdanauMonotonicAttention, dict(units=4, normalize=True), 3),
        # "hard" mode has no gradient (a step function, as in TFA): the fixtures check it.
        (LuongMonotonicAttention, dict(units=6, scale=True, score_bias_init=0.5), 6),
    ],
    ids=lambda v: v.__name__ if isinstance(v, type) else "",
)
def test_mechanism_shared_checks(cls, kwargs, query_depth):
    result = harness.run_layer_test(
        cls, kwargs, _mechanism_inputs(query_depth), expected_output_shape=[(4, 5), (4, 5)]
    )
    alignments = result["output"][0].numpy()
    assert np.all(alignments[2, 2:] == 0)  # past memory_sequence_length=2


@keras.saving.register_keras_serializable(package="keras_zoo")
class AttentionDecoderForTests(keras.layers.Layer):
    """`keras.layers.RNN(AttentionWrapper(LSTMCell, [Luong, Bahdanau]))` over the targets,
    attending over the memory set up in `call`: how a model holds an AttentionWrapper."""

    def __init__(self, units: int = 4, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        dtype = self.dtype_policy
        self.mechanisms = [
            LuongAttention(units, scale=True, dtype=dtype),
            BahdanauAttention(units, normalize=True, dtype=dtype),
        ]
        cell = AttentionWrapper(
            keras.layers.LSTMCell(units, dtype=dtype),
            self.mechanisms,
            attention_layer_size=[units, 2],
            dtype=dtype,
        )
        self.decoder = keras.layers.RNN(cell, return_sequences=True, dtype=dtype)

    def build(self, input_shape):
        memory_shape, _, targets_shape = input_shape
        for mechanism in self.mechanisms:  # weights from shapes only
            mechanism.setup_memory(keras.KerasTensor(memory_shape))
        self.decoder.build(targets_shape)

    def call(self, inputs):
        memory, lengths, targets = inputs
        for mechanism in self.mechanisms:
            mechanism.setup_memory(memory, memory_sequence_length=lengths)
        return self.decoder(targets)

    def get_config(self):
        return {**super().get_config(), "units": self.units}


def test_wrapper_in_keras_rnn_shared_checks():
    """AttentionWrapper inside `keras.layers.RNN` in a model: fit (XLA too), mixed precision,
    MirroredStrategy, `.keras` save and reload with equal outputs."""
    rng = np.random.default_rng(2)
    data = [
        rng.normal(size=(4, 5, 6)).astype("float32"),
        np.array([5, 3, 2, 4], "int32"),
        rng.normal(size=(4, 3, 2)).astype("float32"),
    ]
    harness.run_layer_test(
        AttentionDecoderForTests, {"units": 4}, data, expected_output_shape=(4, 3, 6)
    )


def test_wrapper_config_round_trip():
    mechanisms = [
        LuongAttention(4, scale=True),
        BahdanauMonotonicAttention(3, mode="hard", sigmoid_noise=0.5, sigmoid_noise_seed=1),
    ]
    wrapper = AttentionWrapper(
        keras.layers.LSTMCell(4),
        mechanisms,
        attention_layer=[keras.layers.Dense(3), keras.layers.Dense(2, use_bias=False)],
        alignment_history=True,
        output_attention=False,
        name="decoder_cell",
    )
    config = harness.assert_config_round_trip(wrapper, {"alignment_history": True})
    restored = keras.saving.deserialize_keras_object(
        keras.saving.serialize_keras_object(keras.layers.RNN(wrapper))
    ).cell
    assert restored.get_config() == config
    assert isinstance(restored._attention_mechanisms[1], BahdanauMonotonicAttention)
    assert restored._attention_mechanisms[1].sigmoid_noise == 0.5
    assert [layer.units for layer in restored._attention_layers] == [3, 2]
    assert isinstance(restored, keras.layers.Layer) and restored.alignment_history
    assert isinstance(mechanisms[0], AttentionMechanism)


# --------------------------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------------------------


def test_bad_mode():
    with pytest.raises(ValueError, match="Received: mode='soft'"):
        BahdanauMonotonicAttention(4, mode="soft")
    with pytest.raises(ValueError, match="Received: mode='soft'"):
        monotonic_attention(TFA["fn/p"], TFA["fn/previous"], "soft")
    with pytest.raises(ValueError, match="Received: probability_fn='sparsemax'"):
        LuongAttention(4, probability_fn="sparsemax")


def test_bad_attention_layer_size():
    mechanisms = [LuongAttention(4, MEMORY), BahdanauAttention(3, MEMORY)]
    with pytest.raises(ValueError, match=r"one size per attention mechanism \(2\)"):
        AttentionWrapper(keras.layers.LSTMCell(4), mechanisms, attention_layer_size=[3])
    with pytest.raises(ValueError, match=r"Received: attention_layer_size=\[3, 2\]"):
        AttentionWrapper(keras.layers.LSTMCell(4), mechanisms[0], attention_layer_size=[3, 2])
    with pytest.raises(ValueError, match="not both"):
        AttentionWrapper(
            keras.layers.LSTMCell(4),
            mechanisms[0],
            attention_layer_size=3,
            attention_layer=keras.layers.Dense(3),
        )
    with pytest.raises(ValueError, match="one layer per attention mechanism"):
        AttentionWrapper(
            keras.layers.LSTMCell(4), mechanisms, attention_layer=keras.layers.Dense(3)
        )


def test_bad_memory():
    with pytest.raises(ValueError, match=r"rank 3.*Received: memory with shape \(2, 5\)"):
        LuongAttention(4, memory=MEMORY[:, :, 0])
    with pytest.raises(ValueError, match=r"max_time=5 .*Received: memory_sequence_length=\[5, 7\]"):
        LuongAttention(4, memory=MEMORY, memory_sequence_length=[5, 7])
    with pytest.raises(ValueError, match="positive lengths"):
        BahdanauAttention(4).setup_memory(MEMORY, np.array([0, 3]))
    with pytest.raises(ValueError, match="not both"):
        BahdanauAttention(4).setup_memory(MEMORY, LENGTHS, memory_mask=TFA["mask"])
    with pytest.raises(ValueError, match="has no memory"):
        LuongAttention(6)([TFA["query6"], TFA["mech/luong/state"]])
    with pytest.raises(ValueError, match="need a memory first"):
        AttentionWrapper(keras.layers.LSTMCell(4), LuongAttention(4)).get_initial_state(
            batch_size=2
        )
    with pytest.raises(ValueError, match=r"query depth \(3\) must equal the keys' depth \(6\)"):
        LuongAttention(6, MEMORY)([TFA["query3"], TFA["mech/luong/state"]])


def test_bad_cell_and_mechanism():
    with pytest.raises(TypeError, match="`cell` must be an RNN cell"):
        AttentionWrapper(keras.layers.Dense(4), LuongAttention(4, MEMORY))
    with pytest.raises(TypeError, match="`attention_mechanism` must be an AttentionMechanism"):
        AttentionWrapper(keras.layers.LSTMCell(4), keras.layers.Attention())
    with pytest.raises(ValueError, match="Received: units=0"):
        BahdanauAttention(0)
