"""Samplers: how a seq2seq decoder picks each step's ids and its next input (TFA's samplers).

A sampler is handed to `BasicDecoder`, which calls `initialize` once, then `sample` and
`next_inputs` at every step. They are TensorFlow Addons' `tfa.seq2seq` samplers with the same
constructor arguments, methods and numbers. TensorFlow-only: inputs may be `tf.nest` structures,
and the random samplers draw with TensorFlow's seeded random ops (`tf.random.uniform`,
`tf.random.categorical`) as TFA does.

Unlike TFA, a sampler keeps the embedding passed to `initialize` for that call only (TFA keeps
the first one forever), and every sampler has a `get_config`, so that a `BasicDecoder` holding
it saves to `.keras`.
"""

from __future__ import annotations

import abc
from collections.abc import Callable

import keras
import tensorflow as tf

from layers.validation import check_bool, check_optional_seed

_PACKAGE = "keras_zoo"


def _serialize(obj):
    return None if obj is None else keras.saving.serialize_keras_object(obj)


def _deserialize(config):
    return None if config is None else keras.saving.deserialize_keras_object(config)


def _check_callable(name: str, value, allow_none: bool = True):
    if value is None and allow_none:
        return value
    if not callable(value):
        raise TypeError(f"`{name}` must be a callable. Received: {name}={value!r}")
    return value


def _to_time_major(tensor: tf.Tensor) -> tf.Tensor:
    """Swaps the first two axes of a tensor of rank >= 2; others are returned unchanged."""
    rank = tensor.shape.rank
    if rank is not None and rank < 2:
        return tensor
    if rank is not None:
        return tf.transpose(tensor, [1, 0] + list(range(2, rank)))
    return tf.transpose(tensor, tf.concat([[1, 0], tf.range(2, tf.rank(tensor))], axis=0))


def _embedding_lookup(embedding) -> Callable:
    return lambda ids: tf.nn.embedding_lookup(embedding, ids)


def _check_probability(value):
    """`sampling_probability` as a tensor (or the variable itself): a scalar or a vector."""
    if isinstance(value, int | float) and not isinstance(value, bool) and not 0 <= value <= 1:
        raise ValueError(
            f"`sampling_probability` must be in [0, 1]. Received: sampling_probability={value!r}"
        )
    tensor = value if isinstance(value, tf.Variable) else tf.convert_to_tensor(value)
    if tensor.shape.rank not in (0, 1):
        raise ValueError(
            "`sampling_probability` must be a scalar or a vector. "
            f"Received: sampling_probability with shape {tensor.shape}"
        )
    return tensor


def _probability_config(value, tensor):
    if isinstance(value, int | float):
        return value
    if tf.executing_eagerly():
        return keras.ops.convert_to_numpy(tensor).tolist()
    return value


def _bernoulli(probability, batch_size, seed, dtype):
    """One Bernoulli draw per batch entry (`uniform < probability`), as TFA draws them; a
    `[batch]` vector gives each entry its own probability (TFA returns `[batch, batch]` draws
    there, which its decoders cannot use)."""
    probability = tf.convert_to_tensor(probability)
    shape = [batch_size] if probability.shape.rank == 0 else tf.shape(probability)
    uniform = tf.random.uniform(shape, seed=seed, dtype=probability.dtype)
    return tf.cast(uniform < probability, dtype)


def _categorical(logits, seed) -> tf.Tensor:
    """One draw per row of `logits` (any leading shape) as int32."""
    logits = tf.convert_to_tensor(logits)
    flat = tf.reshape(logits, [-1, tf.shape(logits)[-1]]) if logits.shape.rank != 2 else logits
    index_dtype = tf.int64 if logits.dtype.size > 4 else tf.int32
    draws = tf.random.categorical(flat, 1, dtype=index_dtype, seed=seed)
    return tf.cast(tf.reshape(draws, tf.shape(logits)[:-1]), tf.int32)


