"""Masked-language-model pretraining with dynamic masking, from a TFRecord text corpus."""

from __future__ import annotations

from collections.abc import Sequence

import keras
import tensorflow as tf

import tfrecords
from layers.validation import check_positive_int, check_rate
from zoo.text.bert.masked_lm import BertMaskedLM
from zoo.text.bert.preprocessor import BertPreprocessor
from zoo.text.inputs import select_model_inputs


def mask_tokens(
    token_ids: tf.Tensor,
    padding_mask: tf.Tensor,
    *,
    num_masked: int,
    vocabulary_size: int,
    mask_token_id: int,
    special_ids: Sequence[int] = (),
    mask_rate: float = 0.15,
    seed: tf.Tensor | None = None,
):
    """BERT's dynamic masking: picks up to `num_masked` tokens per row and corrupts them 80/10/10.

    Each real, non-special token is picked with probability `mask_rate` (at most `num_masked`
    per row); a picked token becomes `[MASK]` with probability 0.8, a random token with 0.1 and
    stays itself with 0.1. Runs in the graph, so every epoch masks afresh.

    Args:
        token_ids: int32 `(batch, length)`.
        padding_mask: `(batch, length)`, 1 for real tokens.
        num_masked: the width of the returned position/target tensors.
        vocabulary_size: random replacements are drawn from `[0, vocabulary_size)`.
        mask_token_id: id of `[MASK]`.
        special_ids: ids never picked (`[CLS]`, `[SEP]`, ...). Defaults to `()`.
        mask_rate: probability of picking a token. Defaults to `0.15`.
        seed: a stateless seed `(2,)` int tensor. Defaults to `None` (stateful random ops).

    Returns:
        `(masked_ids, mask_positions, mask_ids, mask_weights)`: the corrupted `token_ids`, the
        picked positions `(batch, num_masked)`, the original ids there, and 1.0 for picked slots,
        0.0 for unused ones.

    Reference:
        Devlin et al., "BERT", NAACL 2019, section 3.1; Liu et al., "RoBERTa", 2019 (dynamic).
    """
    token_ids = tf.cast(token_ids, tf.int32)
    shape = tf.shape(token_ids)

    def uniform(index):
        if seed is None:
            return tf.random.uniform(shape)
        return tf.random.stateless_uniform(shape, seed=tf.cast(seed, tf.int32) + index)

    candidate = tf.cast(padding_mask, tf.bool)
    for special in special_ids:
        candidate &= token_ids != special
    picked = candidate & (uniform(0) < mask_rate)
    # Keep at most `num_masked` picks per row, in random order, then sort them by position.
    scores = tf.where(picked, uniform(1), -1.0)
    scores, positions = tf.math.top_k(scores, k=num_masked)
    weights = tf.cast(scores >= 0.0, tf.float32)
    positions = tf.where(weights > 0, positions, 0)
    chosen = tf.reduce_max(tf.one_hot(positions, shape[1]) * weights[:, :, None], axis=1) > 0
    draw = uniform(2)
    if seed is None:
        random_ids = tf.random.uniform(shape, 0, vocabulary_size, dtype=tf.int32)
    else:
        random_ids = tf.random.stateless_uniform(
            shape, tf.cast(seed, tf.int32) + 3, 0, vocabulary_size, dtype=tf.int32
        )
    replacement = tf.where(draw < 0.8, mask_token_id, tf.where(draw < 0.9, random_ids, token_ids))
    masked_ids = tf.where(chosen, replacement, token_ids)
    mask_ids = tf.gather(token_ids, positions, batch_dims=1) * tf.cast(weights, tf.int32)
    return masked_ids, positions, mask_ids, weights


def mlm_dataset(
    files,
    preprocessor: BertPreprocessor,
    num_masked: int,
    batch_size: int = 32,
    text_feature: str = "text",
    mask_rate: float = 0.15,
    shuffle: bool = True,
    seed: int | None = None,
) -> tf.data.Dataset:
    """Reads a TFRecord text corpus into `(inputs, mask_ids, mask_weights)` batches for MLM.

    Args:
        files: TFRecord path prefix or files written by `tfrecords.write({"text": lines}, ...)`.
        preprocessor: turns strings into `{"token_ids", "segment_ids", "padding_mask"}`.
        num_masked: masked slots per sequence.
        batch_size: sequences per batch. Defaults to `32`.
        text_feature: name of the string feature. Defaults to `"text"`.
        mask_rate: probability of masking a token. Defaults to `0.15`.
        shuffle: shuffle the records. Defaults to `True`.
        seed: seed of the shuffling. Defaults to `None`.
    """
    tokenizer = preprocessor.tokenizer
    special = [tokenizer.token_to_id(t) for t in ("[PAD]", "[CLS]", "[SEP]", "[UNK]")]
    dataset = tfrecords.read(
        files, batch_size=batch_size, shuffle=shuffle, features=text_feature, seed=seed
    )

    def to_example(batch):
        text = batch[text_feature] if isinstance(batch, dict) else batch
        inputs = preprocessor(tf.reshape(text, [-1]))
        masked, positions, ids, weights = mask_tokens(
            inputs["token_ids"],
            inputs["padding_mask"],
            num_masked=num_masked,
            vocabulary_size=tokenizer.vocabulary_size,
            mask_token_id=tokenizer.token_to_id("[MASK]"),
            special_ids=special,
            mask_rate=mask_rate,
        )
        return {**inputs, "token_ids": masked, "mask_positions": positions}, ids, weights

    return dataset.map(to_example, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def pretrain_mlm(
    model: BertMaskedLM,
    files,
    preprocessor: BertPreprocessor,
    epochs: int = 1,
    batch_size: int = 32,
    mask_rate: float = 0.15,
    seed: int | None = None,
    **fit_kwargs,
) -> keras.callbacks.History:
    """Pretrains `model` on a TFRecord corpus with dynamic masking (new masks every epoch).

    Args:
        model: a compiled `BertMaskedLM`.
        files: TFRecords holding a string feature `"text"` (see `mlm_dataset`).
        preprocessor: the `BertPreprocessor` matching the model's vocabulary.
        epochs: passes over the corpus. Defaults to `1`.
        batch_size: sequences per batch. Defaults to `32`.
        mask_rate: probability of masking a token. Defaults to `0.15`.
        seed: shuffling seed. Defaults to `None`.
        **fit_kwargs: passed to `model.fit` (callbacks, verbose, ...).

    Returns:
        The `History` of `fit`.

    Example:

    ```python
    tfrecords.write({"text": lines}, "corpus/train")
    mlm = BertMaskedLM(BertBackbone(len(vocabulary), 2, 2, 64, 128), num_masked=8)
    pretrain_mlm(mlm, "corpus/train", BertPreprocessor(tokenizer, 32), epochs=3)
    ```
    """
    if not isinstance(model, BertMaskedLM):
        raise TypeError(f"`model` must be a BertMaskedLM. Received: model={model!r}")
    check_positive_int("epochs", epochs)
    check_positive_int("batch_size", batch_size)
    check_rate("mask_rate", mask_rate)
    dataset = mlm_dataset(
        files, preprocessor, model.num_masked, batch_size, mask_rate=mask_rate, seed=seed
    )
    # The preprocessor makes segment ids even for backbones without them (DistilBERT, RoBERTa).
    dataset = dataset.map(lambda x, y, w: (select_model_inputs(model, x), y, w))
    return model.fit(dataset, epochs=epochs, **fit_kwargs)
