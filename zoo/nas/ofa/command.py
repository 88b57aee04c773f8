"""`zoo nas search ofa`: train a Once-for-All supernet (resumable), then search under a budget."""

from __future__ import annotations

import json
import os

import keras

from layers.validation import check_positive_int
from zoo.nas.latency import load_latency_table, measure_latency_table, save_latency_table

# The digits search space of the command and of BENCHMARKS.md (16x16 upscaled digits).
DIGITS_OFA = dict(
    input_shape=(16, 16, 1),
    num_classes=10,
    stem_channels=8,
    stage_channels=(16, 24, 32),
    stage_strides=(1, 2, 2),
    depth_choices=(1, 2),
    kernel_choices=(3, 5, 7),
    expand_choices=(3, 4, 6),
    head_channels=64,
)


def table_for(space, path: str, repeats: int = 20, verbose: int = 0) -> dict:
    """The latency table at `path`, measured for `space` (and saved there) if it is missing.

    Raises:
        ValueError: the table at `path` lacks blocks of `space` (the error names one).
    """
    if os.path.isfile(path):
        table = load_latency_table(path)
    else:
        table = measure_latency_table(space.all_latency_specs(), repeats=repeats, verbose=verbose)
        save_latency_table(table, path)
    from zoo.nas.latency import predict_latency

    predict_latency(space.all_latency_specs(), table)  # every block must have an entry
    return table


class _SaveProgress(keras.callbacks.Callback):
    """Saves the supernet's weights, its optimizer's state (in the same `.weights.h5`) and the
    number of finished epochs after every epoch."""

    def __init__(self, directory: str):
        super().__init__()
        self.directory = directory

    def on_epoch_end(self, epoch, logs=None):
        self.model.save_weights(os.path.join(self.directory, "supernet.weights.h5"))
        with open(os.path.join(self.directory, "progress.json"), "w", encoding="utf-8") as f:
            json.dump({"epochs_done": epoch + 1}, f)


def train_supernet(
    ofa, train, validation, epochs_per_phase: int, directory: str, batch_size=64, verbose=1
):
    """Progressive shrinking for `4 * epochs_per_phase` epochs, resumed from `directory`.

    The weights, the optimizer's state (Adam's moments and step count) and the finished epoch
    count are saved to `directory` after each epoch; a later call with the same directory
    continues from there, in the progressive-shrinking phase of that epoch.

    Returns:
        The number of epochs trained by this call.
    """
    from zoo.nas.ofa.shrinking import ProgressiveShrinking

    check_positive_int("epochs_per_phase", epochs_per_phase)
    os.makedirs(directory, exist_ok=True)
    done = 0
    progress = os.path.join(directory, "progress.json")
    if os.path.isfile(progress):
        with open(progress, encoding="utf-8") as f:
            done = int(json.load(f)["epochs_done"])
        # The optimizer's variables exist only once it is built; unbuilt, Keras would skip
        # them with a warning and resume with fresh moments and step count.
        if not ofa.optimizer.built:
            ofa.optimizer.build(ofa.trainable_variables)
        ofa.load_weights(os.path.join(directory, "supernet.weights.h5"))
    total = 4 * epochs_per_phase
    if done < total:
        ofa.fit(
            train[0],
            train[1],
            validation_data=validation,
            batch_size=batch_size,
            epochs=total,
            initial_epoch=done,
            verbose=verbose,
            callbacks=[ProgressiveShrinking(epochs_per_phase), _SaveProgress(directory)],
        )
    return total - done


def ofa_search_command(
    output: str,
    budget_ms: float,
    data: str = "digits",
    table: str | None = None,
    epochs_per_phase: int = 2,
    population: int = 16,
    generations: int = 5,
    seed: int = 0,
    verbose: int = 1,
) -> dict:
    """Trains (or resumes) the digits supernet in `output`, searches under `budget_ms`, and
    writes `ofa_config.json` and the extracted `ofa_subnet.keras` there.

    Returns:
        A summary dict (config, validation accuracy, predicted latency, files).
    """
    from zoo.nas.ofa.calibration import recalibrate_batch_norm
    from zoo.nas.ofa.data import load_search_data
    from zoo.nas.ofa.search import evolutionary_search
    from zoo.nas.ofa.supernet import OnceForAll

    os.makedirs(output, exist_ok=True)
    ofa = OnceForAll(**DIGITS_OFA, seed=seed)
    ofa.compile(optimizer=keras.optimizers.Adam(3e-3))
    train, validation = load_search_data(data, DIGITS_OFA["input_shape"][0], seed=seed)
    latency = table_for(ofa, table or os.path.join(output, "latency_table.json"), verbose=verbose)
    train_supernet(ofa, train, validation, epochs_per_phase, output, verbose=verbose)
    result = evolutionary_search(
        ofa,
        budget_ms,
        latency,
        validation,
        population=population,
        generations=generations,
        seed=seed,
        calibration_images=train[0][:512],
        verbose=verbose,
    )
    model = recalibrate_batch_norm(ofa.extract_subnet(result.config), train[0])
    model_path = os.path.join(output, "ofa_subnet.keras")
    model.save(model_path)
    summary = {
        "config": result.config,
        "validation_accuracy": result.accuracy,
        "predicted_latency_ms": result.latency_ms,
        "budget_ms": budget_ms,
        "model": model_path,
    }
    with open(os.path.join(output, "ofa_config.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
    return summary


def add_arguments(p) -> None:
    """The options of `zoo nas search ofa`."""
    from zoo.cli.arguments import non_negative_int, positive_float, positive_int

    p.add_argument("--output", required=True, help="directory for the state, table and model")
    p.add_argument("--budget-ms", type=positive_float("budget_ms"), required=True)
    p.add_argument("--data", default="digits", help="'digits' or a TFRecord PATTERN")
    p.add_argument("--table", help="a latency table (measured into --output when missing)")
    p.add_argument("--epochs-per-phase", type=positive_int("epochs_per_phase"), default=2)
    p.add_argument("--population", type=positive_int("population"), default=16)
    p.add_argument("--generations", type=non_negative_int("generations"), default=5)
    p.add_argument("--seed", type=int, default=0)


def run(args) -> int:
    """Runs `zoo nas search ofa`; prints the summary."""
    summary = ofa_search_command(
        args.output,
        args.budget_ms,
        data=args.data,
        table=args.table,
        epochs_per_phase=args.epochs_per_phase,
        population=args.population,
        generations=args.generations,
        seed=args.seed,
    )
    print(json.dumps(summary, indent=1))
    return 0