class Sampler(metaclass=abc.ABCMeta):
    """The interface between a decoder and the rule that picks ids and next inputs.

    `BasicDecoder` calls `initialize(inputs, **kwargs)` once, then at every step
    `sample(time, outputs, state)` and `next_inputs(time, outputs, state, sample_ids)`. A sampler
    is a plain Python object (TFA's `tfa.seq2seq.Sampler`); subclasses also give `get_config`
    so that decoders holding them save to `.keras`.

    Example (a hand-written decoding loop):

    ```python
    sampler = TrainingSampler()
    cell = keras.layers.LSTMCell(16)
    inputs = tf.random.uniform([4, 7, 16])
    finished, cell_input = sampler.initialize(inputs)
    state = cell.get_initial_state(batch_size=4)
    for time in range(7):
        output, state = cell(cell_input, state)
        ids = sampler.sample(time, output, state)
        finished, cell_input, state = sampler.next_inputs(time, output, state, ids)
    ```
    """

    @abc.abstractmethod
    def initialize(self, inputs, **kwargs):
        """Starts a decoding run.

        Returns:
            `(initial_finished, initial_inputs)`.
        """

    @abc.abstractmethod
    def sample(self, time, outputs, state):
        """Returns the step's `sample_ids`."""

    @abc.abstractmethod
    def next_inputs(self, time, outputs, state, sample_ids):
        """Returns `(finished, next_inputs, next_state)`."""

    @property
    def batch_size(self):
        """The batch size, a scalar int32 tensor; known after `initialize` (which sets
        `self._batch_size`)."""
        if getattr(self, "_batch_size", None) is None:
            raise ValueError(
                f"{type(self).__name__}.batch_size is known only after `initialize` is called."
            )
        return self._batch_size

    @property
    @abc.abstractmethod
    def sample_ids_shape(self):
        """The `tf.TensorShape` of one batch entry's sample ids."""

    @property
    @abc.abstractmethod
    def sample_ids_dtype(self):
        """The dtype of the sample ids."""

    def get_config(self) -> dict:
        return {}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**config)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class CustomSampler(Sampler):
    """A sampler made of three functions (TFA's `tfa.seq2seq.CustomSampler`).

    Args:
        initialize_fn: `fn(inputs, **kwargs) -> (finished, next_inputs)`, for the first step.
        sample_fn: `fn(time=, outputs=, state=) -> sample_ids`.
        next_inputs_fn: `fn(time=, outputs=, state=, sample_ids=) -> (finished, next_inputs,
            next_state)`.
        sample_ids_shape: the shape of one entry's sample ids. Defaults to a scalar (`[]`).
        sample_ids_dtype: their dtype. Defaults to `tf.int32`.

    Example:

    ```python
    sampler = CustomSampler(
        initialize_fn=lambda inputs: (tf.zeros([2], tf.bool), inputs),
        sample_fn=lambda time, outputs, state: tf.argmax(outputs, -1, output_type=tf.int32),
        next_inputs_fn=lambda time, outputs, state, sample_ids: (
            tf.fill([2], time + 1 >= 5), tf.gather(embedding, sample_ids), state),
    )
    ```
    """

    def __init__(
        self,
        initialize_fn: Callable,
        sample_fn: Callable,
        next_inputs_fn: Callable,
        sample_ids_shape=None,
        sample_ids_dtype=None,
    ):
        self._initialize_fn = _check_callable("initialize_fn", initialize_fn, allow_none=False)
        self._sample_fn = _check_callable("sample_fn", sample_fn, allow_none=False)
        self._next_inputs_fn = _check_callable("next_inputs_fn", next_inputs_fn, allow_none=False)
        self._batch_size = None
        self._sample_ids_shape = tf.TensorShape(sample_ids_shape or [])
        self._sample_ids_dtype = tf.as_dtype(sample_ids_dtype or tf.int32)

    @property
    def sample_ids_shape(self):
        return self._sample_ids_shape

    @property
    def sample_ids_dtype(self):
        return self._sample_ids_dtype

    def initialize(self, inputs, **kwargs):
        finished, next_inputs = self._initialize_fn(inputs, **kwargs)
        self._batch_size = tf.size(finished)
        return finished, next_inputs

    def sample(self, time, outputs, state):
        return self._sample_fn(time=time, outputs=outputs, state=state)

    def next_inputs(self, time, outputs, state, sample_ids):
        return self._next_inputs_fn(time=time, outputs=outputs, state=state, sample_ids=sample_ids)

    def get_config(self) -> dict:
        return {
            "initialize_fn": _serialize(self._initialize_fn),
            "sample_fn": _serialize(self._sample_fn),
            "next_inputs_fn": _serialize(self._next_inputs_fn),
            "sample_ids_shape": self._sample_ids_shape.as_list(),
            "sample_ids_dtype": self._sample_ids_dtype.name,
        }

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        for name in ("initialize_fn", "sample_fn", "next_inputs_fn"):
            config[name] = _deserialize(config[name])
        return cls(**config)


