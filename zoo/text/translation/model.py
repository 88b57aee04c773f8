"""`AttentionTranslator`: an LSTM encoder and a Luong-attention LSTM decoder, the shape of
TensorFlow Addons' seq2seq NMT tutorial, trained with teacher forcing and decoded greedily or
with beam search.

TensorFlow-only: decoding runs `layers.seq2seq`'s `dynamic_decode` (a `tf.while_loop`).
"""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from layers.seq2seq.attention_mechanisms import LuongAttention
from layers.seq2seq.attention_wrapper import AttentionWrapper
from layers.seq2seq.basic_decoder import BasicDecoder
from layers.seq2seq.beam_search_decoder import BeamSearchDecoder, tile_batch
from layers.seq2seq.samplers import GreedyEmbeddingSampler, TrainingSampler
from layers.validation import (
    check_int_at_least,
    check_non_negative_float,
    check_positive_int,
)
from zoo.text.translation.data import BOS_ID, EOS_ID, PAD_ID


def _check_special_id(name: str, value, vocab_size: int) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or not 0 < value < vocab_size:
        raise ValueError(
            f"`{name}` must be an integer in [1, target_vocab_size={vocab_size}) (0 is padding). "
            f"Received: {name}={value!r}"
        )
    return value


def mask_after_end(ids, end_id: int, pad_id: int = PAD_ID):
    """Replaces every id after the first `end_id` of each row with `pad_id`.

    Args:
        ids: `(batch, time)` integer ids.
        end_id: the end-of-sequence id (kept; what follows it is padded).
        pad_id: the padding id. Defaults to `0`.

    Returns:
        The ids, same shape and dtype.

    Example:

    ```python
    mask_after_end(np.array([[5, 2, 7, 2]]), end_id=2)  # [[5, 2, 0, 0]]
    ```
    """
    ids = ops.convert_to_tensor(ids)
    is_end = ops.cast(ops.equal(ids, end_id), "int32")
    ends_before = ops.cumsum(is_end, axis=1) - is_end
    return ops.where(ends_before > 0, ops.cast(pad_id, ids.dtype), ids)


class _FunctionCache:
    """`tf.function`s of `decode` by argument; a plain object, so no checkpoint tracks it."""

    def __init__(self):
        self.functions = {}


