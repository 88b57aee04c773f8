"""`learning_rate_schedule`: each name's values by hand, config round trips, errors."""

import math

import keras
import numpy as np
import pytest

from layers.schedules import (
    SCHEDULES,
    WARMUP_SCHEDULES,
    CyclicalLearningRate,
    LinearWarmup,
    OneCycle,
    learning_rate_schedule,
)
from layers.schedules.factory import OPTIONS


def rates(schedule, steps) -> list[float]:
    return [float(schedule(step)) for step in steps]


def test_every_name_has_its_options_listed():
    assert set(OPTIONS) == set(SCHEDULES) and set(WARMUP_SCHEDULES) < set(SCHEDULES)


def test_constant_is_the_rate_or_a_linear_warmup_to_it():
    assert learning_rate_schedule("constant", 0.1) == 0.1  # `total_steps` not needed
    assert learning_rate_schedule("constant", 0.1, 100, warmup_steps=0) == 0.1
    warm = learning_rate_schedule("constant", 0.1, 100, warmup_steps=4)
    assert isinstance(warm, LinearWarmup)
    np.testing.assert_allclose(rates(warm, range(6)), [0, 0.025, 0.05, 0.075, 0.1, 0.1], rtol=1e-6)


def test_cosine_decays_over_all_steps_without_warmup():
    schedule = learning_rate_schedule("cosine", 1.0, 4)
    assert isinstance(schedule, keras.optimizers.schedules.CosineDecay)
    expected = [1.0, (1 + math.cos(math.pi / 4)) / 2, 0.5, (1 - math.cos(math.pi / 4)) / 2, 0, 0]
    np.testing.assert_allclose(rates(schedule, range(6)), expected, atol=1e-7)
    floored = learning_rate_schedule("cosine", 1.0, 4, alpha=0.2)
    np.testing.assert_allclose(float(floored(2)), 0.2 + 0.8 * 0.5, rtol=1e-6)


def test_warmup_cosine_warms_up_then_decays_until_total_steps():
    schedule = learning_rate_schedule("warmup_cosine", 0.01, 10, warmup_steps=4)
    expected = [0.01 * s / 4 for s in range(4)]
    expected += [0.01 * (1 + math.cos(math.pi * (s - 4) / 6)) / 2 for s in range(4, 11)]
    np.testing.assert_allclose(rates(schedule, range(12)), [*expected, 0.0], atol=1e-7)
    # Without warmup it is `cosine`, config included.
    plain = learning_rate_schedule("warmup_cosine", 0.01, 10)
    assert plain.get_config() == learning_rate_schedule("cosine", 0.01, 10).get_config()


def test_one_cycle_rises_over_the_warmup_then_falls():
    schedule = learning_rate_schedule("one_cycle", 1.0, 10, warmup_steps=5)
    assert isinstance(schedule, OneCycle) and schedule.pct_start == 0.5
    # Rise over steps 0-4 from 1/25 (the middle, step 2: halfway), fall to 1/25/1e4 at step 9.
    np.testing.assert_allclose(
        rates(schedule, [0, 2, 4, 9]), [0.04, 0.52, 1.0, 0.04 / 1e4], rtol=1e-5
    )
    assert learning_rate_schedule("one_cycle", 1.0, 10).pct_start == 0.3  # OneCycle's default
    assert learning_rate_schedule("one_cycle", 1.0, 10, warmup_steps=0).pct_start == 0.0
    gentle = learning_rate_schedule("one_cycle", 1.0, 10, div_factor=10.0, final_div_factor=2.0)
    np.testing.assert_allclose(rates(gentle, [0, 9]), [0.1, 0.05], rtol=1e-5)


