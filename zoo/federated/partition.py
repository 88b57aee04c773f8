"""Client shards for federated learning: IID, Dirichlet label skew, and splits by group.

The non-IID split is the Dirichlet label skew of Hsu, Qi and Brown 2019 ("Measuring the Effects
of Non-Identical Data Distribution for Federated Visual Classification", arXiv:1909.06335):
for every class, the fractions of its examples that go to each client are drawn from
`Dirichlet(alpha * 1)`; a small `alpha` gives each client few classes, a large one tends to IID.
`partition_by` keeps each group (a writer, a user, a device) whole on one client, as LEAF's
FEMNIST split by writer does (Caldas et al. 2018, arXiv:1812.01097).
"""

from __future__ import annotations

import numpy as np

from layers.validation import check_non_negative_int, check_positive_float, check_positive_int

# Dirichlet draws are repeated (with the next draws of the same generator) until every client
# has at least `min_size` examples; this bounds the tries.
MAX_DIRICHLET_TRIES = 1000


def _as_arrays(x, y) -> tuple[np.ndarray, np.ndarray]:
    """`(x, y)` arrays from arrays or from a `tf.data.Dataset` of `(inputs, labels)` as `x`."""
    if y is None:
        import tensorflow as tf

        from zoo.datasets import arrays_from_dataset

        if not isinstance(x, tf.data.Dataset):
            raise ValueError(
                "`y` may be None only when `x` is a tf.data.Dataset of (inputs, labels). "
                f"Received: x of type {type(x).__name__}, y=None"
            )
        return arrays_from_dataset(x, argument="x")
    x, y = np.asarray(x), np.asarray(y)
    if len(x) != len(y):
        raise ValueError(
            f"`x` and `y` must have the same number of examples. Received: len(x)={len(x)}, "
            f"len(y)={len(y)}"
        )
    return x, y


def _check_enough(num_examples: int, num_clients: int, min_size: int) -> None:
    if num_examples < num_clients * min_size:
        raise ValueError(
            f"{num_examples} examples cannot give each of {num_clients} clients at least "
            f"{min_size}. Received: num_clients={num_clients}, min_size={min_size}"
        )


def iid_indices(num_examples: int, num_clients: int, seed: int = 0) -> list[np.ndarray]:
    """A random split of `range(num_examples)` into `num_clients` near-equal shards.

    Args:
        num_examples: how many examples there are.
        num_clients: how many shards.
        seed: seed of the shuffle. Defaults to `0`.

    Returns:
        One sorted index array per client; sizes differ by at most one.

    Example:

    ```python
    shards = iid_indices(1000, 10)  # ten arrays of 100 indices
    ```
    """
    check_positive_int("num_clients", num_clients)
    _check_enough(num_examples, num_clients, 1)
    order = np.random.default_rng(seed).permutation(num_examples)
    return [np.sort(part) for part in np.array_split(order, num_clients)]


def dirichlet_indices(
    labels, num_clients: int, alpha: float, seed: int = 0, min_size: int = 1
) -> list[np.ndarray]:
    """A Dirichlet label-skew split of example indices (Hsu et al. 2019).

    Args:
        labels: integer labels, one per example.
        num_clients: how many shards.
        alpha: concentration of the per-class Dirichlet; smaller is more skewed.
        seed: seed of the draws. Defaults to `0`.
        min_size: the fewest examples a client may get. Defaults to `1`.

    Returns:
        One sorted index array per client.

    Raises:
        ValueError: no draw in `MAX_DIRICHLET_TRIES` gave every client `min_size` examples.

    Example:

    ```python
    shards = dirichlet_indices(y, num_clients=10, alpha=0.1)
    ```
    """
    check_positive_int("num_clients", num_clients)
    check_positive_float("alpha", alpha, allow_numpy=True)
    check_positive_int("min_size", min_size)
    labels = np.asarray(labels).reshape(-1)
    _check_enough(len(labels), num_clients, min_size)
    rng = np.random.default_rng(seed)
    by_class = [np.flatnonzero(labels == c) for c in np.unique(labels)]
    for _ in range(MAX_DIRICHLET_TRIES):
        shards = [[] for _ in range(num_clients)]
        for members in by_class:
            members = rng.permutation(members)
            shares = rng.dirichlet(np.full(num_clients, alpha))
            cuts = (np.cumsum(shares)[:-1] * len(members)).astype(int)
            for shard, part in zip(shards, np.split(members, cuts), strict=True):
                shard.append(part)
        shards = [np.sort(np.concatenate(parts)) for parts in shards]
        if min(len(shard) for shard in shards) >= min_size:
            return shards
    raise ValueError(
        f"No Dirichlet draw in {MAX_DIRICHLET_TRIES} tries gave every one of {num_clients} "
        f"clients at least {min_size} examples; use fewer clients, a larger alpha or a smaller "
        f"min_size. Received: alpha={alpha!r}, num_clients={num_clients}, min_size={min_size}"
    )