@keras.saving.register_keras_serializable(package="keras_zoo")
class AttentionTranslator(keras.Model):
    """Sequence-to-sequence translator with Luong attention, decoded greedily or by beam search.

    The encoder is an `Embedding` and an `LSTM` over the source ids (padding `0` masked); the
    decoder is an `AttentionWrapper` around an `LSTMCell` with `LuongAttention` over the encoder
    outputs (`attention_layer_size=units`), started from the encoder's final state, and a
    `Dense(target_vocab_size)` output layer. Training is teacher forced (`BasicDecoder` with a
    `TrainingSampler`); `translate` decodes with `GreedyEmbeddingSampler` or with
    `BeamSearchDecoder` over `tile_batch`-ed memory and state.

    `call` takes `(source, target_in)` (or a dict with those keys) and returns the logits
    `(batch, target_time, target_vocab_size)`; `compile` defaults to Adam and the sparse
    cross-entropy of the logits with padding (`0`) ignored, so `fit((source, target_in),
    target_out)` trains it. Decoded ids end with `eos_id` followed by padding.

    Args:
        source_vocab_size: source ids, padding `0` included.
        target_vocab_size: target ids, padding `0`, `bos_id` and `eos_id` included.
        embedding_dim: width of both embeddings. Defaults to `32`.
        units: width of the encoder LSTM, the decoder LSTM and the attention. Defaults to `64`.
        max_target_length: default `maximum_iterations` of decoding (the width of the decoded
            ids). Defaults to `32`.
        bos_id: the target id that starts decoding. Defaults to `1`.
        eos_id: the target id that ends a translation. Defaults to `2`.
        **kwargs: `keras.Model` arguments (`name`, `dtype`, ...).

    Example:

    ```python
    task = TranslationTask(seed=0)
    train, test = task.splits(2000, 200)
    model = AttentionTranslator(task.source_vocab_size, task.target_vocab_size,
                                max_target_length=task.max_target_length)
    model.compile(optimizer=keras.optimizers.Adam(1e-2))
    model.fit(train.inputs, train.target_out, batch_size=64, epochs=10)
    model.translate(test.source, beam_width=5)   # (200, max_target_length) int32 ids
    ```

    Reference:
        Luong, Pham and Manning, "Effective Approaches to Attention-based Neural Machine
        Translation", EMNLP 2015. https://arxiv.org/abs/1508.04025
    """

    def __init__(
        self,
        source_vocab_size: int,
        target_vocab_size: int,
        embedding_dim: int = 32,
        units: int = 64,
        max_target_length: int = 32,
        bos_id: int = BOS_ID,
        eos_id: int = EOS_ID,
        **kwargs,
    ):
        check_int_at_least("source_vocab_size", source_vocab_size, 2)
        check_int_at_least("target_vocab_size", target_vocab_size, 3)
        check_positive_int("embedding_dim", embedding_dim)
        check_positive_int("units", units)
        check_positive_int("max_target_length", max_target_length)
        _check_special_id("bos_id", bos_id, target_vocab_size)
        _check_special_id("eos_id", eos_id, target_vocab_size)
        if bos_id == eos_id:
            raise ValueError(
                f"`eos_id` must differ from `bos_id={bos_id}`. Received: eos_id={eos_id!r}"
            )
        super().__init__(**kwargs)
        self.source_vocab_size = source_vocab_size
        self.target_vocab_size = target_vocab_size
        self.embedding_dim = embedding_dim
        self.units = units
        self.max_target_length = max_target_length
        self.bos_id = bos_id
        self.eos_id = eos_id

        dtype = self.dtype_policy
        self.source_embedding = keras.layers.Embedding(
            source_vocab_size, embedding_dim, name="source_embedding", dtype=dtype
        )
        self.encoder = keras.layers.LSTM(
            units, return_sequences=True, return_state=True, name="encoder", dtype=dtype
        )
        self.target_embedding = keras.layers.Embedding(
            target_vocab_size, embedding_dim, name="target_embedding", dtype=dtype
        )
        # The memory is set for every batch (`setup_memory`), as in TFA's NMT tutorial.
        attention = LuongAttention(units, name="attention", dtype=dtype)
        self.decoder_cell = AttentionWrapper(
            keras.layers.LSTMCell(units, name="decoder_lstm", dtype=dtype),
            attention,
            attention_layer_size=units,
            name="attention_wrapper",
            dtype=dtype,
        )
        self.attention_mechanism = attention
        self.output_layer = keras.layers.Dense(
            target_vocab_size, name="output_projection", dtype=dtype
        )
        self._compiled_decoders = _FunctionCache()

    # -- building and saving -------------------------------------------------------------

    def build(self, input_shape=None):
        """Creates every weight (the input shapes do not matter: ids of any length)."""
        self.source_embedding.build((None, None))
        self.encoder.build((None, None, self.embedding_dim))
        self.target_embedding.build((None, None))
        # A symbolic memory builds the attention's memory layer; every call sets up its own.
        memory = keras.KerasTensor((None, None, self.units), dtype=self.compute_dtype)
        self.attention_mechanism.setup_memory(memory)
        self.decoder_cell.build((None, self.embedding_dim))
        self.output_layer.build((None, self.units))
        self.built = True

    def get_build_config(self):
        return {"built": True} if self.built else {}

    def build_from_config(self, config):
        if config:
            self.build()
            self.built = True

    def get_config(self):
        return {
            **super().get_config(),
            "source_vocab_size": self.source_vocab_size,
            "target_vocab_size": self.target_vocab_size,
            "embedding_dim": self.embedding_dim,
            "units": self.units,
            "max_target_length": self.max_target_length,
            "bos_id": self.bos_id,
            "eos_id": self.eos_id,
        }

    def compile(self, optimizer="adam", loss=None, **kwargs):
        """`keras.Model.compile`, with the loss defaulting to the sparse cross-entropy of the
        logits that ignores padding (`0`) in the labels."""
        if loss is None:
            loss = keras.losses.SparseCategoricalCrossentropy(from_logits=True, ignore_class=PAD_ID)
        super().compile(optimizer=optimizer, loss=loss, **kwargs)

    def compile_from_config(self, config):
        # Keras skips models whose `compile` is overridden; this one takes the same arguments,
        # so the saved optimizer (and its state, restored right after) comes back on load.
        self.compile(**keras.saving.deserialize_keras_object(config))
        if self.built:
            self.optimizer.build(self.trainable_variables)

    # -- training --------------------------------------------------------------------------

    def call(self, inputs, training=None):
        """Teacher-forced logits `(batch, target_time, target_vocab_size)` of
        `(source, target_in)` (a tuple or a dict with those keys)."""
        if isinstance(inputs, dict):
            missing = {"source", "target_in"} - set(inputs)
            if missing:
                raise ValueError(
                    "`inputs` must hold 'source' and 'target_in'. "
                    f"Received: inputs keys={sorted(inputs)}"
                )
            source, target_in = inputs["source"], inputs["target_in"]
        elif isinstance(inputs, (list, tuple)) and len(inputs) == 2:
            source, target_in = inputs
        else:
            raise ValueError(
                "`inputs` must be `(source, target_in)` or a dict with those keys. "
                f"Received: inputs={inputs!r}"
            )
        return self._teacher_forced_logits(source, target_in, training=training)

    def _encode(self, source, training=None):
        source = ops.cast(source, "int32")
        mask = ops.not_equal(source, PAD_ID)
        memory, state_h, state_c = self.encoder(
            self.source_embedding(source), mask=mask, training=training
        )
        lengths = ops.sum(ops.cast(mask, "int32"), axis=1)
        return memory, [state_h, state_c], lengths

    def _initial_state(self, memory, lengths, encoder_state, batch_size):
        self.attention_mechanism.setup_memory(memory, memory_sequence_length=lengths)
        state = self.decoder_cell.get_initial_state(batch_size=batch_size, dtype=memory.dtype)
        return state.clone(cell_state=encoder_state)

    def _teacher_forced_logits(self, source, target_in, training=None):
        memory, encoder_state, lengths = self._encode(source, training)
        target_in = ops.cast(target_in, "int32")
        batch_size, steps = tf.shape(target_in)[0], tf.shape(target_in)[1]
        initial_state = self._initial_state(memory, lengths, encoder_state, batch_size)
        # Every row runs the full width, so the logits line up with the padded labels; the
        # bound on the steps (static when known) is what XLA needs to compile the loop.
        decoder = BasicDecoder(
            self.decoder_cell,
            TrainingSampler(),
            self.output_layer,
            maximum_iterations=target_in.shape[1] or steps,
        )
        outputs, _, _ = decoder(
            self.target_embedding(target_in),
            initial_state=initial_state,
            sequence_length=tf.fill([batch_size], steps),
            training=training,
        )
        return outputs.rnn_output

    # -- decoding ----------------------------------------------------------------------------

    def decode(
        self,
        source,
        beam_width: int | None = None,
        maximum_iterations: int | None = None,
        length_penalty_weight: float = 0.0,
    ):
        """Target ids of `source` as an int32 tensor; usable inside a `tf.function`.

        Same arguments and result as `translate`, which runs this in a cached `tf.function`
        and returns NumPy.
        """
        beam_width, maximum_iterations, length_penalty_weight = self._decode_arguments(
            beam_width, maximum_iterations, length_penalty_weight
        )
        if not self.built:
            self.build()
        memory, encoder_state, lengths = self._encode(source)
        batch_size = tf.shape(memory)[0]
        start_tokens = tf.fill([batch_size], self.bos_id)
        if beam_width is None:
            initial_state = self._initial_state(memory, lengths, encoder_state, batch_size)
            decoder = BasicDecoder(
                self.decoder_cell,
                GreedyEmbeddingSampler(self.target_embedding),
                self.output_layer,
                maximum_iterations=maximum_iterations,
            )
            outputs, _, _ = decoder(
                None, start_tokens=start_tokens, end_token=self.eos_id, initial_state=initial_state
            )
            ids = outputs.sample_id
        else:
            initial_state = self._initial_state(
                tile_batch(memory, beam_width),
                tile_batch(lengths, beam_width),
                tile_batch(encoder_state, beam_width),
                batch_size * beam_width,
            )
            decoder = BeamSearchDecoder(
                self.decoder_cell,
                beam_width,
                embedding_fn=self.target_embedding,
                output_layer=self.output_layer,
                length_penalty_weight=length_penalty_weight,
                maximum_iterations=maximum_iterations,
            )
            outputs, _, _ = decoder(
                None, start_tokens=start_tokens, end_token=self.eos_id, initial_state=initial_state
            )
            ids = outputs.predicted_ids[:, :, 0]  # beams come sorted, best first
        return self._padded(ids, maximum_iterations)

    def _decode_arguments(self, beam_width, maximum_iterations, length_penalty_weight):
        check_positive_int("beam_width", beam_width, allow_none=True)
        check_positive_int("maximum_iterations", maximum_iterations, allow_none=True)
        length_penalty_weight = check_non_negative_float(
            "length_penalty_weight", length_penalty_weight
        )
        return beam_width, maximum_iterations or self.max_target_length, length_penalty_weight

    def _padded(self, ids, width: int):
        ids = tf.cast(ids[:, :width], tf.int32)
        ids = tf.pad(ids, [[0, 0], [0, width - tf.shape(ids)[1]]], constant_values=PAD_ID)
        ids = tf.reshape(ids, [-1, width])
        return mask_after_end(ids, self.eos_id)

    def translate(
        self,
        source,
        beam_width: int | None = None,
        maximum_iterations: int | None = None,
        length_penalty_weight: float = 0.0,
    ) -> np.ndarray:
        """Translates a batch of padded source ids.

        Args:
            source: `(batch, source_time)` integer source ids, padded with `0` at the end
                (every row holds at least one word).
            beam_width: `None` for greedy decoding, or the number of beams of beam search
                (`1` gives the greedy result). Defaults to `None`.
            maximum_iterations: most decoding steps, the width of the result. Defaults to
                `max_target_length`.
            length_penalty_weight: beam search's length penalty (Wu et al. 2016); `0.0`
                ranks beams by log-probability alone. Defaults to `0.0`.

        Returns:
            `(batch, maximum_iterations)` int32 target ids: the translation, `eos_id` (unless
            decoding ran out of steps), then padding `0`.
        """
        key = self._decode_arguments(beam_width, maximum_iterations, length_penalty_weight)
        if not self.built:
            self.build()
        functions = self._compiled_decoders.functions
        if key not in functions:
            functions[key] = tf.function(
                lambda ids: self.decode(ids, *key),
                input_signature=[tf.TensorSpec([None, None], tf.int32)],
                reduce_retracing=True,
            )
        source = np.asarray(source, np.int32)
        if source.ndim != 2:
            raise ValueError(
                "`source` must be a 2-D array of ids (batch, time). "
                f"Received: source with shape {source.shape}"
            )
        return functions[key](source).numpy()

    def inference_model(
        self,
        beam_width: int | None = 5,
        maximum_iterations: int | None = None,
        length_penalty_weight: float = 0.0,
    ) -> keras.Model:
        """A functional model from int32 `source` ids to `target_ids`, decoding in its graph.

        Shares this translator's weights. `serving.export(translator.inference_model(), ...)`
        writes a SavedModel whose `serving_default` takes `source` and returns `target_ids`
        (beam search runs inside the signature).

        Args:
            beam_width: beams of beam search, or `None` for greedy decoding. Defaults to `5`.
            maximum_iterations: most decoding steps. Defaults to `max_target_length`.
            length_penalty_weight: beam search's length penalty. Defaults to `0.0`.

        Returns:
            A `keras.Model` with input `source` `(batch, None)` int32 and output `target_ids`
            `(batch, maximum_iterations)` int32.
        """
        if not self.built:
            self.build()
        source = keras.Input((None,), dtype="int32", name="source")
        target_ids = TranslationSearch(
            self,
            beam_width=beam_width,
            maximum_iterations=maximum_iterations,
            length_penalty_weight=length_penalty_weight,
            name="target_ids",
        )(source)
        return keras.Model(source, target_ids, name=f"{self.name}_search")


