"""T5's span corruption (random spans replaced by sentinels) from a TFRecord text corpus."""

from __future__ import annotations

import keras
import tensorflow as tf

import tfrecords
from layers.validation import (
    check_int_at_least,
    check_optional_seed,
    check_positive_float,
    check_positive_int,
    check_unit_interval,
)
from zoo.text.t5.preprocessor import T5Preprocessor
from zoo.text.t5.seq2seq_lm import T5Seq2SeqLM


def _counts(length, noise_density: float, mean_noise_span_length: float):
    """Noise tokens and noise spans of a sequence of `length` tokens (T5's rounding)."""
    length_f = tf.cast(length, tf.float32)
    num_noise = tf.cast(tf.round(length_f * noise_density), tf.int32)
    num_noise = tf.clip_by_value(num_noise, 1, tf.maximum(length - 1, 1))
    num_spans = tf.cast(tf.round(tf.cast(num_noise, tf.float32) / mean_noise_span_length), tf.int32)
    return num_noise, tf.maximum(num_spans, 1)


def _segment_lengths(num_items, num_segments, seed):
    """A uniformly random split of `num_items` into `num_segments` non-empty parts."""
    first_in_segment = tf.concat(
        [tf.ones([num_segments - 1], tf.int32), tf.zeros([num_items - num_segments], tf.int32)], 0
    )
    first_in_segment = tf.random.experimental.stateless_shuffle(first_in_segment, seed)
    segment_id = tf.cumsum(tf.pad(first_in_segment, [[1, 0]]))
    return tf.math.unsorted_segment_sum(tf.ones_like(segment_id), segment_id, num_segments)


def noise_span_mask(
    length, noise_density: float = 0.15, mean_noise_span_length: float = 3.0, seed=(0, 0)
) -> tf.Tensor:
    """Which of `length` tokens to corrupt: bool `(length,)`, in alternating random spans.

    `round(length * noise_density)` tokens (at least 1, at most `length - 1`) are noise, in
    `round(noise / mean_noise_span_length)` spans (at least 1); noise and kept tokens are each
    split into that many non-empty spans at random, and the spans alternate, kept first, as in
    T5's `random_spans_noise_mask`. Reproducible from the stateless `seed` (a pair of ints).

    Example:

    ```python
    mask = noise_span_mask(20, seed=(1, 2))  # 3 noise tokens in 1 span
    ```
    """
    length = tf.convert_to_tensor(length, tf.int32)
    num_noise, num_spans = _counts(length, noise_density, mean_noise_span_length)
    seeds = tf.random.experimental.stateless_split(tf.cast(seed, tf.int64), 2)
    noise_lengths = _segment_lengths(num_noise, num_spans, seeds[0])
    kept_lengths = _segment_lengths(length - num_noise, num_spans, seeds[1])
    interleaved = tf.reshape(tf.stack([kept_lengths, noise_lengths], axis=1), [-1])
    span_starts = tf.cumsum(interleaved)[:-1]
    span_start_marks = tf.scatter_nd(span_starts[:, None], tf.ones_like(span_starts), [length])
    return tf.equal(tf.math.floormod(tf.cumsum(span_start_marks), 2), 1)


def _spans_to_sentinels(token_ids, mask, first_sentinel_id: int):
    """Each run of `mask` becomes one sentinel (counting down from `first_sentinel_id`)."""
    previous = tf.pad(mask[:-1], [[1, 0]])
    first = mask & ~previous
    sentinels = first_sentinel_id + 1 - tf.cumsum(tf.cast(first, tf.int32))
    ids = tf.where(first, sentinels, token_ids)
    return tf.boolean_mask(ids, ~(mask & previous))