def partition(
    x, y=None, num_clients: int = 10, alpha: float | None = None, seed: int = 0, min_size: int = 1
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Splits a labelled dataset into `num_clients` client shards, IID or with label skew.

    Args:
        x: inputs (an array), or a `tf.data.Dataset` of `(inputs, labels)` (then `y=None`),
            e.g. `tfrecords.read(files, label="label")`.
        y: integer labels, one per example of `x`; `None` when `x` is a dataset.
        num_clients: how many shards. Defaults to `10`.
        alpha: `None` for an IID split; a positive float for a Dirichlet label skew of that
            concentration (0.1: most clients see one or two classes; 100: close to IID).
            Defaults to `None`.
        seed: seed of the split; the same seed gives the same shards. Defaults to `0`.
        min_size: the fewest examples a client may get. Defaults to `1`.

    Returns:
        A list of `(x_i, y_i)` array pairs, one per client; together they hold every example
        exactly once.

    Raises:
        ValueError: too few examples for the clients, or no skewed draw with `min_size` each.

    Example:

    ```python
    digits = zoo.datasets.load_digits(dtype="float32")
    shards = partition(digits.train.x, digits.train.y, num_clients=10, alpha=0.1)
    ```
    """
    check_positive_int("num_clients", num_clients)
    check_non_negative_int("seed", seed, allow_numpy=True)
    x, y = _as_arrays(x, y)
    if alpha is None:
        check_positive_int("min_size", min_size)
        _check_enough(len(x), num_clients, min_size)
        shards = iid_indices(len(x), num_clients, seed)
    else:
        shards = dirichlet_indices(y, num_clients, alpha, seed=seed, min_size=min_size)
    return [(x[index], y[index]) for index in shards]


def partition_by(
    x, y, groups, num_clients: int, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Splits a dataset so that every group (writer, user, device) lies whole on one client.

    The groups are shuffled by `seed` and dealt to clients so that shard sizes are as even as
    whole groups allow (each next group goes to the client with the fewest examples).

    Args:
        x: inputs, one per example.
        y: labels, one per example.
        groups: a group id (any hashable NumPy scalar: int or str) per example.
        num_clients: how many shards; at most the number of distinct groups.
        seed: seed of the shuffle. Defaults to `0`.

    Returns:
        A list of `(x_i, y_i)` pairs, one per client.

    Example:

    ```python
    shards = partition_by(x, y, groups=writer_ids, num_clients=5)
    ```
    """
    check_positive_int("num_clients", num_clients)
    x, y = _as_arrays(x, y)
    groups = np.asarray(groups).reshape(-1)
    if len(groups) != len(x):
        raise ValueError(
            f"`groups` must have one entry per example ({len(x)}). "
            f"Received: groups of length {len(groups)}"
        )
    names, inverse = np.unique(groups, return_inverse=True)
    if len(names) < num_clients:
        raise ValueError(
            f"`num_clients` must be at most the number of distinct groups ({len(names)}), so "
            f"that no client is empty. Received: num_clients={num_clients}"
        )
    order = np.random.default_rng(seed).permutation(len(names))
    sizes = np.bincount(inverse, minlength=len(names))
    members: list[list[int]] = [[] for _ in range(num_clients)]
    loads = np.zeros(num_clients, np.int64)
    for group in order:
        client = int(np.argmin(loads))
        members[client].append(group)
        loads[client] += sizes[group]
    shards = [np.flatnonzero(np.isin(inverse, m)) for m in members]
    return [(x[index], y[index]) for index in shards]


def label_skew(shards, num_classes: int | None = None) -> float:
    """The mean total-variation distance between each shard's label distribution and the whole's.

    0 for identical distributions, near 1 when each client holds classes no other holds.

    Args:
        shards: `(x_i, y_i)` pairs as `partition` returns.
        num_classes: the number of classes; defaults to the largest label + 1.

    Returns:
        A float in [0, 1].

    Example:

    ```python
    label_skew(partition(x, y, 10, alpha=0.1)) > label_skew(partition(x, y, 10, alpha=10.0))
    ```
    """
    labels = [np.asarray(y).reshape(-1).astype(np.int64) for _, y in shards]
    num_classes = num_classes or int(max(int(y.max()) for y in labels if len(y)) + 1)
    whole = np.bincount(np.concatenate(labels), minlength=num_classes).astype(np.float64)
    whole /= whole.sum()
    distances = []
    for y in labels:
        counts = np.bincount(y, minlength=num_classes).astype(np.float64)
        distances.append(0.5 * np.abs(counts / counts.sum() - whole).sum())
    return float(np.mean(distances))
