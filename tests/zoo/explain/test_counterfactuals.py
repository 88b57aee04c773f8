"""Counterfactual search (Wachter et al., DiCE): closed forms, constraints, diversity, errors."""

import keras
import numpy as np
import pytest

from zoo.explain.counterfactual_metrics import counterfactual_metrics, median_absolute_deviation
from zoo.explain.counterfactuals import CounterfactualNotFoundError, counterfactuals

FEATURE_SCALES = np.array([1.0, 2.0, 0.5, 1.0], dtype="float32")
TRUE_WEIGHTS = np.array([1.5, -1.0, 2.0, 0.5], dtype="float32")


def synthetic_rows(n=300, seed=0):
    rng = np.random.default_rng(seed)
    return (rng.normal(size=(n, 4)) * FEATURE_SCALES).astype("float32")


@pytest.fixture(scope="module")
def binary():
    """Logistic regression (a sigmoid unit: the probability path) trained on a linear rule."""
    keras.utils.set_random_seed(0)
    data = synthetic_rows()
    labels = (data @ TRUE_WEIGHTS > 0).astype("int64")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile(keras.optimizers.Adam(0.1), "binary_crossentropy")
    model.fit(data, labels, epochs=15, batch_size=64, verbose=0)
    return model, data, data[np.flatnonzero(labels == 0)[0]]


@pytest.fixture(scope="module")
def three_classes():
    """A small MLP with logit outputs (the logits path): three bands of the linear score."""
    keras.utils.set_random_seed(1)
    data = synthetic_rows(seed=1)
    labels = np.digitize(data @ TRUE_WEIGHTS, [-1.0, 1.0])
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(3)]
    )
    model.compile(keras.optimizers.Adam(0.03), keras.losses.SparseCategoricalCrossentropy(True))
    model.fit(data, labels, epochs=20, batch_size=64, verbose=0)
    x = data[np.flatnonzero(labels == 0)[0]]
    assert model.predict(x[None], verbose=0).argmax() == 0
    return model, data, x


def linear_closed_form(model, data, x, margin=0.05):
    """Logit gain needed to reach log-odds `margin`, and the gains per MAD of each feature."""
    weights, bias = model.layers[-1].get_weights()
    gain_needed = margin - float(x @ weights[:, 0] + bias[0])
    gain_per_mad = np.abs(weights[:, 0]) * median_absolute_deviation(data, (4,))
    return gain_needed, gain_per_mad


def test_l1_counterfactual_is_the_sparse_closed_form(binary):
    model, data, x = binary
    found = counterfactuals(model, x, target_class=1, data=data, distance="l1")
    metrics = counterfactual_metrics(model, x, found, 1, data=data)
    gain_needed, gain_per_mad = linear_closed_form(model, data, x)
    # min sum|d_i| s.t. sum a_i d_i >= g: all of it on the feature of largest a_i, cost g / a_max;
    # nothing valid is closer (a lower bound), and the search lands within 10% of it.
    optimum = gain_needed / gain_per_mad.max()
    assert metrics["validity"] == 1.0
    assert optimum * (1 - 1e-4) <= metrics["proximity_l1"] <= 1.1 * optimum
    change = np.abs(found[0] - x) / median_absolute_deviation(data, (4,))
    assert change.argmax() == gain_per_mad.argmax()


def test_l2_counterfactual_is_the_minimum_norm_closed_form(binary):
    model, data, x = binary
    found = counterfactuals(model, x, target_class=1, data=data, distance="l2")
    metrics = counterfactual_metrics(model, x, found, 1, data=data)
    gain_needed, gain_per_mad = linear_closed_form(model, data, x)
    # min |d|_2 s.t. a . d >= g: d along a, norm g / |a|_2.
    optimum = gain_needed / np.linalg.norm(gain_per_mad)
    assert metrics["validity"] == 1.0
    assert optimum * (1 - 1e-4) <= metrics["proximity_l2"] <= 1.05 * optimum
    step = (found[0] - x) / median_absolute_deviation(data, (4,))
    weights = model.layers[-1].get_weights()[0][:, 0]
    direction = gain_per_mad * np.sign(weights)
    cosine = step @ direction / (np.linalg.norm(step) * np.linalg.norm(direction))
    assert cosine > 0.99


def test_diverse_counterfactuals_flip_keep_immutable_and_ranges(three_classes):
    model, data, x = three_classes
    low, high = data.min(0), data.max(0)
    found = counterfactuals(
        model, x, target_class=2, immutable=[0, 3], num=3, feature_ranges=(low, high), data=data
    )
    assert found.shape == (3, 4)
    np.testing.assert_array_equal(model.predict(found, verbose=0).argmax(-1), [2, 2, 2])
    assert np.array_equal(found[:, [0, 3]], np.broadcast_to(x[[0, 3]], (3, 2)))
    assert ((found >= low) & (found <= high)).all()


