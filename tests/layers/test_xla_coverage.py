"""Every training component in `layers/` is checked under `jit_compile=True`.

The shared checks (`tests/harness.py`) fit a fresh model with `compile(jit_compile=True)`, the
optimizer, metric and loss state built inside the compiled step as it is for users, and
require the same weights as the plain fit (layers, optimizers, losses, schedules, callbacks;
layers that draw random numbers only have to train, XLA's random stream being its own). This
test finds every component class under `layers/` and requires a test of `tests/layers/` that
runs the matching harness check on it, or a named test that checks it under XLA otherwise: a
new component cannot skip XLA.
"""

import ast
import importlib
import inspect
import pathlib
import pkgutil

import keras
import pytest

import layers

TESTS = pathlib.Path(__file__).parent

HARNESS_CHECK = {
    keras.optimizers.Optimizer: "run_optimizer_test",
    keras.losses.Loss: "run_loss_test",
    keras.optimizers.schedules.LearningRateSchedule: "run_schedule_test",
    keras.callbacks.Callback: "run_callback_test",
    keras.layers.Layer: "run_layer_test",
    keras.metrics.Metric: None,  # no harness check: see CHECKED_ELSEWHERE
}

TFA_METRICS_XLA_TEST = (
    "test_tfa_metrics_training.py",
    "test_every_tfa_metric_in_an_xla_training_step_matches",
)

# Checked under XLA by a test of their own: (test file, test function).
CHECKED_ELSEWHERE = {
    "BrierScore": ("test_metrics.py", "test_every_metric_in_an_xla_training_step_matches"),
    "ExpectedCalibrationError": (
        "test_metrics.py",
        "test_every_metric_in_an_xla_training_step_matches",
    ),
    "MixedLabelAccuracy": (
        "test_metrics.py",
        "test_every_metric_in_an_xla_training_step_matches",
    ),
    "NegativeLogLikelihood": (
        "test_metrics.py",
        "test_every_metric_in_an_xla_training_step_matches",
    ),
    "BoundarySlopeAnnealing": ("test_recurrent.py", "test_hmlstm_slope_annealing_callback"),
    # TensorFlow Addons' metrics (`tfa.metrics`).
    "CohenKappa": TFA_METRICS_XLA_TEST,
    "F1Score": TFA_METRICS_XLA_TEST,
    "FBetaScore": TFA_METRICS_XLA_TEST,
    "GeometricMean": TFA_METRICS_XLA_TEST,
    "HammingLoss": TFA_METRICS_XLA_TEST,
    "HarmonicMean": TFA_METRICS_XLA_TEST,
    "KendallsTauB": TFA_METRICS_XLA_TEST,
    "KendallsTauC": TFA_METRICS_XLA_TEST,
    "MatthewsCorrelationCoefficient": TFA_METRICS_XLA_TEST,
    "MeanMetricWrapper": TFA_METRICS_XLA_TEST,
    "MultiLabelConfusionMatrix": TFA_METRICS_XLA_TEST,
    "PearsonsCorrelation": TFA_METRICS_XLA_TEST,
    "RSquare": TFA_METRICS_XLA_TEST,
    "SpearmansRank": TFA_METRICS_XLA_TEST,
    # A keras.Model: the shared model checks fit it with and without XLA.
    "CRFModelWrapper": ("test_crf_layer.py", "test_model_wrapper_shared_checks"),
    # DP-SGD's optimizer only trains through `PrivateTraining`'s step (plain `fit` is refused):
    # the shared callback checks fit it with and without XLA.
    "DPOptimizer": (
        "test_privacy.py",
        "test_private_training_shared_checks_xla_and_keras_round_trip",
    ),
    # An RNN cell: the shared layer checks run on a keras.layers.RNN holding it.
    "AttentionWrapper": ("test_seq2seq_attention.py", "test_wrapper_in_keras_rnn_shared_checks"),
}

# Parts of another component, checked with it: SWA's running average is a layer only so that
# `.keras` files carry it.
CHECKED_WITH = {"SWAState": "SWA"}

# Base classes, never used as they are.
BASES = {
    "AttentionMechanism",
    "AveragedOptimizerWrapper",
    "BaseDecoder",
    "BayesianLayer",
    "CorrelationBase",
    "GraphLayer",
    "LossTermCallback",
    "OptimizerWrapper",
    "RectifiedOptimizer",
}


def components() -> dict[str, type]:
    """Every public class defined under `layers/` that is a Keras training component."""
    found = {}
    for info in pkgutil.walk_packages(layers.__path__, "layers."):
        module = importlib.import_module(info.name)
        for name, value in vars(module).items():
            if (
                inspect.isclass(value)
                and not name.startswith("_")
                and value.__module__ == module.__name__
                and any(issubclass(value, base) for base in HARNESS_CHECK)
                and name not in BASES
            ):
                found[name] = value
    return found


def _kind(cls: type) -> type:
    return next(base for base in HARNESS_CHECK if issubclass(cls, base))


def _harness_calls_and_names(path: pathlib.Path) -> tuple[set[str], set[str]]:
    tree = ast.parse(path.read_text())
    calls, names = set(), set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute):
            if node.func.attr.startswith("run_") and node.func.attr.endswith("_test"):
                calls.add(node.func.attr)
        elif isinstance(node, ast.Name):
            names.add(node.id)
        elif isinstance(node, ast.FunctionDef):
            names.add(node.name)
    return calls, names


TEST_FILES = {path.name: _harness_calls_and_names(path) for path in TESTS.glob("test_*.py")}
COMPONENTS = components()


def test_the_search_finds_every_kind_of_component():
    kinds = {_kind(cls) for cls in COMPONENTS.values()}
    assert kinds == set(HARNESS_CHECK), kinds
    assert {"Lookahead", "Ranger", "TripletLoss", "InstanceNormalization", "SWA"} <= set(COMPONENTS)


@pytest.mark.parametrize("name", sorted(COMPONENTS))
def test_component_has_an_xla_check(name):
    name = CHECKED_WITH.get(name, name)
    if name in CHECKED_ELSEWHERE:
        filename, test_name = CHECKED_ELSEWHERE[name]
        _, names = TEST_FILES[filename]
        assert name in names and any(n.startswith(test_name) for n in names), (
            f"{name}: {filename} must mention it and define {test_name}..."
        )
        return
    check = HARNESS_CHECK[_kind(COMPONENTS[name])]
    files = [f for f, (calls, names) in TEST_FILES.items() if check in calls and name in names]
    assert files, (
        f"{name} ({COMPONENTS[name].__module__}) is in no test file that calls harness.{check}: "
        f"run the shared checks on it (they include the XLA fit) or name its XLA test in "
        f"CHECKED_ELSEWHERE"
    )
