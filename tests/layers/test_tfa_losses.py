"""TensorFlow Addons' losses on Keras 3: TFA's numbers (fixture and docstrings), gradients,
the shared loss checks (XLA fit, float16, `.keras`) and bad input."""

import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from layers.activations import sparsemax
from layers.losses import (
    ContrastiveLoss,
    GIoULoss,
    LiftedStructLoss,
    NpairsLoss,
    NpairsMultilabelLoss,
    PinballLoss,
    SigmoidFocalCrossEntropy,
    SparsemaxLoss,
    TripletHardLoss,
    TripletSemiHardLoss,
    WeightedKappaLoss,
    contrastive_loss,
    giou_loss,
    lifted_struct_loss,
    npairs_loss,
    npairs_multilabel_loss,
    pinball_loss,
    sigmoid_focal_crossentropy,
    sparsemax_loss,
    triplet_hard_loss,
    triplet_semihard_loss,
)
from tests import harness

FIXTURE = os.path.join(os.path.dirname(__file__), "..", "fixtures", "tfa", "losses_activations.npz")
TAU = [0.1, 0.5, 0.9]

# case in the fixture: (function form, class form)
CASES = {
    "giou": (giou_loss, lambda: GIoULoss()),
    "iou": (lambda t, p: giou_loss(t, p, mode="iou"), lambda: GIoULoss(mode="iou")),
    "pinball": (pinball_loss, lambda: PinballLoss()),
    "pinball_tau": (lambda t, p: pinball_loss(t, p, tau=TAU), lambda: PinballLoss(tau=TAU)),
    "pinball_02": (lambda t, p: pinball_loss(t, p, tau=0.2), lambda: PinballLoss(tau=0.2)),
    "npairs": (npairs_loss, lambda: NpairsLoss()),
    "npairs_multilabel": (npairs_multilabel_loss, lambda: NpairsMultilabelLoss()),
    "lifted_1": (lifted_struct_loss, lambda: LiftedStructLoss()),
    "lifted_0.5": (
        lambda t, p: lifted_struct_loss(t, p, margin=0.5),
        lambda: LiftedStructLoss(margin=0.5),
    ),
    "sparsemax": (lambda t, p: sparsemax_loss(p, sparsemax(p), t), lambda: SparsemaxLoss()),
    "kappa_quadratic": (
        lambda t, p: WeightedKappaLoss(num_classes=4)(t, p),
        lambda: WeightedKappaLoss(num_classes=4),
    ),
    "kappa_linear": (
        lambda t, p: WeightedKappaLoss(num_classes=4, weightage="linear")(t, p),
        lambda: WeightedKappaLoss(num_classes=4, weightage="linear"),
    ),
    "focal": (sigmoid_focal_crossentropy, lambda: SigmoidFocalCrossEntropy()),
    "focal_logits": (
        lambda t, p: sigmoid_focal_crossentropy(t, p, alpha=0.4, gamma=1.5, from_logits=True),
        lambda: SigmoidFocalCrossEntropy(from_logits=True, alpha=0.4, gamma=1.5),
    ),
    "contrastive": (contrastive_loss, lambda: ContrastiveLoss()),
    "hard_soft": (
        lambda t, p: triplet_hard_loss(t, p, margin=0.3, soft=True),
        lambda: TripletHardLoss(margin=0.3, soft=True, jit_compile=False),
    ),
}
for _metric in ("L2", "squared-L2", "angular"):
    _name = _metric.replace("-", "_")
    CASES[f"semihard_{_name}"] = (
        lambda t, p, d=_metric: triplet_semihard_loss(t, p, distance_metric=d),
        # One case through the default XLA-compiled loss, the others plain (faster tests).
        lambda d=_metric: TripletSemiHardLoss(distance_metric=d, jit_compile=d == "L2"),
    )
    CASES[f"hard_{_name}"] = (
        lambda t, p, d=_metric: triplet_hard_loss(t, p, distance_metric=d),
        lambda d=_metric: TripletHardLoss(distance_metric=d, jit_compile=False),
    )


def load(case):
    with np.load(FIXTURE) as data:
        prefix = f"loss_{case}_"
        return {k[len(prefix) :]: data[k] for k in data.files if k.startswith(prefix)}


def close(actual, expected, atol=1e-5, rtol=1e-5):
    np.testing.assert_allclose(np.asarray(actual), expected, atol=atol, rtol=rtol)


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_tfa_values_and_gradients(case):
    d = load(case)
    function, make_class = CASES[case]
    close(function(d["y_true"], d["y_pred"]), d["value"])
    prediction = tf.Variable(d["y_pred"])
    with tf.GradientTape() as tape:
        value = make_class()(d["y_true"], prediction)
        total = tf.reduce_sum(value)
    close(value, d["class"])
    close(tape.gradient(total, prediction), d["grad"], atol=2e-5)