@keras.saving.register_keras_serializable(package="keras_zoo")
class TranslationSearch(keras.layers.Layer):
    """Decodes source ids with an `AttentionTranslator` (beam search or greedy) as a layer.

    The layer of `AttentionTranslator.inference_model`; TensorFlow-only (a `tf.while_loop`).

    Args:
        translator: the `AttentionTranslator` whose weights decode.
        beam_width: beams, or `None` for greedy decoding. Defaults to `5`.
        maximum_iterations: most decoding steps. Defaults to the translator's
            `max_target_length`.
        length_penalty_weight: beam search's length penalty. Defaults to `0.0`.
        **kwargs: `keras.layers.Layer` arguments.

    Example:

    ```python
    source = keras.Input((None,), dtype="int32", name="source")
    model = keras.Model(source, TranslationSearch(translator, beam_width=3)(source))
    ```
    """

    def __init__(
        self,
        translator: AttentionTranslator,
        beam_width: int | None = 5,
        maximum_iterations: int | None = None,
        length_penalty_weight: float = 0.0,
        **kwargs,
    ):
        if not isinstance(translator, AttentionTranslator):
            raise TypeError(
                f"`translator` must be an AttentionTranslator. Received: translator={translator!r}"
            )
        check_positive_int("beam_width", beam_width, allow_none=True)
        check_positive_int("maximum_iterations", maximum_iterations, allow_none=True)
        check_non_negative_float("length_penalty_weight", length_penalty_weight)
        super().__init__(**kwargs)
        self.translator = translator
        self.beam_width = beam_width
        self.maximum_iterations = maximum_iterations
        self.length_penalty_weight = length_penalty_weight

    def call(self, source):
        return self.translator.decode(
            source, self.beam_width, self.maximum_iterations, self.length_penalty_weight
        )

    def compute_output_spec(self, source):
        width = self.maximum_iterations or self.translator.max_target_length
        return keras.KerasTensor((source.shape[0], width), dtype="int32")

    def get_config(self):
        return {
            **super().get_config(),
            "translator": keras.saving.serialize_keras_object(self.translator),
            "beam_width": self.beam_width,
            "maximum_iterations": self.maximum_iterations,
            "length_penalty_weight": self.length_penalty_weight,
        }

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        config["translator"] = keras.saving.deserialize_keras_object(config["translator"])
        return cls(**config)