@keras.saving.register_keras_serializable(package=_PACKAGE)
class TrainingSampler(Sampler):
    """Teacher forcing: each step's input is read from the given sequence (TFA's
    `tfa.seq2seq.TrainingSampler`).

    The sample ids are the argmax of the outputs. An entry is finished once its
    `sequence_length` (or the count of its `mask`) is reached.

    Args:
        time_major: the inputs are `[time, batch, ...]` instead of `[batch, time, ...]`.
            Defaults to `False`.

    Example:

    ```python
    decoder = BasicDecoder(keras.layers.LSTMCell(32), TrainingSampler(), keras.layers.Dense(64))
    outputs, state, lengths = decoder(embedded_targets, sequence_length=target_lengths)
    logits = outputs.rnn_output  # [batch, time, 64]
    ```
    """

    def __init__(self, time_major: bool = False):
        self.time_major = check_bool("time_major", time_major)
        self._batch_size = None

    @property
    def sample_ids_shape(self):
        return tf.TensorShape([])

    @property
    def sample_ids_dtype(self):
        return tf.int32

    def initialize(self, inputs, sequence_length=None, mask=None):
        """Starts reading `inputs`.

        Args:
            inputs: a tensor (or structure of tensors) `[batch, time, ...]`, time first when
                `time_major`.
            sequence_length: int32 `[batch]` lengths. Defaults to the full time axis.
            mask: a boolean `[batch, time]` (`[time, batch]` when `time_major`) right-padded
                mask, instead of `sequence_length`.

        Returns:
            `(finished, first_inputs)`.
        """
        inputs = tf.nest.map_structure(lambda x: tf.convert_to_tensor(x, name="inputs"), inputs)
        self.inputs = inputs
        if not self.time_major:
            inputs = tf.nest.map_structure(_to_time_major, inputs)
        self._time_major_inputs = inputs
        first = tf.nest.flatten(inputs)[0]
        self._batch_size = tf.shape(first)[1]
        self._max_time = tf.shape(first)[0]
        if sequence_length is not None and mask is not None:
            raise ValueError(
                "Pass `sequence_length` or `mask` to TrainingSampler.initialize, not both. "
                "Received: sequence_length and mask"
            )
        if sequence_length is not None:
            sequence_length = tf.convert_to_tensor(sequence_length, name="sequence_length")
            if sequence_length.shape.rank != 1:
                raise ValueError(
                    "`sequence_length` must be a vector [batch_size]. "
                    f"Received: sequence_length with shape {sequence_length.shape}"
                )
            self.sequence_length = tf.cast(sequence_length, tf.int32)
        elif mask is not None:
            self.sequence_length = _lengths_from_mask(mask, self.time_major)
        else:
            self.sequence_length = tf.fill([self._batch_size], self._max_time)
        self.zero_inputs = tf.nest.map_structure(lambda x: tf.zeros_like(x[0]), inputs)
        finished = tf.equal(self.sequence_length, 0)
        return finished, self._read(0, tf.reduce_all(finished))

    def _read(self, time, all_finished):
        """The inputs at `time` (zeros once every entry is finished)."""
        index = tf.minimum(time, tf.maximum(self._max_time - 1, 0))
        if self._max_time_is_zero():
            return self.zero_inputs
        return tf.nest.map_structure(
            lambda inputs, zeros: tf.where(all_finished, zeros, tf.gather(inputs, index)),
            self._time_major_inputs,
            self.zero_inputs,
        )

    def _max_time_is_zero(self) -> bool:
        static = tf.nest.flatten(self._time_major_inputs)[0].shape[0]
        return static == 0

    def sample(self, time, outputs, state):
        return tf.cast(tf.argmax(outputs, axis=-1), tf.int32)

    def next_inputs(self, time, outputs, state, sample_ids):
        next_time = time + 1
        finished = next_time >= self.sequence_length
        return finished, self._read(next_time, tf.reduce_all(finished)), state

    def get_config(self) -> dict:
        return {"time_major": self.time_major}


