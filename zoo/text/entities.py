"""Entity-level scores of BIO tag sequences: exact span matches, as CoNLL's `conlleval` counts.

An entity is a maximal run `B-X I-X ... I-X`; an `I-X` that follows `O` or a tag of another
type starts an entity too (`conlleval`'s reading of ill-formed sequences). A predicted entity
counts only when its type, first and last word all equal a gold entity's.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import numpy as np


class EntityScores(NamedTuple):
    """Micro-averaged entity-level precision, recall and F1 (each 0 when undefined)."""

    precision: float
    recall: float
    f1: float


def bio_entities(tags: Sequence[str]) -> set[tuple[str, int, int]]:
    """The entities of one sentence's BIO tags, as `(type, first, last)` word positions.

    Args:
        tags: tag names such as `"O"`, `"B-PER"`, `"I-PER"`.

    Returns:
        A set of `(type, first, last)` with `last` inclusive.

    Example:

    ```python
    bio_entities(["B-PER", "I-PER", "O", "I-LOC"])  # {("PER", 0, 1), ("LOC", 3, 3)}
    ```
    """
    entities = set()
    kind, start = None, 0
    for position, tag in enumerate([*tags, "O"]):
        prefix, _, tag_kind = tag.partition("-")
        if prefix not in ("B", "I", "O") or (prefix != "O" and not tag_kind):
            raise ValueError(
                f"`tags` must be 'O', 'B-<type>' or 'I-<type>'. Received: tags[{position}]={tag!r}"
            )
        continues = prefix == "I" and tag_kind == kind
        if kind is not None and not continues:
            entities.add((kind, start, position - 1))
            kind = None
        if prefix != "O" and not continues:
            kind, start = tag_kind, position
    return entities


def entity_scores(
    true_tags, predicted_tags, tag_names: Sequence[str], padding_mask=None
) -> EntityScores:
    """Entity-level precision, recall and F1 of predicted tag ids against gold ones.

    Args:
        true_tags: int array `(num_sentences, length)` of ids into `tag_names`.
        predicted_tags: int array of the same shape.
        tag_names: the BIO name of each tag id (e.g. `zoo.text.tagging_data.TAG_NAMES`).
        padding_mask: optional `(num_sentences, length)` array, 1 for words and 0 for padding
            (at the end of each row); padding is left out. Defaults to `None` (no padding).

    Returns:
        `EntityScores(precision, recall, f1)`, micro-averaged over all entities.

    Example:

    ```python
    tags = tagger.predict(test.inputs)
    entity_scores(test.tags, tags, TAG_NAMES, test.inputs["padding_mask"]).f1
    ```
    """
    true_tags, predicted_tags = np.asarray(true_tags), np.asarray(predicted_tags)
    if true_tags.shape != predicted_tags.shape or true_tags.ndim != 2:
        raise ValueError(
            "`true_tags` and `predicted_tags` must be 2D arrays of the same shape. Received: "
            f"true_tags.shape={true_tags.shape}, predicted_tags.shape={predicted_tags.shape}"
        )
    lengths = (
        np.full(len(true_tags), true_tags.shape[1])
        if padding_mask is None
        else np.asarray(padding_mask).astype(bool).sum(axis=1)
    )
    names = np.asarray(tag_names)
    found = gold = correct = 0
    for true_row, predicted_row, length in zip(true_tags, predicted_tags, lengths, strict=True):
        true_entities = bio_entities(names[true_row[:length]])
        predicted_entities = bio_entities(names[predicted_row[:length]])
        gold += len(true_entities)
        found += len(predicted_entities)
        correct += len(true_entities & predicted_entities)
    precision = correct / found if found else 0.0
    recall = correct / gold if gold else 0.0
    f1 = 2 * precision * recall / (precision + recall) if correct else 0.0
    return EntityScores(precision, recall, f1)


def entity_f1(true_tags, predicted_tags, tag_names: Sequence[str], padding_mask=None) -> float:
    """Entity-level F1 (exact type and span): `entity_scores(...).f1`.

    Example:

    ```python
    entity_f1([[1, 2, 0]], [[1, 2, 0]], ["O", "B-PER", "I-PER"])  # 1.0
    ```
    """
    return entity_scores(true_tags, predicted_tags, tag_names, padding_mask).f1
