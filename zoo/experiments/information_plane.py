"""The information plane of a small MLP over training, for tanh and ReLU networks.

The setting re-creates Shwartz-Ziv & Tishby's ("Opening the black box of deep neural networks
via information", 2017): the 4096 patterns of 12 binary inputs, a label given by a spherically
symmetric function of them, and a 12-10-7-5-4-3-2 network. Their 12 inputs sit uniformly on the
2-sphere and the rule is invariant under its rotations; here the 12 points are the vertices of
the regular icosahedron, the rule is `f(x) = |sum_i s_i v_i|^2` with `s_i = 2 x_i - 1` (it
depends only on the points' pairwise angles, so it is rotation invariant) and the label is
`f(x) > median(f)`: 2036 of the 4096 patterns are positive (f takes 20 values; the 240
patterns at the median are negative).

The network trains with Adam on 85% of the patterns; at log-spaced epochs a callback records
every layer's activations on all 4096 patterns, and I(X;T), I(T;Y) are estimated per layer with
the binning estimator (30 bins; tanh layers over [-1, 1], ReLU layers over [0, max], the softmax
over [0, 1]) and the KDE upper bound (Saxe et al., "On the information bottleneck theory of deep
learning", ICLR 2018). Saxe et al. found that the late "compression" (I(X;T) falling) that
Shwartz-Ziv & Tishby saw comes from tanh's saturation: ReLU networks do not compress. The
`compression` entry reports, per layer, the peak I(X;T) minus its final value.
"""

from __future__ import annotations

import itertools

import keras
import numpy as np

from layers.validation import check_choice, check_int_in_range, check_positive_int
from zoo.experiments.mutual_information import binning_information, kde_information

ACTIVATIONS = ("tanh", "relu")
HIDDEN_UNITS = (10, 7, 5, 4, 3)


def icosahedron_vertices() -> np.ndarray:
    """The 12 unit vectors of a regular icosahedron's vertices, `(12, 3)`."""
    golden = (1.0 + 5.0**0.5) / 2.0
    points = []
    for a, b in itertools.product((-1.0, 1.0), repeat=2):
        points += [(0.0, a, b * golden), (a, b * golden, 0.0), (b * golden, 0.0, a)]
    points = np.array(points)
    return points / np.linalg.norm(points, axis=1, keepdims=True)


def spherical_task() -> tuple[np.ndarray, np.ndarray]:
    """The 4096 12-bit patterns and their labels.

    Returns:
        `(inputs, labels)`: `(4096, 12)` float32 in {0, 1} (pattern `i` is the bits of `i`) and
        `(4096,)` int labels, 2036 of them 1.

    Example:

    ```python
    inputs, labels = spherical_task()
    ```
    """
    bits = ((np.arange(4096)[:, None] >> np.arange(12)) & 1).astype("float32")
    signs = 2.0 * bits - 1.0
    # rounded: patterns related by a symmetry have equal f up to float error, and the same label
    f = np.round(np.sum((signs @ icosahedron_vertices()) ** 2, axis=1), 6)
    labels = (f > np.median(f)).astype("int64")
    return bits, labels


def log_spaced_epochs(epochs: int, points: int) -> list[int]:
    """About `points` distinct epochs from 1 to `epochs`, evenly spaced in log scale.

    Args:
        epochs: the last epoch.
        points: how many epochs wanted (fewer come back when `epochs` is small).

    Returns:
        Sorted epoch numbers (1-based), always including 1 and `epochs`.
    """
    check_positive_int("epochs", epochs)
    check_positive_int("points", points)
    spaced = np.unique(np.round(np.logspace(0, np.log10(epochs), points)).astype(int))
    return sorted({1, epochs, *spaced.tolist()})


def build_network(activation: str, hidden_units=HIDDEN_UNITS):
    """The 12-...-2 MLP with `activation` hidden layers and a softmax output.

    Args:
        activation: `"tanh"` or `"relu"`.
        hidden_units: hidden layer widths. Defaults to 10, 7, 5, 4, 3.

    Returns:
        An uncompiled `keras.Sequential`.
    """
    check_choice("activation", activation, ACTIVATIONS)
    layers = [keras.Input((12,))]
    layers += [
        keras.layers.Dense(units, activation=activation, name=f"hidden_{i}")
        for i, units in enumerate(hidden_units)
    ]
    layers.append(keras.layers.Dense(2, activation="softmax", name="output"))
    return keras.Sequential(layers, name=f"information_plane_{activation}")


