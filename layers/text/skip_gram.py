"""Skip-gram (token, label) pairs from a sequence of tokens, as TensorFlow Addons makes them.

TensorFlow-only (lookup tables, stateless random ops, boolean masks over string tensors): the
functions run eagerly, inside `tf.function` and in a `tf.data` map.
"""

from __future__ import annotations

import csv
import numbers

import tensorflow as tf

from layers.validation import check_non_negative_int, check_optional_seed

_INT32_MAX = 2**31 - 1


def skip_gram_sample(
    input_tensor,
    min_skips=1,
    max_skips=5,
    start=0,
    limit=-1,
    emit_self_as_target=False,
    vocab_freq_table=None,
    vocab_min_count=None,
    vocab_subsampling=None,
    corpus_size=None,
    seed=None,
    name=None,
):
    """Pairs every token with its neighbours within a random window (word2vec's skip-grams).

    For each position `i` of `input_tensor[start:start + limit]` a window size `s_i` is drawn
    uniformly from `[min_skips, max_skips]`, and `(token_i, token_j)` is emitted for every
    `j != i` with `|i - j| <= s_i` inside that slice (and `j == i` too with
    `emit_self_as_target`), in order of `i` then `j`. With `vocab_freq_table`, tokens missing
    from the table or counted less than `vocab_min_count` are dropped first, and with
    `vocab_subsampling` each remaining token is kept with probability
    `(sqrt(f / (t * N)) + 1) * t * N / f` (`f` its count, `t` the threshold, `N` the corpus
    size; Mikolov et al.'s subsampling as word2vec implements it). This is
    `tfa.text.skip_gram_sample`, with the same arguments and outputs; window sizes and
    subsampling draw from TensorFlow's stateless generators (the same `seed` always gives the
    same pairs), so their random draws are not TFA's. TensorFlow-only.

    Args:
        input_tensor: rank-1 tensor of tokens (strings or integers).
        min_skips: smallest window size, a non-negative integer or scalar tensor. Defaults to 1.
        max_skips: largest window size, at least `min_skips`. Defaults to 5.
        start: position at which to start. Defaults to 0.
        limit: how many tokens from `start` to use; -1 for all the rest. Defaults to -1.
        emit_self_as_target: also pair each token with itself. Defaults to `False`.
        vocab_freq_table: optional `tf.lookup.StaticHashTable` from tokens to counts (its
            `default_value`, returned for missing tokens, marks them). Defaults to `None`.
        vocab_min_count: optional smallest count a token needs to be kept (the table's units).
            Defaults to `None`.
        vocab_subsampling: optional frequency threshold in `[0, 1]` above which tokens are
            randomly dropped; needs `corpus_size`. Defaults to `None`.
        corpus_size: the corpus' total count (the table's units); needs `vocab_subsampling`.
            Defaults to `None`.
        seed: optional integer seed of the window sizes and the subsampling. Defaults to `None`
            (a fresh draw on every call).
        name: optional name scope. Defaults to `"skip_gram_sample"`.

    Returns:
        `(tokens, labels)`: two rank-1 tensors of `input_tensor`'s dtype.

    Example:

    ```python
    tokens, labels = skip_gram_sample(tf.constant(["the", "quick", "brown"]), 1, 1)
    # tokens: [the, quick, quick, brown], labels: [quick, the, brown, quick]
    ```

    Reference:
        Mikolov, Chen, Corrado, Dean, "Efficient Estimation of Word Representations in Vector
        Space", arXiv:1301.3781, 2013; Mikolov et al., "Distributed Representations of Words
        and Phrases and their Compositionality", NeurIPS 2013 (eq. 5, subsampling).
    """
    _check_vocab_arguments(vocab_freq_table, vocab_min_count, vocab_subsampling, corpus_size)
    _check_skips(min_skips, max_skips)
    for arg_name, value in (("start", start), ("limit", limit)):
        if not isinstance(value, numbers.Integral | tf.Tensor) or isinstance(value, bool):
            raise TypeError(f"`{arg_name}` must be an integer. Received: {arg_name}={value!r}")
    if isinstance(start, numbers.Integral) and start < 0:
        raise ValueError(f"`start` must be a non-negative integer. Received: start={start!r}")
    check_optional_seed("seed", seed)
    with tf.name_scope(name or "skip_gram_sample"):
        tokens = tf.convert_to_tensor(input_tensor)
        if tokens.shape.rank is not None and tokens.shape.rank != 1:
            raise ValueError(
                "`input_tensor` must be a rank-1 tensor of tokens. "
                f"Received: input_tensor.shape={tokens.shape}"
            )
        window_seed, subsample_seed = _stateless_seeds(seed)
        tokens = _filter_tokens(
            tokens,
            vocab_freq_table,
            vocab_min_count,
            vocab_subsampling,
            corpus_size,
            subsample_seed,
        )
        return _pairs(tokens, min_skips, max_skips, start, limit, emit_self_as_target, window_seed)


