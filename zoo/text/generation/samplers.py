"""Token samplers for text generation: greedy, temperature, top-k, top-p and beam search.

A sampler turns the logits of the next position into one token id per row. Everything is
TensorFlow ops, so the samplers run inside the compiled generation loop; random samplers draw
with stateless ops from a `(seed, position)` pair, so a `seed` makes generation reproducible.
"""

from __future__ import annotations

import tensorflow as tf

from layers.validation import (
    check_choice,
    check_positive_float,
    check_positive_int,
    check_probability_open_closed,
)

SAMPLERS = ("greedy", "random", "top_k", "top_p", "beam")


class Sampler:
    """Picks the next token from logits: the base of every sampler (temperature applies first).

    Args:
        temperature: logits are divided by it before sampling. Defaults to `1.0`.

    Example:

    ```python
    ids = TopKSampler(k=5, temperature=0.7)(logits, seed=tf.constant([1, 7]))
    ```
    """

    stochastic = True

    def __init__(self, temperature: float = 1.0):
        self.temperature = check_positive_float("temperature", temperature)

    def filter_logits(self, logits: tf.Tensor) -> tf.Tensor:
        """The logits to draw from: `-inf` where a token may not be drawn."""
        return logits

    def __call__(self, logits: tf.Tensor, seed: tf.Tensor) -> tf.Tensor:
        """Token ids `int32 [B]` drawn from `logits [B, vocab]` with a stateless `seed [2]`."""
        logits = tf.cast(logits, tf.float32) / self.temperature
        logits = self.filter_logits(logits)
        return tf.cast(tf.random.stateless_categorical(logits, 1, seed)[:, 0], tf.int32)


class GreedySampler(Sampler):
    """Always the most likely token (Hugging Face's `do_sample=False, num_beams=1`).

    Example:

    ```python
    ids = GreedySampler()(logits, seed=None)
    ```
    """

    stochastic = False

    def __init__(self):
        super().__init__(1.0)

    def __call__(self, logits, seed):
        return tf.argmax(logits, axis=-1, output_type=tf.int32)


class RandomSampler(Sampler):
    """Draws from the whole softmax of `logits / temperature` (pure temperature sampling).

    Example:

    ```python
    ids = RandomSampler(temperature=0.8)(logits, seed=tf.constant([0, 3]))
    ```
    """


class TopKSampler(Sampler):
    """Draws among the `k` most likely tokens (Fan et al. 2018, "Hierarchical Neural Story
    Generation").

    Args:
        k: number of candidate tokens. Defaults to `50`.
        temperature: see `Sampler`.

    Example:

    ```python
    ids = TopKSampler(k=10)(logits, seed=tf.constant([0, 3]))
    ```
    """

    def __init__(self, k: int = 50, temperature: float = 1.0):
        super().__init__(temperature)
        self.k = check_positive_int("k", k)

    def filter_logits(self, logits):
        k = tf.minimum(self.k, tf.shape(logits)[-1])
        kth = tf.math.top_k(logits, k=k).values[:, -1:]
        return tf.where(logits < kth, tf.cast(-float("inf"), logits.dtype), logits)


