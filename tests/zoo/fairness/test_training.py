import keras
import numpy as np
import pytest
from fairlearn.reductions import DemographicParity, ExponentiatedGradient
from sklearn.base import clone

from zoo import fairness

DATA = fairness.make_biased_data(3000, seed=0)
TRAIN, TEST = DATA.split(0.3)


def with_group(data):
    """The features with the sensitive attribute as the last column (what the penalty reads)."""
    return np.concatenate([data.x, data.sensitive[:, None].astype("float32")], axis=1)


def classifier(learning_rate=0.01, jit_compile="auto"):
    keras.utils.set_random_seed(0)
    inputs = keras.Input((with_group(TRAIN).shape[1],))
    hidden = keras.layers.Dense(16, activation="relu")(inputs)
    model = keras.Model(inputs, keras.layers.Dense(1, activation="sigmoid")(hidden))
    model.compile(keras.optimizers.SGD(learning_rate), "binary_crossentropy", metrics=["accuracy"])
    return model


def numpy_gap(p, y, a, constraint):
    def gap(mask):
        one, zero = mask & (a == 1), mask & (a == 0)
        return abs(p[one].mean() - p[zero].mean()) if one.any() and zero.any() else 0.0

    everyone = np.ones_like(y, dtype=bool)
    if constraint == "demographic_parity":
        return gap(everyone)
    return gap(y == 1) + gap(y == 0)


@pytest.mark.parametrize("constraint", fairness.CONSTRAINTS)
def test_penalty_term_matches_its_formula(constraint):
    x, y, a = with_group(TRAIN)[:64], TRAIN.y[:64], TRAIN.sensitive[:64]
    p = np.random.default_rng(1).uniform(size=(64, 1)).astype("float32")
    penalty = fairness.FairnessPenalty(-1, constraint, weight=2.0)
    term = penalty.loss_term(None, keras.ops.convert_to_tensor(x), y, p, None)
    expected = 2.0 * numpy_gap(p[:, 0], y, a, constraint)
    np.testing.assert_allclose(float(term), expected, rtol=1e-5)
    one_group = x[a == 1]
    alone = penalty.loss_term(None, one_group, y[a == 1], p[a == 1], None)
    assert float(alone) == 0.0  # a batch of one group has no gap
    softmax = np.concatenate([1 - p, p], axis=1)
    from_dict = fairness.FairnessPenalty("group", constraint, weight=2.0)
    term = from_dict.loss_term(None, {"x": x, "group": a}, y, softmax, None)
    np.testing.assert_allclose(float(term), expected, rtol=1e-5)


def test_penalty_is_added_to_the_training_loss_and_round_trips():
    # The weights stay (learning rate 0): the logged loss is at them. Under XLA, as zoo models
    # train by default.
    model = classifier(learning_rate=0.0, jit_compile=True)
    x, y = with_group(TRAIN)[:128], TRAIN.y[:128]
    p = np.asarray(model(x))[:, 0]
    penalty = fairness.FairnessPenalty(-1, weight=5.0)
    history = model.fit(x, y, batch_size=128, epochs=1, verbose=0, callbacks=[penalty])
    cross_entropy = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
    expected = cross_entropy + 5.0 * numpy_gap(p, y, TRAIN.sensitive[:128], "demographic_parity")
    np.testing.assert_allclose(history.history["loss"][0], expected, rtol=1e-4)
    assert "compute_loss" not in model.__dict__  # removed at the end of fit
    config = penalty.get_config()
    restored = keras.saving.deserialize_keras_object(keras.saving.serialize_keras_object(penalty))
    assert isinstance(restored, fairness.FairnessPenalty) and restored.get_config() == config


def test_penalty_arguments_are_checked():
    with pytest.raises(ValueError, match="constraint"):
        fairness.FairnessPenalty(constraint="parity")
    with pytest.raises(ValueError, match="weight"):
        fairness.FairnessPenalty(weight=-1.0)
    with pytest.raises(ValueError, match="sensitive=1.5"):
        fairness.FairnessPenalty(sensitive=1.5)
    with pytest.raises(ValueError, match="'group'"):
        fairness.FairnessPenalty("group").loss_term(None, {"x": TRAIN.x}, TRAIN.y, TRAIN.y, None)


