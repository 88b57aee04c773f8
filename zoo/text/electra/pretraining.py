"""ELECTRA replaced-token-detection pretraining from a TFRecord text corpus."""

from __future__ import annotations

import keras
import tensorflow as tf

import tfrecords
from layers.schedules import learning_rate_schedule
from layers.validation import check_non_negative_int, check_positive_int
from zoo.text.bert.preprocessor import BertPreprocessor
from zoo.text.electra.pretrainer import ElectraPretrainer

SPECIAL_TOKENS = ("[PAD]", "[CLS]", "[SEP]", "[UNK]", "[MASK]")
# Clark et al. 2020, appendix A (and ELECTRA's `configure_pretraining.py`): 10,000 warmup steps
# for every size, then linear decay to zero.
PAPER_WARMUP_STEPS = 10_000


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


def default_warmup_steps(total_steps: int) -> int:
    """The paper's 10,000 warmup steps, capped at a tenth of a shorter run."""
    return min(PAPER_WARMUP_STEPS, total_steps // 10)


def schedule_learning_rate(
    model: ElectraPretrainer,
    total_steps: int,
    warmup_steps: int | None = None,
    schedule: str = "linear_warmup_polynomial",
) -> bool:
    """Gives `model`'s optimizer the learning-rate `schedule` over `total_steps`, peaking at its
    current constant rate after `warmup_steps` (default: `default_warmup_steps(total_steps)`).

    The optimizer is rebuilt with the same class and settings and the model recompiled (its
    `jit_compile` and `steps_per_execution` kept). Nothing changes, and `False` comes back, when
    the optimizer already has a schedule or has taken steps (its state would be lost).
    """
    optimizer = model.optimizer
    config = optimizer.get_config()
    rate = config.get("learning_rate")
    if not isinstance(rate, int | float) or int(optimizer.iterations) > 0:
        return False
    if warmup_steps is None:
        warmup_steps = default_warmup_steps(total_steps)
    rate = learning_rate_schedule(schedule, float(rate), total_steps, warmup_steps)
    optimizer = type(optimizer).from_config({**config, "learning_rate": rate})
    model.compile(
        optimizer=optimizer,
        jit_compile=model.jit_compile,
        steps_per_execution=model.steps_per_execution,
    )
    return True


def pretrain_electra(
    model: ElectraPretrainer,
    files,
    preprocessor: BertPreprocessor,
    epochs: int = 1,
    batch_size: int = 32,
    seed: int | None = None,
    backup_directory: str | None = None,
    schedule: str | None = "linear_warmup_polynomial",
    warmup_steps: int | None = None,
    **fit_kwargs,
) -> keras.callbacks.History:
    """Pretrains `model` with replaced-token detection on a TFRecord text corpus.

    Every epoch masks and samples afresh (inside the training step). By default the learning
    rate follows the paper's schedule: linear warmup from 0 to the optimizer's rate over
    `warmup_steps`, then linear decay to 0 at the last step (`layers.schedules.
    learning_rate_schedule("linear_warmup_polynomial", ...)`, BERT's and ELECTRA's); an
    optimizer compiled with its own schedule, or one that has already taken steps, is left as
    it is. Keras's progress bar reports the `ElectraPretrainer` metrics per epoch (`loss`,
    `mlm_loss`, `rtd_loss`, `mlm_accuracy`, `rtd_accuracy`, `rtd_auc`, `replaced_fraction`).
    With `backup_directory`, a `keras.callbacks.BackupAndRestore` there saves the model and
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
        schedule: a `layers.schedules.SCHEDULES` name that takes warmup, spanning the whole
            run (`epochs` x batches per epoch, or `steps_per_epoch`); `None` keeps the
            optimizer's constant rate. Defaults to `"linear_warmup_polynomial"`.
        warmup_steps: steps of warmup. Defaults to `None`: the paper's 10,000, capped at a
            tenth of the run.
        **fit_kwargs: passed to `model.fit` (callbacks, verbose, steps_per_epoch, ...).

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

    Reference:
        Clark et al., "ELECTRA", ICLR 2020, appendix A (learning rate 5e-4 for Small, 10,000
        warmup steps, linear decay).
    """
    if not isinstance(model, ElectraPretrainer):
        raise TypeError(f"`model` must be an ElectraPretrainer. Received: model={model!r}")
    check_positive_int("epochs", epochs)
    check_positive_int("batch_size", batch_size)
    if warmup_steps is not None:
        check_non_negative_int("warmup_steps", warmup_steps)
    dataset = text_dataset(files, preprocessor, batch_size, seed=seed)
    if schedule is not None:
        steps_per_epoch = fit_kwargs.get("steps_per_epoch") or int(dataset.cardinality())
        if steps_per_epoch <= 0:
            raise ValueError(
                "The corpus's number of batches is unknown; pass `steps_per_epoch` or "
                "`schedule=None`."
            )
        schedule_learning_rate(model, epochs * steps_per_epoch, warmup_steps, schedule)
    if backup_directory is not None:
        callbacks = list(fit_kwargs.pop("callbacks", None) or [])
        callbacks.append(keras.callbacks.BackupAndRestore(backup_directory))
        fit_kwargs["callbacks"] = callbacks
    return model.fit(dataset, epochs=epochs, **fit_kwargs)
