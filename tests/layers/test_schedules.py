"""Learning-rate schedules: parity with PyTorch's CyclicLR and OneCycleLR, warmup, scaling."""

import json
import math
import pathlib

import keras
import numpy as np
import pytest
import tensorflow as tf

from layers.schedules import CyclicalLearningRate, LinearWarmup, OneCycle, scale_learning_rate
from tests import harness

FIXTURES = pathlib.Path(__file__).parent.parent / "fixtures"


def load_fixture(name: str) -> dict:
    return json.loads((FIXTURES / name).read_text())["cases"]


CYCLIC = load_fixture("torch_cyclic_lr.json")
ONE_CYCLE = load_fixture("torch_one_cycle_lr.json")


def cyclical_kwargs(torch_kwargs: dict) -> dict:
    return {
        "initial_learning_rate": torch_kwargs["base_lr"],
        "maximal_learning_rate": torch_kwargs["max_lr"],
        "step_size": torch_kwargs["step_size"],
        "mode": torch_kwargs["mode"],
        "gamma": torch_kwargs.get("gamma", 1.0),
    }


def one_cycle_kwargs(torch_kwargs: dict) -> dict:
    kwargs = dict(torch_kwargs)
    return {"max_learning_rate": kwargs.pop("max_lr"), **kwargs}


def values_at(schedule, steps, jit: bool = False) -> np.ndarray:
    """All steps in one call: the schedules are elementwise in `step`."""
    fn = tf.function(schedule, jit_compile=True) if jit else schedule
    return keras.ops.convert_to_numpy(fn(tf.constant(steps, tf.int64)))


def test_cyclical_learning_rate_passes_the_harness():
    fixture = CYCLIC["exp_range"]
    steps = np.arange(len(fixture["rates"]))
    init_kwargs = cyclical_kwargs(fixture["kwargs"])
    harness.run_schedule_test(CyclicalLearningRate, init_kwargs, steps, expected=fixture["rates"])


@pytest.mark.parametrize("case", sorted(CYCLIC))
@pytest.mark.parametrize("jit", [False, True])
def test_cyclical_learning_rate_equals_torch_cyclic_lr(case, jit):
    fixture = CYCLIC[case]
    schedule = CyclicalLearningRate(**cyclical_kwargs(fixture["kwargs"]))
    values = values_at(schedule, np.arange(len(fixture["rates"])), jit)
    np.testing.assert_allclose(values, fixture["rates"], rtol=1e-6, atol=1e-9)


def test_triangular_by_hand():
    schedule = CyclicalLearningRate(0.0, 1.0, step_size=2)
    values = [float(schedule(s)) for s in range(6)]
    np.testing.assert_allclose(values, [0.0, 0.5, 1.0, 0.5, 0.0, 0.5], atol=1e-7)


def test_one_cycle_passes_the_harness():
    fixture = ONE_CYCLE["short_rise"]
    steps = np.arange(len(fixture["rates"]))
    init_kwargs = one_cycle_kwargs(fixture["kwargs"])
    harness.run_schedule_test(OneCycle, init_kwargs, steps, expected=fixture["rates"])


@pytest.mark.parametrize("case", sorted(ONE_CYCLE))
@pytest.mark.parametrize("jit", [False, True])
def test_one_cycle_equals_torch_one_cycle_lr(case, jit):
    fixture = ONE_CYCLE[case]
    schedule = OneCycle(**one_cycle_kwargs(fixture["kwargs"]))
    values = values_at(schedule, np.arange(len(fixture["rates"])), jit)
    np.testing.assert_allclose(values, fixture["rates"], rtol=1e-6, atol=1e-9)


