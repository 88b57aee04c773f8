"""Privacy accounting: `zoo.federated.accounting` (compute_epsilon, PrivacyBudget)."""

import json
import pathlib

import keras
import numpy as np
import pytest

from layers.privacy import PrivateTraining, make_private
from tests import harness
from zoo.federated.accounting import PrivacyBudget, classic_rdp_epsilon, compute_epsilon

OPACUS = pathlib.Path(__file__).parents[2] / "fixtures" / "opacus" / "accounting.json"
MNIST_RATE = 256 / 60000


def test_epsilon_matches_tf_privacy_published_value():
    """TF Privacy's tutorial README (github.com/tensorflow/privacy, tutorials/README.md,
    "Using Command-Line Interface for Privacy Budgeting"):
    `compute_dp_sgd_privacy.py --N=60000 --batch_size=256 --noise_multiplier=1.1 --epochs=60
    --delta=1e-5` "satisfies differential privacy with eps = 3.01 and delta = 1e-05". That
    script's RDP accountant took ceil(60 * 60000 / 256) = 14063 steps, the orders 1.1..10.9 and
    12..63, and Mironov's RDP-to-DP conversion: `classic_rdp_epsilon`, to the 2 decimals
    published. dp-accounting's tighter conversion (`compute_epsilon`) gives less: 2.60, which
    Opacus's RDPAccountant also reports (`test_epsilon_matches_opacus`)."""
    steps = -(-60 * 60000 // 256)
    assert round(classic_rdp_epsilon(1.1, MNIST_RATE, steps, 1e-5), 2) == 3.01
    assert round(compute_epsilon(1.1, MNIST_RATE, steps, 1e-5), 2) == 2.60


def opacus_rows():
    """Opacus 1.6's RDPAccountant and PRVAccountant on a few settings: the fixture written by
    `tests/fixtures/opacus/make_accounting_fixtures.py` in Opacus's own environment."""
    for row in json.loads(OPACUS.read_text())["settings"]:
        yield (row["noise_multiplier"], row["sampling_rate"], row["steps"], row["delta"]), row


def test_rdp_epsilon_matches_opacus():
    """To 1e-3 relative: the Rényi orders of the two differ slightly."""
    for args, row in opacus_rows():
        np.testing.assert_allclose(compute_epsilon(*args), row["rdp"], rtol=1e-3)


@pytest.mark.slow
def test_pld_epsilon_matches_opacus_prv():
    """Within 0.02: both are numerical; Opacus's PRV reports an upper estimate (eps_error 0.01)."""
    for args, row in opacus_rows():
        np.testing.assert_allclose(compute_epsilon(*args, accountant="pld"), row["prv"], atol=0.02)


def test_epsilon_grows_with_steps_and_falls_with_noise():
    assert compute_epsilon(1.0, 0.01, 0, 1e-5) == 0.0
    assert compute_epsilon(1.0, 0.01, 100, 1e-5) < compute_epsilon(1.0, 0.01, 1000, 1e-5)
    assert compute_epsilon(2.0, 0.01, 100, 1e-5) < compute_epsilon(1.0, 0.01, 100, 1e-5)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"noise_multiplier": 0.0}, "noise_multiplier=0.0"),
        ({"noise_multiplier": -1.0}, "noise_multiplier=-1.0"),
        ({"sampling_rate": 1.5}, "sampling_rate=1.5"),
        ({"steps": -1}, "steps=-1"),
        ({"delta": 0.0}, "delta=0.0"),
        ({"accountant": "moments"}, "accountant='moments'"),
    ],
)
def test_bad_accounting_arguments_are_named(kwargs, match):
    args = {"noise_multiplier": 1.0, "sampling_rate": 0.01, "steps": 10, "delta": 1e-5}
    with pytest.raises(ValueError, match=match):
        compute_epsilon(**{**args, **kwargs})


def private_model():
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.compile(optimizer=make_private(keras.optimizers.SGD(0.1), 1.0, 0.8), loss="mse")
    return model


def test_privacy_budget_stops_at_the_target_and_logs_epsilon_per_epoch():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(64, 4)).astype("float32"), rng.normal(size=(64, 2)).astype("float32")
    rate, delta = 8 / 64, 1e-5
    target = compute_epsilon(0.8, rate, 20, delta) + 1e-9  # exactly 20 steps fit the budget
    model = private_model()
    budget = PrivacyBudget(target, delta, sampling_rate=rate)
    history = model.fit(
        x, y, batch_size=8, epochs=10, verbose=0, callbacks=[PrivateTraining(), budget]
    )
    assert int(model.optimizer.iterations) == 20  # 2.5 epochs of 8 steps: stopped mid-epoch
    assert len(history.history["epsilon"]) == 3
    np.testing.assert_allclose(
        history.history["epsilon"], [compute_epsilon(0.8, rate, s, delta) for s in (8, 16, 20)]
    )
    # The budget is spent: another fit is refused, naming the target.
    with pytest.raises(ValueError, match="already spent.*target_epsilon="):
        model.fit(x, y, batch_size=8, verbose=0, callbacks=[PrivateTraining(), budget])
    assert int(model.optimizer.iterations) == 20


def test_privacy_budget_config_and_errors():
    budget = PrivacyBudget(3.0, 1e-5, sampling_rate=0.01, noise_multiplier=1.1, accountant="pld")
    harness.assert_config_round_trip(
        budget,
        {
            "target_epsilon": 3.0,
            "delta": 1e-5,
            "sampling_rate": 0.01,
            "noise_multiplier": 1.1,
            "accountant": "pld",
        },
    )
    with pytest.raises(ValueError, match="target_epsilon=0"):
        PrivacyBudget(0, 1e-5, sampling_rate=0.01)
    with pytest.raises(ValueError, match="sampling_rate=0"):
        PrivacyBudget(1.0, 1e-5, sampling_rate=0)