def corrupt_spans(
    token_ids,
    first_sentinel_id: int,
    end_id: int | None = None,
    noise_density: float = 0.15,
    mean_noise_span_length: float = 3.0,
    seed=(0, 0),
) -> tuple[tf.Tensor, tf.Tensor]:
    """T5's span corruption of one sequence: `(inputs, targets)`, int32 1-D.

    Random spans (`noise_span_mask`) are each replaced in the inputs by one sentinel,
    `first_sentinel_id` for the first span, then one id less per span (`<extra_id_0>`,
    `<extra_id_1>`, ...); the targets are the removed spans, each after its sentinel. With
    `end_id`, both end with it.

    Args:
        token_ids: int 1-D, the uncorrupted tokens (at least 2).
        first_sentinel_id: id of `<extra_id_0>` (`T5Preprocessor.sentinel_id(0)`).
        end_id: `</s>`, appended to both. Defaults to `None` (nothing appended).
        noise_density: fraction of tokens corrupted. Defaults to `0.15`.
        mean_noise_span_length: mean length of a corrupted span. Defaults to `3.0`.
        seed: a stateless seed (pair of ints). Defaults to `(0, 0)`.

    Example:

    ```python
    inputs, targets = corrupt_spans(ids, first_sentinel_id=32099, end_id=1, seed=(0, 7))
    # ids "a b c d e f g" -> inputs "a <X0> d e <X1> g </s>", targets "<X0> b c <X1> f </s>"
    ```

    Reference:
        Raffel et al., "Exploring the Limits of Transfer Learning ...", JMLR 2020, section
        3.3.4 and Figure 2.
    """
    token_ids = tf.cast(token_ids, tf.int32)
    mask = noise_span_mask(tf.shape(token_ids)[0], noise_density, mean_noise_span_length, seed)
    inputs = _spans_to_sentinels(token_ids, mask, first_sentinel_id)
    targets = _spans_to_sentinels(token_ids, ~mask, first_sentinel_id)
    if end_id is not None:
        end = tf.constant([end_id], tf.int32)
        inputs, targets = tf.concat([inputs, end], 0), tf.concat([targets, end], 0)
    return inputs, targets


def corrupted_lengths(
    raw_length: int, noise_density: float = 0.15, mean_noise_span_length: float = 3.0
) -> tuple[int, int]:
    """The longest inputs and targets (`</s>` included) that sequences of at most
    `raw_length` tokens give."""
    longest_inputs = longest_targets = 0
    for length in range(2, raw_length + 1):
        noise, spans = (int(v) for v in _counts(length, noise_density, mean_noise_span_length))
        longest_inputs = max(longest_inputs, length - noise + spans + 1)
        longest_targets = max(longest_targets, noise + spans + 1)
    return longest_inputs, longest_targets