def _lengths_from_mask(mask, time_major: bool) -> tf.Tensor:
    mask = tf.convert_to_tensor(mask, name="mask")
    if mask.shape.rank != 2:
        raise ValueError(
            f"`mask` must be a 2D boolean tensor. Received: mask with shape {mask.shape}"
        )
    if mask.dtype != tf.bool:
        raise ValueError(f"`mask` must be a boolean tensor. Received: mask with dtype {mask.dtype}")
    batch_major = tf.transpose(mask) if time_major else mask
    lengths = tf.reduce_sum(tf.cast(batch_major, tf.int32), axis=1)
    right_padded = tf.sequence_mask(lengths, maxlen=tf.shape(batch_major)[1])
    check = tf.debugging.Assert(
        tf.reduce_all(tf.equal(batch_major, right_padded)),
        ["`mask` must be right-padded (ones, then zeros, along time)."],
    )
    with tf.control_dependencies([check]):
        return tf.identity(lengths, name="sequence_length")


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ScheduledEmbeddingTrainingSampler(TrainingSampler):
    """Teacher forcing that sometimes feeds back an embedded sample of the output instead
    (TFA's `tfa.seq2seq.ScheduledEmbeddingTrainingSampler`; scheduled sampling).

    With probability `sampling_probability` (per entry and step) the next input is
    `embedding_fn(id)` of an id drawn from `softmax(outputs)`; that id is the sample id, and -1
    marks the entries that read their input.

    Args:
        sampling_probability: the probability of sampling: a float in [0, 1], or a scalar or
            `[batch]` tensor or variable (to anneal it during training).
        embedding_fn: maps ids to inputs. Defaults to a lookup in the `embedding` passed to
            `initialize`.
        time_major: the inputs are `[time, batch, ...]`. Defaults to `False`.
        seed: the seed of the id draws. Defaults to `None`.
        scheduling_seed: the seed of the sample-or-read draws. Defaults to `None`.

    Example:

    ```python
    sampler = ScheduledEmbeddingTrainingSampler(0.25, embedding_fn=embedding_layer)
    decoder = BasicDecoder(cell, sampler, output_layer)
    outputs, _, _ = decoder(embedding_layer(target_ids), sequence_length=lengths)
    ```

    Reference:
        Bengio et al., "Scheduled Sampling for Sequence Prediction with Recurrent Neural
        Networks", NeurIPS 2015.
    """

    def __init__(
        self,
        sampling_probability,
        embedding_fn: Callable | None = None,
        time_major: bool = False,
        seed: int | None = None,
        scheduling_seed: int | None = None,
    ):
        self._probability_argument = sampling_probability
        self.sampling_probability = _check_probability(sampling_probability)
        self.embedding_fn = _check_callable("embedding_fn", embedding_fn)
        self.seed = check_optional_seed("seed", seed)
        self.scheduling_seed = check_optional_seed("scheduling_seed", scheduling_seed)
        self._lookup = embedding_fn
        super().__init__(time_major=time_major)

    def initialize(self, inputs, sequence_length=None, mask=None, embedding=None):
        if self.embedding_fn is not None:
            self._lookup = self.embedding_fn
        elif embedding is not None:
            self._lookup = _embedding_lookup(embedding)
        else:
            raise ValueError(
                "ScheduledEmbeddingTrainingSampler needs `embedding_fn` or an `embedding` "
                "passed to initialize. Received: embedding_fn=None, embedding=None"
            )
        return super().initialize(inputs, sequence_length=sequence_length, mask=mask)

    def sample(self, time, outputs, state):
        chosen = _bernoulli(
            self.sampling_probability, self.batch_size, self.scheduling_seed, tf.bool
        )
        drawn = _categorical(outputs, self.seed)
        return tf.where(chosen, drawn, tf.fill([self.batch_size], -1))

    def next_inputs(self, time, outputs, state, sample_ids):
        finished, read_inputs, state = super().next_inputs(time, outputs, state, sample_ids)
        sampled = sample_ids > -1
        embedded = tf.cast(self._lookup(tf.maximum(sample_ids, 0)), read_inputs.dtype)
        mixed = tf.where(_expand_to(sampled, read_inputs), embedded, read_inputs)
        return finished, tf.where(tf.reduce_all(finished), read_inputs, mixed), state

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "sampling_probability": _probability_config(
                self._probability_argument, self.sampling_probability
            ),
            "embedding_fn": _serialize(self.embedding_fn),
            "seed": self.seed,
            "scheduling_seed": self.scheduling_seed,
        }

    @classmethod
    def from_config(cls, config: dict):
        return cls(**{**config, "embedding_fn": _deserialize(config.get("embedding_fn"))})