class ActivationRecorder(keras.callbacks.Callback):
    """Stores every layer's outputs on fixed inputs at chosen epochs.

    Args:
        inputs: the patterns whose activations are recorded (all 4096).
        epochs_to_log: 1-based epoch numbers.

    Example:

    ```python
    recorder = ActivationRecorder(inputs, [1, 10, 100])
    model.fit(x, y, epochs=100, callbacks=[recorder])
    recorder.records[10]  # one array per layer
    ```
    """

    def __init__(self, inputs: np.ndarray, epochs_to_log):
        super().__init__()
        self.inputs = inputs
        self.wanted = set(epochs_to_log)
        self.records: dict[int, list[np.ndarray]] = {}
        self._probe = None

    def on_epoch_end(self, epoch, logs=None):
        if epoch + 1 not in self.wanted:
            return
        if self._probe is None:
            self._probe = keras.Model(
                self.model.inputs[0], [layer.output for layer in self.model.layers]
            )
        outputs = self._probe(self.inputs, training=False)
        self.records[epoch + 1] = [keras.ops.convert_to_numpy(out) for out in outputs]


class EpochProgress(keras.callbacks.Callback):
    """A progress bar over epochs (keras's own counts steps within an epoch).

    Args:
        epochs: the epochs of the run.
        label: prefixed to the metric names shown.
    """

    def __init__(self, epochs: int, label: str):
        super().__init__()
        self.bar = keras.utils.Progbar(epochs, unit_name="epoch")
        self.label = label

    def on_epoch_end(self, epoch, logs=None):
        values = [(f"{self.label}_{k}", v) for k, v in (logs or {}).items()]
        self.bar.stateful_metrics.update(name for name, _ in values)  # show, not average
        self.bar.update(epoch + 1, values)


def layer_information(
    activations: list[np.ndarray],
    labels: np.ndarray,
    activation: str,
    bins: int = 30,
    noise_variance: float = 1e-3,
    kde_rows: np.ndarray | None = None,
) -> dict[str, list[list[float]]]:
    """Per layer `[I(X;T), I(T;Y)]` in bits with both estimators.

    Args:
        activations: one `(4096, units)` array per layer, the last the softmax output.
        labels: the labels.
        activation: the hidden layers' activation (picks the binning range).
        bins: bins per unit for the binning estimator.
        noise_variance: the KDE estimator's noise variance.
        kde_rows: the patterns the KDE estimator uses (its cost grows with their square);
            defaults to all.

    Returns:
        `{"binning": [[i_xt, i_ty], ...], "kde": [...]}`, one pair per layer.
    """
    binning, kde = [], []
    for index, values in enumerate(activations):
        if index == len(activations) - 1:
            value_range = (0.0, 1.0)
        elif activation == "tanh":
            value_range = (-1.0, 1.0)
        else:
            value_range = (0.0, float(values.max()))
        binning.append(
            list(binning_information(values, labels, bins=bins, value_range=value_range))
        )
        if kde_rows is not None:
            values, kde_labels = values[kde_rows], labels[kde_rows]
        else:
            kde_labels = labels
        kde.append(list(kde_information(values, kde_labels, noise_variance)))
    return {"binning": binning, "kde": kde}


def compression(i_xt_by_epoch: np.ndarray) -> list[float]:
    """Per layer, the peak I(X;T) over the logged epochs minus the last one (bits, >= 0).

    Args:
        i_xt_by_epoch: `(logged epochs, layers)` I(X;T) values.

    Returns:
        One value per layer.
    """
    values = np.asarray(i_xt_by_epoch, dtype="float64")
    return [float(v) for v in values.max(axis=0) - values[-1]]


