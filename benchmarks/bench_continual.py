"""Continual learning on digits: fine-tuning vs EWC vs replay vs DER vs progressive networks.

Two streams of five tasks over scikit-learn's 8x8 digits (`zoo.datasets.load_digits`, the
stratified 80/20 split, pixels in [0, 1], flattened to 64 features):

- Split-digits, class-incremental: classes {0, 1}, {2, 3}, ... in turn, one 10-way head, no task
  id at test time (`zoo.continual.split_tasks`);
- Permuted-digits: five fixed pixel permutations (the first the identity), all ten classes in
  every task, one shared head (`zoo.continual.permuted_tasks`).

Every method trains the same MLP (two hidden layers of `--units`, AdamW 1e-3, batch 32) for the
same epochs per task: plain fine-tuning; EWC (`layers.callbacks.EWC`, the tasks so far
consolidated); experience replay, DER and DER++ (`zoo.continual.ExperienceReplay`,
`DarkExperienceReplay`, a reservoir memory of 200 examples; DER's alpha and DER++'s alpha and
beta per stream from a grid on validation data, `--grid`); and a progressive network
(`zoo.continual.ProgressiveNetwork`, one two-layer column per task, its width the largest that
keeps the grown network, lateral adapters included, within the MLP's parameters; and again
with columns as wide as the MLP, about 16 times its parameters). The progressive
network is told each example's task: on Split-digits each column is a 2-way head over its task's
classes (the task-incremental setting, chance 50%), so its row is not comparable with the
class-incremental ones (chance 10%); it is there for its zero forgetting.

After each task the accuracy on every task's test split fills the matrix R
(`zoo.continual.ContinualEvaluator`); the table gives final average accuracy, backward transfer
and forgetting (`zoo.continual.summarize`), mean ± std over seeds, and is written to
`artifacts/bench_continual.md`. Run:

    .venv/bin/python -m benchmarks.bench_continual            # 3 seeds, 14 minutes (2 busy cores)
    .venv/bin/python -m benchmarks.bench_continual --seeds 0 --epochs 2   # a smoke run
    .venv/bin/python -m benchmarks.bench_continual --grid    # DER/DER++ grid, 10 minutes
    .venv/bin/python -m benchmarks.bench_continual --streams split --der-alpha 1
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras  # noqa: E402
import numpy as np  # noqa: E402

from layers.callbacks import EWC  # noqa: E402
from zoo.basic import MLPClassifier  # noqa: E402
from zoo.continual import (  # noqa: E402
    ContinualEvaluator,
    DarkExperienceReplay,
    ExperienceReplay,
    ReplayMemory,
    permuted_tasks,
    split_tasks,
    summarize,
)
from zoo.continual.progressive import ProgressiveNetwork, task_inputs  # noqa: E402
from zoo.datasets import load_digits  # noqa: E402

ARTIFACT = os.path.join("artifacts", "bench_continual.md")
GRID_ARTIFACT = os.path.join("artifacts", "bench_continual_grid.md")
PROGRESSIVE = "progressive network"
WIDE_PROGRESSIVE = "progressive network, MLP-wide columns"
METHODS = ("fine-tuning", "EWC", "experience replay", "DER", "DER++", PROGRESSIVE, WIDE_PROGRESSIVE)
NUM_TASKS = 5
BATCH_SIZE = 32
MEMORY_CAPACITY = 200
EWC_LAMBDA = 100.0
SPLIT = "Split-digits (class-incremental)"
PERMUTED = "Permuted-digits"
# DER's alpha and DER++'s (alpha, beta) per stream, chosen by `--grid` as Buzzega et al. 2020
# grid-search them per setting: every alpha in GRID_ALPHAS (and beta in GRID_BETAS) trained on
# 80% of the training split with seed GRID_SEED (not a reported seed), scored by the average
# accuracy on the held-out 20% after the last task (never the test split); per stream and
# method the best kept. Validation accuracy, seed 3, DER alpha 0.3 / 1 / 3 / 10: Split 0.186 /
# 0.227 / 0.726 / 0.718, Permuted 0.862 / 0.875 / 0.858 / 0.822; DER++ (alpha, beta) best:
# Split (3, 1) 0.865 ((1, 1) 0.861), Permuted (1, 1) 0.931. The whole grid is in BENCHMARKS.md.
DER_ALPHA = {SPLIT: 3.0, PERMUTED: 1.0}
DER_PLUS_ALPHA_BETA = {SPLIT: (3.0, 1.0), PERMUTED: (1.0, 1.0)}
GRID_ALPHAS = (0.3, 1.0, 3.0, 10.0)
GRID_BETAS = (0.5, 1.0)
GRID_SEED = 3
VALIDATION_FRACTION = 0.2


def digits_arrays(validation_seed: int | None = None):
    """Train and test `(x, y)` of the digits, 64 features in [0, 1]. With `validation_seed`,
    the "test" arrays are a stratified 20% of the training split (for choosing settings) and
    the train arrays the rest; the test split is left out."""
    digits = load_digits(dtype="float32")
    flat = lambda split: (split.x.reshape(len(split.x), -1), split.y)  # noqa: E731
    (x_train, y_train), test = flat(digits.train), flat(digits.test)
    if validation_seed is None:
        return (x_train, y_train), test
    from sklearn.model_selection import train_test_split

    x_fit, x_val, y_fit, y_val = train_test_split(
        x_train,
        y_train,
        test_size=VALIDATION_FRACTION,
        random_state=validation_seed,
        stratify=y_train,
    )
    return (x_fit, y_fit), (x_val, y_val)


def streams(seed: int, validation: bool = False) -> dict[str, dict[str, list]]:
    """`{stream: {"train", "test", "train_tasks", "test_tasks"}}`; `*_tasks` hold the
    task-incremental labels the progressive network's per-task heads learn. With
    `validation`, "test" is a validation split carved from the training split."""
    arrays = digits_arrays(seed if validation else None)
    (x_train, y_train), (x_test, y_test) = arrays
    split = {
        "train": split_tasks(x_train, y_train, classes_per_task=2),
        "test": split_tasks(x_test, y_test, classes_per_task=2),
        "train_tasks": split_tasks(x_train, y_train, 2, setting="task_incremental"),
        "test_tasks": split_tasks(x_test, y_test, 2, setting="task_incremental"),
    }
    permuted_train = permuted_tasks(x_train, y_train, num_tasks=NUM_TASKS, seed=seed)
    permuted_test = permuted_tasks(x_test, y_test, num_tasks=NUM_TASKS, seed=seed)
    permuted = {
        "train": permuted_train,
        "test": permuted_test,
        "train_tasks": permuted_train,
        "test_tasks": permuted_test,
    }
    return {SPLIT: split, PERMUTED: permuted}


def mlp(units: int) -> keras.Model:
    model = MLPClassifier(input_shape=(64,), num_classes=10, hidden_units=(units,) * 2, dropout=0)
    model.compile(jit_compile=False)  # XLA compiles would cost more than these tiny steps
    return model


def progressive(task_outputs, units: int) -> ProgressiveNetwork:
    model = ProgressiveNetwork(
        input_shape=(64,), task_outputs=task_outputs, hidden_units=(units,) * 2
    )
    model.compile(jit_compile=False)
    return model


def matched_width(task_outputs, budget: int) -> int:
    """The widest columns whose whole progressive network (all tasks) has at most `budget`
    parameters: the same model size as the MLP the other methods train."""
    width = 1
    while progressive(task_outputs, width + 1).count_params() <= budget:
        width += 1
    return width


def run_baseline(
    method: str,
    stream: dict,
    units: int,
    epochs: int,
    seed: int,
    der_alpha: float,
    der_plus: tuple[float, float],
) -> np.ndarray:
    """Trains one MLP through the stream with `method`; returns the accuracy matrix.
    `der_alpha` is DER's alpha, `der_plus` DER++'s `(alpha, beta)`."""
    keras.utils.set_random_seed(seed)
    model = mlp(units)
    evaluator = ContinualEvaluator(stream["test"])
    memory = ReplayMemory(MEMORY_CAPACITY, seed=seed)
    callback = {
        "fine-tuning": lambda: None,
        "EWC": lambda: EWC(ewc_lambda=EWC_LAMBDA),
        "experience replay": lambda: ExperienceReplay(memory, replay_batch_size=BATCH_SIZE),
        "DER": lambda: DarkExperienceReplay(memory, alpha=der_alpha, replay_batch_size=BATCH_SIZE),
        "DER++": lambda: DarkExperienceReplay(
            memory, alpha=der_plus[0], beta=der_plus[1], replay_batch_size=BATCH_SIZE
        ),
    }[method]()
    for x_task, y_task in stream["train"]:
        # EWC's penalty starts with the second task: nothing is consolidated before.
        active = callback is not None and not (method == "EWC" and not callback.tasks)
        model.fit(
            x_task,
            y_task,
            batch_size=BATCH_SIZE,
            epochs=epochs,
            callbacks=[callback] if active else [],
            verbose=0,
        )
        if method == "EWC":
            callback.add_task(model, (x_task, y_task))
        evaluator.evaluate(model)
    return evaluator.matrix


def progressive_scores(model: ProgressiveNetwork, x, task: int) -> np.ndarray:
    """Task `task`'s column; a task without a column yet is scored by the newest column."""
    column = min(task, model.num_tasks - 1)
    return model.predict(task_inputs(x, column), batch_size=256, verbose=0)


