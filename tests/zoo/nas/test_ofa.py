"""Once-for-All: elastic blocks, subnet extraction, progressive shrinking and search."""

import numpy as np
import pytest

from serving.tflite import tflite_predict, to_tflite
from zoo import cli
from zoo.nas.latency import block_key, predict_latency
from zoo.nas.ofa import (
    OFASubnetClassifier,
    OnceForAll,
    ProgressiveShrinking,
    evolutionary_search,
    search,
    smallest_latency,
)
from zoo.nas.ofa.calibration import recalibrate_batch_norm

TINY = dict(
    input_shape=(8, 8, 1),
    num_classes=3,
    stem_channels=4,
    stage_channels=(8, 8),
    stage_strides=(1, 2),
    depth_choices=(1, 2),
    kernel_choices=(3, 5, 7),
    expand_choices=(2, 3),
    head_channels=8,
)


@pytest.fixture(scope="module")
def ofa():
    """A tiny supernet with perturbed weights, so every transform and statistic matters."""
    model = OnceForAll(**TINY)
    rng = np.random.default_rng(0)
    for variable in model.weights:
        if "moving_variance" in variable.path:
            variable.assign(rng.uniform(0.5, 1.5, variable.shape))
        elif variable.dtype == "float32":
            variable.assign(variable.numpy() + rng.normal(0, 0.2, variable.shape))
    return model


def images(n=4, seed=1):
    return np.random.default_rng(seed).random((n, 8, 8, 1)).astype("float32")


def synthetic_table(ofa):
    """Latency grows with kernel area and expand ratio (a made-up but valid table)."""
    entries = {}
    for spec in ofa.all_latency_specs():
        cost = 1.0 if spec["type"] != "mbconv" else 0.01 * spec["kernel"] ** 2 * spec["expand"]
        entries[block_key(spec)] = cost
    return {"unit": "ms", "latency": entries}


def test_extracted_subnet_equals_the_supernet_at_that_config(ofa):
    x = images()
    for seed in range(2):
        config = ofa.sample_subnet_config(seed=seed)
        model = ofa.extract_subnet(config)
        assert isinstance(model, OFASubnetClassifier)
        np.testing.assert_allclose(model(x), ofa.run_subnet(x, config), atol=1e-5)
    largest = ofa.largest_config()
    np.testing.assert_allclose(ofa(x), ofa.run_subnet(x, largest), atol=1e-5)


def test_sampled_configs_are_reproducible_and_in_the_space(ofa):
    assert ofa.sample_subnet_config(seed=4) == ofa.sample_subnet_config(seed=4)
    configs = [ofa.sample_subnet_config(seed=s) for s in range(20)]
    assert len({str(c) for c in configs}) > 10
    for config in configs:
        assert ofa.check_config(config) == config


def test_smaller_kernels_are_transformed_centres_of_the_largest(ofa):
    block = ofa.blocks[0][0]
    k3, k5, k7 = (np.asarray(k) for k in block.kernels())
    hidden = k7.shape[2]
    centre5 = k7[1:6, 1:6].reshape(25, hidden).T @ block.transforms[5].numpy()
    np.testing.assert_allclose(k5, centre5.T.reshape(5, 5, hidden, 1), atol=1e-6)
    centre3 = k5[1:4, 1:4].reshape(9, hidden).T @ block.transforms[3].numpy()
    np.testing.assert_allclose(k3, centre3.T.reshape(3, 3, hidden, 1), atol=1e-6)


def test_channel_sorting_keeps_the_function_and_orders_by_importance(ofa):
    model = ofa
    x = images()
    config = model.largest_config()
    block = model.blocks[1][0]
    block.project.kernel.assign(np.random.default_rng(3).normal(size=block.project.kernel.shape))
    before = np.asarray(model.run_subnet(x, config))
    model.sort_channels()
    np.testing.assert_allclose(model.run_subnet(x, config), before, atol=1e-5)
    importance = np.abs(block.project.kernel.numpy()).sum(axis=(0, 1, 3))
    assert np.all(np.diff(importance) <= 1e-6)


def test_extracted_subnet_exports_to_tflite(ofa):
    model = ofa.extract_subnet(ofa.sample_subnet_config(seed=1))
    x = images(2)
    np.testing.assert_allclose(tflite_predict(to_tflite(model), x), model(x), atol=1e-4)


def test_recalibration_sets_moving_statistics_to_the_batch_statistics(ofa):
    model = ofa.extract_subnet(ofa.sample_subnet_config(seed=2))
    x = images(8, seed=4)
    recalibrate_batch_norm(model, x)
    features = np.asarray(model.get_layer("stem_conv")(x))
    norm = model.get_layer("stem_bn")
    np.testing.assert_allclose(norm.moving_mean, features.mean(axis=(0, 1, 2)), atol=1e-5)
    np.testing.assert_allclose(norm.moving_variance, features.var(axis=(0, 1, 2)), atol=1e-5)
    assert norm.momentum == 0.99