def _expand_to(flags, like):
    """`[batch]` flags with trailing unit axes, to broadcast against `like`."""
    rank = like.shape.rank
    return tf.reshape(flags, [-1] + [1] * (rank - 1)) if rank else flags


@keras.saving.register_keras_serializable(package=_PACKAGE)
class ScheduledOutputTrainingSampler(TrainingSampler):
    """Teacher forcing that sometimes feeds back the step's output itself (TFA's
    `tfa.seq2seq.ScheduledOutputTrainingSampler`; scheduled sampling on outputs).

    With probability `sampling_probability` (per entry and step) the next input is the output
    (through `next_inputs_fn` if given), concatenated with that step's `auxiliary_inputs` if
    `initialize` got some. The sample ids are int32 flags: 1 where the output was fed back.

    Args:
        sampling_probability: the probability of feeding back the output: a float in [0, 1],
            or a scalar or `[batch]` tensor or variable.
        time_major: the inputs are `[time, batch, ...]`. Defaults to `False`.
        seed: the seed of the draws. Defaults to `None`.
        next_inputs_fn: maps outputs to next inputs. Defaults to the outputs themselves.

    Example:

    ```python
    sampler = ScheduledOutputTrainingSampler(0.5, next_inputs_fn=keras.layers.Dense(8))
    decoder = BasicDecoder(keras.layers.GRUCell(8), sampler)
    outputs, _, _ = decoder(frames, sequence_length=lengths)
    ```

    Reference:
        Bengio et al., "Scheduled Sampling for Sequence Prediction with Recurrent Neural
        Networks", NeurIPS 2015.
    """

    def __init__(
        self,
        sampling_probability,
        time_major: bool = False,
        seed: int | None = None,
        next_inputs_fn: Callable | None = None,
    ):
        self._probability_argument = sampling_probability
        self.sampling_probability = _check_probability(sampling_probability)
        self.seed = check_optional_seed("seed", seed)
        self.next_inputs_fn = _check_callable("next_inputs_fn", next_inputs_fn)
        super().__init__(time_major=time_major)

    def initialize(self, inputs, sequence_length=None, mask=None, auxiliary_inputs=None):
        self._auxiliary_inputs = None
        if auxiliary_inputs is not None:
            inputs = tf.nest.map_structure(tf.convert_to_tensor, inputs)
            auxiliary_inputs = tf.nest.map_structure(tf.convert_to_tensor, auxiliary_inputs)
            inputs = tf.nest.map_structure(
                lambda x, y: tf.concat([x, y], -1), inputs, auxiliary_inputs
            )
            if not self.time_major:
                auxiliary_inputs = tf.nest.map_structure(_to_time_major, auxiliary_inputs)
            self._auxiliary_inputs = auxiliary_inputs
        return super().initialize(inputs, sequence_length=sequence_length, mask=mask)

    def sample(self, time, outputs, state):
        return _bernoulli(self.sampling_probability, self.batch_size, self.seed, tf.int32)

    def next_inputs(self, time, outputs, state, sample_ids):
        finished, read_inputs, state = super().next_inputs(time, outputs, state, sample_ids)
        sampled = tf.cast(sample_ids, tf.bool)
        fed_back = outputs if self.next_inputs_fn is None else self.next_inputs_fn(outputs)
        if self._auxiliary_inputs is not None:
            index = tf.minimum(time + 1, self._max_time - 1)
            fed_back = tf.nest.map_structure(
                lambda x, aux: tf.concat([x, tf.gather(aux, index)], -1),
                fed_back,
                self._auxiliary_inputs,
            )
        mixed = tf.where(_expand_to(sampled, read_inputs), fed_back, read_inputs)
        keep_read = tf.logical_or(tf.reduce_all(finished), tf.logical_not(tf.reduce_any(sampled)))
        return finished, tf.where(keep_read, read_inputs, mixed), state

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "sampling_probability": _probability_config(
                self._probability_argument, self.sampling_probability
            ),
            "seed": self.seed,
            "next_inputs_fn": _serialize(self.next_inputs_fn),
        }

    @classmethod
    def from_config(cls, config: dict):
        return cls(**{**config, "next_inputs_fn": _deserialize(config.get("next_inputs_fn"))})