def test_one_cycle_shape_and_end():
    schedule = OneCycle(max_learning_rate=1.0, total_steps=11, pct_start=0.5)
    np.testing.assert_allclose(float(schedule(0)), 1.0 / 25, rtol=1e-6)
    # The rise ends at step pct_start * total_steps - 1 = 4.5: steps 4 and 5 straddle the peak.
    assert float(schedule(4)) < 1.0 and float(schedule(5)) < 1.0
    final = 1.0 / 25 / 1e4
    np.testing.assert_allclose(float(schedule(10)), final, rtol=1e-5)
    # Past the end the rate stays at its final value.
    np.testing.assert_allclose(float(schedule(50)), final, rtol=1e-5)


def test_linear_warmup_around_a_constant():
    schedule = LinearWarmup(0.4, warmup_steps=4)
    values = values_at(schedule, np.arange(7))
    np.testing.assert_allclose(values, [0.0, 0.1, 0.2, 0.3, 0.4, 0.4, 0.4], rtol=1e-6)


def test_linear_warmup_around_a_schedule():
    decay = keras.optimizers.schedules.ExponentialDecay(1.0, decay_steps=1, decay_rate=0.5)
    init_kwargs = {"schedule": decay, "warmup_steps": 2, "initial_learning_rate": 0.1}
    # Warmup aims at the schedule's value at step 2 (0.25); afterwards the schedule itself.
    expected = [0.1, 0.1 + (0.25 - 0.1) / 2, 0.25, 0.125, 0.0625]
    harness.run_schedule_test(LinearWarmup, init_kwargs, np.arange(5), expected=expected)


def test_linear_warmup_around_one_cycle_survives_config_round_trip():
    inner = OneCycle(0.1, total_steps=20)
    schedule = LinearWarmup(inner, warmup_steps=3)
    clone = LinearWarmup.from_config(schedule.get_config())
    assert isinstance(clone.schedule, OneCycle)
    for step in (0, 2, 3, 10, 19):
        assert float(clone(step)) == pytest.approx(float(schedule(step)))
    assert float(schedule(10)) == pytest.approx(float(inner(10)))


@pytest.mark.parametrize(
    ("rule", "batch_size", "expected"),
    [("linear", 1024, 0.4), ("linear", 64, 0.025), ("sqrt", 1024, 0.2), ("sqrt", 64, 0.05)],
)
def test_scale_learning_rate(rule, batch_size, expected):
    assert scale_learning_rate(0.1, batch_size, rule=rule) == pytest.approx(expected)
    assert scale_learning_rate(0.1, 512, base_batch_size=512, rule=rule) == pytest.approx(0.1)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: CyclicalLearningRate(0.1, 1.0, step_size=0), "step_size=0"),
        (lambda: CyclicalLearningRate(0.1, 1.0, 4, mode="cosine"), "mode='cosine'"),
        (lambda: CyclicalLearningRate(0.1, 1.0, 4, gamma=1.5), "gamma=1.5"),
        (lambda: CyclicalLearningRate(-0.1, 1.0, 4), "initial_learning_rate=-0.1"),
        (lambda: OneCycle(0.1, total_steps=0), "total_steps=0"),
        (lambda: OneCycle(0.1, total_steps=10, pct_start=1.5), "pct_start=1.5"),
        (lambda: OneCycle(0.1, total_steps=10, div_factor=0), "div_factor=0"),
        (lambda: LinearWarmup(0.1, warmup_steps=0), "warmup_steps=0"),
        (lambda: scale_learning_rate(0.1, 0), "batch_size=0"),
        (lambda: scale_learning_rate(0.1, 64, rule="log"), "rule='log'"),
    ],
)
def test_bad_arguments_are_named(build, message):
    with pytest.raises(ValueError, match=message):
        build()


def test_warmup_rejects_a_non_schedule():
    with pytest.raises(TypeError, match="schedule='fast'"):
        LinearWarmup("fast", warmup_steps=3)


def test_exp_range_stays_finite_for_long_runs():
    schedule = CyclicalLearningRate(0.01, 0.1, step_size=100, mode="exp_range", gamma=0.999)
    value = float(schedule(1_000_000))
    assert math.isfinite(value) and value == pytest.approx(0.01, abs=1e-9)
