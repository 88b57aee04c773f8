"""ProxylessNAS search: path-level binarised weight and architecture steps with a latency loss."""

from __future__ import annotations

import dataclasses
import json
import os

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from layers.validation import (
    check_choice,
    check_non_negative_float,
    check_positive_float,
    check_positive_int,
)
from zoo.nas.latency import predict_latency
from zoo.nas.search_state import read_search_state, write_search_state

LATENCY_LOSSES = ("mul", "add")


@dataclasses.dataclass(frozen=True)
class ProxylessResult:
    """The found architecture: `paths` (one index per block), their `names`, the predicted
    latency of the found network and the expected latency and loss after each epoch."""

    paths: tuple[int, ...]
    names: tuple[str, ...]
    predicted_latency_ms: float
    history: dict


def _block_latencies(supernet, table) -> list[np.ndarray]:
    return [
        np.asarray([predict_latency([spec], table) for spec in supernet.candidate_specs(b)], "f4")
        for b in range(len(supernet.paths))
    ]


def expected_latency(supernet, table: dict):
    """The expected latency (ms) under the architecture probabilities, a differentiable tensor.

    `stem + head + sum over blocks of sum_i p_i * latency_i`, the paper's Eq. 5.

    Example:

    ```python
    milliseconds = float(expected_latency(supernet, table))
    ```
    """
    fixed = predict_latency([supernet._stem_spec(), supernet._head_spec()], table)
    total = ops.convert_to_tensor(fixed, "float32")
    for alpha, latencies in zip(supernet.alphas, _block_latencies(supernet, table), strict=True):
        total = total + ops.sum(ops.softmax(alpha) * latencies)
    return total


def latency_loss(cross_entropy, latency, target_ms, kind="mul", beta=0.6, weight=0.1):
    """The latency-aware loss.

    `"mul"`: `CE * (latency / target) ** beta` (the multiplicative form of the ProxylessNAS
    code, after MnasNet); `"add"`: `CE + weight * latency / target` (the paper's Eq. 5 with
    the latency normalised by the target).
    """
    if kind == "mul":
        return cross_entropy * (latency / target_ms) ** beta
    return cross_entropy + weight * latency / target_ms