def test_audit_callback_logs_each_epoch():
    model = classifier(learning_rate=0.1)
    x_val, y_val, a_val = with_group(TEST), TEST.y, TEST.sensitive
    callback = fairness.FairnessAudit((x_val, y_val, a_val))
    history = model.fit(
        with_group(TRAIN), TRAIN.y, batch_size=256, epochs=2, verbose=0, callbacks=[callback]
    )
    assert len(history.history["val_demographic_parity_difference"]) == 2
    final = fairness.audit(y_val, model.predict(x_val, verbose=0), a_val)
    for name in ("demographic_parity_difference", "equalized_odds_difference"):
        assert history.history[f"val_{name}"][-1] == pytest.approx(final[name])
    assert history.history["val_selection_rate_group_1"][-1] == pytest.approx(
        final["by_group"]["1"]["selection_rate"]
    )
    assert [a["epoch"] for a in callback.audits] == [0, 1]
    with pytest.raises(ValueError, match="constant"):
        fairness.FairnessAudit((x_val, y_val, np.ones_like(a_val)))


def test_sklearn_wrapper_clones_and_uses_sample_weight():
    estimator = fairness.KerasFairClassifier(epochs=8, batch_size=128, hidden_units=(8,))
    fitted = clone(estimator).fit(TRAIN.x, TRAIN.y)
    again = clone(estimator).fit(TRAIN.x, TRAIN.y)
    np.testing.assert_array_equal(fitted.predict_proba(TEST.x), again.predict_proba(TEST.x))
    # Only the positives of group 0 and the negatives of group 1 count: the model learns
    # to select group 0 more often than group 1, the reverse of unweighted training.
    weights = ((TRAIN.y == 1) == (TRAIN.sensitive == 0)).astype("float32")
    weighted = clone(estimator).fit(TRAIN.x, TRAIN.y, sample_weight=weights)

    def selection_rates(model):
        return [model.predict(TEST.x)[TEST.sensitive == g].mean() for g in (0, 1)]

    unweighted, reweighted = selection_rates(fitted), selection_rates(weighted)
    assert unweighted[1] > unweighted[0] + 0.1  # the bias of the data
    assert reweighted[0] > reweighted[1] + 0.1  # turned around by the weights
    assert set(np.unique(fitted.predict(TEST.x))) <= {0, 1}
    assert fitted.predict_proba(TEST.x).shape == (len(TEST.y), 2)
    with pytest.raises(ValueError, match="sample_weight"):
        clone(estimator).fit(TRAIN.x, TRAIN.y, sample_weight=-weights)


def unconstrained_and_penalised(weight):
    results = {}
    for name, callbacks in (
        ("none", []),
        ("penalty", [fairness.FairnessPenalty(-1, weight=weight)]),
    ):
        model = classifier()
        model.compile(keras.optimizers.Adam(0.01), "binary_crossentropy", metrics=["accuracy"])
        model.fit(
            with_group(TRAIN), TRAIN.y, batch_size=128, epochs=15, verbose=0, callbacks=callbacks
        )
        probabilities = model.predict(with_group(TEST), verbose=0)
        results[name] = fairness.audit(TEST.y, probabilities, TEST.sensitive)
    return results


@pytest.mark.slow
def test_penalty_brings_demographic_parity_below_the_bound():
    results = unconstrained_and_penalised(weight=1.0)
    before, after = results["none"], results["penalty"]
    assert before["demographic_parity_difference"] > 0.25
    assert after["demographic_parity_difference"] < 0.1
    cost = before["overall"]["accuracy"] - after["overall"]["accuracy"]
    assert cost < 0.1, cost  # measured 0.04 (0.861 -> 0.822)


@pytest.mark.slow
def test_exponentiated_gradient_around_keras_reduces_disparity():
    estimator = fairness.KerasFairClassifier(epochs=10, batch_size=256)
    plain = clone(estimator).fit(TRAIN.x, TRAIN.y)
    before = fairness.audit(TEST.y, plain.predict(TEST.x), TEST.sensitive)
    mitigator = ExponentiatedGradient(estimator, DemographicParity(), eps=0.02, max_iter=6)
    mitigator.fit(TRAIN.x, TRAIN.y, sensitive_features=TRAIN.sensitive)
    after = fairness.audit(TEST.y, mitigator.predict(TEST.x, random_state=0), TEST.sensitive)
    assert before["demographic_parity_difference"] > 0.25
    assert after["demographic_parity_difference"] < 0.08
    assert after["overall"]["accuracy"] > 0.7
