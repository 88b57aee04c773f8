"""ELECTRA replaced-token-detection pretraining from a TFRecord text corpus."""

from __future__ import annotations

import keras
import tensorflow as tf

import tfrecords
from layers.validation import check_positive_int
from zoo.text.bert.preprocessor import BertPreprocessor
from zoo.text.electra.pretrainer import ElectraPretrainer

SPECIAL_TOKENS = ("[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]")


def text_dataset(
    files,
    preprocessor: BertPreprocessor,
    batch_size: int = 32,
    text_feature: str = "text",
    shuffle: bool = True,
    seed: int | None = None,
) -> tf.data.Dataset:
    """Batches of preprocessed, unmasked `{"token_ids", "segment_ids", "padding_mask"}` read
    from TFRecords holding a string feature (written by `tfrecords.write({"text": lines}, ...)`).
    """
    dataset = tfrecords.read(
        files, batch_size=batch_size, shuffle=shuffle, features=text_feature, seed=seed
    )

    def to_inputs(batch):
        text = batch[text_feature] if isinstance(batch, dict) else batch
        return preprocessor(tf.reshape(text, [-1]))

    return dataset.map(to_inputs, num_parallel_calls=tf.data.AUTOTUNE).prefetch(tf.data.AUTOTUNE)


def special_token_ids(preprocessor: BertPreprocessor) -> tuple[int, ...]:
    """Ids of the tokenizer's `[PAD]`, `[CLS]`, `[SEP]`, `[UNK]` and `[MASK]` (never masked)."""
    return tuple(preprocessor.tokenizer.token_to_id(token) for token in SPECIAL_TOKENS)


def pretrain_electra(
    model: ElectraPretrainer,
    files,
    preprocessor: BertPreprocessor,
    epochs: int = 1,
    batch_size: int = 32,
    seed: int | None = None,
    backup_directory: str | None = None,
    **fit_kwargs,
) -> keras.callbacks.History:
    """Pretrains `model` with replaced-token detection on a TFRecord text corpus.

    Every epoch masks and samples afresh (inside the training step). Keras's progress bar
    reports `loss`, `mlm_loss`, `rtd_loss`, `mlm_accuracy` and `rtd_accuracy` per epoch. With
    `backup_directory`, a `keras.callbacks.BackupAndRestore` there saves the model and
    optimizer after every epoch, and a run interrupted and started again with the same
    arguments resumes after the last finished epoch (the backup is deleted once `fit` ends).

    Args:
        model: an `ElectraPretrainer` (compiled; it is on creation).
        files: TFRecords holding a string feature `"text"`.
        preprocessor: the `BertPreprocessor` matching the model's vocabulary.
        epochs: passes over the corpus. Defaults to `1`.
        batch_size: sequences per batch. Defaults to `32`.
        seed: shuffling seed. Defaults to `None`.
        backup_directory: where to keep the resumable state. Defaults to `None` (none kept).
        **fit_kwargs: passed to `model.fit` (callbacks, verbose, ...).

    Returns:
        The `History` of `fit`.

    Example:

    ```python
    tfrecords.write({"text": lines}, "corpus/train")
    preprocessor = BertPreprocessor(tokenizer, sequence_length=64)
    pretrainer = ElectraPretrainer(ElectraDiscriminator(backbone),
                                   mask_token_id=tokenizer.token_to_id("[MASK]"),
                                   num_masked=12, special_token_ids=special_token_ids(preprocessor))
    pretrain_electra(pretrainer, "corpus/train", preprocessor, epochs=3,
                     backup_directory="runs/electra-backup")
    ```
    """
    if not isinstance(model, ElectraPretrainer):
        raise TypeError(f"`model` must be an ElectraPretrainer. Received: model={model!r}")
    check_positive_int("epochs", epochs)
    check_positive_int("batch_size", batch_size)
    dataset = text_dataset(files, preprocessor, batch_size, seed=seed)
    if backup_directory is not None:
        callbacks = list(fit_kwargs.pop("callbacks", None) or [])
        callbacks.append(keras.callbacks.BackupAndRestore(backup_directory))
        fit_kwargs["callbacks"] = callbacks
    return model.fit(dataset, epochs=epochs, **fit_kwargs)
