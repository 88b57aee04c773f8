"""`read`: sharded TFRecords to a batched, parsed, prefetched `tf.data.Dataset`."""

from __future__ import annotations

import logging
import os

import tensorflow as tf

from layers.validation import check_positive_int
from tfrecords.files import load_schema, resolve_files
from tfrecords.parsing import make_batch_parser

logger = logging.getLogger("tfrecords")

# Records travel in chunks from each shard to the interleave, so the per-shard integrity count
# costs one step per chunk, not per record.
_CHUNK = 256
_UNBATCHED_PARSE_SIZE = 256
_ON_ERROR = ("raise", "skip")


def read(
    files,
    batch_size: int | None = None,
    shuffle: bool = False,
    label: str | None = None,
    features: str | list[str] | None = None,
    on_error: str = "raise",
    cache: bool | str = False,
    shuffle_buffer_size: int = 10_000,
    seed: int | None = None,
    drop_remainder: bool = False,
    input_context: tf.distribute.InputContext | None = None,
) -> tf.data.Dataset:
    """Reads TFRecords written by `tfrecords.write` into a parsed, batched `tf.data.Dataset`.

    The pipeline: shards are read in parallel (`interleave`), each shard's record count is
    checked against the schema, records are optionally cached and shuffled, then batched and
    parsed a whole batch at a time (`tf.io.parse_example` plus one `tf.io.decode_raw` per
    feature), and prefetched; parallelism uses `tf.data.AUTOTUNE`. Values come back with the
    written dtypes and shapes; text and bytes as `tf.string`; variable-length features as
    `tf.RaggedTensor` in batches (as 1-D tensors when `batch_size=None`).

    Under `tf.distribute` (e.g. `model.fit` with `MultiWorkerMirroredStrategy`) the dataset is
    auto-sharded by file: each worker reads its own shards. For
    `strategy.distribute_datasets_from_function`, pass its `input_context`.

    Args:
        files: a shard path, glob pattern, directory, the prefix given to `write`, or a list
            of them.
        batch_size: examples per batch; `None` yields single examples. Defaults to `None`.
        shuffle: shuffle shard order and examples (a buffer of `shuffle_buffer_size`) every
            epoch. Without it the order is deterministic. Defaults to `False`.
        label: a feature yielded apart, as `(features, label)` for `model.fit`.
            Defaults to `None`.
        features: the feature(s) to yield: a name yields that tensor bare; a list yields a
            dict. Defaults to `None`: every feature but `label` as a dict, or, when `label` is
            set and a single feature remains, that feature bare (so a single-input model can
            `fit` on it directly).
        on_error: `"raise"` stops with an error naming the damaged shard; `"skip"` keeps every
            intact record before the damage, drops the rest of that shard and logs (logger
            `"tfrecords"`) how many records were skipped. Defaults to `"raise"`.
        cache: `True` caches the raw records in memory after the first epoch, a string caches
            them in that file. Defaults to `False`.
        shuffle_buffer_size: examples in the shuffle buffer. Defaults to `10000`.
        seed: shuffle seed. Defaults to `None`.
        drop_remainder: drop a last batch smaller than `batch_size`. Defaults to `False`.
        input_context: a `tf.distribute.InputContext`; shards are split between its input
            pipelines. Defaults to `None`.

    Returns:
        A `tf.data.Dataset`.

    Raises:
        FileNotFoundError: `files` matches nothing, or the schema file is missing.
        ValueError: an unknown feature or bad argument.
        tf.errors.InvalidArgumentError: while iterating, with `on_error="raise"`, when a shard
            is truncated or corrupt; the message names the shard and how many of its records
            are intact. (A Python exception type cannot cross the tf.data runtime;
            `tfrecords.validate` raises `CorruptRecordError` for the same check.)

    Example:

    ```python
    tfrecords.write({"image": images, "label": labels}, "data/train", num_shards=4)
    model.fit(tfrecords.read("data/train", batch_size=128, shuffle=True, label="label"))
    ```
    """
    _check_arguments(batch_size, on_error, shuffle_buffer_size, cache)
    paths = resolve_files(files)
    schema, counts = load_schema(paths)
    selected, unwrap = _selection(list(schema.features), label, features)
    needed = [*selected, *([label] if label is not None else [])]
    parse = make_batch_parser({name: schema.features[name] for name in needed})
    deterministic = (not shuffle) or seed is not None

    shards = tf.data.Dataset.from_tensor_slices((paths, tf.constant(counts, tf.int64)))
    if input_context is not None:
        shards = shards.shard(input_context.num_input_pipelines, input_context.input_pipeline_id)
    if shuffle:
        shards = shards.shuffle(len(paths), seed=seed, reshuffle_each_iteration=True)
    read_shard = _shard_reader(schema.compression, on_error)
    records = shards.interleave(
        read_shard,
        cycle_length=min(len(paths), max(2, os.cpu_count() or 1)),
        num_parallel_calls=tf.data.AUTOTUNE,
        deterministic=deterministic,
    ).unbatch()
    if cache:
        records = records.cache("" if cache is True else cache)
    if shuffle:
        records = records.shuffle(shuffle_buffer_size, seed=seed, reshuffle_each_iteration=True)
    dataset = records.batch(batch_size or _UNBATCHED_PARSE_SIZE, drop_remainder=drop_remainder)
    dataset = dataset.map(parse, num_parallel_calls=tf.data.AUTOTUNE, deterministic=deterministic)
    if batch_size is None:
        dataset = dataset.unbatch()

    def arrange(example: dict):
        inputs = example[selected[0]] if unwrap else {name: example[name] for name in selected}
        return inputs if label is None else (inputs, example[label])

    dataset = dataset.map(arrange)
    if input_context is None and on_error == "raise":
        # The schema knows how many batches come out. Keras's `fit` counts an extra optimizer
        # iteration per epoch on datasets of unknown cardinality, and shows no total.
        total = sum(counts)
        batches = total if batch_size is None else total // batch_size
        if batch_size is not None and not drop_remainder and total % batch_size:
            batches += 1
        dataset = dataset.apply(tf.data.experimental.assert_cardinality(batches))
    options = tf.data.Options()
    policy = tf.data.experimental.AutoShardPolicy
    # Sharding by file keeps each worker's reads sequential and never reads a record twice.
    options.experimental_distribute.auto_shard_policy = (
        policy.OFF if input_context is not None else policy.FILE
    )
    return dataset.with_options(options).prefetch(tf.data.AUTOTUNE)


