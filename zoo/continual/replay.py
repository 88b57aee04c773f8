"""A bounded replay memory filled by reservoir sampling (Vitter's algorithm R)."""

from __future__ import annotations

import json
import os

import numpy as np
import tensorflow as tf

from layers.validation import check_non_negative_int, check_positive_int

# Stateless random streams are keyed by (seed, 3 * examples seen + purpose), so every draw is
# fixed by the memory's state alone and the same in `add` and inside a compiled train step.
RANDOM_ALGORITHM = "philox"
RESERVOIR_DRAW, FIRST_REPLAY_DRAW, SECOND_REPLAY_DRAW = 0, 1, 2


def random_integers(length, seed: int, num_seen, purpose: int):
    """`length` full-range int64 draws keyed by the memory's state, identical with and without
    XLA (unlike floating-point stateless draws, which XLA computes differently)."""
    num_seen = tf.cast(num_seen, tf.int64)
    key = tf.stack([tf.cast(seed, tf.int64), 3 * num_seen + purpose])
    return tf.random.stateless_uniform(
        [length], key, minval=None, maxval=None, dtype=tf.int64, alg=RANDOM_ALGORITHM
    )


def reservoir_slots(num_seen, batch_size, capacity: int, seed: int):
    """Where algorithm R puts each example of an incoming batch.

    Example `k` of the stream (counting from 0) goes to slot `k` while the memory is not full;
    afterwards it replaces slot `r`, `r` uniform in `[0, k]`, when `r < capacity`, and is dropped
    otherwise. Every example thus ends up in the memory with probability `capacity / seen`.
    Applying a batch at once equals applying it one example at a time: when two examples of the
    batch draw the same slot, the later one keeps it.

    Args:
        num_seen: examples seen before this batch (int64 scalar tensor or int).
        batch_size: examples in the batch (int32 scalar tensor or int).
        capacity: slots in the memory.
        seed: the memory's seed.

    Returns:
        An int64 `[batch_size]` tensor: each example's slot, or `capacity` for a dropped one.
    """
    num_seen = tf.cast(num_seen, tf.int64)
    positions = num_seen + tf.range(tf.cast(batch_size, tf.int64), dtype=tf.int64)
    draws = random_integers(tf.shape(positions)[0], seed, num_seen, RESERVOIR_DRAW)
    # floormod of a full-range integer: the bias is below positions / 2**63.
    slot = tf.where(positions < capacity, positions, tf.math.floormod(draws, positions + 1))
    kept = slot < capacity
    same_slot_later = tf.logical_and(
        tf.equal(slot[:, None], slot[None, :]), positions[:, None] < positions[None, :]
    )
    overwritten = tf.reduce_any(tf.logical_and(same_slot_later, kept[None, :]), axis=1)
    return tf.where(tf.logical_and(kept, tf.logical_not(overwritten)), slot, capacity)