@keras.saving.register_keras_serializable(package=_PACKAGE)
class GreedyEmbeddingSampler(Sampler):
    """Greedy decoding: the argmax id is embedded as the next input (TFA's
    `tfa.seq2seq.GreedyEmbeddingSampler`).

    An entry is finished when it emits `end_token`.

    Args:
        embedding_fn: maps ids to inputs (e.g. a `keras.layers.Embedding`). Defaults to a
            lookup in the `embedding` passed to `initialize` (the decoder's first argument).

    Example:

    ```python
    decoder = BasicDecoder(cell, GreedyEmbeddingSampler(), output_layer, maximum_iterations=20)
    outputs, state, lengths = decoder(
        embedding_matrix, start_tokens=tf.fill([batch], 1), end_token=2, initial_state=state)
    ids = outputs.sample_id  # [batch, <= 20]
    ```
    """

    def __init__(self, embedding_fn: Callable | None = None):
        self.embedding_fn = _check_callable("embedding_fn", embedding_fn)
        self._lookup = embedding_fn
        self._batch_size = None

    @property
    def sample_ids_shape(self):
        return tf.TensorShape([])

    @property
    def sample_ids_dtype(self):
        return tf.int32

    def initialize(self, embedding, start_tokens=None, end_token=None):
        """Starts decoding from `start_tokens`.

        Args:
            embedding: the embedding matrix looked up when `embedding_fn` is not set (ignored
                otherwise).
            start_tokens: int32 `[batch_size]` first ids.
            end_token: int32 scalar id that finishes an entry.

        Returns:
            `(finished, start_inputs)`.
        """
        if self.embedding_fn is not None:
            self._lookup = self.embedding_fn
        elif embedding is not None:
            self._lookup = _embedding_lookup(embedding)
        else:
            raise ValueError(
                f"{type(self).__name__} needs `embedding_fn` or an embedding passed to "
                "initialize. Received: embedding_fn=None, embedding=None"
            )
        self.start_tokens = check_start_tokens(start_tokens)
        self.end_token = check_end_token(end_token)
        self._batch_size = tf.size(self.start_tokens)
        self.start_inputs = self._lookup(self.start_tokens)
        return tf.zeros([self._batch_size], tf.bool), self.start_inputs

    def sample(self, time, outputs, state):
        _check_single_tensor(outputs)
        return tf.argmax(outputs, axis=-1, output_type=tf.int32)

    def next_inputs(self, time, outputs, state, sample_ids):
        finished = tf.equal(sample_ids, self.end_token)
        all_finished = tf.reduce_all(finished)
        next_inputs = tf.nest.map_structure(
            lambda start, embedded: tf.where(all_finished, start, embedded),
            self.start_inputs,
            self._lookup(sample_ids),
        )
        return finished, next_inputs, state

    def get_config(self) -> dict:
        return {"embedding_fn": _serialize(self.embedding_fn)}

    @classmethod
    def from_config(cls, config: dict):
        return cls(**{**config, "embedding_fn": _deserialize(config.get("embedding_fn"))})


def check_start_tokens(start_tokens) -> tf.Tensor:
    """`start_tokens` as an int32 vector, or a `ValueError` naming its shape."""
    if start_tokens is None:
        raise ValueError("`start_tokens` is required. Received: start_tokens=None")
    tokens = tf.convert_to_tensor(start_tokens, dtype=tf.int32, name="start_tokens")
    if tokens.shape.rank != 1:
        raise ValueError(
            "`start_tokens` must be a vector of shape [batch_size]. "
            f"Received: start_tokens with shape {tokens.shape}"
        )
    return tokens


def check_end_token(end_token) -> tf.Tensor:
    """`end_token` as an int32 scalar, or a `ValueError` naming its shape."""
    if end_token is None:
        raise ValueError("`end_token` is required. Received: end_token=None")
    token = tf.convert_to_tensor(end_token, dtype=tf.int32, name="end_token")
    if token.shape.rank != 0:
        raise ValueError(
            f"`end_token` must be a scalar. Received: end_token with shape {token.shape}"
        )
    return token


def _check_single_tensor(outputs) -> None:
    if not tf.is_tensor(outputs):
        raise TypeError(
            f"The decoder outputs must be a single tensor of logits. Received: {type(outputs)}"
        )


