"""Universal approximation and depth vs width at an equal parameter count.

Every target function on [0, 1] (smooth ones, and Telgarsky's sawtooth with 2^k linear pieces)
is fitted by ReLU MLPs of depth 1 to 6 whose width is solved so that all depths spend about the
same number of parameters (`width_for_budget`). All networks (targets x depths x seeds) train
together as one Keras model of independent `ParallelDense` stacks, with Adam on the mean squared
error, and are scored by the root mean squared error on a dense grid. The expected finding
(Telgarsky, "Benefits of depth in neural networks", COLT 2016): at a fixed budget the sawtooth's
error falls with depth, since a one-hidden-layer network of width w has at most w + 1 pieces
while depth multiplies pieces; smooth targets are fitted well by shallow networks already.
"""

from __future__ import annotations

import keras
import numpy as np

from layers.validation import check_positive_int, check_positive_ints
from zoo.experiments.parallel_mlp import ParallelDense
from zoo.experiments.parameter_budget import mlp_parameter_count, width_for_budget
from zoo.experiments.sawtooth_construction import constructed_sawtooth_network
from zoo.experiments.targets import all_targets, sawtooth


def build_sweep_model(depths, widths, members: int, bias_scale: float = 0.5):
    """One Keras model holding `members` independent MLPs per depth, outputs side by side.

    Args:
        depths: hidden-layer counts.
        widths: the width at each depth.
        members: networks per depth (targets x seeds).
        bias_scale: hidden biases start uniform in `[-bias_scale, bias_scale]`, so that the
            ReLU kinks spread over the input range instead of all sitting at 0.

    Returns:
        A `keras.Model` from `(batch, 1)` inputs in [-1, 1] to `(batch, len(depths) * members)`.
    """
    inputs = keras.Input((1,), name="x")
    outputs = []
    for depth, width in zip(depths, widths, strict=True):
        hidden = inputs
        for layer in range(depth):
            hidden = ParallelDense(
                members,
                width,
                activation="relu",
                bias_initializer=keras.initializers.RandomUniform(-bias_scale, bias_scale),
                name=f"depth_{depth}_hidden_{layer}",
            )(hidden)
        head = ParallelDense(
            members, 1, kernel_initializer="glorot_uniform", name=f"depth_{depth}_out"
        )
        outputs.append(keras.layers.Reshape((members,), name=f"depth_{depth}_y")(head(hidden)))
    joined = keras.layers.Concatenate(name="y")(outputs) if len(outputs) > 1 else outputs[0]
    return keras.Model(inputs, joined, name="depth_vs_width_sweep")


def sawtooth_construction_row(k: int, grid: np.ndarray) -> dict:
    """The exact depth-k construction next to what one hidden layer needs for the same target.

    Args:
        k: the sawtooth's tent-map compositions.
        grid: `(n, 1)` points of [0, 1] to measure the construction's RMSE on.

    Returns:
        `depth`, `width`, `parameters`, `rmse` of the constructed network, and
        `shallow_width_needed` (2^k - 1) with its `shallow_parameters_needed`.
    """
    network = constructed_sawtooth_network(k)
    predictions = network.predict(grid.astype("float32"), batch_size=4096, verbose=0)
    rmse = float(np.sqrt(np.mean((predictions[:, 0] - sawtooth(grid[:, 0], k)) ** 2)))
    return {
        "depth": k,
        "width": 2,
        "parameters": int(network.count_params()),
        "rmse": rmse,
        "shallow_width_needed": 2**k - 1,
        "shallow_parameters_needed": mlp_parameter_count(1, 2**k - 1),
    }


