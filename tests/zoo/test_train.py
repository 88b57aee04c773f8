import json
import subprocess
import sys

import keras
import numpy as np
import pytest

from zoo import cli
from zoo.train import TrainConfig, train


def _weights(path) -> list[np.ndarray]:
    return keras.saving.load_model(path).get_weights()


def test_config_file_holds_every_option_and_flags_win(tmp_path, capsys):
    config = tmp_path / "run.yaml"
    config.write_text(
        "model: mlp_digits\n"
        "epochs: 1\n"
        "batch-size: 64\n"
        "seed: 3\n"
        "deterministic: false\n"
        "learning_rate: 0.01\n"
        f"output: {tmp_path / 'out'}\n"
        "verbose: 0\n"
        "overrides:\n"
        "  hidden_units: [8]\n"
        "  dropout: 0.0\n"
    )
    assert cli.main(["train", "--config", str(config), "--epochs", "2"]) == 0
    result = json.loads(capsys.readouterr().out)
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    assert record["config"]["epochs"] == 2  # the flag wins over the file
    assert record["config"]["batch_size"] == 64
    assert record["config"]["overrides"] == {"hidden_units": [8], "dropout": 0.0}
    assert record["seed"] == 3 and record["packages"]["tensorflow"].startswith("2.21")
    assert record["hardware"]["cpu_count"] >= 1
    assert len(json.loads((tmp_path / "out" / "history.json").read_text())["loss"]) == 2
    model = keras.saving.load_model(result["model_path"])
    assert model.get_config()["hidden_units"] == [8]
    assert float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)) == np.float32(0.01)