def run_progressive(stream: dict, units: int, epochs: int, seed: int) -> tuple[np.ndarray, int]:
    """Trains a progressive network, one column of width `units` per task; returns R and its
    final size."""
    keras.utils.set_random_seed(seed)
    evaluator = ContinualEvaluator(stream["test_tasks"], predict_fn=progressive_scores)
    model = None
    for task, (x_task, y_task) in enumerate(stream["train_tasks"]):
        num_outputs = int(np.max(y_task)) + 1
        if model is None:
            model = progressive((num_outputs,), units)
        else:
            model.add_task(num_outputs)
        inputs = task_inputs(x_task, task)
        model.fit(inputs, y_task, batch_size=BATCH_SIZE, epochs=epochs, verbose=0)
        evaluator.evaluate(model)
    return evaluator.matrix, model.count_params()


def cell(values) -> str:
    return f"{np.mean(values):.3f} ± {np.std(values):.3f}"


def table(results: dict, sizes: dict) -> str:
    lines = [
        "| stream | method | parameters | average accuracy | BWT | forgetting |",
        "|---|---|---|---|---|---|",
    ]
    for (stream_name, method), summaries in results.items():
        metrics = [
            cell([s[key] for s in summaries])
            for key in ("average_accuracy", "backward_transfer", "forgetting")
        ]
        lines.append(
            f"| {stream_name} | {method} | {sizes[stream_name, method]:,} | {' | '.join(metrics)} |"
        )
    return "\n".join(lines)


