"""Dynamic decoding: the decoder interfaces and `dynamic_decode` (TFA's `tfa.seq2seq.decoder`).

`dynamic_decode` calls a decoder's `initialize` once and its `step` inside one `tf.while_loop`
until every batch entry is finished (or `maximum_iterations` is reached), writing each step's
outputs to `tf.TensorArray`s. TensorFlow-only: states, inputs and outputs are `tf.nest`
structures; under XLA (`jit_compile=True`) `maximum_iterations` is required and the outputs
have that many steps.
"""

from __future__ import annotations

import abc
import contextlib
import inspect

import keras
import tensorflow as tf
from tensorflow.python.ops import control_flow_util

from layers.validation import check_bool, check_positive_int


def _transpose_batch_time(tensor):
    """Swaps the first two axes of a tensor of rank >= 2; others are returned unchanged."""
    rank = tensor.shape.rank
    if rank is not None and rank < 2:
        return tensor
    if rank is not None:
        return tf.transpose(tensor, [1, 0] + list(range(2, rank)))
    return tf.transpose(tensor, tf.concat([[1, 0], tf.range(2, tf.rank(tensor))], axis=0))


def _in_xla_context() -> bool:
    return not tf.executing_eagerly() and control_flow_util.GraphOrParentsInXlaContext(
        tf.compat.v1.get_default_graph()
    )


def check_maximum_iterations(value, allow_tensor: bool = True):
    """`None`, a positive Python int, or (with `allow_tensor`) a scalar integer tensor."""
    if value is None or isinstance(value, int):
        return check_positive_int("maximum_iterations", value, allow_none=True)
    if allow_tensor and (tf.is_tensor(value) or hasattr(value, "__array__")):
        tensor = tf.convert_to_tensor(value)
        if tensor.dtype.is_integer and tensor.shape.rank == 0:
            static = tf.get_static_value(tensor)
            if static is not None and static <= 0:
                raise ValueError(
                    "`maximum_iterations` must be a positive integer or None. "
                    f"Received: maximum_iterations={int(static)}"
                )
            return value
    raise ValueError(
        "`maximum_iterations` must be a positive integer (or scalar integer tensor) or None. "
        f"Received: maximum_iterations={value!r}"
    )


class Decoder(metaclass=abc.ABCMeta):
    """The interface `dynamic_decode` drives (TFA's `tfa.seq2seq.Decoder`), for decoders that
    are not Keras layers.

    `initialize()` returns `(finished, initial_inputs, initial_state)`; `step(time, inputs,
    state, training)` returns `(outputs, next_state, next_inputs, finished)`; `finalize`
    (optional) post-processes the stacked outputs; `batch_size`, `output_size` (shapes without
    the batch axis) and `output_dtype` describe the outputs.

    Example:

    ```python
    class CountingDecoder(Decoder):
        batch_size = 2
        output_size = tf.TensorShape([])
        output_dtype = tf.int32

        def initialize(self, name=None):
            return tf.zeros([2], tf.bool), tf.zeros([2], tf.int32), tf.zeros([2], tf.int32)

        def step(self, time, inputs, state, training=None, name=None):
            return state, state + 1, inputs, tf.fill([2], time >= 3)

    outputs, state, lengths = dynamic_decode(CountingDecoder())  # 4 steps
    ```
    """

    @property
    def batch_size(self):
        """The batch size of the inputs."""
        raise NotImplementedError

    @property
    def output_size(self):
        """A (structure of) `tf.TensorShape` or int: each output's shape without the batch."""
        raise NotImplementedError

    @property
    def output_dtype(self):
        """A (structure of) dtype, matching `output_size`."""
        raise NotImplementedError

    @abc.abstractmethod
    def initialize(self, name=None):
        """Returns `(finished, initial_inputs, initial_state)`."""
        raise NotImplementedError

    @abc.abstractmethod
    def step(self, time, inputs, state, training=None, name=None):
        """Returns `(outputs, next_state, next_inputs, finished)`."""
        raise NotImplementedError

    def finalize(self, outputs, final_state, sequence_lengths):
        """Returns `(final_outputs, final_state)`; optional."""
        raise NotImplementedError

    @property
    def tracks_own_finished(self) -> bool:
        """Whether the decoder tracks finished entries itself (it reorders them, as beam
        search does); `dynamic_decode` then takes its `finished` and its state's `lengths`."""
        return False


