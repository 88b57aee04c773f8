"""A generated tagging task: sentences with multi-token BIO entities typed by their context.

Every entity is a run of one to `MAX_ENTITY_WORDS` (6) "name" words drawn from one shared
list, so a name word alone says nothing about the entity's type: a trigger word next to the run
does (`mr` or `says` for a person, `in` or `river` for a place, `at` or `shares` for an
organisation), either just before the run or just after it. A run of names with no trigger is
not an entity (all `O`). A tagger must therefore carry the trigger's evidence across the whole
run and give every word of it the same type; a per-token (softmax) head decides each word on
its own and can break a run into pieces of different types, which a CRF head's transition
scores rule out. The sentences are generated from a seed, so the same call gives the same data."""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from layers.validation import check_int_at_least, check_non_negative_int, check_positive_int

ENTITY_TYPES = ("PER", "LOC", "ORG")
MAX_ENTITY_WORDS = 6
TAG_NAMES = ("O", *(f"{prefix}-{kind}" for kind in ENTITY_TYPES for prefix in ("B", "I")))

FILLERS = (
    "the", "a", "we", "they", "saw", "met", "today", "and", "was", "of", "with", "then",
    "report", "later", "again", "quietly", "also", "there",
)  # fmt: skip
NAMES = (
    "alba", "borin", "cato", "dara", "elin", "faro", "gale", "hale", "iris", "joss", "kell",
    "lira", "moro", "nessa", "orin", "pell", "quin", "rhea", "sorel", "tam",
)  # fmt: skip
# Per type: the words that mark a run of names as that type, before it and after it.
TRIGGERS_BEFORE = {"PER": ("mr", "dr"), "LOC": ("in", "near"), "ORG": ("at", "joined")}
TRIGGERS_AFTER = {"PER": ("says", "smiled"), "LOC": ("river", "valley"), "ORG": ("shares", "inc")}

# Token id 0 is padding; the words follow in a fixed order.
VOCABULARY = (
    "[PAD]",
    *FILLERS,
    *NAMES,
    *(w for kind in ENTITY_TYPES for w in TRIGGERS_BEFORE[kind] + TRIGGERS_AFTER[kind]),
)
_IDS = {word: i for i, word in enumerate(VOCABULARY)}
_TAG_IDS = {tag: i for i, tag in enumerate(TAG_NAMES)}


class TaggedSentences(NamedTuple):
    """Generated sentences as model inputs and gold tags.

    Attributes:
        inputs: int32 arrays shaped `(num_sentences, max_length)`: `"token_ids"` (0 at padding),
            `"segment_ids"` (zeros) and `"padding_mask"` (1 for words, 0 for padding).
        tags: int32 `(num_sentences, max_length)` ids into `TAG_NAMES`, 0 (`O`) at padding.
    """

    inputs: dict[str, np.ndarray]
    tags: np.ndarray


def _segment(rng: np.random.Generator) -> list[tuple[str, str]]:
    """One piece of a sentence as (word, tag) pairs: a few fillers, or a run of names with its
    trigger (an entity), or a bare run of names (not an entity)."""
    choice = rng.random()
    if choice < 0.35:
        return [(str(rng.choice(FILLERS)), "O") for _ in range(rng.integers(1, 3))]
    names = [str(rng.choice(NAMES)) for _ in range(rng.integers(1, MAX_ENTITY_WORDS + 1))]
    if choice < 0.45:
        return [(name, "O") for name in names]
    kind = ENTITY_TYPES[rng.integers(len(ENTITY_TYPES))]
    run = [(name, ("B-" if i == 0 else "I-") + kind) for i, name in enumerate(names)]
    if rng.random() < 0.5:
        return [(str(rng.choice(TRIGGERS_BEFORE[kind])), "O"), *run]
    return [*run, (str(rng.choice(TRIGGERS_AFTER[kind])), "O")]


def _sentence(rng: np.random.Generator, length: int) -> list[tuple[str, str]]:
    """`length` words: pieces, each after a filler (so that two runs of names never touch),
    while they fit, then fillers (a piece is at most `MAX_ENTITY_WORDS + 2` words)."""
    words: list[tuple[str, str]] = []
    while True:
        piece = [(str(rng.choice(FILLERS)), "O"), *_segment(rng)]
        if len(words) + len(piece) > length:
            break
        words += piece
    return words + [(str(rng.choice(FILLERS)), "O") for _ in range(length - len(words))]


def make_tagging_data(
    num_sentences: int, max_length: int = 20, min_length: int = 8, seed: int = 0
) -> TaggedSentences:
    """Generates `num_sentences` tagged sentences of `min_length` to `max_length` words.

    Args:
        num_sentences: how many sentences.
        max_length: the padded length (and the longest sentence). Defaults to `20`.
        min_length: the shortest sentence; lengths are drawn uniformly from `min_length` to
            `max_length`. At least `MAX_ENTITY_WORDS + 2`. Defaults to `8`.
        seed: seed of the generator; the same arguments give the same sentences. Defaults to
            `0`.

    Returns:
        A `TaggedSentences(inputs, tags)`; words are ids into `VOCABULARY`, tags ids into
        `TAG_NAMES`, padding at the end of each row.

    Example:

    ```python
    train = make_tagging_data(800, seed=0)
    test = make_tagging_data(200, seed=1)
    tagger = zoo.create("bilstm_tagger", vocabulary_size=len(VOCABULARY),
                        num_classes=len(TAG_NAMES), head="crf")
    tagger.fit(train.inputs, train.tags, sample_weight=train.inputs["padding_mask"])
    ```
    """
    check_positive_int("num_sentences", num_sentences)
    check_int_at_least(
        "min_length", min_length, MAX_ENTITY_WORDS + 2, "a filler, a trigger and the longest entity"
    )
    check_int_at_least("max_length", max_length, min_length, "`min_length`")
    check_non_negative_int("seed", seed)
    rng = np.random.default_rng(seed)
    token_ids = np.zeros((num_sentences, max_length), "int32")
    tags = np.zeros((num_sentences, max_length), "int32")
    for row in range(num_sentences):
        sentence = _sentence(rng, int(rng.integers(min_length, max_length + 1)))
        token_ids[row, : len(sentence)] = [_IDS[word] for word, _ in sentence]
        tags[row, : len(sentence)] = [_TAG_IDS[tag] for _, tag in sentence]
    mask = (token_ids > 0).astype("int32")
    inputs = {"token_ids": token_ids, "segment_ids": np.zeros_like(token_ids), "padding_mask": mask}
    return TaggedSentences(inputs, tags)
