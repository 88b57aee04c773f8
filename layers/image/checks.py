"""Input checks and rank helpers shared by the image ops (TensorFlow-only).

Every error names the argument and the value received. Images of rank 2 (`HW`), 3 (`HWC`) and
4 (`NHWC`) are brought to rank 4 for the work and back to their own rank afterwards.
"""

from __future__ import annotations

import tensorflow as tf

FLOAT_DTYPES = (tf.float16, tf.float32, tf.float64)
PAD_MODES = ("REFLECT", "CONSTANT", "SYMMETRIC")


def as_image(name: str, value, ranks=(2, 3, 4), dtypes=None) -> tf.Tensor:
    """`value` as a tensor of one of `ranks` (checked when the rank is known) and `dtypes`."""
    tensor = tf.convert_to_tensor(value, name=name)
    rank = tensor.shape.rank
    if rank is None and tuple(ranks) == (2, 3, 4):
        # Unknown until run time (as TFA allows): checked in the graph, reshaped dynamically.
        check = tf.debugging.assert_rank_in(
            tensor, [2, 3, 4], message=f"`{name}` must be a tensor of rank 2, 3 or 4"
        )
        with tf.control_dependencies([check]):
            tensor = tf.identity(tensor)
    elif rank is None:
        raise ValueError(
            f"`{name}` must have a known rank, one of {list(ranks)}. "
            f"Received: {name}.shape=<unknown rank>"
        )
    if rank is not None and rank not in ranks:
        raise ValueError(
            f"`{name}` must be a tensor of rank {' or '.join(map(str, ranks))}. "
            f"Received: {name}.shape={tuple(tensor.shape)}"
        )
    if dtypes is not None and tensor.dtype not in dtypes:
        names = [d.name for d in dtypes]
        raise TypeError(
            f"`{name}` must have a dtype in {names}. Received: {name}.dtype={tensor.dtype.name}"
        )
    return tensor


def to_4d(image: tf.Tensor) -> tf.Tensor:
    """`HW` -> `1HW1`, `HWC` -> `1HWC`, `NHWC` unchanged (also for a rank known at run time)."""
    rank = image.shape.rank
    if rank is None:
        dynamic_rank = tf.rank(image)
        left = tf.ones([tf.cast(dynamic_rank <= 3, tf.int32)], tf.int32)
        right = tf.ones([tf.cast(dynamic_rank == 2, tf.int32)], tf.int32)
        batch = tf.reshape(image, tf.concat([left, tf.shape(image), right], axis=0))
        batch.set_shape([None, None, None, None])
        return batch
    if rank == 2:
        return image[None, :, :, None]
    if rank == 3:
        return image[None]
    return image


def from_4d(image: tf.Tensor, like: tf.Tensor) -> tf.Tensor:
    """The inverse of `to_4d`: `image` back to the rank of the original tensor `like`."""
    rank = like.shape.rank
    if rank is None:
        dynamic_rank = tf.rank(like)
        begin = tf.cast(dynamic_rank <= 3, tf.int32)
        end = 4 - tf.cast(dynamic_rank == 2, tf.int32)
        return tf.reshape(image, tf.shape(image)[begin:end])
    if rank == 2:
        return image[0, :, :, 0]
    if rank == 3:
        return image[0]
    return image


def check_pad_mode(name: str, value) -> str:
    """One of `REFLECT`, `CONSTANT`, `SYMMETRIC` (any case), returned in upper case."""
    if not isinstance(value, str) or value.upper() not in PAD_MODES:
        raise ValueError(f"`{name}` must be one of {list(PAD_MODES)}. Received: {name}={value!r}")
    return value.upper()


def check_filter_shape(name: str, value) -> tuple[int, int]:
    """A positive integer or a pair of them (TFA's `filter_shape`), returned as a pair."""
    pair = (value, value) if isinstance(value, int) and not isinstance(value, bool) else value
    ok = isinstance(pair, tuple | list) and len(pair) == 2
    ok = ok and all(isinstance(v, int) and not isinstance(v, bool) and v >= 1 for v in pair)
    if not ok:
        raise ValueError(
            f"`{name}` must be an integer >= 1 or a pair of them. Received: {name}={value!r}"
        )
    return tuple(pair)


def check_lower_choice(name: str, value, choices) -> str:
    """A string among `choices` (compared in lower case), returned in upper case."""
    if not isinstance(value, str) or value.lower() not in choices:
        raise ValueError(f"`{name}` must be one of {list(choices)}. Received: {name}={value!r}")
    return value.lower().upper()