def skip_gram_sample_with_text_vocab(
    input_tensor,
    vocab_freq_file,
    vocab_token_index=0,
    vocab_token_dtype=tf.string,
    vocab_freq_index=1,
    vocab_freq_dtype=tf.float64,
    vocab_delimiter=",",
    vocab_min_count=None,
    vocab_subsampling=None,
    corpus_size=None,
    min_skips=1,
    max_skips=5,
    start=0,
    limit=-1,
    emit_self_as_target=False,
    seed=None,
    name=None,
):
    """`skip_gram_sample` with the token counts read from a delimited text file.

    Each line of `vocab_freq_file` holds a token in column `vocab_token_index` and its count in
    column `vocab_freq_index` (e.g. `hello,en,777` with indices 0 and 2). The file is read once,
    in Python, to check it (columns present, counts non-negative) and to sum the counts, which
    are the corpus size when `corpus_size` is not given (a given one must be at least that
    sum); a `tf.lookup.StaticHashTable` over the file then filters and subsamples the tokens as
    in `skip_gram_sample`. This is `tfa.text.skip_gram_sample_with_text_vocab`, with the same
    arguments. TensorFlow-only.

    Args:
        input_tensor: rank-1 tensor of tokens.
        vocab_freq_file: path of the vocabulary file.
        vocab_token_index: column of the tokens. Defaults to 0.
        vocab_token_dtype: dtype of the tokens. Defaults to `tf.string`.
        vocab_freq_index: column of the counts. Defaults to 1.
        vocab_freq_dtype: dtype of the counts. Defaults to `tf.float64`.
        vocab_delimiter: column delimiter. Defaults to `","`.
        vocab_min_count, vocab_subsampling, corpus_size, min_skips, max_skips, start, limit,
            emit_self_as_target, seed, name: as in `skip_gram_sample`.

    Returns:
        `(tokens, labels)`: two rank-1 tensors of `input_tensor`'s dtype.

    Example:

    ```python
    tokens, labels = skip_gram_sample_with_text_vocab(
        sentence, "vocab.csv", vocab_min_count=3, vocab_subsampling=1e-3, seed=0
    )
    ```
    """
    check_non_negative_int("vocab_token_index", vocab_token_index)
    check_non_negative_int("vocab_freq_index", vocab_freq_index)
    if vocab_token_index == vocab_freq_index:
        raise ValueError(
            "`vocab_token_index` and `vocab_freq_index` must name different columns. "
            f"Received: vocab_token_index={vocab_token_index}, "
            f"vocab_freq_index={vocab_freq_index}"
        )
    vocab_freq_dtype = tf.as_dtype(vocab_freq_dtype)
    vocab_size, total = _read_vocab_file(
        vocab_freq_file, vocab_token_index, vocab_freq_index, vocab_freq_dtype, vocab_delimiter
    )
    if not corpus_size:
        corpus_size = total
    elif total - corpus_size > 1e-6:
        raise ValueError(
            f"`corpus_size` must be at least the sum of the counts in {vocab_freq_file!r} "
            f"({total}). Received: corpus_size={corpus_size!r}"
        )
    table = tf.lookup.StaticHashTable(
        tf.lookup.TextFileInitializer(
            filename=vocab_freq_file,
            key_dtype=tf.as_dtype(vocab_token_dtype),
            key_index=vocab_token_index,
            value_dtype=vocab_freq_dtype,
            value_index=vocab_freq_index,
            vocab_size=vocab_size,
            delimiter=vocab_delimiter,
        ),
        default_value=-1,
    )
    return skip_gram_sample(
        input_tensor,
        min_skips=min_skips,
        max_skips=max_skips,
        start=start,
        limit=limit,
        emit_self_as_target=emit_self_as_target,
        vocab_freq_table=table,
        vocab_min_count=vocab_min_count,
        vocab_subsampling=vocab_subsampling,
        corpus_size=None if vocab_subsampling is None else corpus_size,
        seed=seed,
        name=name,
    )


def _read_vocab_file(path, token_index, freq_index, freq_dtype, delimiter) -> tuple[int, float]:
    """The number of rows and the sum of the counts, after checking every row."""
    size, total = 0, 0.0
    with tf.io.gfile.GFile(path, mode="r") as file:
        for row in csv.reader(file, delimiter=delimiter):
            if max(token_index, freq_index) >= len(row):
                raise ValueError(
                    f"A row of `vocab_freq_file` has {len(row)} columns, too few for "
                    f"vocab_token_index={token_index} and vocab_freq_index={freq_index}. "
                    f"Received: row={row!r}"
                )
            freq = freq_dtype.as_numpy_dtype(row[freq_index])
            if freq < 0:
                raise ValueError(f"Counts must be non-negative. Received: row={row!r}")
            size += 1
            total += freq
    return size, total