def test_diversity_is_positive_and_grows_with_its_weight(three_classes):
    model, data, x = three_classes
    diversity = []
    for weight in (0.0, 1.0, 10.0):
        found = counterfactuals(model, x, 1, num=3, data=data, diversity_weight=weight)
        metrics = counterfactual_metrics(model, x, found, 1, data=data, from_logits=True)
        assert metrics["validity"] == 1.0
        diversity.append(metrics["diversity"])
    assert 0 < diversity[0] < diversity[1] < diversity[2]


def test_unreachable_target_raises_with_last_state(binary):
    model, data, x = binary
    # Only the weakest feature may move, and only within a sliver: the target is out of reach.
    with pytest.raises(CounterfactualNotFoundError, match="max_steps=60") as caught:
        counterfactuals(
            model, x, 1, immutable=[0, 1, 2], feature_ranges=(x - 0.1, x + 0.1), max_steps=60
        )
    assert caught.value.candidates.shape == (1, 4)
    assert not caught.value.valid.any()


def test_metrics_on_hand_made_candidates():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.layers[-1].set_weights([np.array([[1, -1], [0, 0], [0, 0]], "float32"), np.zeros(2)])
    x = np.zeros(3, "float32")
    candidates = np.array([[-1, 0, 0], [-2, 2, 0]], "float32")  # both predicted class 1
    metrics = counterfactual_metrics(model, x, candidates, target_class=1, from_logits=True)
    assert metrics["validity"] == 1.0
    assert metrics["proximity_l1"] == pytest.approx((1 + 4) / 2)
    assert metrics["proximity_l2"] == pytest.approx((1 + np.sqrt(8)) / 2)
    assert metrics["sparsity"] == pytest.approx(1.5)
    assert metrics["diversity"] == pytest.approx(3.0)  # |(-1,0,0) - (-2,2,0)|_1
    assert metrics["dpp_diversity"] == pytest.approx(1 - (1 / 4) ** 2)


def test_target_class_out_of_range(three_classes):
    model, _, x = three_classes
    with pytest.raises(ValueError, match="target_class=3"):
        counterfactuals(model, x, target_class=3)


def test_target_class_already_predicted(three_classes):
    model, _, x = three_classes
    with pytest.raises(ValueError, match="must differ.*target_class=0"):
        counterfactuals(model, x, target_class=0)


def test_wrong_input_shape(three_classes):
    model, _, _ = three_classes
    with pytest.raises(ValueError, match=r"x.shape=\(5,\)"):
        counterfactuals(model, np.zeros(5), target_class=1)


def test_batch_of_examples_is_refused(three_classes):
    model, data, _ = three_classes
    with pytest.raises(ValueError, match=r"one example at a time. Received: x.shape=\(2, 4\)"):
        counterfactuals(model, data[:2], target_class=1)


def test_immutable_index_out_of_range(three_classes):
    model, _, x = three_classes
    with pytest.raises(ValueError, match="immutable=4"):
        counterfactuals(model, x, target_class=1, immutable=[1, 4])


def test_every_feature_immutable(three_classes):
    model, _, x = three_classes
    with pytest.raises(ValueError, match="covers every feature"):
        counterfactuals(model, x, target_class=1, immutable=[0, 1, 2, 3])


def test_x_outside_feature_ranges(three_classes):
    model, _, x = three_classes
    with pytest.raises(ValueError, match=r"flat feature indices \[0, 1, 2, 3\]"):
        counterfactuals(model, x, target_class=1, feature_ranges=(x + 1, x + 2))


@pytest.mark.slow
def test_digit_image_counterfactuals_with_a_trained_cnn():
    from zoo.datasets import load_digits

    keras.utils.set_random_seed(0)
    digits = load_digits(dtype="float32")
    model = keras.Sequential(
        [
            keras.Input((8, 8, 1)),
            keras.layers.Conv2D(8, 3, activation="relu"),
            keras.layers.Flatten(),
            keras.layers.Dense(10),
        ]
    )
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(True), metrics=["accuracy"])
    model.fit(digits.train.x, digits.train.y, epochs=15, batch_size=64, verbose=0)
    assert model.evaluate(digits.test.x, digits.test.y, verbose=0)[1] > 0.9
    x = digits.test.x[np.flatnonzero(digits.test.y == 3)[0]]
    border = [row * 8 + col for row in range(8) for col in range(8) if row in (0, 7)]
    found = counterfactuals(
        model, x, 8, immutable=border, num=2, data=digits.train.x, feature_ranges=(0.0, 1.0)
    )
    assert found.shape == (2, 8, 8, 1)
    np.testing.assert_array_equal(model.predict(found, verbose=0).argmax(-1), [8, 8])
    assert np.array_equal(found.reshape(2, 64)[:, border], np.tile(x.reshape(64)[border], (2, 1)))
    assert found.min() >= 0.0 and found.max() <= 1.0
    metrics = counterfactual_metrics(model, x, found, 8, data=digits.train.x, from_logits=True)
    assert metrics["sparsity"] < 64 - len(border)  # L1 leaves some mutable pixels untouched