@keras.saving.register_keras_serializable(package="keras_zoo")
class BaseDecoder(keras.layers.Layer):
    """A decoder that is a Keras layer: calling it runs `dynamic_decode` (TFA's
    `tfa.seq2seq.BaseDecoder`).

    Subclasses implement `initialize(inputs, initial_state=None, **kwargs)`, `step(time,
    inputs, state, training)`, `batch_size`, `output_size`, `output_dtype` and optionally
    `finalize`, as `BasicDecoder` and `BeamSearchDecoder` do. TensorFlow-only.

    Args:
        output_time_major: return outputs as `[time, batch, ...]`. Defaults to `False`.
        impute_finished: zero the outputs and freeze the state of finished entries.
            Defaults to `False`.
        maximum_iterations: the most steps to decode, a positive int (or scalar int tensor,
            which is not saved in the config). Defaults to `None` (until every entry is
            finished; required under XLA).
        parallel_iterations: passed to `tf.while_loop`. Defaults to `32`.
        swap_memory: passed to `tf.while_loop`. Defaults to `False`.
        **kwargs: `keras.layers.Layer` arguments (`name`, `dtype`, ...).

    Example:

    ```python
    decoder = BasicDecoder(cell, TrainingSampler(), output_layer, impute_finished=True)
    outputs, state, lengths = decoder(inputs, sequence_length=lengths, initial_state=state)
    ```
    """

    def __init__(
        self,
        output_time_major: bool = False,
        impute_finished: bool = False,
        maximum_iterations=None,
        parallel_iterations: int = 32,
        swap_memory: bool = False,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.output_time_major = check_bool("output_time_major", output_time_major)
        self.impute_finished = check_bool("impute_finished", impute_finished)
        self.maximum_iterations = check_maximum_iterations(maximum_iterations)
        self.parallel_iterations = check_positive_int("parallel_iterations", parallel_iterations)
        self.swap_memory = check_bool("swap_memory", swap_memory)
        # TFA's decoders take `None`, Python scalars and state structures positionally.
        self._allow_non_tensor_positional_args = True
        # A `mask` keyword goes to the sampler, and a masked input is read whole (the sampler
        # takes `sequence_length` or `mask`); the outputs carry no Keras mask.
        self.supports_masking = True

        object.__setattr__(self, "_arguments_aside", {})  # not tracked by Keras

    def build(self, input_shape=None):
        # Sub-layers are built by `initialize`, once the step inputs are known.
        self.built = True

    def __call__(self, *args, **kwargs):
        # Keras takes call arguments that are tensors or structures of tensors only. TFA's
        # decoders also take Python numbers beside tensors (`end_token=2` among the sampler's
        # keyword arguments), which become tensors here, and states holding `TensorArray`s
        # (an attention wrapper's alignment history), which go to `call` beside Keras.
        arguments = inspect.signature(self.call).bind(*args, **kwargs).arguments
        parameters = inspect.signature(self.call).parameters
        catch_all = [n for n, p in parameters.items() if p.kind is p.VAR_KEYWORD]
        extra = dict(arguments.pop(catch_all[0], {})) if catch_all else {}
        extra = {name: _plain_to_tensor(value) for name, value in extra.items()}
        arguments = {**arguments, **extra}
        first = next(iter(parameters))
        aside = {
            name: arguments.pop(name)
            for name in list(arguments)
            if name != first and _holds_tensor_array(arguments[name])
        }
        object.__setattr__(self, "_arguments_aside", aside)
        try:
            return super().__call__(**arguments)
        finally:
            object.__setattr__(self, "_arguments_aside", {})

    def call(self, inputs, initial_state=None, training=None, **kwargs):
        arguments = {**kwargs, "initial_state": initial_state, **self._arguments_aside}
        return dynamic_decode(
            self,
            output_time_major=self.output_time_major,
            impute_finished=self.impute_finished,
            maximum_iterations=self.maximum_iterations,
            parallel_iterations=self.parallel_iterations,
            swap_memory=self.swap_memory,
            training=training,
            decoder_init_input=inputs,
            decoder_init_kwargs=arguments,
        )

    def compute_mask(self, inputs, mask=None):
        return None

    @property
    def batch_size(self):
        """The batch size of the inputs."""
        raise NotImplementedError

    @property
    def output_size(self):
        """A (structure of) `tf.TensorShape` or int: each output's shape without the batch."""
        raise NotImplementedError

    @property
    def output_dtype(self):
        """A (structure of) dtype, matching `output_size`."""
        raise NotImplementedError

    def initialize(self, inputs, initial_state=None, **kwargs):
        """Returns `(finished, initial_inputs, initial_state)`."""
        raise NotImplementedError

    def step(self, time, inputs, state, training):
        """Returns `(outputs, next_state, next_inputs, finished)`."""
        raise NotImplementedError

    def finalize(self, outputs, final_state, sequence_lengths):
        """Returns `(final_outputs, final_state)`; optional."""
        raise NotImplementedError

    @property
    def tracks_own_finished(self) -> bool:
        """Whether the decoder tracks finished entries itself (see `Decoder`)."""
        return False

    def get_config(self) -> dict:
        maximum_iterations = self.maximum_iterations
        if maximum_iterations is not None and not isinstance(maximum_iterations, int):
            static = tf.get_static_value(maximum_iterations)
            maximum_iterations = None if static is None else int(static)
        return {
            **super().get_config(),
            "output_time_major": self.output_time_major,
            "impute_finished": self.impute_finished,
            "maximum_iterations": maximum_iterations,
            "parallel_iterations": self.parallel_iterations,
            "swap_memory": self.swap_memory,
        }


def _holds_tensor_array(value) -> bool:
    return any(isinstance(v, tf.TensorArray) for v in tf.nest.flatten(value))


def _plain_to_tensor(value):
    """Python numbers and (nested) lists of them as tensors; anything else unchanged."""
    leaves = tf.nest.flatten(value)
    if value is None or not leaves:
        return value
    if all(isinstance(v, int | float | bool) and not tf.is_tensor(v) for v in leaves):
        return tf.convert_to_tensor(value)
    return value


def _with_batch(batch_size, shape) -> tf.TensorShape:
    return tf.TensorShape([tf.get_static_value(batch_size)]).concatenate(shape)


def _zeros(batch_size, shape: tf.TensorShape, dtype):
    if shape.is_fully_defined():
        dims = tf.concat([[batch_size], tf.constant(shape.as_list(), tf.int32)], axis=0)
    else:
        raise ValueError(f"impute_finished needs fully defined output shapes. Received: {shape}")
    return tf.zeros(dims, dtype=dtype)


def _broadcast_flags(flags, like):
    """`flags` (`[batch]` or `[batch, beam]`) with trailing unit axes to broadcast to `like`."""
    extra = like.shape.rank - flags.shape.rank
    return (
        tf.reshape(flags, tf.concat([tf.shape(flags), tf.ones([extra], tf.int32)], 0))
        if (extra > 0)
        else flags
    )


def dynamic_decode(
    decoder,
    output_time_major: bool = False,
    impute_finished: bool = False,
    maximum_iterations=None,
    parallel_iterations: int = 32,
    swap_memory: bool = False,
    training=None,
    scope: str | None = None,
    enable_tflite_convertible: bool = False,
    **kwargs,
):
    """Runs a decoder until every batch entry is finished (TFA's `tfa.seq2seq.dynamic_decode`).

    Calls `decoder.initialize` once and `decoder.step` in a single `tf.while_loop`.
    TensorFlow-only.

    Args:
        decoder: a `Decoder` or a `BaseDecoder`.
        output_time_major: return `[time, batch, ...]` outputs. Defaults to `False`.
        impute_finished: zero the outputs and copy the state of finished entries through.
            Defaults to `False`.
        maximum_iterations: the most steps, a positive int or scalar int tensor. Defaults to
            `None` (until all entries finish; required under XLA).
        parallel_iterations: passed to `tf.while_loop`. Defaults to `32`.
        swap_memory: passed to `tf.while_loop`. Defaults to `False`.
        training: passed to the decoder's `step`. Defaults to `None`.
        scope: a name scope. Defaults to `"decoder"`.
        enable_tflite_convertible: keep the output `TensorArray`s 1-D and static (batch size
            1) for TFLite. Defaults to `False`.
        **kwargs: for a `BaseDecoder`, `decoder_init_input` and `decoder_init_kwargs`, passed
            to its `initialize`.

    Returns:
        `(final_outputs, final_state, final_sequence_lengths)`.

    Example:

    ```python
    decoder = BasicDecoder(cell, GreedyEmbeddingSampler(), output_layer)
    outputs, state, lengths = dynamic_decode(
        decoder,
        maximum_iterations=20,
        decoder_init_input=embedding_matrix,
        decoder_init_kwargs=dict(start_tokens=starts, end_token=2, initial_state=state),
    )
    ```
    """
    check_bool("output_time_major", output_time_major)
    check_bool("impute_finished", impute_finished)
    with tf.name_scope(scope or "decoder"):
        in_xla = _in_xla_context()
        check_maximum_iterations(maximum_iterations)
        if maximum_iterations is not None:
            maximum_iterations = tf.convert_to_tensor(
                maximum_iterations, dtype=tf.int32, name="maximum_iterations"
            )
            if tf.get_static_value(maximum_iterations) is None:
                tf.debugging.assert_greater(
                    maximum_iterations, 0, message="maximum_iterations must be greater than 0"
                )
        elif in_xla:
            raise ValueError(
                "`maximum_iterations` is required under XLA (jit_compile=True). "
                "Received: maximum_iterations=None"
            )

        if isinstance(decoder, Decoder):
            initial_finished, initial_inputs, initial_state = decoder.initialize()
        else:
            init_input = kwargs.pop("decoder_init_input", None)
            init_kwargs = kwargs.pop("decoder_init_kwargs", None) or {}
            initial_finished, initial_inputs, initial_state = decoder.initialize(
                init_input, **init_kwargs
            )
        if kwargs:
            raise TypeError(f"dynamic_decode got unexpected arguments: {sorted(kwargs)}")

        batch_size = decoder.batch_size
        output_shapes = tf.nest.map_structure(tf.TensorShape, decoder.output_size)
        output_dtypes = decoder.output_dtype
        if enable_tflite_convertible:
            tf.debugging.assert_equal(
                batch_size, 1, message="TFLite conversion requires a batch size of 1"
            )

        if maximum_iterations is not None:
            initial_finished = tf.logical_or(initial_finished, maximum_iterations <= 0)
        initial_lengths = tf.zeros_like(initial_finished, dtype=tf.int32)
        fixed_size = maximum_iterations is not None and (in_xla or enable_tflite_convertible)

        def new_array(shape, dtype):
            if enable_tflite_convertible:
                element_shape = shape if shape.rank else tf.TensorShape([1])
            else:
                element_shape = _with_batch(batch_size, shape)
            return tf.TensorArray(
                dtype=dtype,
                size=maximum_iterations if fixed_size else 0,
                dynamic_size=not fixed_size,
                element_shape=element_shape,
            )

        initial_arrays = tf.nest.map_structure(new_array, output_shapes, output_dtypes)
        if impute_finished:
            zero_outputs = tf.nest.map_structure(
                lambda shape, dtype: _zeros(batch_size, shape, dtype), output_shapes, output_dtypes
            )

        def condition(time, arrays, state, inputs, finished, lengths):
            return tf.logical_not(tf.reduce_all(finished))

        def body(time, arrays, state, inputs, finished, lengths):
            outputs, next_state, next_inputs, step_finished = decoder.step(
                time, inputs, state, training
            )
            state_lengths = None
            if decoder.tracks_own_finished:
                next_finished = step_finished
                state_lengths = getattr(next_state, "lengths", None)
            else:
                next_finished = tf.logical_or(step_finished, finished)
            if state_lengths is not None:
                next_lengths = tf.cast(state_lengths, tf.int32)
            else:
                next_lengths = tf.where(finished, lengths, time + 1)

            tf.nest.assert_same_structure(state, next_state)
            tf.nest.assert_same_structure(arrays, outputs)
            tf.nest.assert_same_structure(inputs, next_inputs)

            if impute_finished:
                outputs = tf.nest.map_structure(
                    lambda out, zero: tf.where(_broadcast_flags(finished, zero), zero, out),
                    outputs,
                    zero_outputs,
                )
                next_state = tf.nest.map_structure(
                    lambda new, old: _copy_finished(finished, new, old), next_state, state
                )
            if enable_tflite_convertible:
                outputs = tf.nest.map_structure(lambda x: tf.reshape(x, [-1]), outputs)
            arrays = tf.nest.map_structure(lambda ta, out: ta.write(time, out), arrays, outputs)
            return time + 1, arrays, next_state, next_inputs, next_finished, next_lengths

        loop_vars = (
            tf.constant(0, tf.int32),
            initial_arrays,
            initial_state,
            initial_inputs,
            initial_finished,
            initial_lengths,
        )
        _, final_arrays, final_state, _, _, final_lengths = tf.while_loop(
            condition,
            body,
            loop_vars=loop_vars,
            parallel_iterations=parallel_iterations,
            maximum_iterations=maximum_iterations,
            swap_memory=swap_memory,
        )

        final_outputs = tf.nest.map_structure(lambda ta: ta.stack(), final_arrays)
        with contextlib.suppress(NotImplementedError):  # `finalize` is optional
            final_outputs, final_state = decoder.finalize(final_outputs, final_state, final_lengths)

        if not output_time_major:
            if enable_tflite_convertible:
                final_outputs = tf.nest.map_structure(lambda x: tf.expand_dims(x, 1), final_outputs)
            final_outputs = tf.nest.map_structure(_transpose_batch_time, final_outputs)
    return final_outputs, final_state, final_lengths


def _copy_finished(finished, new, old):
    """`old` where an entry is finished, else `new`; `TensorArray`s and scalars pass through."""
    if isinstance(old, tf.TensorArray) or old.shape.rank == 0:
        return new
    new.set_shape(old.shape)
    return tf.where(_broadcast_flags(finished, new), old, new)


# --------------------------------------------------------------------------------------------
# Helpers shared by `BasicDecoder` and `BeamSearchDecoder`: the cell and the output layer.
# --------------------------------------------------------------------------------------------


def check_rnn_cell(cell):
    """A layer with a `state_size` and a `call(inputs, states)`, as Keras RNN cells have."""
    if not isinstance(cell, keras.layers.Layer) or not hasattr(cell, "state_size"):
        raise TypeError(
            "`cell` must be a Keras RNN cell (a layer with `state_size`, e.g. "
            f"keras.layers.LSTMCell). Received: cell={cell!r}"
        )
    return cell


def check_output_layer(output_layer):
    if output_layer is not None and not isinstance(output_layer, keras.layers.Layer):
        raise TypeError(
            "`output_layer` must be a Keras layer (e.g. keras.layers.Dense) or None. "
            f"Received: output_layer={output_layer!r}"
        )
    return output_layer


def initial_cell_state(cell, batch_size):
    """The cell's zero state for `batch_size` entries (TFA requires `initial_state`; here it
    defaults to this)."""
    if hasattr(cell, "get_initial_state"):
        return cell.get_initial_state(batch_size=batch_size)
    return tf.nest.map_structure(
        lambda size: tf.zeros(tf.concat([[batch_size], tf.TensorShape(size).as_list()], 0)),
        cell.state_size,
    )


def build_step_layers(cell, output_layer, step_inputs) -> None:
    """Builds the cell for the step inputs and the output layer for the cell's outputs, before
    the decoding loop (so that no variable is created inside it)."""
    if not cell.built:
        shapes = tf.nest.map_structure(lambda x: tuple(x.shape), step_inputs)
        cell.build(shapes)
    if output_layer is not None and not output_layer.built:
        size = cell.output_size
        # A nested output size: the layer builds on its first call instead.
        with contextlib.suppress(TypeError, ValueError):
            output_layer.build((None, *tf.TensorShape(size).as_list()))


def rnn_output_size(cell, output_layer) -> tf.TensorShape:
    """The shape (without batch) of the cell's output after the output layer."""
    size = tf.TensorShape(cell.output_size)
    if output_layer is None:
        return size
    shape = output_layer.compute_output_shape((None, *size.as_list()))
    return tf.TensorShape(shape[1:])


def rnn_output_dtype(cell, output_layer, state_dtype):
    """The dtype of the decoder's `rnn_output`: the output layer's (else the cell's) compute
    dtype, or the state's dtype for layers without one."""
    layer = output_layer if output_layer is not None else cell
    dtype = getattr(layer, "compute_dtype", None)
    return tf.as_dtype(dtype) if dtype is not None else state_dtype