def span_corruption_dataset(
    files,
    preprocessor: T5Preprocessor,
    raw_length: int = 64,
    batch_size: int = 32,
    text_feature: str = "text",
    noise_density: float = 0.15,
    mean_noise_span_length: float = 3.0,
    decoder_start_token_id: int = 0,
    shuffle: bool = True,
    seed: int | None = None,
) -> tf.data.Dataset:
    """Reads a TFRecord text corpus into span-corrupted `(inputs, targets, weights)` batches.

    Each text is tokenized, cut to `raw_length` pieces and corrupted afresh every epoch
    (`corrupt_spans`); inputs and targets are padded to the longest any such text gives
    (`corrupted_lengths`). The model inputs are the corrupted text as encoder input and the
    targets shifted right after `decoder_start_token_id` as decoder input; the weights are
    the targets' padding mask.

    Args:
        files: TFRecord path prefix or files written by `tfrecords.write({"text": lines}, ...)`.
        preprocessor: the `T5Preprocessor` of the model's vocabulary (tokenizer, `</s>`,
            `<pad>`, sentinels).
        raw_length: pieces kept per text before corruption. Defaults to `64`.
        batch_size: sequences per batch. Defaults to `32`.
        text_feature: name of the string feature. Defaults to `"text"`.
        noise_density: fraction of tokens corrupted. Defaults to `0.15`.
        mean_noise_span_length: mean corrupted span length. Defaults to `3.0`.
        decoder_start_token_id: first decoder token. Defaults to `0`.
        shuffle: shuffle the records. Defaults to `True`.
        seed: seed of the shuffling and of the corruption. Defaults to `None` (random).

    Example:

    ```python
    dataset = span_corruption_dataset("corpus/train", preprocessor, raw_length=64)
    model.fit(dataset, epochs=3)
    ```
    """
    check_int_at_least("raw_length", raw_length, 2, "a noise and a kept token")
    check_positive_int("batch_size", batch_size)
    check_unit_interval("noise_density", noise_density, include_low=False, include_high=False)
    check_positive_float("mean_noise_span_length", mean_noise_span_length)
    check_optional_seed("seed", seed)
    input_length, target_length = corrupted_lengths(
        raw_length, noise_density, mean_noise_span_length
    )
    sentinel = preprocessor.sentinel_id(0)
    end, pad = preprocessor.end_id, preprocessor.pad_id
    dataset = tfrecords.read(files, shuffle=shuffle, features=text_feature, seed=seed)
    rng = tf.random.Generator.from_seed(seed) if seed is not None else None

    def corrupt(record):
        text = record[text_feature] if isinstance(record, dict) else record
        pieces = preprocessor.tokenizer(tf.reshape(text, [1]))[0][:raw_length]
        pieces = tf.cond(  # a text of one piece gets a second one: its `</s>`
            tf.size(pieces) < 2, lambda: tf.concat([pieces, [end]], 0), lambda: pieces
        )
        if rng is None:
            step_seed = tf.random.uniform([2], maxval=2**31 - 1, dtype=tf.int32)
        else:
            step_seed = rng.make_seeds(1)[:, 0]
        inputs, targets = corrupt_spans(
            pieces, sentinel, end, noise_density, mean_noise_span_length, step_seed
        )
        decoder = tf.concat([[decoder_start_token_id], targets[:-1]], 0)

        def padded(ids, length, value):
            return tf.pad(ids, [[0, length - tf.size(ids)]], constant_values=value)

        model_inputs = {
            "encoder_token_ids": padded(inputs, input_length, pad),
            "encoder_padding_mask": padded(tf.ones_like(inputs), input_length, 0),
            "decoder_token_ids": padded(decoder, target_length, pad),
            "decoder_padding_mask": padded(tf.ones_like(decoder), target_length, 0),
        }
        weights = tf.cast(model_inputs["decoder_padding_mask"], tf.float32)
        return model_inputs, padded(targets, target_length, pad), weights

    dataset = dataset.map(corrupt, num_parallel_calls=1 if seed is not None else tf.data.AUTOTUNE)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def pretrain_t5(
    model: T5Seq2SeqLM,
    files,
    preprocessor: T5Preprocessor,
    epochs: int = 1,
    batch_size: int = 32,
    raw_length: int = 64,
    noise_density: float = 0.15,
    mean_noise_span_length: float = 3.0,
    backup_dir: str | None = None,
    seed: int | None = None,
    **fit_kwargs,
) -> keras.callbacks.History:
    """Pretrains `model` with T5's span corruption on a TFRecord corpus.

    Every epoch corrupts the texts afresh; `fit` reports the loss and the token accuracy of
    the targets per epoch with Keras's progress bar. With `backup_dir`, a
    `keras.callbacks.BackupAndRestore` there saves the model, optimizer and epoch at each
    epoch's end: a run interrupted and started again with the same arguments resumes from the
    last finished epoch (and the directory is removed once training ends).

    Args:
        model: a compiled `T5Seq2SeqLM`.
        files: TFRecords holding a string feature `"text"` (see `span_corruption_dataset`).
        preprocessor: the `T5Preprocessor` matching the model's vocabulary.
        epochs: passes over the corpus. Defaults to `1`.
        batch_size: sequences per batch. Defaults to `32`.
        raw_length: pieces kept per text before corruption. Defaults to `64`.
        noise_density: fraction of tokens corrupted. Defaults to `0.15`.
        mean_noise_span_length: mean corrupted span length. Defaults to `3.0`.
        backup_dir: where to keep the state for resuming. Defaults to `None` (no backup).
        seed: seed of the shuffling and the corruption. Defaults to `None`.
        **fit_kwargs: passed to `model.fit` (callbacks, verbose, ...).

    Returns:
        The `History` of `fit`.

    Example:

    ```python
    tfrecords.write({"text": lines}, "corpus/train")
    model = T5Seq2SeqLM.from_preset("t5_tiny")
    pretrain_t5(model, "corpus/train", preprocessor, epochs=3, backup_dir="backup/")
    ```

    Reference:
        Raffel et al., "Exploring the Limits of Transfer Learning ...", JMLR 2020, section
        3.3.4 (15% noise, mean span length 3).
    """
    if not isinstance(model, T5Seq2SeqLM):
        raise TypeError(f"`model` must be a T5Seq2SeqLM. Received: model={model!r}")
    check_positive_int("epochs", epochs)
    vocabulary = int(model.backbone.vocabulary_size)
    if preprocessor.vocabulary_size > vocabulary:
        raise ValueError(
            f"The preprocessor's pieces and sentinels ({preprocessor.vocabulary_size} ids) do not "
            f"fit the model's vocabulary ({vocabulary}). Received: "
            f"preprocessor.vocabulary_size={preprocessor.vocabulary_size}"
        )
    dataset = span_corruption_dataset(
        files,
        preprocessor,
        raw_length=raw_length,
        batch_size=batch_size,
        noise_density=noise_density,
        mean_noise_span_length=mean_noise_span_length,
        decoder_start_token_id=model.decoder_start_token_id,
        seed=seed,
    )
    callbacks = list(fit_kwargs.pop("callbacks", None) or [])
    if backup_dir is not None:
        callbacks.append(keras.callbacks.BackupAndRestore(backup_dir))
    return model.fit(dataset, epochs=epochs, callbacks=callbacks, **fit_kwargs)