def test_tfa_docstring_values():
    boxes_a = [[4.0, 3.0, 7.0, 5.0], [5.0, 6.0, 10.0, 7.0]]
    boxes_b = [[3.0, 4.0, 6.0, 8.0], [14.0, 14.0, 15.0, 15.0]]
    close(GIoULoss()(boxes_a, boxes_b), 1.5041667)
    close(giou_loss([[4.0, 3.0, 7.0, 5.0]], [[3.0, 4.0, 6.0, 8.0]]), 1.075)
    close(pinball_loss([0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 1.0, 0.0], tau=0.1), 0.475)
    close(PinballLoss(tau=0.1)([0.0, 0.0, 1.0, 1.0], [1.0, 1.0, 1.0, 0.0]), 0.475)
    close(
        SigmoidFocalCrossEntropy()([[1.0], [1.0], [0.0]], [[0.97], [0.91], [0.03]]),
        [6.8532745e-06, 1.9097870e-04, 2.0559824e-05],
    )
    kappa = WeightedKappaLoss(num_classes=4)
    y_true = [[0, 0, 1, 0], [0, 1, 0, 0], [1, 0, 0, 0], [0, 0, 0, 1]]
    y_pred = [[0.1, 0.2, 0.6, 0.1], [0.1, 0.5, 0.3, 0.1], [0.8, 0.05, 0.05, 0.1]]
    y_pred.append([0.01, 0.09, 0.1, 0.8])
    close(kappa(y_true, y_pred), -1.1611925)
    close(triplet_hard_loss([0, 0], [[0.0, 1.0], [1.0, 0.0]], distance_metric="L2"), 1.0)
    close(
        triplet_hard_loss(
            [0, 0], [[0.0, 1.0], [1.0, 0.0]], distance_metric=lambda x: tf.matmul(x, x, False, True)
        ),
        0.0,
    )


def test_functions_run_in_graphs_and_xla():
    d = load("lifted_1")

    @tf.function(jit_compile=True)
    def losses(labels, embeddings):
        return (
            lifted_struct_loss(labels, embeddings),
            triplet_semihard_loss(labels, embeddings),
            triplet_hard_loss(labels, embeddings, soft=True),
        )

    lifted, semihard, hard = losses(d["y_true"], d["y_pred"])
    close(lifted, d["value"])
    close(semihard, load("semihard_L2")["value"])
    close(hard, triplet_hard_loss(d["y_true"], d["y_pred"], soft=True))


def test_half_precision_triplet_and_lifted_keep_the_dtype():
    d = load("lifted_1")
    half = d["y_pred"].astype("float16")
    for fn in (lifted_struct_loss, triplet_semihard_loss, triplet_hard_loss):
        value = fn(d["y_true"], half)
        assert keras.backend.standardize_dtype(value.dtype) == "float16"
    close(lifted_struct_loss(d["y_true"], half), d["value"], rtol=2e-2, atol=2e-2)


def test_triplet_adapters_config_and_callable_metric():
    loss = TripletHardLoss(margin=0.3, soft=True, distance_metric="angular")
    config = loss.get_config()
    assert config["distance_metric"] == "angular" and config["soft"] is True
    assert config["reduction"] == "none" and config["name"] == "triplet_hard_loss"
    clone = TripletHardLoss.from_config(config)
    d = load("hard_angular")
    close(
        clone(d["y_true"], d["y_pred"]),
        triplet_hard_loss(**_tfa_args(d), soft=True, margin=0.3, distance_metric="angular"),
    )

    @keras.saving.register_keras_serializable(package="test_tfa_losses")
    def dot_distance(x):
        return -tf.matmul(x, x, transpose_b=True)

    semi = TripletSemiHardLoss(distance_metric=dot_distance)
    restored = TripletSemiHardLoss.from_config(semi.get_config())
    d = load("semihard_L2")
    expected = triplet_semihard_loss(d["y_true"], d["y_pred"], distance_metric=dot_distance)
    close(restored(d["y_true"], d["y_pred"]), expected)


def _tfa_args(d):
    return {"y_true": d["y_true"], "y_pred": d["y_pred"]}


# (class, init_kwargs, fixture case): the shared checks, once per class.
HARNESS_CASES = {
    "GIoULoss": (GIoULoss, {"mode": "giou"}, "giou"),
    "PinballLoss": (PinballLoss, {"tau": TAU}, "pinball_tau"),
    "NpairsLoss": (NpairsLoss, {}, "npairs"),
    "NpairsMultilabelLoss": (NpairsMultilabelLoss, {}, "npairs_multilabel"),
    "LiftedStructLoss": (LiftedStructLoss, {"margin": 0.5}, "lifted_0.5"),
    "SparsemaxLoss": (SparsemaxLoss, {}, "sparsemax"),
    "SigmoidFocalCrossEntropy": (
        SigmoidFocalCrossEntropy,
        {"from_logits": True, "alpha": 0.4, "gamma": 1.5, "reduction": "sum_over_batch_size"},
        "focal_logits",
    ),
    "TripletSemiHardLoss": (TripletSemiHardLoss, {"distance_metric": "L2"}, "semihard_L2"),
    "TripletHardLoss": (TripletHardLoss, {"margin": 0.3, "soft": True}, "hard_soft"),
}


