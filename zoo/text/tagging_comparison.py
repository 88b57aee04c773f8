"""The softmax head against the CRF head on the generated entity task, by entity-level F1.

Trains the same tagger twice on `zoo.text.tagging_data` sentences, once per head, with the same
seed, data, optimizer and number of epochs, and scores both on held-out sentences with
`zoo.text.entities.entity_f1`. Run it with

    python -m zoo.text.tagging_comparison [--family bilstm|bert] [--epochs N] [--seeds 0 1 2]

On this task both heads reach an F1 near 1 once trained long enough (8 to 10 epochs for the
BiLSTM): the CRF's advantage is how much less training it needs, since its transition scores
carry an entity's type from the word next to the trigger along the whole run, where a softmax
head must learn to type every word of the run on its own.
"""

from __future__ import annotations

import argparse

import keras
import numpy as np

from layers.validation import check_choice, check_non_negative_int, check_positive_int
from zoo.registry import create
from zoo.text.entities import entity_f1
from zoo.text.inputs import select_model_inputs
from zoo.text.tagging import HEADS
from zoo.text.tagging_data import TAG_NAMES, VOCABULARY, make_tagging_data

FAMILIES = ("bilstm", "bert")
MAX_LENGTH = 20


def build_tagger(family: str, head: str) -> keras.Model:
    """A small tagger of `family` for the generated task: `"bilstm"` (the registered
    `bilstm_tagger_entities`) or `"bert"` (one transformer layer of width 32)."""
    if family == "bilstm":
        return create("bilstm_tagger_entities", head=head)
    return create(
        "bert_token_classifier",
        head=head,
        vocabulary_size=len(VOCABULARY),
        num_classes=len(TAG_NAMES),
        num_layers=1,
        num_heads=2,
        hidden_dim=32,
        intermediate_dim=64,
        max_sequence_length=MAX_LENGTH,
        dropout=0.0,
    )


def compare_heads(
    family: str = "bilstm",
    num_train: int = 600,
    num_test: int = 300,
    epochs: int = 4,
    batch_size: int = 32,
    learning_rate: float = 1e-2,
    seed: int = 0,
) -> dict[str, float]:
    """Trains a `family` tagger with each head on the same data and budget; held-out F1s.

    Args:
        family: `"bilstm"` or `"bert"`. Defaults to `"bilstm"`.
        num_train: training sentences (generated with `seed`). Defaults to `600`.
        num_test: held-out sentences (generated with `seed + 1`). Defaults to `300`.
        epochs: epochs of training for each head. Defaults to `4`.
        batch_size: batch size. Defaults to `32`.
        learning_rate: AdamW learning rate for both heads. Defaults to `1e-2`.
        seed: seed of the data and of the weights. Defaults to `0`.

    Returns:
        `{"softmax": f1, "crf": f1}`: entity-level F1 on the held-out sentences.

    Example:

    ```python
    compare_heads("bilstm")  # {"softmax": ..., "crf": ...}
    ```
    """
    check_choice("family", family, FAMILIES)
    for name, value in (("num_train", num_train), ("num_test", num_test), ("epochs", epochs)):
        check_positive_int(name, value)
    check_positive_int("batch_size", batch_size)
    check_non_negative_int("seed", seed)
    train = make_tagging_data(num_train, max_length=MAX_LENGTH, seed=seed)
    test = make_tagging_data(num_test, max_length=MAX_LENGTH, seed=seed + 1)
    scores = {}
    for head in HEADS:
        keras.utils.set_random_seed(seed)
        tagger = build_tagger(family, head)
        tagger.compile(learning_rate=learning_rate)
        tagger.fit(
            select_model_inputs(tagger, train.inputs),
            train.tags,
            sample_weight=train.inputs["padding_mask"],
            epochs=epochs,
            batch_size=batch_size,
            shuffle=True,
            verbose=0,
        )
        predicted = tagger.predict(select_model_inputs(tagger, test.inputs), verbose=0)
        if head == "softmax":
            predicted = np.argmax(predicted, axis=-1)
        scores[head] = entity_f1(test.tags, predicted, TAG_NAMES, test.inputs["padding_mask"])
    return scores


def main(argv=None) -> list[dict[str, float]]:
    """Prints the two F1s for each seed of the command line (see the module docstring)."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--family", default="bilstm", choices=FAMILIES)
    parser.add_argument("--epochs", type=int, default=4)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    args = parser.parse_args(argv)
    results = []
    for seed in args.seeds:
        scores = compare_heads(args.family, epochs=args.epochs, seed=seed)
        results.append(scores)
        print(
            f"{args.family} tagger, {args.epochs} epochs, seed {seed}: entity F1 "
            f"softmax {scores['softmax']:.3f}, CRF {scores['crf']:.3f}",
            flush=True,
        )
    if len(results) > 1:
        means = {head: np.mean([r[head] for r in results]) for head in HEADS}
        print(
            f"mean over {len(results)} seeds: entity F1 softmax {means['softmax']:.3f}, "
            f"CRF {means['crf']:.3f}"
        )
    return results


if __name__ == "__main__":
    main()