def _check_arguments(batch_size, on_error, shuffle_buffer_size, cache) -> None:
    check_positive_int("batch_size", batch_size, allow_none=True)
    if on_error not in _ON_ERROR:
        raise ValueError(f"`on_error` must be one of {_ON_ERROR}. Received: on_error={on_error!r}")
    check_positive_int("shuffle_buffer_size", shuffle_buffer_size)
    if not isinstance(cache, bool | str):
        raise ValueError(f"`cache` must be a bool or a file path. Received: cache={cache!r}")


def _selection(names: list[str], label, features) -> tuple[list[str], bool]:
    """The features to yield and whether to yield the single one bare."""
    if label is not None and label not in names:
        raise ValueError(f"`label` must be one of the features {names}. Received: label={label!r}")
    if features is None:
        selected = [n for n in names if n != label]
        if not selected:
            raise ValueError(f"No features remain besides the label {label!r}.")
        return selected, label is not None and len(selected) == 1
    requested = [features] if isinstance(features, str) else list(features)
    unknown = [n for n in requested if n not in names]
    if unknown or not requested:
        raise ValueError(
            f"`features` must name features among {names}. Received: features={features!r}"
        )
    return requested, isinstance(features, str)


def _log_skipped(path, intact, expected) -> bool:
    path = path.numpy().decode("utf-8", "replace")
    intact, expected = int(intact), int(expected)
    logger.warning(
        "Skipped %d damaged record(s) of TFRecord shard '%s': kept its first %d intact "
        "record(s) of %d.",
        max(expected - intact, 0),
        path,
        intact,
        expected,
    )
    return False


def _shard_reader(compression: str | None, on_error: str):
    """Reads one shard in chunks and checks its record count against the schema at its end."""

    def on_end(path, intact, expected):
        ok = tf.equal(intact, expected)
        if on_error == "skip":
            return tf.cond(
                ok,
                lambda: tf.constant(False),
                lambda: tf.py_function(_log_skipped, [path, intact, expected], tf.bool),
            )
        message = tf.strings.join(
            [
                "Corrupt TFRecord shard '",
                path,
                "': it holds ",
                tf.strings.as_string(intact),
                " readable records but its schema lists ",
                tf.strings.as_string(expected),
                " (the file is truncated, a record fails its CRC check, or the shard changed "
                "after writing). Pass on_error='skip' to keep the intact records.",
            ]
        )
        with tf.control_dependencies([tf.debugging.Assert(ok, [message])]):
            return tf.constant(False)

    def read_shard(path, expected):
        # ignore_errors ends the shard at its first damaged record; the count check at the end
        # turns that into an error naming the file (or a logged skip).
        chunks = (
            tf.data.TFRecordDataset(path, compression_type=compression or "")
            .ignore_errors()
            .batch(_CHUNK)
            .map(lambda chunk: (chunk, False))
        )
        end = tf.data.Dataset.from_tensors((tf.zeros([0], tf.string), True))

        def count(intact, element):
            chunk, is_end = element
            intact += tf.size(chunk, out_type=tf.int64)
            keep = tf.cond(
                is_end, lambda: on_end(path, intact, expected), lambda: tf.constant(True)
            )
            return intact, (chunk, keep)

        return (
            chunks.concatenate(end)
            .scan(tf.constant(0, tf.int64), count)
            .filter(lambda chunk, keep: keep)
            .map(lambda chunk, keep: chunk)
        )

    return read_shard