class ReplayMemory:
    """A memory of at most `capacity` examples, a uniform sample of everything ever added.

    `add` streams batches in; reservoir sampling (Vitter's algorithm R) keeps every example seen
    so far in the memory with the same probability `capacity / seen`, whatever the task or
    batch it came from. The memory can also keep the model's outputs (logits) for each example,
    as Dark Experience Replay needs. `ExperienceReplay` and `DarkExperienceReplay` fill it during
    `model.fit`; `save`/`load` keep it with the run.

    Args:
        capacity: the most examples held.
        seed: seed of the reservoir draws and of `sample`. Defaults to `0`.

    Example:

    ```python
    memory = ReplayMemory(capacity=200, seed=0)
    memory.add(x_task_0, y_task_0)
    x_replay, y_replay = memory.sample(32)
    memory.save("run/memory.npz")
    memory = ReplayMemory.load("run/memory.npz")
    ```

    Reference: Vitter, "Random sampling with a reservoir", ACM TOMS 1985 (algorithm R);
    Chaudhry et al., "On Tiny Episodic Memories in Continual Learning", 2019 (reservoir
    experience replay).
    """

    def __init__(self, capacity: int, seed: int = 0):
        self.capacity = check_positive_int("capacity", capacity)
        self.seed = check_non_negative_int("seed", seed)
        self.num_seen = 0
        self.x: np.ndarray | None = None
        self.y: np.ndarray | None = None
        self.logits: np.ndarray | None = None
        self._rng = np.random.default_rng(seed)

    def __len__(self) -> int:
        return min(self.num_seen, self.capacity)

    def __repr__(self) -> str:
        return (
            f"ReplayMemory(capacity={self.capacity}, seed={self.seed}, held={len(self)}, "
            f"seen={self.num_seen}, logits={self.stores_logits})"
        )

    @property
    def stores_logits(self) -> bool:
        """Whether every example is kept with its logits (decided by the first `add`)."""
        return self.logits is not None

    @property
    def initialized(self) -> bool:
        """Whether the storage exists (after the first `add`, or `allocate`)."""
        return self.x is not None

    def get_config(self) -> dict:
        return {"capacity": self.capacity, "seed": self.seed}

    @classmethod
    def from_config(cls, config: dict) -> ReplayMemory:
        return cls(**config)

    def allocate(self, x_spec, y_spec, logits_spec=None) -> None:
        """Creates empty storage for examples of the given `(shape, dtype)` specs.

        `add` calls it on its first batch; the replay callbacks call it with the shapes of the
        model's first training batch.
        """
        if self.initialized:
            raise ValueError(f"The memory already has storage. Received: memory={self!r}")
        self.x = np.zeros((self.capacity, *x_spec[0]), x_spec[1])
        self.y = np.zeros((self.capacity, *y_spec[0]), y_spec[1])
        if logits_spec is not None:
            self.logits = np.zeros((self.capacity, *logits_spec[0]), logits_spec[1])

    def add(self, x, y, logits=None) -> np.ndarray:
        """Streams a batch of examples through the reservoir.

        Args:
            x: inputs, an array `(batch, ...)`.
            y: labels, an array `(batch, ...)`.
            logits: the model's outputs `(batch, ...)` for DER; required when the memory
                stores logits (its first `add` had them) and refused otherwise.
                Defaults to `None`.

        Returns:
            The slot of each example in the memory, `-1` for an example not kept.
        """
        x, y = np.asarray(x), np.asarray(y)
        logits = None if logits is None else np.asarray(logits, np.float32)
        self._check_batch(x, y, logits)
        if not self.initialized:
            logits_spec = None if logits is None else (logits.shape[1:], np.float32)
            self.allocate((x.shape[1:], x.dtype), (y.shape[1:], y.dtype), logits_spec)
        slots = reservoir_slots(self.num_seen, len(x), self.capacity, self.seed).numpy()
        kept = slots < self.capacity
        self.x[slots[kept]] = x[kept]
        self.y[slots[kept]] = y[kept]
        if logits is not None:
            self.logits[slots[kept]] = logits[kept]
        self.num_seen += len(x)
        return np.where(kept, slots, -1)

    def _check_batch(self, x, y, logits) -> None:
        if x.ndim == 0 or y.ndim == 0 or len(x) != len(y):
            raise ValueError(
                "`x` and `y` must be arrays with one row per example and the same length. "
                f"Received: x.shape={x.shape}, y.shape={y.shape}"
            )
        if logits is not None and (logits.ndim == 0 or len(logits) != len(x)):
            raise ValueError(
                f"`logits` must have one row per example ({len(x)}). "
                f"Received: logits.shape={logits.shape}"
            )
        if not self.initialized:
            return
        if self.stores_logits != (logits is not None):
            needed = "stores logits, so every batch needs" if self.stores_logits else "has no"
            raise ValueError(
                f"The memory {needed} `logits` (set by its first batch). "
                f"Received: logits={'None' if logits is None else logits.shape}"
            )
        pairs = {"x": (x, self.x), "y": (y, self.y), "logits": (logits, self.logits)}
        for name, (array, stored) in pairs.items():
            if array is not None and array.shape[1:] != stored.shape[1:]:
                raise ValueError(
                    f"`{name}` examples must have shape {stored.shape[1:]} like the memory's. "
                    f"Received: {name}.shape={array.shape}"
                )

    def sample(self, n: int):
        """Draws `min(n, len(self))` distinct held examples uniformly at random.

        Args:
            n: how many examples to draw.

        Returns:
            `(x, y)`, or `(x, y, logits)` when the memory stores logits.
        """
        check_positive_int("n", n)
        if len(self) == 0:
            raise ValueError(f"The memory is empty; nothing to sample. Received: memory={self!r}")
        index = np.sort(self._rng.choice(len(self), size=min(n, len(self)), replace=False))
        return tuple(a[index] for a in self.arrays())

    def arrays(self):
        """The held examples, in slot order: `(x, y)` or `(x, y, logits)`."""
        held = len(self)
        if not self.initialized:
            raise ValueError(f"The memory has no storage yet. Received: memory={self!r}")
        stored = (self.x, self.y) + ((self.logits,) if self.stores_logits else ())
        return tuple(a[:held] for a in stored)

    def save(self, path: str) -> str:
        """Writes the memory (examples, counters and random state) to an `.npz` file.

        Returns:
            `path`.
        """
        os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
        state = {
            "config": self.get_config(),
            "num_seen": self.num_seen,
            "rng": self._rng.bit_generator.state,
        }
        arrays = {"x": self.x, "y": self.y, "logits": self.logits}
        with open(path, "wb") as file:
            np.savez(
                file,
                state=np.array(json.dumps(state)),
                **{name: array for name, array in arrays.items() if array is not None},
            )
        return path

    @classmethod
    def load(cls, path: str) -> ReplayMemory:
        """Reads a memory written by `save`."""
        with np.load(path, allow_pickle=False) as data:
            state = json.loads(str(data["state"]))
            memory = cls.from_config(state["config"])
            memory.num_seen = int(state["num_seen"])
            memory._rng.bit_generator.state = state["rng"]
            for name in ("x", "y", "logits"):
                if name in data:
                    setattr(memory, name, data[name])
        return memory
