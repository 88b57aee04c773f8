"""`BasicDecoder`: an RNN cell, an optional output layer and a sampler, decoded step by step
(TFA's `tfa.seq2seq.BasicDecoder`)."""

from __future__ import annotations

import collections

import keras
import tensorflow as tf

from layers.seq2seq.decoder import (
    BaseDecoder,
    build_step_layers,
    check_output_layer,
    check_rnn_cell,
    initial_cell_state,
    rnn_output_dtype,
    rnn_output_size,
)
from layers.seq2seq.samplers import Sampler


class BasicDecoderOutput(collections.namedtuple("BasicDecoderOutput", ("rnn_output", "sample_id"))):
    """One step's (or, stacked, every step's) outputs of a `BasicDecoder`.

    Attributes:
        rnn_output: the cell's output, after the output layer if there is one.
        sample_id: the ids the sampler picked.
    """


@keras.saving.register_keras_serializable(package="keras_zoo")
class BasicDecoder(BaseDecoder):
    """Decodes with an RNN cell, feeding each step the input its sampler chooses (TFA's
    `tfa.seq2seq.BasicDecoder`).

    Calling it runs `dynamic_decode`: `decoder(inputs, initial_state=..., **sampler_kwargs)`
    returns `(BasicDecoderOutput(rnn_output, sample_id), final_state, sequence_lengths)`. The
    first argument and the keyword arguments go to `sampler.initialize` (the sequence and
    `sequence_length` for `TrainingSampler`; the embedding, `start_tokens` and `end_token`
    for `GreedyEmbeddingSampler`). `initial_state` defaults to the cell's zero state (TFA
    requires it). TensorFlow-only (`tf.while_loop`).

    Args:
        cell: a Keras RNN cell (`keras.layers.LSTMCell`, an `AttentionWrapper`, ...).
        sampler: a `Sampler`.
        output_layer: a layer applied to the cell's output before sampling (e.g. a `Dense`
            projection to the vocabulary). Defaults to `None`.
        **kwargs: `BaseDecoder` arguments (`output_time_major`, `impute_finished`,
            `maximum_iterations`, `parallel_iterations`, `swap_memory`) and layer arguments.

    Example:

    ```python
    embedding = keras.layers.Embedding(128, 48)
    cell = keras.layers.LSTMCell(32)
    decoder = BasicDecoder(cell, TrainingSampler(), keras.layers.Dense(64))
    outputs, state, lengths = decoder(embedding(target_ids), sequence_length=target_lengths)
    outputs.rnn_output.shape  # (batch, time, 64)

    greedy = BasicDecoder(cell, GreedyEmbeddingSampler(embedding), decoder.output_layer,
                          maximum_iterations=10)
    outputs, _, _ = greedy(None, start_tokens=tf.fill([4], 1), end_token=2,
                           initial_state=cell.get_initial_state(batch_size=4))
    ```
    """

    def __init__(self, cell, sampler, output_layer=None, **kwargs):
        check_rnn_cell(cell)
        if not isinstance(sampler, Sampler):
            raise TypeError(
                "`sampler` must be a layers.seq2seq.samplers.Sampler. "
                f"Received: sampler={sampler!r}"
            )
        check_output_layer(output_layer)
        super().__init__(**kwargs)
        self.cell = cell
        self.sampler = sampler
        self.output_layer = output_layer
        # Layers the sampler holds (an embedding_fn that is a layer) are saved with the decoder.
        self._sampler_layers = [
            value for value in vars(sampler).values() if isinstance(value, keras.layers.Layer)
        ]

    def initialize(self, inputs, initial_state=None, **kwargs):
        """Starts the sampler; returns `(finished, first_inputs, initial_state)`."""
        finished, first_inputs = self.sampler.initialize(inputs, **kwargs)
        if initial_state is None:
            initial_state = initial_cell_state(self.cell, self.sampler.batch_size)
        self._state_dtype = tf.nest.flatten(initial_state)[0].dtype
        build_step_layers(self.cell, self.output_layer, first_inputs)
        return finished, first_inputs, initial_state

    @property
    def batch_size(self):
        return self.sampler.batch_size

    @property
    def output_size(self):
        return BasicDecoderOutput(
            rnn_output=rnn_output_size(self.cell, self.output_layer),
            sample_id=self.sampler.sample_ids_shape,
        )

    @property
    def output_dtype(self):
        dtype = rnn_output_dtype(self.cell, self.output_layer, self._state_dtype)
        return BasicDecoderOutput(
            tf.nest.map_structure(lambda _: dtype, rnn_output_size(self.cell, self.output_layer)),
            self.sampler.sample_ids_dtype,
        )

    def step(self, time, inputs, state, training=None):
        """One decoding step; returns `(outputs, next_state, next_inputs, finished)`."""
        cell_outputs, cell_state = self.cell(inputs, state, training=training)
        cell_state = tf.nest.pack_sequence_as(state, tf.nest.flatten(cell_state))
        if self.output_layer is not None:
            cell_outputs = self.output_layer(cell_outputs)
        sample_ids = self.sampler.sample(time=time, outputs=cell_outputs, state=cell_state)
        finished, next_inputs, next_state = self.sampler.next_inputs(
            time=time, outputs=cell_outputs, state=cell_state, sample_ids=sample_ids
        )
        return BasicDecoderOutput(cell_outputs, sample_ids), next_state, next_inputs, finished

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "cell": keras.saving.serialize_keras_object(self.cell),
            "sampler": keras.saving.serialize_keras_object(self.sampler),
            "output_layer": keras.saving.serialize_keras_object(self.output_layer),
        }

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        for name in ("cell", "sampler", "output_layer"):
            config[name] = keras.saving.deserialize_keras_object(config[name])
        return cls(**config)