def test_cyclical_is_triangular2_from_a_tenth_of_the_rate():
    schedule = learning_rate_schedule("cyclical", 1.0, 8)  # half cycle: 8 // 4 = 2 steps
    assert isinstance(schedule, CyclicalLearningRate) and schedule.mode == "triangular2"
    expected = [0.1, 0.55, 1.0, 0.55, 0.1, 0.325, 0.55]  # the second cycle's height halves
    np.testing.assert_allclose(rates(schedule, range(7)), expected, rtol=1e-6)
    assert learning_rate_schedule("cyclical", 1.0, 3).step_size == 1
    custom = learning_rate_schedule(
        "cyclical", 1.0, 8, initial_learning_rate=0.0, step_size=4, mode="triangular"
    )
    np.testing.assert_allclose(rates(custom, [0, 2, 4, 8, 12]), [0, 0.5, 1, 0, 1], atol=1e-7)


def test_linear_warmup_polynomial_is_berts_schedule():
    schedule = learning_rate_schedule("linear_warmup_polynomial", 1.0, 10, warmup_steps=2)
    assert isinstance(schedule, LinearWarmup)
    # Warmup to the peak at step 2, then (10 - s) / 8 down to 0 at step 10, and 0 after.
    np.testing.assert_allclose(
        rates(schedule, [0, 1, 2, 6, 10, 12]), [0, 0.5, 1.0, 0.5, 0, 0], atol=1e-7
    )
    no_warmup = learning_rate_schedule("linear_warmup_polynomial", 1.0, 4)
    np.testing.assert_allclose(rates(no_warmup, range(6)), [1, 0.75, 0.5, 0.25, 0, 0], atol=1e-7)
    # Other powers and floors still pass through the peak when the warmup ends.
    squared = learning_rate_schedule("linear_warmup_polynomial", 1.0, 10, 2, power=2.0)
    np.testing.assert_allclose(rates(squared, [2, 6, 10]), [1.0, 0.25, 0.0], atol=1e-6)
    floored = learning_rate_schedule("linear_warmup_polynomial", 1.0, 10, 2, end_learning_rate=0.1)
    np.testing.assert_allclose(rates(floored, [2, 6, 10, 20]), [1.0, 0.55, 0.1, 0.1], atol=1e-6)


@pytest.mark.parametrize("name", [n for n in SCHEDULES if n != "constant"])
def test_each_schedule_survives_a_config_round_trip(name):
    warmup = 3 if name in WARMUP_SCHEDULES else None
    schedule = learning_rate_schedule(name, 0.01, 20, warmup)
    config = keras.saving.serialize_keras_object(schedule)
    restored = keras.saving.deserialize_keras_object(config)
    assert type(restored) is type(schedule)
    assert keras.saving.serialize_keras_object(restored) == config
    steps = [0, 2, 3, 7, 19, 25]
    np.testing.assert_allclose(rates(restored, steps), rates(schedule, steps), rtol=1e-6)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"schedule": "step"}, "schedule='step'"),
        ({"learning_rate": 0}, "learning_rate=0"),
        ({"total_steps": 0}, "total_steps=0"),
        ({"total_steps": None}, "total_steps=None"),
        ({"warmup_steps": -1}, "warmup_steps=-1"),
        ({"warmup_steps": 1.5}, "warmup_steps=1.5"),
        ({"warmup_steps": 10}, "warmup_steps=10"),
        ({"schedule": "cosine", "warmup_steps": 2}, r"use 'warmup_cosine'.*warmup_steps=2"),
        ({"schedule": "cyclical", "warmup_steps": 2}, "has no warmup.*warmup_steps=2"),
        ({"alpha": 1.5}, "alpha=1.5"),
        ({"schedule": "one_cycle", "alpha": 0.1}, r"\['div_factor', 'final_div_factor'\].*alpha"),
        ({"schedule": "constant", "power": 2.0}, "power=2.0"),
        ({"schedule": "linear_warmup_polynomial", "power": 0}, "power=0"),
        ({"schedule": "linear_warmup_polynomial", "end_learning_rate": -1}, "end_learning_rate=-1"),
        ({"schedule": "cyclical", "mode": "cosine"}, "mode='cosine'"),
    ],
)
def test_bad_arguments_name_the_argument_and_value(kwargs, message):
    arguments = {"schedule": "warmup_cosine", "learning_rate": 0.1, "total_steps": 10}
    with pytest.raises(ValueError, match=message):
        learning_rate_schedule(**{**arguments, **kwargs})
