"""A generated translation-like task: source sentences and their targets under a seeded grammar.

The grammar is fixed by one seed and has the three things a translation model must learn:

- **a dictionary**: every source word has its own target word;
- **expansions**: a fixed share of the source words become two target words, a particle then
  the word (like "chat" -> "le chat");
- **local reordering**: a fixed share of the source words are modifiers, and a modifier
  followed by an ordinary word is translated after it (like "red car" -> "voiture rouge").

Ids: `0` is padding in both vocabularies, `1` (`BOS_ID`) starts and `2` (`EOS_ID`) ends a target.
Source words are `1 .. source_vocab_size - 1`; target words start at `3`. Pure NumPy.
"""

from __future__ import annotations

import dataclasses

import numpy as np

from layers.validation import (
    check_int_at_least,
    check_positive_int,
    check_unit_interval,
)

PAD_ID = 0
BOS_ID = 1
EOS_ID = 2
NUM_SPECIAL_TARGET_IDS = 3


@dataclasses.dataclass(frozen=True)
class TranslationPairs:
    """Padded int32 arrays of `n` sentence pairs, ready for `AttentionTranslator.fit`.

    Attributes:
        source: `(n, max_length)` source ids, padded with `0` at the end.
        target_in: `(n, max_target_length)` decoder inputs: `BOS_ID`, then the target words.
        target_out: `(n, max_target_length)` labels: the target words, then `EOS_ID`.
    """

    source: np.ndarray
    target_in: np.ndarray
    target_out: np.ndarray

    def __len__(self) -> int:
        return len(self.source)

    @property
    def inputs(self) -> tuple[np.ndarray, np.ndarray]:
        """`(source, target_in)`, the model inputs of teacher-forced training."""
        return self.source, self.target_in