def run_information_plane(
    activations=ACTIVATIONS,
    epochs: int = 1000,
    log_points: int = 20,
    batch_size: int = 256,
    learning_rate: float = 1e-3,
    bins: int = 30,
    noise_variance: float = 1e-3,
    kde_patterns: int = 4096,
    seed: int = 0,
    verbose: int = 1,
) -> dict:
    """Trains one network per activation and tracks each layer in the information plane.

    Args:
        activations: which hidden activations to run (`"tanh"`, `"relu"`).
        epochs: training epochs (passes over the 85% training split).
        log_points: about how many log-spaced epochs to record.
        batch_size: batch size.
        learning_rate: Adam's learning rate.
        bins: bins per unit (binning estimator).
        noise_variance: the KDE estimator's noise variance.
        kde_patterns: how many of the 4096 patterns (a fixed random subset) the KDE estimator
            uses; its cost grows with their square. Defaults to all.
        seed: the random seed (weights and the train/test split).
        verbose: 1 shows a progress bar per activation, 0 nothing.

    Returns:
        A dict: `"config"`, and per activation under `"runs"`: `"epochs"` (the logged ones),
        `"binning"` and `"kde"` (`[epoch][layer] = [I(X;T), I(T;Y)]`), `"accuracy"` (train and
        test at the end) and `"compression"` (per estimator: per hidden layer, peak minus final
        I(X;T), their mean and max); and `"findings"`: the mean and the max hidden-layer binning
        compression per activation.

    Example:

    ```python
    result = run_information_plane(epochs=200, log_points=10, verbose=0)
    result["findings"]  # {"tanh": ..., "relu": ...}
    ```
    """
    for name, value in (
        ("epochs", epochs),
        ("log_points", log_points),
        ("batch_size", batch_size),
        ("bins", bins),
    ):
        check_positive_int(name, value)
    check_int_in_range("kde_patterns", kde_patterns, 2, 4096)
    activations = [check_choice("activation", a, ACTIVATIONS) for a in activations]
    inputs, labels = spherical_task()
    order = np.random.default_rng(seed).permutation(len(labels))
    train, test = order[: int(0.85 * len(order))], order[int(0.85 * len(order)) :]
    logged = log_spaced_epochs(epochs, log_points)
    kde_rows = None if kde_patterns == 4096 else np.sort(order[:kde_patterns])
    config = {
        "activations": activations,
        "epochs": epochs,
        "log_points": log_points,
        "batch_size": batch_size,
        "learning_rate": learning_rate,
        "bins": bins,
        "noise_variance": noise_variance,
        "kde_patterns": kde_patterns,
        "seed": seed,
        "hidden_units": list(HIDDEN_UNITS),
        "train_examples": int(len(train)),
    }
    runs = {}
    for activation in activations:
        keras.utils.set_random_seed(seed)
        model = build_network(activation)
        steps = -(-len(train) // batch_size)
        model.compile(
            keras.optimizers.Adam(learning_rate),
            loss="sparse_categorical_crossentropy",
            metrics=["accuracy"],
            steps_per_execution=steps,
        )
        recorder = ActivationRecorder(inputs, logged)
        callbacks = [recorder]
        if verbose:
            callbacks.append(EpochProgress(epochs, activation))
        model.fit(
            inputs[train],
            labels[train],
            batch_size=batch_size,
            epochs=epochs,
            verbose=0,
            callbacks=callbacks,
        )
        measured = [
            layer_information(
                recorder.records[e], labels, activation, bins, noise_variance, kde_rows
            )
            for e in logged
        ]
        run = {"epochs": logged}
        run["compression"] = {}
        for estimator in ("binning", "kde"):
            run[estimator] = [m[estimator] for m in measured]
            i_xt = np.array(run[estimator])[:, :-1, 0]  # hidden layers only
            per_layer = compression(i_xt)
            run["compression"][estimator] = {
                "per_layer": per_layer,
                "mean": float(np.mean(per_layer)),
                "max": float(np.max(per_layer)),
            }
        run["accuracy"] = {
            "train": _accuracy(model, inputs[train], labels[train]),
            "test": _accuracy(model, inputs[test], labels[test]),
        }
        runs[activation] = run
    findings = {
        f"binning_compression_{statistic}": {
            a: runs[a]["compression"]["binning"][statistic] for a in activations
        }
        for statistic in ("mean", "max")
    }
    return {"config": config, "runs": runs, "findings": findings}


def _accuracy(model, inputs, labels) -> float:
    predictions = model.predict(inputs, batch_size=4096, verbose=0).argmax(axis=1)
    return float((predictions == labels).mean())
