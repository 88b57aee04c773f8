"""Few-shot episodes: N-way K-shot tasks drawn from labelled data, and disjoint class splits.

Meta-learning trains and tests on *episodes*: N classes drawn at random, K labelled examples
of each (the support set) and Q more of each to classify (the query set), with the classes
relabelled 0..N-1 in the order they were drawn (Vinyals et al. 2016, "Matching Networks for One
Shot Learning", https://arxiv.org/abs/1606.04080). Meta-train, meta-validation and meta-test
episodes come from disjoint sets of classes (`split_classes`).
"""

from __future__ import annotations

import dataclasses

import numpy as np
import tensorflow as tf

from layers.validation import check_non_negative_int, check_positive_int
from zoo.datasets import arrays_from_dataset


@dataclasses.dataclass(frozen=True)
class ClassSplit:
    """Disjoint class ids for meta-training, meta-validation and meta-testing.

    Attributes:
        train: class ids of the meta-training episodes, sorted.
        validation: class ids of the meta-validation episodes, sorted.
        test: class ids of the meta-test episodes, sorted.
    """

    train: np.ndarray
    validation: np.ndarray
    test: np.ndarray

    def take(self, x, y, part: str) -> tuple[np.ndarray, np.ndarray]:
        """The examples of `(x, y)` whose class is in the split `part`.

        Args:
            x: examples, first axis the example.
            y: their integer class ids.
            part: `"train"`, `"validation"` or `"test"`.

        Returns:
            `(x, y)` restricted to the classes of `part` (labels unchanged).
        """
        if part not in ("train", "validation", "test"):
            raise ValueError(
                f"`part` must be one of ['train', 'validation', 'test']. Received: part={part!r}"
            )
        return take_classes(x, y, getattr(self, part))


def take_classes(x, y, classes) -> tuple[np.ndarray, np.ndarray]:
    """The examples of `(x, y)` whose label is one of `classes` (labels unchanged).

    Example:

    ```python
    x_test, y_test = take_classes(images, labels, [5, 6, 7, 8, 9])
    ```
    """
    x, y = np.asarray(x), np.asarray(y)
    keep = np.isin(y, np.asarray(classes))
    return x[keep], y[keep]


def split_classes(labels, num_validation: int, num_test: int, seed: int = 0) -> ClassSplit:
    """Splits the classes of `labels` into disjoint meta-train, -validation and -test sets.

    Each class goes to exactly one set, drawn at random with `seed` (the same seed gives the
    same split). Omniglot and miniImageNet ship such splits; this makes one for any data.

    Args:
        labels: the integer class id of every example (any order, repeats allowed).
        num_validation: classes for meta-validation (may be 0).
        num_test: classes for meta-testing.
        seed: seed of the draw. Defaults to `0`.

    Returns:
        A `ClassSplit`; the classes left after validation and test are the training classes.

    Example:

    ```python
    split = split_classes(labels, num_validation=2, num_test=3, seed=0)
    x_train, y_train = split.take(images, labels, "train")
    sampler = EpisodeSampler(x_train, y_train, n_way=5, k_shot=1)
    ```
    """
    check_non_negative_int("num_validation", num_validation)
    check_positive_int("num_test", num_test)
    classes = np.unique(np.asarray(labels))
    if num_validation + num_test >= len(classes):
        raise ValueError(
            f"`num_validation + num_test` must leave at least one of the {len(classes)} classes "
            f"for training. Received: num_validation={num_validation}, num_test={num_test}"
        )
    order = np.random.default_rng(seed).permutation(classes)
    test = np.sort(order[:num_test])
    validation = np.sort(order[num_test : num_test + num_validation])
    train = np.sort(order[num_test + num_validation :])
    return ClassSplit(train=train, validation=validation, test=test)