def test_unknown_config_option_is_a_one_line_error(tmp_path, capsys):
    config = tmp_path / "run.yaml"
    config.write_text("model: mlp_digits\nepochs: 1\nlerning_rate: 0.1\n")
    assert cli.main(["train", "--config", str(config)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "lerning_rate" in err[0]


def test_mixed_precision_training_restores_the_policy(tmp_path):
    result = train(
        model="cnn_digits",
        epochs=1,
        output=str(tmp_path),
        mixed_precision="float16",
        deterministic=False,
        verbose=0,
        overrides={"filters": (8,)},
    )
    assert np.isfinite(result["loss"])
    assert keras.config.dtype_policy().name == "float32"
    model = keras.saving.load_model(result["model_path"])
    assert model.get_layer("conv_0").dtype_policy.name == "mixed_float16"
    assert isinstance(model.optimizer, keras.optimizers.LossScaleOptimizer)


def test_bad_options_name_the_value():
    for options, text in (
        ({"epochs": 0}, "epochs=0"),
        ({"strategy": "tpu"}, "strategy='tpu'"),
        ({"mixed_precision": "int8"}, "mixed_precision='int8'"),
    ):
        try:
            train(TrainConfig(model="mlp_digits", deterministic=False, verbose=0, **options))
        except ValueError as error:
            assert text in str(error)
        else:
            raise AssertionError(f"{options} was accepted")


def test_same_seed_gives_identical_weights_on_cpu(tmp_path):
    # One run in a fresh interpreter through the command line, the others in this process after
    # whatever the suite ran before: the seed (with op determinism, the default) alone must
    # decide the weights.
    options = dict(model="cnn_digits", epochs=1, verbose=0)
    command = [sys.executable, "-m", "zoo", "train", "cnn_digits", "--epochs", "1"]
    command += ["--seed", "7", "--output", str(tmp_path / "a"), "--verbose", "0"]
    subprocess.run(command, check=True, capture_output=True, timeout=300)
    first = _weights(tmp_path / "a" / "cnn_digits.keras")
    train(seed=7, output=str(tmp_path / "b"), **options)
    second = _weights(tmp_path / "b" / "cnn_digits.keras")
    train(seed=8, output=str(tmp_path / "c"), **options)
    other = _weights(tmp_path / "c" / "cnn_digits.keras")
    assert all(np.array_equal(a, b) for a, b in zip(first, second, strict=True))
    assert not all(np.array_equal(a, c) for a, c in zip(first, other, strict=True))


# The vision recipe: schedules, augmentation and mixed labels in `zoo train`.
# (Imports are local so that this block only appends to the file.)

TINY_VIT = dict(image_size=8, patch_size=4, hidden_dim=8, num_layers=1, num_heads=2, mlp_dim=8)


def _rate_at(optimizer, step: int) -> float:
    optimizer.iterations.assign(step)
    return float(keras.ops.convert_to_numpy(optimizer.learning_rate))


@pytest.mark.slow  # a ViT under every augmentation: half a minute
def test_vit_recipe_warms_up_then_decays_with_all_augmentations(tmp_path):
    from layers import MixedLabelAccuracy, SparseLabelSmoothingCrossentropy

    # 1,437 training digits in batches of 256: 6 steps per epoch, 12 in all, 6 of warmup.
    result = train(
        model="vit_tiny_digits",
        epochs=2,
        batch_size=256,
        learning_rate=0.01,
        schedule="cosine",
        warmup_epochs=1,
        augment=["randaugment", "mixup", "cutmix"],
        output=str(tmp_path),
        overrides=TINY_VIT,
        verbose=0,
    )
    assert np.isfinite(result["loss"]) and 0.0 <= result["accuracy"] <= 1.0
    assert 0.0 <= result["val_accuracy"] <= 1.0
    model = keras.saving.load_model(result["model_path"])
    assert int(model.optimizer.iterations) == 12
    assert isinstance(model.loss, SparseLabelSmoothingCrossentropy)
    assert model.loss.label_smoothing == 0.1  # the preset's smoothing is kept
    metrics = model.get_compile_config()["metrics"]
    assert [m["class_name"] for m in metrics] == [MixedLabelAccuracy.__name__]
    rates = [_rate_at(model.optimizer, step) for step in (0, 3, 6, 9, 12)]
    expected = [0.0, 0.005, 0.01, 0.01 * (1 + np.cos(np.pi * 3 / 6)) / 2, 0.0]
    np.testing.assert_allclose(rates, expected, atol=1e-7)
    record = json.loads((tmp_path / "run.json").read_text())["config"]
    assert record["augment"] == ["randaugment", "mixup", "cutmix"]
    assert record["schedule"] == "cosine" and record["warmup_epochs"] == 1


def test_training_batches_are_augmented_and_validation_is_not():
    from zoo.train import load_datasets

    def batches(augment):
        config = TrainConfig(model="vit_tiny_digits", batch_size=16, augment=augment)
        train_data, validation = load_datasets(config, (8, 8, 1), num_classes=10)
        return next(iter(train_data)), next(iter(validation))

    (plain_x, plain_y), plain_val = batches([])
    (aug_x, aug_y), aug_val = batches(["randaugment", "mixup", "cutmix"])
    assert plain_y.shape == (16,) and aug_y.shape == (16, 10)
    assert not np.allclose(aug_x.numpy(), plain_x.numpy())
    # The mixed labels still weigh each image's own class (same shuffle, same seed).
    assert (aug_y.numpy()[np.arange(16), plain_y.numpy()] > 0).mean() > 0.5
    for plain, augmented in zip(plain_val, aug_val, strict=True):
        np.testing.assert_array_equal(plain.numpy(), augmented.numpy())


def test_mixup_converts_the_sparse_loss_of_cnn_digits(tmp_path):
    import pytest

    from layers import SparseLabelSmoothingCrossentropy
    from layers.schedules import OneCycle
    from zoo.datasets import load_digits

    result = train(
        model="cnn_digits",
        epochs=1,
        batch_size=256,
        augment="mixup",
        schedule="one_cycle",
        warmup_epochs=0.5,
        output=str(tmp_path),
        overrides={"filters": (8,)},
        verbose=0,
    )
    model = keras.saving.load_model(result["model_path"])
    assert isinstance(model.loss, SparseLabelSmoothingCrossentropy)
    assert model.loss.label_smoothing == 0.0
    schedule = model.optimizer._learning_rate
    assert isinstance(schedule, OneCycle)
    # The model's own rate (1e-3) is the peak; 6 steps, the rise lasts half an epoch.
    assert schedule.max_learning_rate == pytest.approx(1e-3) and schedule.total_steps == 6
    assert schedule.pct_start == 0.5
    # Integer labels still evaluate after the switch.
    digits = load_digits(dtype="float32")
    loss, accuracy = model.evaluate(digits.test.x, digits.test.y, verbose=0)
    assert np.isfinite(loss) and 0.0 <= accuracy <= 1.0


def test_constant_schedule_with_warmup_keeps_the_given_rate(tmp_path):
    from layers.schedules import LinearWarmup

    result = train(
        model="mlp_digits",
        epochs=2,
        batch_size=512,
        learning_rate=0.02,
        warmup_epochs=1,
        output=str(tmp_path),
        overrides={"hidden_units": [8]},
        verbose=0,
    )
    optimizer = keras.saving.load_model(result["model_path"]).optimizer
    assert isinstance(optimizer._learning_rate, LinearWarmup)
    # 3 steps per epoch: warmup over steps 0-2, then the constant 0.02.
    rates = [_rate_at(optimizer, step) for step in (0, 1, 3, 5)]
    np.testing.assert_allclose(rates, [0.0, 0.02 / 3, 0.02, 0.02], rtol=1e-6)


def test_factory_schedules_reach_compile(tmp_path):
    from layers.schedules import SCHEDULES, LinearWarmup

    assert all(TrainConfig(schedule=name).schedule == name for name in SCHEDULES)
    result = train(
        model="mlp_digits",
        epochs=2,
        batch_size=512,
        learning_rate=0.02,
        schedule="linear_warmup_polynomial",
        warmup_epochs=1,
        output=str(tmp_path),
        overrides={"hidden_units": [8]},
        verbose=0,
    )
    optimizer = keras.saving.load_model(result["model_path"]).optimizer
    assert isinstance(optimizer._learning_rate, LinearWarmup)
    # 3 steps per epoch, 6 in all: warmup over steps 0-2, then linear decay to 0 at step 6.
    rates = [_rate_at(optimizer, step) for step in (0, 1, 3, 6)]
    np.testing.assert_allclose(rates, [0.0, 0.02 / 3, 0.02, 0.0], rtol=1e-6, atol=1e-9)


def test_steps_per_epoch_from_cardinality_or_counting():
    import pytest
    import tensorflow as tf

    from zoo.train import steps_per_epoch

    data = tf.data.Dataset.range(10).batch(3)
    assert steps_per_epoch(data) == 4
    # Unknown cardinality: counted.
    assert steps_per_epoch(data.filter(lambda x: tf.reduce_all(x >= 0))) == 4
    with pytest.raises(ValueError, match="infinite"):
        steps_per_epoch(data.repeat())
    with pytest.raises(ValueError, match="0 batches"):
        steps_per_epoch(data.take(0))


def test_the_trainer_imports_nothing_from_a_model_family():
    """`learning_rate` goes from `zoo train` to `compile` without passing through a family."""
    import ast
    import pathlib

    import zoo.train

    source = pathlib.Path(zoo.train.__file__)
    zoo_root = source.parent
    modules = []
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            modules += [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.module == "zoo":
            modules += [f"zoo.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            modules.append(node.module or "")
    modules = [name for name in modules if name.startswith("zoo.")]
    assert {"zoo.augmentation", "zoo.registry"} <= set(modules)
    for name in modules:
        # A family is a package under zoo/ (zoo/vision, zoo/text, ...); shared code is a module,
        # or zoo/tracking (experiment tracking, dataset hashes, carbon: no model family).
        top = name.split(".")[1]
        shared = (zoo_root / f"{top}.py").is_file() or top == "tracking"
        assert shared, f"zoo/train.py imports {name}"


def test_recipe_options_are_checked_and_name_the_value():
    import pytest

    for options, text in (
        ({"augment": ["mixup", "rotate"]}, "augment=['mixup', 'rotate']"),
        ({"augment": "mixup,mixup"}, "augment=['mixup', 'mixup']"),
        ({"schedule": "step"}, "schedule='step'"),
        ({"warmup_epochs": 3}, "warmup_epochs=3"),
        ({"warmup_epochs": -1}, "warmup_epochs=-1"),
        ({"schedule": "cyclical", "warmup_epochs": 1}, "warmup_epochs=1"),
        ({"value_range": [0, 0]}, "value_range=[0, 0]"),
        ({"strategy": "multiworker", "augment": ["mixup"]}, "augment=['mixup']"),
        ({"strategy": "multiworker", "schedule": "cosine"}, "schedule='cosine'"),
    ):
        with pytest.raises(ValueError) as error:
            TrainConfig(model="vit_tiny_digits", epochs=3, **options)
        assert text in str(error.value), (options, str(error.value))
    assert TrainConfig(augment="randaugment, mixup").augment == ["randaugment", "mixup"]


def test_mixing_a_flat_input_model_is_a_clear_error(tmp_path):
    import pytest

    with pytest.raises(ValueError, match=r"images of shape \(None, 64\)"):
        train(model="mlp_digits", epochs=1, augment=["mixup"], output=str(tmp_path), verbose=0)
