"""`zoo train`: train a registered model, on the built-in digits or on TFRecords, and save it."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import tempfile
from typing import Any

import keras
import tensorflow as tf

from layers.metrics import MixedLabelAccuracy
from layers.schedules import SCHEDULES, WARMUP_SCHEDULES, learning_rate_schedule
from layers.validation import check_choice, check_positive_ints
from zoo import registry
from zoo.augmentation import (
    augmentation,
    check_augment,
    check_value_range,
    mixes_labels,
    probability_label_loss,
)
from zoo.datasets import fit_to_input, load_digits
from zoo.distribute import is_chief, make_strategy, set_mixed_precision
from zoo.fitting import fit_repeated
from zoo.graph_training import graph_datasets, is_graph_model, load_graph_data
from zoo.plots import plot_history
from zoo.tracking.carbon import DEFAULT_COUNTRY, CarbonCallback, check_country
from zoo.tracking.fingerprint import dataset_fingerprint
from zoo.tracking.mlflow_callback import MLflowCallback
from zoo.tracking.record import merge_into_record
from zoo.tracking.uri import parse_track_option
from zoo.utils import seed_everything, write_run_record


@dataclasses.dataclass
class TrainConfig:
    """Everything `zoo train` takes; the flags and a `--config` YAML file hold the same keys.

    Attributes:
        model: registered model name.
        data: TFRecord files (glob, directory or list) written by `tfrecords.write`; `None` for
            the built-in digits.
        validation_data: TFRecord files for validation; with the built-in digits, its test split.
        label: name of the label feature in the TFRecords.
        features: name of the input feature (needed when the records hold several besides the
            label); `None` takes the only one.
        output: directory for `MODEL.keras`, `history.json`, `training_curve.png`, `run.json`.
        epochs, batch_size: training length and global batch size.
        learning_rate: passed to the model's default `compile` when set; with a `schedule`,
            its peak (the model's own rate when `None`).
        schedule: a name of `layers.schedules.SCHEDULES` (`"constant"`, `"cosine"`,
            `"warmup_cosine"`, `"one_cycle"`, `"cyclical"`, `"linear_warmup_polynomial"`;
            meanings in `layers.schedules.factory`), peaking at the learning rate over the whole
            run. `"cosine"` with `warmup_epochs` is `"warmup_cosine"` (linear warmup, then cosine
            decay to 0 at the end of training). The steps per epoch come from the training
            data's cardinality.
        warmup_epochs: epochs of warmup (fractions allowed), less than `epochs`: the linear
            warmup of `"constant"`, `"cosine"`, `"warmup_cosine"` and
            `"linear_warmup_polynomial"`, the rise of `"one_cycle"` (`"cyclical"` has none).
            `None` takes the schedule's default (no warmup; 30% of training for `"one_cycle"`).
        augment: names from `("randaugment", "mixup", "cutmix")` (or a comma-separated string),
            applied to training batches only (see `zoo.augmentation.augmentation`). With
            `"mixup"`/`"cutmix"` the training labels become mixed probabilities: the loss is
            switched to one that takes them (sparse cross-entropy becomes
            `SparseLabelSmoothingCrossentropy` without smoothing; a loss that cannot take them
            is an error) and `accuracy` to `MixedLabelAccuracy`, so the training `accuracy`
            counts predictions of each mixed label's largest-weight class, while `val_accuracy`
            is the plain accuracy on unmixed validation data.
        value_range: `(low, high)` range of the input pixels, for `"randaugment"` (checked on
            every batch). The built-in digits are in [0, 1].
        seed: seed for everything.
        deterministic: make TensorFlow ops deterministic too. Keras does not compile with XLA
            under op determinism, so `None` (the default) means: deterministic ops unless the
            model's family compiles with XLA (`zoo.registry.default_jit_compile`), `xla` is on
            and `strategy` is `"default"`; `True` turns XLA off.
        xla: compile with XLA where the family does by default (the families where it
            measured faster, see `benchmarks/bench_xla.py`); `False` compiles without XLA.
        strategy: `"default"`, `"mirrored"` or `"multiworker"` (see `zoo.distribute`).
        cpu_devices: logical CPU devices for `"mirrored"` on a machine without GPUs.
        mixed_precision: `None`, `"float16"` or `"bfloat16"`.
        shuffle: shuffle the training data each epoch.
        overrides: model configuration overrides for `zoo.create`.
        verbose: Keras progress bar verbosity.
        track: `"mlflow"` or `"mlflow:URI"`: track the run in MLflow with
            `zoo.tracking.MLflowCallback` (parameters, per-epoch metrics, the outputs above and
            the TF Serving SavedModel `saved_model/MODEL/N/` as artifacts, the model registered
            as a new version of `MODEL`, status `FAILED`/`KILLED` when the run fails or is
            interrupted). URI: `file:///path` (a file store; sets `MLFLOW_ALLOW_FILE_STORE`),
            `sqlite:///path.db`, `http(s)://server` or a directory path; without one, MLflow's
            default (`MLFLOW_TRACKING_URI`, else `sqlite:///mlflow.db` in the current
            directory). A store that cannot be used is a warning: the run goes on, written
            locally. `None` (the default) tracks nothing.
        carbon: measure the run's energy (kWh) and CO2-eq with codecarbon's offline tracker
            (`zoo.tracking.CarbonCallback`), into `run.json` (and MLflow). `None` (the
            default) means: on when `track` is set.
        carbon_country: ISO 3166-1 alpha-3 code of the electricity mix for the CO2-eq
            estimate. Defaults to `"USA"`.
        fanouts: for node-classification graph models, neighbours sampled per graph layer
            (`zoo.graph.NeighborSampler`, `batch_size` seed nodes per step); `None` trains
            full-batch. Graph models take `data` as described in
            `zoo.graph_training.load_graph_data` (default: the generated citation benchmark,
            or cycles vs trees for graph classification), train on one device, and get
            `num_features`/`num_classes` from the data.
    """

    model: str = "cnn_digits"
    data: Any = None
    validation_data: Any = None
    label: str = "label"
    features: str | None = None
    output: str = "artifacts/train"
    epochs: int = 10
    batch_size: int = 32
    learning_rate: float | None = None
    seed: int = 0
    deterministic: bool | None = None
    xla: bool = True
    strategy: str = "default"
    cpu_devices: int | None = None
    mixed_precision: str | None = None
    shuffle: bool = True
    overrides: dict = dataclasses.field(default_factory=dict)
    verbose: int = 1
    schedule: str = "constant"
    warmup_epochs: float | None = None
    augment: list = dataclasses.field(default_factory=list)
    value_range: list = dataclasses.field(default_factory=lambda: [0.0, 1.0])
    fanouts: list | None = None
    track: str | None = None
    carbon: bool | None = None
    carbon_country: str = DEFAULT_COUNTRY

    def __post_init__(self):
        for name in ("epochs", "batch_size"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"`{name}` must be a positive integer. Received: {name}={value!r}")
        if not isinstance(self.overrides, dict):
            raise ValueError(
                f"`overrides` must be a mapping. Received: overrides={self.overrides!r}"
            )
        self.augment = list(check_augment(self.augment))
        self.value_range = list(check_value_range(self.value_range))
        check_choice("schedule", self.schedule, SCHEDULES)
        warmup = self.warmup_epochs
        if warmup is not None and (
            isinstance(warmup, bool)
            or not isinstance(warmup, int | float)
            or not 0 <= warmup < self.epochs
        ):
            raise ValueError(
                f"`warmup_epochs` must be a number in [0, epochs={self.epochs}). "
                f"Received: warmup_epochs={warmup!r}"
            )
        if warmup and _schedule_name(self.schedule, warmup) not in WARMUP_SCHEDULES:
            raise ValueError(
                f"schedule={self.schedule!r} has no warmup; leave `warmup_epochs` unset. "
                f"Received: warmup_epochs={warmup!r}"
            )
        if self.fanouts is not None:
            self.fanouts = list(check_positive_ints("fanouts", self.fanouts))
        if self.track is not None:
            parse_track_option(self.track)
        for name in ("xla", "deterministic", "carbon"):
            value = getattr(self, name)
            if not isinstance(value, bool) and not (name != "xla" and value is None):
                raise ValueError(f"`{name}` must be a bool. Received: {name}={value!r}")
        if self.deterministic is None:
            # XLA runs for the families that compile with it, on one device (as in Keras, a
            # distribution strategy turns it off).
            compiles_with_xla = (
                self.xla
                and self.strategy == "default"
                and registry.default_jit_compile(self.model) is True
            )
            self.deterministic = not compiles_with_xla
        if is_graph_model(self.model):
            for name, value, default in (
                ("strategy", self.strategy, "default"),
                ("augment", self.augment, []),
            ):
                if value != default:
                    raise ValueError(
                        f"`{name}` is not supported for the graph model {self.model!r}. "
                        f"Received: {name}={value!r}"
                    )
        elif self.fanouts is not None:
            raise ValueError(
                f"`fanouts` samples neighbours for graph models; {self.model!r} is not one. "
                f"Received: fanouts={self.fanouts!r}"
            )
        if self.measures_carbon:
            self.carbon_country = check_country(self.carbon_country)
        if self.strategy == "multiworker":
            # `fit_multiworker` builds per-worker pipelines whose length is not known up front,
            # and calls no Keras callbacks.
            for name, value, default in (
                ("augment", self.augment, []),
                ("schedule", self.schedule, "constant"),
                ("warmup_epochs", self.warmup_epochs, None),
                ("track", self.track, None),
                ("carbon", self.measures_carbon, False),
            ):
                if value != default:
                    raise ValueError(
                        f"`{name}` is not supported with strategy='multiworker'. "
                        f"Received: {name}={value!r}"
                    )

    @property
    def measures_carbon(self) -> bool:
        """Whether the run's energy and CO2-eq are measured (`carbon`, by default `track`)."""
        return self.carbon if self.carbon is not None else self.track is not None

    @classmethod
    def from_dict(cls, values: dict) -> TrainConfig:
        """Builds a config from a dict (e.g. a YAML file), rejecting unknown keys."""
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(
                f"Unknown training option(s) {unknown}; known options: {sorted(known)}. "
                f"Received: {unknown[0]}={values[unknown[0]]!r}"
            )
        return cls(**values)


def _schedule_name(schedule: str, warmup) -> str:
    """The factory name for `schedule`: `zoo train`'s "cosine" with a warmup is "warmup_cosine"."""
    return "warmup_cosine" if schedule == "cosine" and warmup else schedule


def steps_per_epoch(dataset: tf.data.Dataset) -> int:
    """Number of batches in one pass of a finite dataset.

    Uses `dataset.cardinality()`; when TensorFlow cannot tell it (e.g. interleaved TFRecord
    shards), counts the batches with one pass over the dataset.

    Raises:
        ValueError: the dataset is infinite or empty.
    """
    count = int(dataset.cardinality())
    if count == tf.data.INFINITE_CARDINALITY:
        raise ValueError(
            "A learning-rate schedule needs the steps per epoch, but the training data repeats "
            "forever. Received: an infinite dataset"
        )
    if count == tf.data.UNKNOWN_CARDINALITY:
        count = int(dataset.reduce(0, lambda n, _: n + 1))
    if count == 0:
        raise ValueError("The training data is empty. Received: 0 batches per epoch")
    return count


def load_config_file(path: str) -> dict:
    """Reads a YAML (or JSON) run configuration file into a dict with `_` keys."""
    import yaml

    if not os.path.isfile(path):
        raise FileNotFoundError(f"No configuration file at {path!r}")
    with open(path) as f:
        values = yaml.safe_load(f) or {}
    if not isinstance(values, dict):
        raise ValueError(f"{path!r} must hold a mapping of options. Received: {values!r}")
    return {str(k).replace("-", "_"): v for k, v in values.items()}


def _digits_datasets(config: TrainConfig, input_shape):
    digits = load_digits(seed=config.seed, dtype="float32")
    x_train = fit_to_input(digits.train.x, input_shape)
    x_test = fit_to_input(digits.test.x, input_shape)
    train = tf.data.Dataset.from_tensor_slices((x_train, digits.train.y))
    if config.shuffle:
        train = train.shuffle(len(x_train), seed=config.seed)
    train = train.batch(config.batch_size)
    validation = tf.data.Dataset.from_tensor_slices((x_test, digits.test.y)).batch(256)
    return train, validation


def _tfrecord_dataset(
    files,
    config: TrainConfig,
    input_shape,
    shuffle: bool,
    input_context: tf.distribute.InputContext | None = None,
):
    import tfrecords

    batch_size = config.batch_size
    if input_context is not None:
        batch_size = input_context.get_per_replica_batch_size(batch_size)
    dataset = tfrecords.read(
        files,
        batch_size=batch_size,
        shuffle=shuffle,
        label=config.label,
        features=config.features,
        seed=config.seed,
        input_context=input_context,
    )
    dataset = dataset.map(
        lambda x, y: (tf.reshape(tf.cast(x, "float32"), (-1, *input_shape)), y),
        num_parallel_calls=tf.data.AUTOTUNE,
    )
    return dataset


def fit_multiworker(
    model: keras.Model,
    strategy: tf.distribute.Strategy,
    dataset_fn,
    epochs: int,
    verbose: int = 1,
) -> dict[str, list[float]]:
    """Trains `model` under `MultiWorkerMirroredStrategy` with its own `train_step`.

    Keras 3's `fit` does not run under `MultiWorkerMirroredStrategy` (keras-team/keras#20585:
    it fails converting `PerReplica` values), so this loop builds each worker's input pipeline
    with `dataset_fn(input_context)` (each reads its own shards and batches per replica) and runs
    `model.train_step` on every replica, which all-reduces the gradients as `fit` would.

    Returns:
        The per-epoch metrics, like `History.history` (training metrics only).
    """
    distributed = strategy.distribute_datasets_from_function(dataset_fn)

    @tf.function
    def train_step(batch):
        logs = strategy.run(model.train_step, args=(batch,))
        return {name: strategy.experimental_local_results(v)[0] for name, v in logs.items()}

    history: dict[str, list[float]] = {}
    for epoch in range(epochs):
        model.reset_metrics()
        progress = keras.utils.Progbar(None, verbose=verbose) if verbose else None
        if progress is not None:
            print(f"Epoch {epoch + 1}/{epochs}")
        logs, steps = {}, 0
        for batch in distributed:
            logs = {k: float(v) for k, v in train_step(batch).items()}
            steps += 1
            if progress is not None:
                progress.update(steps, list(logs.items()))
        if progress is not None:
            progress.update(steps, list(logs.items()), finalize=True)
        for name, value in logs.items():
            history.setdefault(name, []).append(value)
    return history


def load_datasets(
    config: TrainConfig, input_shape, num_classes: int | None = None
) -> tuple[tf.data.Dataset, tf.data.Dataset]:
    """Training and validation datasets of `(inputs, labels)` batches for `config`.

    From `config.data` TFRecords (validation from `config.validation_data`, or `None`), or from
    the built-in digits (validation is their test split), shaped to `input_shape`. The
    `config.augment` augmentations apply to the training batches (after batching, before
    prefetching); MixUp and CutMix need `num_classes` to one-hot encode the labels.
    """
    if config.data is None:
        train_data, validation = _digits_datasets(config, input_shape)
    else:
        train_data = _tfrecord_dataset(config.data, config, input_shape, config.shuffle)
        validation = None
        if config.validation_data is not None:
            validation = _tfrecord_dataset(config.validation_data, config, input_shape, False)
    if config.augment:
        augment = augmentation(config.augment, num_classes, config.value_range, seed=config.seed)
        # The augmentation layers draw from a seed variable: calls in parallel would take the
        # draws in a different order each run.
        parallel = None if config.deterministic else tf.data.AUTOTUNE
        train_data = train_data.map(augment, num_parallel_calls=parallel)
    return train_data.prefetch(tf.data.AUTOTUNE), validation


def _compile_options(model: keras.Model, config: TrainConfig, train_data) -> dict:
    """What the model's default `compile` must be re-run with for `config` (empty: nothing)."""
    options = {}
    scheduled = config.schedule != "constant" or config.warmup_epochs is not None
    mixing = mixes_labels(config.augment)
    if config.learning_rate is not None:
        options["learning_rate"] = config.learning_rate
    elif scheduled or mixing:
        # Recompiling would otherwise reset the model's own rate to `compile`'s default.
        options["learning_rate"] = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
    if scheduled:
        steps = steps_per_epoch(train_data)
        warmup_steps = None
        if config.warmup_epochs is not None:
            warmup_steps = round(config.warmup_epochs * steps)
            if config.warmup_epochs > 0:
                warmup_steps = max(1, warmup_steps)
        options["learning_rate"] = learning_rate_schedule(
            _schedule_name(config.schedule, warmup_steps),
            options["learning_rate"],
            steps * config.epochs,
            warmup_steps,
        )
    if mixing:
        options["loss"] = probability_label_loss(model.loss)
        options["metrics"] = [MixedLabelAccuracy(name="accuracy")]
    return options


def train(config: TrainConfig | None = None, **options) -> dict:
    """Trains a registered model with `model.fit` and saves it with its curve and run record.

    Writes `MODEL.keras`, `history.json`, `training_curve.png` and `run.json` (versions,
    hardware, configuration, seed, git commit) to `config.output`. Under `"multiworker"`, only
    the chief writes there.

    Args:
        config: a `TrainConfig`; or pass its fields as keyword arguments.
        **options: `TrainConfig` fields, when `config` is not given.

    Returns:
        A dict with the last epoch's metrics, `jit_compile` (whether the training step
        compiled with XLA) and the written paths.

    Example:

    ```python
    result = train(model="mlp_digits", epochs=5, output="artifacts/mlp")
    print(result["val_accuracy"])
    ```
    """
    if config is None:
        config = TrainConfig(**options)
    elif options:
        raise ValueError(f"Pass either `config` or options, not both. Received: {sorted(options)}")
    previous_policy = keras.config.dtype_policy()
    try:
        return _train(config)
    finally:
        keras.config.set_dtype_policy(previous_policy)


def dataset_fingerprints(config: TrainConfig) -> dict:
    """`{"data": (source, fingerprint), "validation_data": ...}` of the run's TFRecord data.

    Empty for the built-in digits and for graph models (whose `data` may name a built-in graph).
    """
    if is_graph_model(config.model):
        return {}
    return {
        name: (source, dataset_fingerprint(source, progress=None if config.verbose else False))
        for name, source in (("data", config.data), ("validation_data", config.validation_data))
        if source is not None
    }


def _run_callbacks(config: TrainConfig, datasets: dict):
    """The carbon and MLflow callbacks `config` asks for (`None` for those it does not)."""
    carbon = CarbonCallback(config.carbon_country) if config.measures_carbon else None
    tracking = None
    if config.track is not None:
        tracking = MLflowCallback(
            parse_track_option(config.track)[1],
            run_name=config.model,
            params=dataclasses.asdict(config),
            output_dir=config.output,
            model_name=config.model,
            datasets=datasets,
            carbon=carbon,
            seed=config.seed,
        )
    return carbon, tracking


def _train(config: TrainConfig) -> dict:
    seed_everything(config.seed, deterministic_ops=config.deterministic)
    set_mixed_precision(config.mixed_precision)
    datasets = dataset_fingerprints(config)
    carbon, tracking = _run_callbacks(config, datasets)
    # A failure or Ctrl-C anywhere below ends the MLflow run as FAILED or KILLED.
    with tracking if tracking is not None else contextlib.nullcontext():
        try:
            return _train_tracked(config, datasets, carbon, tracking)
        finally:
            if carbon is not None and carbon.running:  # fit failed: stop its sampling thread
                carbon.stop()


def _train_tracked(config: TrainConfig, datasets: dict, carbon, tracking) -> dict:
    strategy = make_strategy(config.strategy, config.cpu_devices)

    graph_data, overrides = None, config.overrides
    if is_graph_model(config.model):
        graph_data = load_graph_data(
            config.model, config.data, config.validation_data, seed=config.seed
        )
        overrides = {**graph_data.model_arguments(), **config.overrides}
    with strategy.scope():
        model = registry.create(config.model, **overrides)
    input_shape = None if graph_data else model.input_shape[1:]
    if config.strategy == "multiworker":
        if config.learning_rate is not None:
            with strategy.scope():
                model.compile(learning_rate=config.learning_rate)
        model.jit_compile = model.jit_compile and config.xla
        if config.data is None:
            raise ValueError(
                "`strategy='multiworker'` reads TFRecord shards per worker; pass `data`. "
                "Received: data=None"
            )

        def dataset_fn(input_context):
            return _tfrecord_dataset(
                config.data, config, input_shape, config.shuffle, input_context
            )

        history = fit_multiworker(model, strategy, dataset_fn, config.epochs, config.verbose)
    else:
        if graph_data is not None:
            train_data, validation = graph_datasets(
                graph_data,
                model,
                batch_size=config.batch_size,
                fanouts=config.fanouts,
                shuffle=config.shuffle,
                seed=config.seed,
            )
        else:
            train_data, validation = load_datasets(config, input_shape, model.output_shape[-1])
        options = _compile_options(model, config, train_data)
        if options:
            with strategy.scope():
                model.compile(**options)
        model.jit_compile = model.jit_compile and config.xla
        history = fit_repeated(
            model,
            train_data,
            validation_data=validation,
            epochs=config.epochs,
            verbose=config.verbose,
            shuffle=False,  # the dataset shuffles itself
            callbacks=[c for c in (carbon, tracking) if c is not None],
        ).history
    result = {k: float(v[-1]) for k, v in history.items()}
    result["jit_compile"] = bool(model.jit_compile)

    if carbon is not None:
        summary = carbon.stop()
        result["energy_kwh"] = summary["energy_kwh"]
        result["emissions_kg_co2eq"] = summary["emissions_kg_co2eq"]
    if tracking is not None:
        # The callback wrote MODEL.keras, history.json, the curve and run.json at the end of fit.
        paths = tracking.paths
        result["tracking"] = {
            "uri": tracking.tracking_uri,
            "enabled": tracking.enabled,
            "run_id": tracking.run_id,
            "model_version": tracking.model_version,
        }
        return {
            **result,
            "model_path": paths["model"],
            "training_curve": paths["training_curve"],
            "run_record": paths["run_record"],
            "replicas": strategy.num_replicas_in_sync,
        }

    chief = is_chief()
    output = config.output if chief else tempfile.mkdtemp(prefix="zoo-worker-")
    os.makedirs(output, exist_ok=True)
    model_path = os.path.join(output, f"{config.model}.keras")
    model.save(model_path)
    with open(os.path.join(output, "history.json"), "w") as f:
        json.dump(history, f, indent=2)
    curve = plot_history(history, os.path.join(output, "training_curve.png"))
    record = write_run_record(
        os.path.join(output, "run.json"), dataclasses.asdict(config), seed=config.seed
    )
    sections = {}
    if datasets:
        sections["datasets"] = {n: {"source": str(s), **f} for n, (s, f) in datasets.items()}
    if carbon is not None:
        sections["carbon"] = carbon.summary
    if sections:
        merge_into_record(record, sections)
    if not chief:
        shutil.rmtree(output, ignore_errors=True)
        return result
    return {
        **result,
        "model_path": model_path,
        "training_curve": curve,
        "run_record": record,
        "replicas": strategy.num_replicas_in_sync,
    }