def proxyless_search(
    supernet,
    train_data,
    validation_data,
    table: dict,
    target_latency_ms: float,
    epochs: int = 5,
    warmup_epochs: int = 1,
    batch_size: int = 64,
    weight_learning_rate: float = 1e-2,
    architecture_learning_rate: float = 1e-2,
    loss: str = "mul",
    beta: float = 0.6,
    latency_weight: float = 0.1,
    seed: int = 0,
    verbose: int = 0,
    state_path: str | None = None,
) -> ProxylessResult:
    """Searches a `ProxylessSupernet` on `(x, y)` arrays under a latency target.

    Each step updates the weights on a training batch with one path per block sampled from
    the architecture probabilities (only that path runs), then the architecture parameters on
    a validation batch with two sampled paths per block and binary gates (`run_gated`), on the
    latency-aware loss (`latency_loss`). The first `warmup_epochs` train the weights only.

    With `state_path`, the search saves its state there after every epoch (the supernet, both
    optimizers, the random generators and the history) and a later call with the same path and
    settings continues from the last finished epoch, to the same result as an uninterrupted
    search; a larger `epochs` extends a finished search.

    Args:
        supernet: a `ProxylessSupernet`.
        train_data: `(x, y)` arrays for the weights.
        validation_data: `(x, y)` arrays for the architecture parameters.
        table: a latency table with every block of the space (`supernet.all_latency_specs()`).
        target_latency_ms: the latency target (budget) in milliseconds.
        epochs: search epochs (after the warm-up). Defaults to `5`.
        warmup_epochs: weight-only epochs first. Defaults to `1`.
        batch_size: batch size. Defaults to `64`.
        weight_learning_rate: SGD (momentum 0.9) learning rate of the weights. Defaults to `1e-2`.
        architecture_learning_rate: Adam learning rate of the architecture. Defaults to `1e-2`.
        loss: `"mul"` or `"add"` (see `latency_loss`). Defaults to `"mul"`.
        beta: exponent of the `"mul"` loss. Defaults to `0.6`.
        latency_weight: weight of the `"add"` loss. Defaults to `0.1`.
        seed: seed of the batch order and path sampling. Defaults to `0`.
        verbose: `1` shows a progress bar per epoch. Defaults to `0`.
        state_path: a `.npz` file for the resumable state. Defaults to `None` (not saved).

    Returns:
        A `ProxylessResult`; `supernet.derive(result.paths)` builds the network.

    Raises:
        ValueError: a bad argument, or a state at `state_path` saved with other settings.

    Example:

    ```python
    result = proxyless_search(supernet, (x, y), (x_val, y_val), table, target_latency_ms=0.3)
    model = supernet.derive(result.paths)
    ```

    Reference:
        Cai, Zhu and Han, "ProxylessNAS: Direct Neural Architecture Search on Target Task and
        Hardware", ICLR 2019.
    """
    target = check_positive_float("target_latency_ms", target_latency_ms, allow_numpy=True)
    check_positive_int("epochs", epochs)
    check_positive_int("batch_size", batch_size)
    check_choice("loss", loss, LATENCY_LOSSES)
    check_non_negative_float("beta", beta)
    check_non_negative_float("latency_weight", latency_weight)
    x, y = (np.asarray(a) for a in train_data)
    x_val, y_val = (np.asarray(a) for a in validation_data)
    block_latencies = [ops.convert_to_tensor(v) for v in _block_latencies(supernet, table)]
    fixed = predict_latency([supernet._stem_spec(), supernet._head_spec()], table)
    weight_optimizer = keras.optimizers.SGD(weight_learning_rate, momentum=0.9)
    architecture_optimizer = keras.optimizers.Adam(architecture_learning_rate)
    weights, alphas = supernet.weight_variables, supernet.architecture_variables
    weight_optimizer.build(weights)
    architecture_optimizer.build(alphas)
    cross_entropy = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    # Paths are drawn with stateless ops from a generator whose state is a variable, so that
    # a saved state continues the same sequence of paths.
    paths_generator = tf.random.Generator.from_seed(seed)

    def sample_paths(logits):
        seeds = paths_generator.make_seeds(len(logits))
        return [
            tf.random.stateless_categorical(a[None], 1, seed=seeds[:, i], dtype=tf.int32)[0, 0]
            for i, a in enumerate(logits)
        ]

    def latency_tensor():
        total = fixed
        for alpha, latencies in zip(alphas, block_latencies, strict=True):
            total = total + ops.sum(ops.softmax(alpha) * latencies)
        return total

    @tf.function
    def weight_step(xb, yb):
        paths = sample_paths([tf.convert_to_tensor(a) for a in alphas])
        with tf.GradientTape() as tape:
            value = cross_entropy(yb, supernet.run_paths(xb, paths, training=True))
        weight_optimizer.apply(tape.gradient(value, weights), weights)
        return value

    @tf.function
    def architecture_step(xb, yb):
        logits = [tf.convert_to_tensor(a) for a in alphas]
        first = sample_paths(logits)
        masked = [
            tf.where(tf.one_hot(f, a.shape[0]) > 0, -1e9, a)
            for a, f in zip(logits, first, strict=True)
        ]
        second = [
            f if a.shape[0] < 2 else s
            for a, f, s in zip(logits, first, sample_paths(masked), strict=True)
        ]
        with tf.GradientTape() as tape:
            value = cross_entropy(yb, supernet.run_gated(xb, first, second, training=True))
            total = latency_loss(value, latency_tensor(), target, loss, beta, latency_weight)
        architecture_optimizer.apply(tape.gradient(total, alphas), alphas)
        return total

    rng = np.random.default_rng(seed)
    history = {"expected_latency_ms": [], "weight_loss": []}
    state_variables = [
        *supernet.variables,
        *weight_optimizer.variables,
        *architecture_optimizer.variables,
        paths_generator.state,
    ]
    fingerprint = json.dumps(
        dict(
            target_latency_ms=target,
            warmup_epochs=warmup_epochs,
            batch_size=batch_size,
            weight_learning_rate=weight_learning_rate,
            architecture_learning_rate=architecture_learning_rate,
            loss=loss,
            beta=beta,
            latency_weight=latency_weight,
            seed=seed,
            examples=[len(x), len(x_val)],
        ),
        sort_keys=True,
    )
    done = 0
    if state_path is not None and os.path.isfile(state_path):
        done, extra = read_search_state(state_variables, state_path, fingerprint)
        rng.bit_generator.state = extra["numpy_generator"]
        history = extra["history"]
    steps = max(1, len(x) // batch_size)
    for epoch in range(done, warmup_epochs + epochs):
        order = rng.permutation(len(x))
        progress = keras.utils.Progbar(steps, verbose=verbose) if verbose else None
        losses = []
        for step in range(steps):
            index = order[step * batch_size : (step + 1) * batch_size]
            losses.append(float(weight_step(x[index], y[index])))
            values = [("weight_loss", losses[-1])]
            if epoch >= warmup_epochs:
                val = rng.integers(0, len(x_val), batch_size)
                values.append(
                    ("architecture_loss", float(architecture_step(x_val[val], y_val[val])))
                )
            if progress is not None:
                progress.add(1, values=values)
        history["weight_loss"].append(float(np.mean(losses)))
        history["expected_latency_ms"].append(float(latency_tensor()))
        if state_path is not None:
            extra = {"numpy_generator": rng.bit_generator.state, "history": history}
            write_search_state(state_variables, state_path, epoch + 1, fingerprint, extra)
    paths = supernet.argmax_paths()
    return ProxylessResult(
        paths=tuple(paths),
        names=tuple(supernet.path_names(paths)),
        predicted_latency_ms=predict_latency(supernet.latency_specs(paths), table),
        history=history,
    )
