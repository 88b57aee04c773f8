"""Causal language-model pretraining (next-token prediction) from a TFRecord text corpus."""

from __future__ import annotations

import os

import keras
import tensorflow as tf

import tfrecords
from layers.validation import check_positive_int
from zoo.text.gpt2.causal_lm import GPT2CausalLM
from zoo.text.gpt2.preprocessor import GPT2Preprocessor


def causal_lm_dataset(
    files,
    preprocessor: GPT2Preprocessor,
    batch_size: int = 32,
    text_feature: str = "text",
    shuffle: bool = True,
    seed: int | None = None,
) -> tf.data.Dataset:
    """Reads a TFRecord text corpus into `(inputs, next_ids, weights)` batches.

    Each line becomes `<|endoftext|> line <|endoftext|>`, cut to `sequence_length + 1` tokens:
    the model reads all but the last, and predicts each next token, padding weighted 0 (see
    `GPT2Preprocessor.lm_examples`). Lines are tokenized once and kept in memory
    (`Dataset.cache`), then shuffled and batched afresh every epoch.

    Args:
        files: TFRecord path prefix or files written by `tfrecords.write({"text": lines}, ...)`.
        preprocessor: a `GPT2Preprocessor` (its `sequence_length` sets the context trained).
        batch_size: sequences per batch. Defaults to `32`.
        text_feature: name of the string feature. Defaults to `"text"`.
        shuffle: shuffle the records every epoch. Defaults to `True`.
        seed: seed of the shuffling. Defaults to `None`.

    Example:

    ```python
    dataset = causal_lm_dataset("corpus/train", preprocessor, batch_size=16)
    ```
    """
    check_positive_int("batch_size", batch_size)
    dataset = tfrecords.read(files, batch_size=256, features=text_feature)

    def to_example(batch):
        text = batch[text_feature] if isinstance(batch, dict) else batch
        return preprocessor.lm_examples(tf.reshape(text, [-1]))

    # Tokenize once (byte-level BPE is the slow part), then shuffle and batch every epoch.
    dataset = dataset.map(to_example, num_parallel_calls=tf.data.AUTOTUNE).unbatch().cache()
    if shuffle:
        dataset = dataset.shuffle(10_000, seed=seed, reshuffle_each_iteration=True)
    return dataset.batch(batch_size).prefetch(tf.data.AUTOTUNE)


def pretrain_causal_lm(
    model: GPT2CausalLM,
    files,
    preprocessor: GPT2Preprocessor | None = None,
    epochs: int = 1,
    batch_size: int = 32,
    seed: int | None = None,
    backup_dir: str | os.PathLike | None = None,
    **fit_kwargs,
) -> keras.callbacks.History:
    """Trains `model` to predict the next token of every line of a TFRecord corpus.

    `fit` reports the loss and the token accuracy per epoch with Keras's progress bar. With
    `backup_dir`, a `keras.callbacks.BackupAndRestore` there saves the model and optimizer at
    the end of every epoch: calling again after an interruption resumes from the last completed
    epoch (the directory is removed when training finishes).

    Args:
        model: a compiled `GPT2CausalLM` (it comes compiled: AdamW, cross-entropy on logits).
        files: TFRecords with a string feature `"text"` (see `causal_lm_dataset`).
        preprocessor: the `GPT2Preprocessor` of the model's vocabulary. Defaults to the model's.
        epochs: passes over the corpus. Defaults to `1`.
        batch_size: sequences per batch. Defaults to `32`.
        seed: shuffling seed. Defaults to `None`.
        backup_dir: where to keep the resume state. Defaults to `None` (no resume).
        **fit_kwargs: passed to `model.fit` (callbacks, verbose, ...).

    Returns:
        The `History` of `fit` (the epochs run by this call).

    Example:

    ```python
    tfrecords.write({"text": lines}, "corpus/train")
    lm = GPT2CausalLM(GPT2Backbone.from_preset("gpt2_tiny"), preprocessor)
    pretrain_causal_lm(lm, "corpus/train", epochs=3, backup_dir="runs/lm-backup")
    ```

    Reference:
        Radford et al., "Language Models are Unsupervised Multitask Learners", 2019.
    """
    if not isinstance(model, GPT2CausalLM):
        raise TypeError(f"`model` must be a GPT2CausalLM. Received: model={model!r}")
    preprocessor = preprocessor or getattr(model, "preprocessor", None)
    if not isinstance(preprocessor, GPT2Preprocessor):
        raise ValueError(
            "`preprocessor` must be a GPT2Preprocessor (or the model must have one). "
            f"Received: preprocessor={preprocessor!r}"
        )
    check_positive_int("epochs", epochs)
    check_positive_int("batch_size", batch_size)
    dataset = causal_lm_dataset(files, preprocessor, batch_size, seed=seed)
    callbacks = list(fit_kwargs.pop("callbacks", None) or [])
    if backup_dir is not None:
        callbacks.append(keras.callbacks.BackupAndRestore(os.fspath(backup_dir)))
    return model.fit(dataset, epochs=epochs, callbacks=callbacks, **fit_kwargs)
