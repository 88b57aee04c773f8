"""Evolutionary search for the most accurate Once-for-All subnet under a latency budget."""

from __future__ import annotations

import dataclasses
import json

import keras
import numpy as np

from layers.validation import (
    check_non_negative_int,
    check_positive_float,
    check_positive_int,
    check_rate,
)
from zoo.nas.latency import predict_latency


@dataclasses.dataclass(frozen=True)
class SearchResult:
    """The best subnet found: its `config`, validation `accuracy` and predicted `latency_ms`;
    `history` holds the best accuracy after each generation."""

    config: dict
    accuracy: float
    latency_ms: float
    history: tuple[float, ...]


def subnet_accuracy(ofa, config: dict, x, y, batch_size: int = 256) -> float:
    """Accuracy of subnet `config` on `(x, y)`, run with the supernet's weights.

    Example:

    ```python
    accuracy = subnet_accuracy(ofa, config, x_val, y_val)
    ```
    """
    correct = 0
    for start in range(0, len(x), batch_size):
        logits = keras.ops.convert_to_numpy(ofa.run_subnet(x[start : start + batch_size], config))
        correct += int(np.sum(np.argmax(logits, -1) == np.asarray(y[start : start + batch_size])))
    return correct / len(x)


def smallest_latency(ofa, table: dict) -> float:
    """The lowest predicted latency of any subnet of `ofa`, in milliseconds.

    Latencies add up over blocks whose choices are independent, so the minimum is the stem
    and head plus, per stage, the cheapest depth of per-slot cheapest blocks.
    """
    largest = ofa.largest_config()
    specs = ofa.latency_specs(largest)
    total = predict_latency([specs[0], specs[-1]], table)
    blocks = iter(spec for spec in specs if spec["type"] == "mbconv")
    for _ in ofa.stage_channels:
        cheapest = []
        for _ in range(ofa.max_depth):
            spec = next(blocks)
            cheapest.append(
                min(
                    predict_latency([{**spec, "kernel": k, "expand": e}], table)
                    for k in ofa.kernel_choices
                    for e in ofa.expand_choices
                )
            )
        total += min(sum(cheapest[:depth]) for depth in ofa.depth_choices)
    return total


def _mutate(ofa, config: dict, rng, probability: float) -> dict:
    child = json.loads(json.dumps(config))
    for s in range(len(child["depth"])):
        if rng.random() < probability:
            child["depth"][s] = int(rng.choice(ofa.depth_choices))
        for j in range(ofa.max_depth):
            if rng.random() < probability:
                child["kernel"][s][j] = int(rng.choice(ofa.kernel_choices))
            if rng.random() < probability:
                child["expand"][s][j] = int(rng.choice(ofa.expand_choices))
    return child


def _crossover(first: dict, second: dict, rng) -> dict:
    child = {"depth": [], "kernel": [], "expand": []}
    for s in range(len(first["depth"])):
        child["depth"].append((first if rng.random() < 0.5 else second)["depth"][s])
        for key in ("kernel", "expand"):
            child[key].append(
                [
                    (first if rng.random() < 0.5 else second)[key][s][j]
                    for j in range(len(first[key][s]))
                ]
            )
    return child


