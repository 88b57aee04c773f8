"""Parses a batch of serialised examples back into the dtypes and shapes of the schema."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import tensorflow as tf

from tfrecords.schema import FeatureSpec

# `tf.io.decode_raw` has no unsigned 32/64-bit kernels: decode as the signed twin, then bitcast.
_DECODE_AS = {"uint32": tf.int32, "uint64": tf.int64}


def parse_spec(spec: FeatureSpec):
    if spec.is_string:
        if spec.is_ragged:
            return tf.io.RaggedFeature(tf.string)
        return tf.io.FixedLenFeature(spec.shape, tf.string)
    return tf.io.FixedLenFeature([], tf.string)


def _decode_numbers(data: tf.Tensor, dtype: str) -> tf.Tensor:
    decoded = tf.io.decode_raw(data, _DECODE_AS.get(dtype, tf.as_dtype(dtype)), little_endian=True)
    return tf.bitcast(decoded, tf.as_dtype(dtype)) if dtype in _DECODE_AS else decoded


def _decode_fixed(data: tf.Tensor, spec: FeatureSpec) -> tf.Tensor:
    if spec.encoding == "raw":
        values = _decode_numbers(data, spec.dtype)
        # The batch size comes from `data`: with zero-sized examples `-1` would be ambiguous.
        return tf.reshape(values, [tf.shape(data)[0], *spec.shape])
    decode = tf.io.decode_png if spec.encoding == "png" else tf.io.decode_jpeg
    kwargs = {"dtype": tf.as_dtype(spec.dtype)} if spec.encoding == "png" else {}
    signature = tf.TensorSpec(spec.shape, tf.as_dtype(spec.dtype))
    images = tf.map_fn(
        lambda image: tf.ensure_shape(decode(image, channels=spec.shape[2], **kwargs), spec.shape),
        data,
        fn_output_signature=signature,
    )
    return tf.ensure_shape(images, [None, *spec.shape])


def _decode_ragged(data: tf.Tensor, spec: FeatureSpec) -> tf.RaggedTensor:
    # Row i holds len(data[i]) / row_bytes values: concatenating the rows and decoding once keeps
    # the whole batch a single vectorised decode.
    row_bytes = np.dtype(spec.dtype).itemsize * int(np.prod(spec.shape[1:], dtype=np.int64))
    lengths = tf.cast(tf.strings.length(data, unit="BYTE") // row_bytes, tf.int64)
    flat = _decode_numbers(tf.strings.reduce_join(data), spec.dtype)
    flat = tf.reshape(flat, [-1, *spec.shape[1:]])
    return tf.RaggedTensor.from_row_lengths(flat, lengths, validate=False)


def make_batch_parser(features: dict[str, FeatureSpec]) -> Callable[[tf.Tensor], dict]:
    """A function from a 1-D string tensor of serialised examples to a dict of batched features."""
    specs = {name: parse_spec(spec) for name, spec in features.items()}

    def parse(serialized: tf.Tensor) -> dict:
        parsed = tf.io.parse_example(serialized, specs)
        out = {}
        for name, spec in features.items():
            if spec.is_string:
                out[name] = parsed[name]
            elif spec.is_ragged:
                out[name] = _decode_ragged(parsed[name], spec)
            else:
                out[name] = _decode_fixed(parsed[name], spec)
        return out

    return parse