def selected_streams(seed: int, names, validation: bool = False) -> dict[str, dict]:
    """The streams whose name starts with one of `names` (case-insensitive), all when empty."""
    chosen = {
        name: stream
        for name, stream in streams(seed, validation).items()
        if not names or any(name.lower().startswith(n.lower()) for n in names)
    }
    if not chosen:
        raise ValueError(f"No stream starts with any of {names}. Received: --streams {names}")
    return chosen


def grid(args) -> str:
    """DER's alpha and DER++'s (alpha, beta) on the validation split; returns a table."""
    settings = [("DER", alpha, 0.0) for alpha in GRID_ALPHAS] + [
        ("DER++", alpha, beta) for beta in GRID_BETAS for alpha in GRID_ALPHAS
    ]
    lines = [
        "| stream | method | alpha | beta | validation average accuracy |",
        "|---|---|---|---|---|",
    ]
    for stream_name, stream in selected_streams(GRID_SEED, args.streams, True).items():
        for method, alpha, beta in settings:
            matrix = run_baseline(
                method, stream, args.units, args.epochs, GRID_SEED, alpha, (alpha, beta)
            )
            accuracy = summarize(matrix)["average_accuracy"]
            lines.append(f"| {stream_name} | {method} | {alpha:g} | {beta:g} | {accuracy:.3f} |")
            print(lines[-1], flush=True)
    return (
        f"DER/DER++ grid: seed {GRID_SEED}, trained on {1 - VALIDATION_FRACTION:.0%} of the "
        f"training split, scored on the other {VALIDATION_FRACTION:.0%} (average accuracy after "
        f"the last task); {args.epochs} epochs per task, memory {MEMORY_CAPACITY}.\n\n"
        + "\n".join(lines)
        + "\n"
    )