def evolutionary_search(
    ofa,
    budget_ms: float,
    table: dict,
    validation_data,
    population: int = 16,
    generations: int = 5,
    parent_fraction: float = 0.25,
    mutation_probability: float = 0.1,
    seed: int = 0,
    calibration_images=None,
    verbose: int = 0,
) -> SearchResult:
    """Searches the subnet with the best validation accuracy whose predicted latency fits.

    The paper's evolutionary search (Section 3.3, with measured accuracy in place of its
    accuracy predictor): a population of random subnets within the budget; each generation
    keeps the best `parent_fraction` as parents and fills the rest with mutations and
    crossovers of parents that fit the budget. Latency is predicted from the lookup `table`.

    Args:
        ofa: a trained `OnceForAll` supernet.
        budget_ms: the latency budget in milliseconds.
        table: a latency table holding every block of `ofa` (`ofa.all_latency_specs()`).
        validation_data: `(x, y)` arrays the accuracy is measured on.
        population: subnets per generation. Defaults to `16`.
        generations: generations after the first. Defaults to `5`.
        parent_fraction: fraction of each generation kept as parents. Defaults to `0.25`.
        mutation_probability: probability of changing each choice. Defaults to `0.1`.
        seed: seed of the search. Defaults to `0`.
        calibration_images: training images; when given, each candidate is extracted and its
            batch norm recalibrated on them (`recalibrate_batch_norm`, as the paper does)
            before its accuracy is measured, instead of running it with the supernet's shared
            statistics. Slower, and what a briefly trained supernet needs. Defaults to `None`.
        verbose: `1` shows a progress bar. Defaults to `0`.

    Returns:
        A `SearchResult`.

    Raises:
        ValueError: no subnet meets the budget (the error names the budget and the smallest
            achievable latency).

    Example:

    ```python
    result = evolutionary_search(ofa, budget_ms=0.5, table=table, validation_data=(x, y))
    model = ofa.extract_subnet(result.config)
    ```
    """
    budget_ms = check_positive_float("budget_ms", budget_ms, allow_numpy=True)
    check_positive_int("population", population)
    check_non_negative_int("generations", generations)
    check_rate("parent_fraction", parent_fraction)
    check_rate("mutation_probability", mutation_probability)
    floor = smallest_latency(ofa, table)
    if floor > budget_ms:
        raise ValueError(
            f"No subnet meets the latency budget: the smallest achievable predicted latency is "
            f"{floor:.4f} ms. Received: budget_ms={budget_ms}"
        )
    x, y = validation_data
    rng = np.random.default_rng(seed)
    scores: dict[str, float] = {}

    def latency(config):
        return predict_latency(ofa.latency_specs(config), table)

    def fitness(config):
        key = json.dumps(config)
        if key not in scores and calibration_images is None:
            scores[key] = subnet_accuracy(ofa, config, x, y)
        elif key not in scores:
            from zoo.nas.ofa.calibration import recalibrate_batch_norm

            model = recalibrate_batch_norm(ofa.extract_subnet(config), calibration_images)
            logits = model.predict(x, batch_size=256, verbose=0)
            scores[key] = float(np.mean(np.argmax(logits, -1) == np.asarray(y)))
        return scores[key]

    def feasible(make, fallback):
        for _ in range(50):
            config = make()
            if latency(config) <= budget_ms:
                return config
        return fallback

    smallest = ofa.smallest_config()
    members = [
        feasible(lambda: ofa.sample_subnet_config(seed=int(rng.integers(2**31))), smallest)
        for _ in range(population)
    ]
    progress = keras.utils.Progbar(generations + 1, verbose=verbose) if verbose else None
    history = []
    for generation in range(generations + 1):
        ranked = sorted(members, key=fitness, reverse=True)
        history.append(fitness(ranked[0]))
        if progress is not None:
            progress.add(1, values=[("best_accuracy", history[-1])])
        if generation == generations:
            break
        parents = ranked[: max(1, int(round(parent_fraction * population)))]
        children = []
        while len(parents) + len(children) < population:
            first = parents[int(rng.integers(len(parents)))]
            if rng.random() < 0.5:
                second = parents[int(rng.integers(len(parents)))]
                children.append(feasible(lambda a=first, b=second: _crossover(a, b, rng), first))
            else:
                children.append(
                    feasible(lambda a=first: _mutate(ofa, a, rng, mutation_probability), first)
                )
        members = parents + children
    best = max(members, key=fitness)
    return SearchResult(
        config=best, accuracy=fitness(best), latency_ms=latency(best), history=tuple(history)
    )


def search(ofa, budget_ms: float, table: dict, validation_data, **kwargs) -> dict:
    """The best subnet configuration under `budget_ms` (`evolutionary_search(...).config`).

    Example:

    ```python
    config = search(ofa, 0.5, table, (x_val, y_val))
    ```
    """
    return evolutionary_search(ofa, budget_ms, table, validation_data, **kwargs).config