def run_depth_vs_width(
    budget: int = 300,
    depths=(1, 2, 3, 4, 5, 6),
    sawtooth_k: int = 6,
    seeds: int = 3,
    steps: int = 6000,
    batch_size: int = 256,
    learning_rate: float = 3e-3,
    train_points: int = 2048,
    seed: int = 0,
    verbose: int = 1,
) -> dict:
    """Fits every target at every depth with equal-parameter ReLU MLPs; returns the table.

    Args:
        budget: the parameter budget each network's width is solved for.
        depths: hidden-layer counts. Defaults to 1-6.
        sawtooth_k: tent-map compositions of the sawtooth target (2^k pieces).
        seeds: independent initialisations per (target, depth), averaged.
        steps: Adam steps (cosine-decayed learning rate).
        batch_size: points per step.
        learning_rate: the starting learning rate.
        train_points: training inputs, an even grid on [0, 1].
        seed: the random seed.
        verbose: 1 shows a progress bar, 0 nothing.

    Returns:
        A dict: `"config"` (the arguments), `"rows"` (one per target and depth: `target`,
        `depth`, `width`, `parameters`, `rmse_mean`, `rmse_std`, `rmse_best`, `rmse_per_seed`)
        and `"findings"` (per target: the RMSE at the shallowest and deepest depth and their
        ratio).

    Example:

    ```python
    table = run_depth_vs_width(budget=200, steps=2000, seeds=2, verbose=0)
    ```
    """
    check_positive_int("budget", budget)
    depths = check_positive_ints("depths", tuple(depths))
    for name, value in (
        ("seeds", seeds),
        ("steps", steps),
        ("batch_size", batch_size),
        ("train_points", train_points),
    ):
        check_positive_int(name, value)
    config = {
        "budget": budget,
        "depths": list(depths),
        "sawtooth_k": sawtooth_k,
        "seeds": seeds,
        "steps": steps,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "train_points": train_points,
        "seed": seed,
    }
    targets = all_targets(sawtooth_k)
    names = list(targets)
    members = len(names) * seeds  # member index: target * seeds + seed
    widths = [width_for_budget(depth, budget) for depth in depths]

    x = np.linspace(0.0, 1.0, train_points)[:, None]
    grid = np.linspace(0.0, 1.0, 8 * train_points + 1)[:, None]

    def targets_at(points):
        per_member = np.concatenate(
            [np.repeat(targets[name](points), seeds, axis=1) for name in names], axis=1
        )
        return np.tile(per_member, (1, len(depths))).astype("float32")

    keras.utils.set_random_seed(seed)
    model = build_sweep_model(depths, widths, members)
    schedule = keras.optimizers.schedules.CosineDecay(learning_rate, decay_steps=steps)
    chunks = min(20, steps)
    steps_per_chunk = steps // chunks
    repeats = -(-steps_per_chunk * batch_size // train_points)
    x_train = np.tile(2.0 * x - 1.0, (repeats, 1)).astype("float32")
    y_train = np.tile(targets_at(x), (repeats, 1))
    model.compile(keras.optimizers.Adam(schedule), loss="mse", steps_per_execution=steps_per_chunk)
    progress = keras.utils.Progbar(chunks * steps_per_chunk, verbose=verbose) if verbose else None
    for chunk in range(chunks):
        history = model.fit(
            x_train,
            y_train,
            batch_size=batch_size,
            steps_per_epoch=steps_per_chunk,
            epochs=1,
            shuffle=True,
            verbose=0,
        )
        if progress is not None:
            progress.update((chunk + 1) * steps_per_chunk, [("loss", history.history["loss"][-1])])

    predictions = model.predict((2.0 * grid - 1.0).astype("float32"), batch_size=4096, verbose=0)
    rmse = np.sqrt(np.mean((predictions - targets_at(grid)) ** 2, axis=0))
    rmse = rmse.reshape(len(depths), len(names), seeds)
    rows = []
    for t, name in enumerate(names):
        for d, (depth, width) in enumerate(zip(depths, widths, strict=True)):
            values = rmse[d, t]
            rows.append(
                {
                    "target": name,
                    "depth": depth,
                    "width": width,
                    "parameters": mlp_parameter_count(depth, width),
                    "rmse_mean": float(values.mean()),
                    "rmse_std": float(values.std()),
                    "rmse_best": float(values.min()),
                    "rmse_per_seed": [float(v) for v in values],
                }
            )
    findings = {}
    findings["construction"] = sawtooth_construction_row(sawtooth_k, grid)
    for name in names:
        by_depth = {row["depth"]: row["rmse_mean"] for row in rows if row["target"] == name}
        shallow, deep = by_depth[min(depths)], by_depth[max(depths)]
        findings[name] = {
            "rmse_shallowest": shallow,
            "rmse_deepest": deep,
            "deepest_over_shallowest": deep / shallow if shallow > 0 else float("nan"),
        }
    return {"config": config, "rows": rows, "findings": findings}