class EpisodeSampler:
    """Draws N-way K-shot episodes with Q queries per class from labelled data, as `tf.data`.

    An episode is `(support_x, support_y, query_x, query_y)`: `n_way` classes drawn at random,
    `k_shot` support and `n_query` query examples of each, drawn without replacement (so no
    query is also a support example), labels relabelled `0..n_way-1` in the order the classes
    were drawn. Both sets are class-major: `support_y` is `[0]*k_shot + [1]*k_shot + ...`.
    Episode `i` depends only on `seed` and `i` (stateless random ops), so the pipeline gives the
    same episodes on every run and every iteration order.

    Args:
        x: the examples (an array, first axis the example), or a `tf.data.Dataset` of
            `(example, label)` pairs, such as `tfrecords.read(files, label="label")` (single
            examples or batches; it is read once into memory).
        y: integer class id of each example; `None` when `x` is a dataset.
        n_way: classes per episode. Defaults to `5`.
        k_shot: support examples per class. Defaults to `1`.
        n_query: query examples per class. Defaults to `15`.
        seed: seed of the episodes. Defaults to `0`.

    Raises:
        ValueError: `n_way` exceeds the number of classes, or a class has fewer than
            `k_shot + n_query` examples (the message names the class).

    Example:

    ```python
    digits = zoo.datasets.load_digits(dtype="float32")
    sampler = EpisodeSampler(digits.train.x, digits.train.y, n_way=5, k_shot=1, n_query=15)
    for support_x, support_y, query_x, query_y in sampler.dataset(num_episodes=2):
        print(support_x.shape, query_x.shape)  # (5, 8, 8, 1) (75, 8, 8, 1)
    ```
    """

    def __init__(
        self, x, y=None, n_way: int = 5, k_shot: int = 1, n_query: int = 15, seed: int = 0
    ):
        check_positive_int("n_way", n_way)
        check_positive_int("k_shot", k_shot)
        check_positive_int("n_query", n_query)
        check_non_negative_int("seed", seed)
        if isinstance(x, tf.data.Dataset):
            if y is not None:
                raise ValueError(
                    "`y` must be None when `x` is a dataset of (example, label) pairs. "
                    f"Received: y of type {type(y).__name__}"
                )
            x, y = arrays_from_dataset(x)
        x, y = np.asarray(x), np.asarray(y)
        if y.ndim != 1 or len(y) != len(x):
            raise ValueError(
                f"`y` must hold one label per example of `x` ({len(x)}). "
                f"Received: y with shape {y.shape}"
            )
        classes, counts = np.unique(y, return_counts=True)
        if n_way > len(classes):
            raise ValueError(
                f"`n_way` must be at most the number of classes in the data ({len(classes)}). "
                f"Received: n_way={n_way}"
            )
        needed = k_shot + n_query
        short = np.flatnonzero(counts < needed)
        if short.size:
            first = short[0]
            raise ValueError(
                f"Class {classes[first].item()!r} has {counts[first]} examples, fewer than "
                f"k_shot + n_query = {needed} ({short.size} class(es) are short). "
                f"Received: k_shot={k_shot}, n_query={n_query}"
            )
        self.n_way, self.k_shot, self.n_query, self.seed = n_way, k_shot, n_query, seed
        self.classes = classes
        self.x = x
        # Row c lists the example indices of class c, padded with 0 past counts[c].
        order = np.argsort(y, kind="stable")
        starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
        table = np.zeros((len(classes), counts.max()), dtype=np.int64)
        for row, (start, count) in enumerate(zip(starts, counts, strict=True)):
            table[row, :count] = order[start : start + count]
        self._table = tf.constant(table)
        self._counts = tf.constant(counts, tf.int64)
        self._x = tf.constant(x)

    @property
    def num_classes(self) -> int:
        """How many classes the episodes are drawn from."""
        return len(self.classes)

    def episode_indices(self, index) -> tuple[tf.Tensor, tf.Tensor, tf.Tensor]:
        """The drawn classes and example indices of episode `index`.

        Returns:
            `(classes, support_indices, query_indices)`: the `n_way` drawn positions in
            `self.classes` (label j is `self.classes[classes[j]]`), then the indices into `x`
            of the support `[n_way * k_shot]` and query `[n_way * n_query]` examples,
            class-major.
        """
        seed = tf.stack([tf.constant(self.seed, tf.int64), tf.cast(index, tf.int64)])
        class_seed, example_seed = tf.unstack(tf.random.experimental.stateless_split(seed, 2))
        class_scores = tf.random.stateless_uniform([self.num_classes], class_seed)
        chosen = tf.argsort(class_scores)[: self.n_way]
        width = self._table.shape[1]
        scores = tf.random.stateless_uniform([self.n_way, width], example_seed)
        valid = tf.range(width, dtype=tf.int64)[None, :] < tf.gather(self._counts, chosen)[:, None]
        scores = tf.where(valid, scores, 2.0)  # padding sorts last
        positions = tf.argsort(scores, axis=1)[:, : self.k_shot + self.n_query]
        indices = tf.gather(tf.gather(self._table, chosen), positions, batch_dims=1)
        support = tf.reshape(indices[:, : self.k_shot], [-1])
        query = tf.reshape(indices[:, self.k_shot :], [-1])
        return chosen, support, query

    def episode(self, index):
        """Episode `index` as `(support_x, support_y, query_x, query_y)` tensors."""
        _, support, query = self.episode_indices(index)
        labels = tf.range(self.n_way, dtype=tf.int32)
        return (
            tf.gather(self._x, support),
            tf.repeat(labels, self.k_shot),
            tf.gather(self._x, query),
            tf.repeat(labels, self.n_query),
        )

    def dataset(self, num_episodes: int | None = None, start: int = 0) -> tf.data.Dataset:
        """The episodes as a `tf.data.Dataset`, one episode per element (no batch axis).

        Args:
            num_episodes: how many episodes; `None` for an endless stream (pass
                `steps_per_epoch` to `fit`). Defaults to `None`.
            start: index of the first episode (e.g. to continue a stream). Defaults to `0`.

        Returns:
            A dataset of `(support_x, support_y, query_x, query_y)` with static shapes
            `[n_way*k_shot, ...]`, `[n_way*k_shot]`, `[n_way*n_query, ...]`, `[n_way*n_query]`.
        """
        check_positive_int("num_episodes", num_episodes, allow_none=True)
        check_non_negative_int("start", start)
        if num_episodes is None:
            indices = tf.data.Dataset.counter(start, dtype=tf.int64)
        else:
            indices = tf.data.Dataset.range(start, start + num_episodes)
        episodes = indices.map(self.episode, num_parallel_calls=tf.data.AUTOTUNE)
        return episodes.prefetch(tf.data.AUTOTUNE)

    def as_numpy(self, num_episodes: int, start: int = 0) -> dict[str, np.ndarray]:
        """`num_episodes` episodes stacked into arrays (to save with `np.savez` for a peer).

        Returns:
            A dict with `support_x` `[E, n_way*k_shot, ...]`, `support_y`, `query_x`,
            `query_y`, the arrays of episodes `start .. start + num_episodes - 1`.
        """
        batches = self.dataset(num_episodes, start).batch(num_episodes)
        names = ("support_x", "support_y", "query_x", "query_y")
        return dict(zip(names, next(batches.as_numpy_iterator()), strict=True))