def test_progressive_shrinking_moves_through_the_phases():
    schedule = ProgressiveShrinking(epochs_per_phase=(1, 2, 1, 1))
    assert [schedule.phase_at(e) for e in range(6)] == [
        "full",
        "kernel",
        "kernel",
        "depth",
        "width",
        "width",
    ]
    with pytest.raises(ValueError, match="epochs_per_phase"):
        ProgressiveShrinking(epochs_per_phase=(1, 2))


def test_search_finds_a_subnet_within_the_budget(ofa):
    table = synthetic_table(ofa)
    floor = smallest_latency(ofa, table)
    # The smallest subnet: stem + head + one block of kernel 3, expand 2 per stage.
    assert floor == pytest.approx(2.0 + 2 * 0.01 * 9 * 2)
    assert floor == pytest.approx(predict_latency(ofa.latency_specs(ofa.smallest_config()), table))
    budget = floor + 0.5
    x, y = images(16, seed=2), np.arange(16) % 3
    result = evolutionary_search(ofa, budget, table, (x, y), population=6, generations=2)
    assert result.latency_ms <= budget
    assert result.latency_ms == pytest.approx(
        predict_latency(ofa.latency_specs(result.config), table)
    )
    assert list(result.history) == sorted(result.history)  # parents are kept: never worse
    assert search(ofa, budget, table, (x, y), population=6, generations=2) == result.config
    calibrated = evolutionary_search(
        ofa, budget, table, (x, y), population=2, generations=0, calibration_images=x
    )
    model = recalibrate_batch_norm(ofa.extract_subnet(calibrated.config), x)
    expected = np.mean(np.argmax(model.predict(x, verbose=0), -1) == y)
    assert calibrated.accuracy == pytest.approx(expected)


def test_bad_configs_and_budgets_raise_clear_errors(ofa):
    table = synthetic_table(ofa)
    with pytest.raises(ValueError, match=r"No subnet meets.*2\.3600 ms.*budget_ms=0\.5"):
        search(ofa, 0.5, table, (images(), np.zeros(4)))
    config = ofa.largest_config()
    with pytest.raises(ValueError, match=r"config\['kernel'\]"):
        ofa.extract_subnet({**config, "kernel": [[9, 9], [3, 3]]})
    with pytest.raises(ValueError, match=r"config\['depth'\]"):
        ofa.run_subnet(images(), {**config, "depth": [3, 1]})
    with pytest.raises(ValueError, match="kernel_choices"):
        OnceForAll(**{**TINY, "kernel_choices": (3, 4)})
    with pytest.raises(ValueError, match="phase='tiny'"):
        ofa.set_phase("tiny")


def test_search_command_checks_its_arguments(tmp_path, capsys):
    with pytest.raises(SystemExit, match="2"):
        cli.main(["nas", "search", "ofa", "--output", str(tmp_path), "--budget-ms", "0"])
    assert "budget_ms=0" in capsys.readouterr().err


@pytest.mark.slow
def test_in_place_distillation_step_trains_subnets():
    model = OnceForAll(**TINY)
    model.compile(optimizer="adam")
    x, y = images(32, seed=5), np.arange(32) % 3
    before = [v.numpy().copy() for v in model.trainable_variables]
    history = model.fit(
        x,
        y,
        epochs=4,
        batch_size=16,
        verbose=0,
        callbacks=[ProgressiveShrinking(epochs_per_phase=1)],
    )
    assert set(history.history) >= {"loss", "accuracy", "subnet_accuracy"}
    assert np.all(np.isfinite(history.history["loss"]))
    moved = {
        v.path: not np.allclose(a, v.numpy())
        for a, v in zip(before, model.trainable_variables, strict=True)
    }
    # Every weight trains in the full phase; the kernel transforms once smaller kernels are
    # sampled (from the kernel phase on).
    assert all(m for path, m in moved.items() if "transform" not in path)
    assert any(m for path, m in moved.items() if "transform" in path)


@pytest.mark.slow
def test_a_resumed_supernet_training_keeps_the_optimizer_state(tmp_path):
    import keras

    from zoo.nas.ofa.command import train_supernet

    x, y = images(16, seed=2), np.arange(16) % 3
    first = OnceForAll(**TINY)
    first.compile(optimizer=keras.optimizers.Adam(1e-3))
    train_supernet(first, (x, y), (x, y), 1, str(tmp_path), batch_size=8, verbose=0)
    assert int(first.optimizer.iterations) == 8  # 4 epochs of 2 steps, all done

    resumed = OnceForAll(**TINY)
    resumed.compile(optimizer=keras.optimizers.Adam(1e-3))
    assert train_supernet(resumed, (x, y), (x, y), 1, str(tmp_path), verbose=0) == 0
    assert int(resumed.optimizer.iterations) == 8
    for a, b in zip(resumed.optimizer.variables, first.optimizer.variables, strict=True):
        np.testing.assert_allclose(a, b, err_msg=a.path)