class TranslationTask:
    """A seeded translation-like grammar and the sentence pairs it generates.

    Args:
        source_vocab_size: source ids, padding included (words are `1 .. size - 1`). At least 3.
            Defaults to `32`.
        min_length: fewest words in a source sentence. Defaults to `3`.
        max_length: most words in a source sentence (the width of `source`). Defaults to `8`.
        expand_fraction: fraction of source words translated as a particle and a word.
            Defaults to `0.25`.
        modifier_fraction: fraction of source words that are modifiers (moved after the
            ordinary word that follows them). Defaults to `0.3`.
        num_particles: distinct particles that expansions put in front. Defaults to `3`.
        seed: seed of the grammar (the dictionary, the expansions and the modifiers).
            Defaults to `0`.

    Example:

    ```python
    task = TranslationTask(seed=0)
    train, test = task.splits(num_train=2000, num_test=200, seed=1)
    train.source[0], train.target_out[0]  # padded source ids; target ids, EOS_ID, padding
    task.translate([5, 9, 4])             # the grammar's target words (no EOS)
    ```
    """

    def __init__(
        self,
        source_vocab_size: int = 32,
        min_length: int = 3,
        max_length: int = 8,
        expand_fraction: float = 0.25,
        modifier_fraction: float = 0.3,
        num_particles: int = 3,
        seed: int = 0,
    ):
        check_int_at_least("source_vocab_size", source_vocab_size, 3)
        check_positive_int("min_length", min_length)
        check_int_at_least("max_length", max_length, min_length, "min_length")
        check_unit_interval("expand_fraction", expand_fraction, include_low=True, include_high=True)
        check_unit_interval(
            "modifier_fraction", modifier_fraction, include_low=True, include_high=True
        )
        check_positive_int("num_particles", num_particles)
        if not isinstance(seed, int) or isinstance(seed, bool):
            raise TypeError(f"`seed` must be an integer. Received: seed={seed!r}")
        self.source_vocab_size = source_vocab_size
        self.min_length = min_length
        self.max_length = max_length
        self.expand_fraction = expand_fraction
        self.modifier_fraction = modifier_fraction
        self.num_particles = num_particles
        self.seed = seed

        rng = np.random.default_rng(seed)
        words = np.arange(1, source_vocab_size)
        num_words = len(words)
        # Target ids: specials, then one word per source word (shuffled), then the particles.
        first_particle = NUM_SPECIAL_TARGET_IDS + num_words
        word_targets = NUM_SPECIAL_TARGET_IDS + rng.permutation(num_words)
        expanding = set(rng.choice(words, round(expand_fraction * num_words), replace=False))
        particles = first_particle + rng.integers(0, num_particles, num_words)
        self.dictionary: dict[int, tuple[int, ...]] = {
            int(w): (int(p), int(t)) if w in expanding else (int(t),)
            for w, t, p in zip(words, word_targets, particles, strict=True)
        }
        self.modifiers: frozenset[int] = frozenset(
            int(w) for w in rng.choice(words, round(modifier_fraction * num_words), replace=False)
        )
        self.target_vocab_size = first_particle + num_particles
        # Every word may expand to two, plus EOS (target_out) or BOS (target_in).
        self.max_target_length = 2 * max_length + 1

    def translate(self, sentence) -> list[int]:
        """The target words of one source sentence (a sequence of word ids, no padding or EOS).

        A modifier directly followed by an ordinary word is swapped with it; then every word is
        looked up in the dictionary.
        """
        words = [int(w) for w in sentence]
        unknown = [w for w in words if w not in self.dictionary]
        if unknown:
            raise ValueError(
                f"`sentence` must hold source word ids in [1, {self.source_vocab_size}). "
                f"Received: sentence={words!r}"
            )
        ordered, i = [], 0
        while i < len(words):
            if (
                words[i] in self.modifiers
                and i + 1 < len(words)
                and words[i + 1] not in self.modifiers
            ):
                ordered += [words[i + 1], words[i]]
                i += 2
            else:
                ordered.append(words[i])
                i += 1
        return [t for w in ordered for t in self.dictionary[w]]

    def sample(self, num_pairs: int, seed: int = 0) -> TranslationPairs:
        """`num_pairs` random sentences (lengths uniform in `[min_length, max_length]`) and
        their translations; the same `seed` gives the same pairs."""
        check_positive_int("num_pairs", num_pairs)
        rng = np.random.default_rng([self.seed, seed])
        sentences = [
            rng.integers(
                1, self.source_vocab_size, rng.integers(self.min_length, self.max_length + 1)
            )
            for _ in range(num_pairs)
        ]
        return self._pairs(sentences)

    def splits(
        self, num_train: int, num_test: int, seed: int = 0
    ) -> tuple[TranslationPairs, TranslationPairs]:
        """Train and held-out pairs whose source sentences never appear in both."""
        check_positive_int("num_train", num_train)
        check_positive_int("num_test", num_test)
        pairs = self.sample(num_train + num_test, seed)
        keys = [row.tobytes() for row in pairs.source]
        train_keys = set(keys[:num_train])
        test_rows = [i for i in range(num_train, len(keys)) if keys[i] not in train_keys]
        train_rows = np.arange(num_train)
        return self._subset(pairs, train_rows), self._subset(pairs, np.asarray(test_rows, int))

    @staticmethod
    def _subset(pairs: TranslationPairs, rows: np.ndarray) -> TranslationPairs:
        return TranslationPairs(pairs.source[rows], pairs.target_in[rows], pairs.target_out[rows])

    def _pairs(self, sentences) -> TranslationPairs:
        n = len(sentences)
        source = np.zeros((n, self.max_length), np.int32)
        target_in = np.zeros((n, self.max_target_length), np.int32)
        target_out = np.zeros((n, self.max_target_length), np.int32)
        for i, sentence in enumerate(sentences):
            target = self.translate(sentence)
            source[i, : len(sentence)] = sentence
            target_in[i, : len(target) + 1] = [BOS_ID, *target]
            target_out[i, : len(target) + 1] = [*target, EOS_ID]
        return TranslationPairs(source, target_in, target_out)


def sequence_exact_match(predicted, expected) -> float:
    """Fraction of rows whose ids are all equal, the narrower array padded with `0` first.

    Args:
        predicted: `(n, time)` decoded ids (e.g. `AttentionTranslator.translate`).
        expected: `(n, time')` reference ids (e.g. `TranslationPairs.target_out`).

    Returns:
        The exact-match sequence accuracy, in `[0, 1]`.

    Example:

    ```python
    sequence_exact_match(model.translate(test.source), test.target_out)
    ```
    """
    predicted, expected = np.asarray(predicted), np.asarray(expected)
    if predicted.ndim != 2 or expected.ndim != 2 or len(predicted) != len(expected):
        raise ValueError(
            "`predicted` and `expected` must be 2-D with the same number of rows. "
            f"Received: predicted.shape={predicted.shape}, expected.shape={expected.shape}"
        )
    width = max(predicted.shape[1], expected.shape[1])

    def padded(ids):
        return np.pad(ids, [(0, 0), (0, width - ids.shape[1])], constant_values=PAD_ID)

    return float(np.mean(np.all(padded(predicted) == padded(expected), axis=1)))
