"""BERT's fine-tuning recipe for sequence classification: AdamW, warmup + linear decay, clipping."""

from __future__ import annotations

import math

import keras
import tensorflow as tf

from layers.schedules import learning_rate_schedule
from layers.validation import (
    check_non_negative_float,
    check_positive_float,
    check_positive_int,
    check_unit_interval,
)
from zoo.fitting import fit_repeated
from zoo.text.bert.classifier import BertClassifier
from zoo.text.encoder import TextBackbone

__all__ = ["bert_learning_rate_schedule", "fine_tuning_optimizer", "finetune_classifier"]

# Variables left out of weight decay, as in BERT's `AdamWeightDecayOptimizer`: layer norm
# scales and offsets, and every bias (dense and attention projections). On the TensorFlow
# backend the optimizer matches these against the `tf.Variable` name (`"layer/gamma:0"`), not
# the Keras name (`"gamma"`), so the patterns anchor on the last path component.
NO_DECAY = (r"(^|/)(gamma|beta|bias)(:\d+)?$",)


def bert_learning_rate_schedule(
    peak_learning_rate: float, total_steps: int, warmup_steps: int
) -> keras.optimizers.schedules.LearningRateSchedule:
    """Linear warmup from 0 to `peak_learning_rate`, then linear decay to 0 at `total_steps`.

    `lr(step) = peak * step / warmup` while `step < warmup`, then
    `peak * (total - step) / (total - warmup)`, and 0 after `total_steps` (Hugging Face's
    `get_linear_schedule_with_warmup`). This is
    `layers.schedules.learning_rate_schedule("linear_warmup_polynomial", ...)`: the project's
    `LinearWarmup` around Keras's `PolynomialDecay` (power 1).

    Args:
        peak_learning_rate: the rate at the end of the warmup.
        total_steps: number of optimizer steps of the whole run.
        warmup_steps: steps of linear warmup, `0 <= warmup_steps < total_steps`.

    Returns:
        A serializable `LearningRateSchedule`.

    Example:

    ```python
    schedule = bert_learning_rate_schedule(2e-5, total_steps=1000, warmup_steps=100)
    float(schedule(100))  # 2e-5
    ```

    Reference:
        Devlin et al., "BERT", NAACL 2019, appendix A.2 and the reference implementation's
        `optimization.py`.
    """
    check_positive_float("peak_learning_rate", peak_learning_rate)  # named as the caller knows it
    return learning_rate_schedule(
        "linear_warmup_polynomial", peak_learning_rate, total_steps, warmup_steps
    )


def fine_tuning_optimizer(
    total_steps: int,
    peak_learning_rate: float = 2e-5,
    warmup_fraction: float = 0.1,
    weight_decay: float = 0.01,
    global_clipnorm: float | None = 1.0,
    epsilon: float = 1e-6,
) -> keras.optimizers.AdamW:
    """BERT's fine-tuning optimizer: AdamW with warmup + linear decay and gradient clipping.

    Weight decay skips layer-norm weights and biases (`exclude_from_weight_decay`); the
    gradients are clipped to a global norm. Note that Keras does not save the exclusion list
    with the optimizer: after reloading a model to continue training, call
    `optimizer.exclude_from_weight_decay(var_names=NO_DECAY)` again before the first step.

    Args:
        total_steps: optimizer steps of the whole run (epochs times batches per epoch).
        peak_learning_rate: rate at the end of the warmup. Defaults to `2e-5`.
        warmup_fraction: fraction of `total_steps` spent warming up, in `[0, 1)`.
            Defaults to `0.1`.
        weight_decay: decoupled weight decay. Defaults to `0.01`.
        global_clipnorm: clip the gradients to this global norm; `None` for no clipping.
            Defaults to `1.0`.
        epsilon: Adam's epsilon. Defaults to `1e-6` (BERT's).

    Returns:
        A `keras.optimizers.AdamW`.

    Example:

    ```python
    classifier.compile(optimizer=fine_tuning_optimizer(total_steps=3 * len(batches)))
    ```

    Reference:
        Devlin et al., "BERT", NAACL 2019; Loshchilov and Hutter, "Decoupled Weight Decay
        Regularization", ICLR 2019.
    """
    check_unit_interval("warmup_fraction", warmup_fraction, include_low=True, include_high=False)
    check_non_negative_float("weight_decay", weight_decay)
    check_positive_float("global_clipnorm", global_clipnorm, allow_none=True)
    check_positive_float("epsilon", epsilon)
    check_positive_int("total_steps", total_steps)
    schedule = bert_learning_rate_schedule(
        peak_learning_rate, total_steps, int(warmup_fraction * total_steps)
    )
    optimizer = keras.optimizers.AdamW(
        schedule, weight_decay=weight_decay, epsilon=epsilon, global_clipnorm=global_clipnorm
    )
    optimizer.exclude_from_weight_decay(var_names=list(NO_DECAY))
    return optimizer


def _backbone(backbone_or_dir) -> TextBackbone:
    if isinstance(backbone_or_dir, str):
        import zoo

        backbone_or_dir = zoo.from_huggingface(backbone_or_dir)
    if not isinstance(backbone_or_dir, TextBackbone):
        raise TypeError(
            "`backbone_or_dir` must be a zoo.text backbone or a Hugging Face checkpoint "
            f"directory. Received: backbone_or_dir={backbone_or_dir!r}"
        )
    return backbone_or_dir