class TopPSampler(Sampler):
    """Nucleus sampling: draws among the most likely tokens whose probabilities sum to `p`
    (Holtzman et al. 2020, "The Curious Case of Neural Text Degeneration").

    The most likely token is always kept; a token is kept when the tokens more likely than it
    hold less than `p` of the probability.

    Args:
        p: probability mass to keep, in `(0, 1]`. Defaults to `0.9`.
        k: if given, first keep only the `k` most likely tokens. Defaults to `None`.
        temperature: see `Sampler`.

    Example:

    ```python
    ids = TopPSampler(p=0.9)(logits, seed=tf.constant([0, 3]))
    ```
    """

    def __init__(self, p: float = 0.9, k: int | None = None, temperature: float = 1.0):
        super().__init__(temperature)
        self.p = check_probability_open_closed("p", p)
        self.k = check_positive_int("k", k, allow_none=True)

    def filter_logits(self, logits):
        vocabulary = tf.shape(logits)[-1]
        k = vocabulary if self.k is None else tf.minimum(self.k, vocabulary)
        top = tf.math.top_k(logits, k=k)
        probabilities = tf.nn.softmax(top.values, axis=-1)
        before = tf.cumsum(probabilities, axis=-1, exclusive=True)
        keep = before < self.p
        kept_values = tf.where(keep, top.values, tf.cast(-float("inf"), logits.dtype))
        # Back to vocabulary order: scatter the kept sorted logits to their token ids.
        rows = tf.broadcast_to(tf.range(tf.shape(logits)[0])[:, None], tf.shape(top.indices))
        indices = tf.stack([rows, top.indices], axis=-1)
        filtered = tf.fill(tf.shape(logits), tf.cast(-float("inf"), logits.dtype))
        return tf.tensor_scatter_nd_update(filtered, indices, kept_values)


class BeamSampler(Sampler):
    """Beam search (Hugging Face's `num_beams > 1, do_sample=False`): `num_beams` running
    hypotheses, finished ones scored by `sum(log p) / generated_length ** length_penalty`.

    `generate_ids` runs the search itself; this object only carries its settings.

    Args:
        num_beams: beam width, at least 1. Defaults to `4`.
        length_penalty: exponent of the length normalisation of finished hypotheses.
            Defaults to `1.0`.

    Example:

    ```python
    ids = generate_ids(step_fn, state, ids, 8, sampler=BeamSampler(num_beams=3))
    ```
    """

    stochastic = False

    def __init__(self, num_beams: int = 4, length_penalty: float = 1.0):
        super().__init__(1.0)
        self.num_beams = check_positive_int("num_beams", num_beams)
        if isinstance(length_penalty, bool) or not isinstance(length_penalty, int | float):
            raise ValueError(
                f"`length_penalty` must be a number. Received: length_penalty={length_penalty!r}"
            )
        self.length_penalty = float(length_penalty)

    def __call__(self, logits, seed):
        raise NotImplementedError("BeamSampler is run by `generate_ids`, not called per token.")


def get_sampler(
    sampler: str | Sampler = "greedy",
    *,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    num_beams: int = 1,
    length_penalty: float = 1.0,
) -> Sampler:
    """A `Sampler` from its name (one of `SAMPLERS`) and settings, or `sampler` itself.

    Args:
        sampler: `"greedy"`, `"random"` (temperature), `"top_k"`, `"top_p"`, `"beam"`, or a
            `Sampler` instance (returned as it is).
        temperature: for the random samplers. Defaults to `1.0`.
        top_k: `k` of `"top_k"` (default 50) and an optional cut of `"top_p"`.
        top_p: `p` of `"top_p"`, in `(0, 1]` (default 0.9).
        num_beams: beam width of `"beam"`, at least 1; with `"greedy"`, a width above 1 means
            beam search (as in Hugging Face). Defaults to `1`.
        length_penalty: of `"beam"`. Defaults to `1.0`.

    Example:

    ```python
    sampler = get_sampler("top_p", top_p=0.95, temperature=0.7)
    ```
    """
    check_positive_int("num_beams", num_beams)
    if top_p is not None:
        check_probability_open_closed("top_p", top_p)
    if isinstance(sampler, Sampler):
        return sampler
    check_choice("sampler", sampler, SAMPLERS)
    if sampler == "greedy" and num_beams == 1:
        return GreedySampler()
    if sampler == "random":
        return RandomSampler(temperature)
    if sampler == "top_k":
        return TopKSampler(50 if top_k is None else top_k, temperature)
    if sampler == "top_p":
        return TopPSampler(0.9 if top_p is None else top_p, top_k, temperature)
    return BeamSampler(num_beams, length_penalty)