def _check_vocab_arguments(table, min_count, subsampling, corpus_size) -> None:
    if table is None and not (min_count is None and subsampling is None and corpus_size is None):
        raise ValueError(
            "`vocab_min_count`, `vocab_subsampling` and `corpus_size` need a "
            f"`vocab_freq_table`. Received: vocab_min_count={min_count!r}, "
            f"vocab_subsampling={subsampling!r}, corpus_size={corpus_size!r}"
        )
    if (subsampling is None) != (corpus_size is None):
        raise ValueError(
            "`vocab_subsampling` and `corpus_size` must be given together. "
            f"Received: vocab_subsampling={subsampling!r}, corpus_size={corpus_size!r}"
        )
    if table is not None and not (hasattr(table, "lookup") and hasattr(table, "default_value")):
        raise TypeError(
            "`vocab_freq_table` must be a lookup table with a `default_value`, such as "
            f"tf.lookup.StaticHashTable. Received: vocab_freq_table={table!r}"
        )
    if isinstance(subsampling, numbers.Real) and not 0 <= subsampling <= 1:
        raise ValueError(
            f"`vocab_subsampling` must be in [0, 1]. Received: vocab_subsampling={subsampling!r}"
        )


def _check_skips(min_skips, max_skips) -> None:
    """Python values are checked here; tensors are checked when the pairs are made."""
    python_values = [v for v in (min_skips, max_skips) if not isinstance(v, tf.Tensor)]
    for arg_name, value in (("min_skips", min_skips), ("max_skips", max_skips)):
        if not isinstance(value, tf.Tensor):
            check_non_negative_int(arg_name, value, allow_numpy=True)
    if len(python_values) == 2 and min_skips > max_skips:
        raise ValueError(
            "`min_skips` must be at most `max_skips`. "
            f"Received: min_skips={min_skips!r}, max_skips={max_skips!r}"
        )


def _stateless_seeds(seed):
    """Two stateless seeds (window sizes, subsampling) from `seed`, or fresh ones."""
    if seed is None:
        base = tf.random.uniform([2], maxval=_INT32_MAX, dtype=tf.int32)
    else:
        base = tf.constant([seed % (2**31), seed // (2**31) % (2**31)], tf.int32)
    return tf.stack([base[0], base[1] * 2]), tf.stack([base[0], base[1] * 2 + 1])


def _filter_tokens(tokens, table, min_count, subsampling, corpus_size, seed):
    """Drops tokens out of the vocabulary or under `min_count`, then subsamples frequent ones."""
    if table is None:
        return tokens
    with tf.name_scope("filter_vocab"):
        freq = table.lookup(tokens)
        keep = tf.not_equal(freq, tf.cast(table.default_value, freq.dtype))
        if min_count is not None:
            keep = tf.logical_and(keep, freq >= tf.cast(min_count, freq.dtype))
        tokens, freq = tf.boolean_mask(tokens, keep), tf.boolean_mask(freq, keep)
    if subsampling is None or (isinstance(subsampling, numbers.Real) and subsampling == 0):
        return tokens
    with tf.name_scope("subsample_vocab"):
        freq = tf.cast(freq, tf.float64)
        threshold = tf.cast(subsampling, tf.float64) * tf.cast(corpus_size, tf.float64)
        keep_probability = (tf.sqrt(freq / threshold) + 1.0) * (threshold / freq)
        draws = tf.random.stateless_uniform(tf.shape(freq), seed, dtype=tf.float64)
        return tf.boolean_mask(tokens, draws <= keep_probability)


def _pairs(tokens, min_skips, max_skips, start, limit, emit_self_as_target, seed):
    """Every (token, label) pair within each position's drawn window, position by position."""
    min_skips = tf.convert_to_tensor(min_skips, tf.int32)
    max_skips = tf.convert_to_tensor(max_skips, tf.int32)
    checks = [
        tf.debugging.assert_non_negative(min_skips, message="min_skips must be >= 0"),
        tf.debugging.assert_less_equal(
            min_skips, max_skips, message="min_skips must be <= max_skips"
        ),
    ]
    with tf.control_dependencies(checks):
        size = tf.size(tokens, out_type=tf.int32)
        start = tf.convert_to_tensor(start, tf.int32)
        limit = tf.convert_to_tensor(limit, tf.int32)
        end = tf.where(limit < 0, size, tf.minimum(start + limit, size))
        positions = tf.range(start, tf.maximum(end, start))
        skips = tf.random.stateless_uniform(
            tf.shape(positions), seed, minval=min_skips, maxval=max_skips + 1, dtype=tf.int32
        )
    offsets = tf.range(-max_skips, max_skips + 1)
    targets = positions[:, None] + offsets[None, :]
    keep = (tf.abs(offsets)[None, :] <= skips[:, None]) & (targets >= start) & (targets < end)
    keep &= tf.logical_or(offsets != 0, tf.cast(emit_self_as_target, tf.bool))[None, :]
    sources = tf.broadcast_to(positions[:, None], tf.shape(targets))
    return (
        tf.gather(tokens, tf.boolean_mask(sources, keep)),
        tf.gather(tokens, tf.boolean_mask(targets, keep)),
    )