@pytest.mark.parametrize("name", sorted(HARNESS_CASES))
def test_shared_loss_checks(name):
    cls, kwargs, case = HARNESS_CASES[name]
    d = load(case)
    expected = np.mean(d["class"])
    harness.run_loss_test(cls, kwargs, d["y_true"], d["y_pred"], expected=expected)


@keras.saving.register_keras_serializable(package="keras_zoo")
class SoftmaxWeightedKappaLoss(WeightedKappaLoss):
    """`WeightedKappaLoss` on logits: the harness's linear model gives no probabilities."""

    def call(self, y_true, y_pred):
        return super().call(y_true, keras.ops.softmax(y_pred))


def test_weighted_kappa_shared_checks():
    d = load("kappa_quadratic")
    expected = float(d["class"])
    harness.run_loss_test(
        SoftmaxWeightedKappaLoss,
        {"num_classes": 4},
        d["y_true"],
        np.log(d["y_pred"]),
        expected=expected,
    )
    loss = WeightedKappaLoss(num_classes=4, weightage="linear", epsilon=0)
    config = loss.get_config()
    assert config["num_classes"] == 4 and config["weightage"] == "linear"
    assert config["epsilon"] == keras.config.epsilon() and config["name"] == "cohen_kappa_loss"
    harness.assert_config_round_trip(loss, {"num_classes": 4, "weightage": "linear"})


def test_bad_input_is_named():
    with pytest.raises(ValueError, match="Received: mode='diou'"):
        GIoULoss(mode="diou")
    with pytest.raises(ValueError, match=r"y_pred.shape=\(2, 3\)"):
        giou_loss(np.zeros((2, 3)), np.zeros((2, 3)))
    with pytest.raises(ValueError, match="Received: tau=1.5"):
        PinballLoss(tau=1.5)
    with pytest.raises(ValueError, match="Received: tau='high'"):
        PinballLoss(tau="high")
    with pytest.raises(ValueError, match=r"Received: tau=\[0.1, -0.2\]"):
        pinball_loss([0.0, 1.0], [1.0, 0.0], tau=[0.1, -0.2])
    with pytest.raises(ValueError, match=r"y_pred.shape=\(4,\)"):
        npairs_loss([0, 1, 0, 1], np.zeros(4, "float32"))
    with pytest.raises(ValueError, match=r"y_true.shape=\(3,\)"):
        npairs_multilabel_loss([0, 1, 0], np.zeros((3, 3), "float32"))
    with pytest.raises(ValueError, match="Received: margin=-1"):
        LiftedStructLoss(margin=-1.0)
    with pytest.raises(ValueError, match=r"embeddings.shape=\(4,\)"):
        lifted_struct_loss([0, 1, 0, 1], np.zeros(4, "float32"))
    with pytest.raises(ValueError, match="Received: from_logits=False"):
        SparsemaxLoss(from_logits=False)
    with pytest.raises(ValueError, match="Received: weightage='cubic'"):
        WeightedKappaLoss(num_classes=4, weightage="cubic")
    with pytest.raises(ValueError, match="Received: num_classes=0"):
        WeightedKappaLoss(num_classes=0)
    with pytest.raises(ValueError, match="num_classes=4"):
        WeightedKappaLoss(num_classes=4)(np.eye(3), np.eye(3))
    with pytest.raises(ValueError, match="Received: gamma=-1"):
        SigmoidFocalCrossEntropy(gamma=-1.0)
    with pytest.raises(TypeError, match="Received: from_logits='yes'"):
        SigmoidFocalCrossEntropy(from_logits="yes")
    with pytest.raises(ValueError, match="Received: distance_metric='L1'"):
        TripletSemiHardLoss(distance_metric="L1")
    with pytest.raises(ValueError, match="Received: distance_metric='cosine'"):
        triplet_hard_loss([0, 0], [[0.0, 1.0], [1.0, 0.0]], distance_metric="cosine")
    with pytest.raises(TypeError, match="Received: soft=1"):
        TripletHardLoss(soft=1)
    with pytest.raises(TypeError, match="strategy"):
        TripletHardLoss(strategy="all")
    with pytest.raises(ValueError, match=r"y_pred.shape=\(4,\)"):
        triplet_semihard_loss([0, 0, 1, 1], np.zeros(4, "float32"))