def main(argv: list[str] | None = None) -> str:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2])
    parser.add_argument("--epochs", type=int, default=5, help="epochs per task")
    parser.add_argument("--units", type=int, default=64, help="width of each hidden layer")
    parser.add_argument(
        "--streams", nargs="*", default=[], help="stream name prefixes, e.g. split permuted"
    )
    parser.add_argument(
        "--der-alpha", type=float, help="DER's alpha on every stream (default: DER_ALPHA)"
    )
    parser.add_argument(
        "--grid", action="store_true", help="search DER/DER++ alpha and beta on validation data"
    )
    parser.add_argument("--output", default=None, help=f"default {ARTIFACT} (or {GRID_ARTIFACT})")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    if args.grid:
        report = grid(args) + f"\n{time.perf_counter() - start:.0f} s in all.\n"
        return write(report, args.output or GRID_ARTIFACT)
    budget = mlp(args.units).count_params()
    der_alpha = {
        name: alpha if args.der_alpha is None else args.der_alpha
        for name, alpha in DER_ALPHA.items()
    }
    results, sizes, widths = {}, {}, {}
    for seed in args.seeds:
        for stream_name, stream in selected_streams(seed, args.streams).items():
            task_outputs = [int(np.max(y)) + 1 for _, y in stream["train_tasks"]]
            width = widths.setdefault(stream_name, matched_width(task_outputs, budget))
            for method in METHODS:
                if method == PROGRESSIVE:
                    matrix, size = run_progressive(stream, width, args.epochs, seed)
                elif method == WIDE_PROGRESSIVE:
                    matrix, size = run_progressive(stream, args.units, args.epochs, seed)
                else:
                    matrix = run_baseline(
                        method,
                        stream,
                        args.units,
                        args.epochs,
                        seed,
                        der_alpha[stream_name],
                        DER_PLUS_ALPHA_BETA[stream_name],
                    )
                    size = budget
                results.setdefault((stream_name, method), []).append(summarize(matrix))
                sizes[stream_name, method] = size
                print(f"seed {seed} | {stream_name} | {method}: {summarize(matrix)}", flush=True)
    elapsed = time.perf_counter() - start

    report = (
        f"{NUM_TASKS} tasks per stream, MLP {args.units}-{args.units} (AdamW 1e-3, batch "
        f"{BATCH_SIZE}), {args.epochs} epochs per task, seeds {args.seeds}; EWC lambda "
        f"{EWC_LAMBDA:g}; replay and DER: reservoir memory of {MEMORY_CAPACITY}, replay batch "
        f"{BATCH_SIZE}, DER alpha {der_alpha}, DER++ (alpha, beta) {DER_PLUS_ALPHA_BETA}. "
        "Progressive network: task id given, 2-way heads on Split-digits (task-incremental); "
        f"column width {widths} (the whole network no larger than the MLP). "
        f"{elapsed:.0f} s in all.\n\n{table(results, sizes)}\n"
    )
    return write(report, args.output or ARTIFACT)


def write(report: str, path: str) -> str:
    os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
    with open(path, "w") as f:
        f.write(report)
    print(report)
    return report


if __name__ == "__main__":
    main()