@keras.saving.register_keras_serializable(package=_PACKAGE)
class SampleEmbeddingSampler(GreedyEmbeddingSampler):
    """Sampling decoding: an id drawn from `softmax(outputs / softmax_temperature)` is embedded
    as the next input (TFA's `tfa.seq2seq.SampleEmbeddingSampler`).

    Args:
        embedding_fn: maps ids to inputs. Defaults to a lookup in the `embedding` passed to
            `initialize`.
        softmax_temperature: divides the logits before sampling; above 1 flattens the
            distribution, below 1 sharpens it. Defaults to `None` (1).
        seed: the seed of the draws. Defaults to `None`.

    Example:

    ```python
    sampler = SampleEmbeddingSampler(softmax_temperature=0.7, seed=1)
    decoder = BasicDecoder(cell, sampler, output_layer, maximum_iterations=30)
    outputs, _, _ = decoder(embedding_matrix, start_tokens=starts, end_token=2,
                            initial_state=state)
    ```
    """

    def __init__(
        self,
        embedding_fn: Callable | None = None,
        softmax_temperature=None,
        seed: int | None = None,
    ):
        super().__init__(embedding_fn)
        if isinstance(softmax_temperature, int | float) and not softmax_temperature > 0:
            raise ValueError(
                "`softmax_temperature` must be positive. "
                f"Received: softmax_temperature={softmax_temperature!r}"
            )
        self.softmax_temperature = softmax_temperature
        self.seed = seed

    def sample(self, time, outputs, state):
        _check_single_tensor(outputs)
        logits = outputs if self.softmax_temperature is None else outputs / self.softmax_temperature
        return _categorical(logits, self.seed)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "softmax_temperature": self.softmax_temperature,
            "seed": self.seed,
        }


@keras.saving.register_keras_serializable(package=_PACKAGE)
class InferenceSampler(Sampler):
    """Decoding with user functions for the ids, the end test and the next inputs (TFA's
    `tfa.seq2seq.InferenceSampler`), e.g. for continuous outputs.

    Args:
        sample_fn: `fn(outputs) -> sample_ids`.
        sample_shape: the shape of one entry's sample ids.
        sample_dtype: their dtype.
        end_fn: `fn(sample_ids) -> [batch]` booleans, True where an entry ends.
        next_inputs_fn: `fn(sample_ids) -> next_inputs`. Defaults to the sample ids themselves.

    Example:

    ```python
    sampler = InferenceSampler(
        sample_fn=lambda outputs: outputs,
        sample_shape=[3],
        sample_dtype=tf.float32,
        end_fn=lambda sample_ids: tf.reduce_all(sample_ids < 0, axis=-1),
    )
    decoder = BasicDecoder(keras.layers.LSTMCell(3), sampler, maximum_iterations=10)
    outputs, _, _ = decoder(first_frames)  # first_frames: [batch, 3]
    ```
    """

    def __init__(
        self,
        sample_fn: Callable,
        sample_shape,
        sample_dtype,
        end_fn: Callable,
        next_inputs_fn: Callable | None = None,
    ):
        self.sample_fn = _check_callable("sample_fn", sample_fn, allow_none=False)
        self.sample_shape = tf.TensorShape(sample_shape)
        self.sample_dtype = tf.as_dtype(sample_dtype)
        self.end_fn = _check_callable("end_fn", end_fn, allow_none=False)
        self.next_inputs_fn = _check_callable("next_inputs_fn", next_inputs_fn)
        self._batch_size = None

    @property
    def sample_ids_shape(self):
        return self.sample_shape

    @property
    def sample_ids_dtype(self):
        return self.sample_dtype

    def initialize(self, start_inputs):
        self.start_inputs = tf.convert_to_tensor(start_inputs, name="start_inputs")
        self._batch_size = tf.shape(self.start_inputs)[0]
        return tf.zeros([self._batch_size], tf.bool), self.start_inputs

    def sample(self, time, outputs, state):
        return self.sample_fn(outputs)

    def next_inputs(self, time, outputs, state, sample_ids):
        next_inputs = sample_ids if self.next_inputs_fn is None else self.next_inputs_fn(sample_ids)
        return self.end_fn(sample_ids), next_inputs, state

    def get_config(self) -> dict:
        return {
            "sample_fn": _serialize(self.sample_fn),
            "sample_shape": self.sample_shape.as_list(),
            "sample_dtype": self.sample_dtype.name,
            "end_fn": _serialize(self.end_fn),
            "next_inputs_fn": _serialize(self.next_inputs_fn),
        }

    @classmethod
    def from_config(cls, config: dict):
        config = dict(config)
        for name in ("sample_fn", "end_fn", "next_inputs_fn"):
            config[name] = _deserialize(config.get(name))
        return cls(**config)