def _dataset(data, argument: str, batch_size: int, preprocessor, shuffle: bool, seed):
    """`(x, y)` arrays or strings become a batched dataset; a dataset is taken as batched."""
    if isinstance(data, tf.data.Dataset):
        return data
    if not isinstance(data, tuple | list) or len(data) != 2:
        raise TypeError(
            f"`{argument}` must be a tf.data.Dataset of batches or a tuple `(x, y)`. "
            f"Received: {argument}={data!r}"
        )
    dataset = tf.data.Dataset.from_tensor_slices(tuple(data))
    if shuffle:
        dataset = dataset.shuffle(len(data[1]), seed=seed, reshuffle_each_iteration=True)
    dataset = dataset.batch(batch_size)
    if preprocessor is not None:
        dataset = dataset.map(
            lambda x, y: (preprocessor(x), y), num_parallel_calls=tf.data.AUTOTUNE
        )
    return dataset.prefetch(tf.data.AUTOTUNE)


def finetune_classifier(
    backbone_or_dir,
    num_classes: int,
    train_data,
    validation_data=None,
    epochs: int = 3,
    batch_size: int = 32,
    peak_learning_rate: float = 2e-5,
    warmup_fraction: float = 0.1,
    weight_decay: float = 0.01,
    global_clipnorm: float | None = 1.0,
    dropout: float = 0.1,
    preprocessor=None,
    seed: int | None = None,
    jit_compile: bool | str | None = None,
    **fit_kwargs,
) -> BertClassifier:
    """Fine-tunes a `BertClassifier` on a backbone with BERT's recipe and returns it.

    The classifier (dropout and a dense layer on the first token or pooled output) is trained
    end to end with `fine_tuning_optimizer`: AdamW without decay on layer norms and biases,
    linear warmup over `warmup_fraction` of the steps, then linear decay to zero, gradients
    clipped to a global norm. Devlin et al. recommend batch size 16 or 32, a peak rate among
    5e-5, 3e-5 and 2e-5, and 2 to 4 epochs.

    Args:
        backbone_or_dir: a zoo.text backbone, or a Hugging Face checkpoint directory read with
            `zoo.from_huggingface`.
        num_classes: number of classes.
        train_data: a tuple `(x, y)` (x: a dict of token arrays, or strings when
            `preprocessor` is given; y: integer labels), batched with `batch_size` and shuffled;
            or a `tf.data.Dataset` of `(inputs, labels)` batches, used as is.
        validation_data: the same forms, or `None`. Defaults to `None`.
        epochs: passes over `train_data`. Defaults to `3`.
        batch_size: batch size for tuple data. Defaults to `32`.
        peak_learning_rate: learning rate after warmup. Defaults to `2e-5`.
        warmup_fraction: fraction of the steps spent warming up. Defaults to `0.1`.
        weight_decay: AdamW weight decay. Defaults to `0.01`.
        global_clipnorm: gradient clipping norm, `None` for none. Defaults to `1.0`.
        dropout: classifier dropout. Defaults to `0.1`.
        preprocessor: a `BertPreprocessor` applied to string inputs. Defaults to `None`.
        seed: shuffling seed for tuple data. Defaults to `None`.
        jit_compile: passed to `compile`; `None` takes the family's default (XLA where it
            measured faster, `BertClassifier.default_jit_compile`), `False` turns XLA off.
            Defaults to `None`.
        **fit_kwargs: passed to `fit` (`callbacks`, `verbose`, ...).

    Returns:
        The trained `BertClassifier`; its `history` attribute holds the `fit` history.

    Example:

    ```python
    classifier = finetune_classifier(
        "checkpoints/bert-base-uncased", num_classes=2, train_data=(texts, labels),
        preprocessor=BertPreprocessor(WordPieceTokenizer("vocab.txt"), 128), epochs=3,
    )
    ```

    Reference:
        Devlin et al., "BERT", NAACL 2019, section 4 and appendix A.3.
    """
    backbone = _backbone(backbone_or_dir)
    check_positive_int("epochs", epochs)
    check_positive_int("batch_size", batch_size)
    train = _dataset(train_data, "train_data", batch_size, preprocessor, True, seed)
    validation = None
    if validation_data is not None:
        validation = _dataset(
            validation_data, "validation_data", batch_size, preprocessor, False, seed
        )
    steps_per_epoch = int(train.cardinality())
    if steps_per_epoch <= 0:
        raise ValueError(
            "`train_data` must have a known, finite number of batches to lay out the learning "
            f"rate schedule. Received: a dataset of cardinality {steps_per_epoch}"
        )
    classifier = BertClassifier(backbone, num_classes, dropout=dropout)
    optimizer = fine_tuning_optimizer(
        total_steps=max(1, math.ceil(epochs * steps_per_epoch)),
        peak_learning_rate=peak_learning_rate,
        warmup_fraction=warmup_fraction,
        weight_decay=weight_decay,
        global_clipnorm=global_clipnorm,
    )
    classifier.compile(optimizer=optimizer, jit_compile=jit_compile)
    fit_repeated(
        classifier,
        train,
        steps=steps_per_epoch,
        validation_data=validation,
        epochs=epochs,
        **fit_kwargs,
    )
    return classifier
