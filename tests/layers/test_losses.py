"""Losses: NumPy references (TFA's algorithms, SimCLR, Szegedy et al.), the harness, training."""

import keras
import numpy as np
import pytest

from layers.losses import (
    ContrastiveLoss,
    NTXentLoss,
    SparseLabelSmoothingCrossentropy,
    TripletLoss,
)
from tests import harness

# --------------------------------------------------------------------------------------------
# NumPy references. The triplet ones follow tensorflow_addons/losses/triplet.py and
# metric_learning.py (TFA 0.20, the last release) line by line, tiling trick included.
# --------------------------------------------------------------------------------------------


def tfa_pairwise_distance(feature, squared):
    feature = feature.astype(np.float32)
    squared_distances = (
        np.sum(feature**2, axis=1, keepdims=True)
        + np.sum((feature.T) ** 2, axis=0, keepdims=True)
        - 2.0 * feature @ feature.T
    )
    squared_distances = np.maximum(squared_distances, 0.0)
    error_mask = squared_distances <= 0.0
    if squared:
        distances = squared_distances
    else:
        distances = np.sqrt(squared_distances + error_mask.astype(np.float32) * 1e-16)
    distances = distances * (~error_mask).astype(np.float32)
    return distances * (np.ones_like(distances) - np.eye(len(feature), dtype=np.float32))


def tfa_angular_distance(feature):
    norms = np.sqrt(np.maximum(np.sum(feature**2, axis=1, keepdims=True), 1e-12))
    feature = feature / norms
    return np.maximum(1 - feature @ feature.T, 1e-16)


def tfa_distances(embeddings, distance):
    if distance == "euclidean":  # TFA "L2", the default
        return tfa_pairwise_distance(embeddings, squared=False)
    if distance == "squared_euclidean":  # TFA "squared-L2"
        return tfa_pairwise_distance(embeddings, squared=True)
    return tfa_angular_distance(embeddings)  # TFA "angular"


def tfa_masked_maximum(data, mask, dim=1):
    axis_minimums = np.min(data, dim, keepdims=True)
    return np.max((data - axis_minimums) * mask, dim, keepdims=True) + axis_minimums


def tfa_masked_minimum(data, mask, dim=1):
    axis_maximums = np.max(data, dim, keepdims=True)
    return np.min((data - axis_maximums) * mask, dim, keepdims=True) + axis_maximums


def tfa_triplet_semihard_loss(labels, embeddings, margin, distance):
    labels = labels.reshape(-1, 1)
    pdist_matrix = tfa_distances(embeddings, distance)
    adjacency = labels == labels.T
    adjacency_not = ~adjacency
    batch_size = labels.size
    pdist_matrix_tile = np.tile(pdist_matrix, [batch_size, 1])
    mask = np.logical_and(
        np.tile(adjacency_not, [batch_size, 1]),
        pdist_matrix_tile > pdist_matrix.T.reshape(-1, 1),
    )
    mask_final = (mask.astype(np.float32).sum(1, keepdims=True) > 0.0).reshape(
        batch_size, batch_size
    )
    mask_final = mask_final.T
    adjacency_not = adjacency_not.astype(np.float32)
    mask = mask.astype(np.float32)
    negatives_outside = tfa_masked_minimum(pdist_matrix_tile, mask).reshape(batch_size, batch_size)
    negatives_outside = negatives_outside.T
    negatives_inside = np.tile(tfa_masked_maximum(pdist_matrix, adjacency_not), [1, batch_size])
    semi_hard_negatives = np.where(mask_final, negatives_outside, negatives_inside)
    loss_mat = margin + pdist_matrix - semi_hard_negatives
    mask_positives = adjacency.astype(np.float32) - np.eye(batch_size, dtype=np.float32)
    num_positives = mask_positives.sum()
    return np.maximum(loss_mat * mask_positives, 0.0).sum() / num_positives


def tfa_triplet_hard_loss(labels, embeddings, margin, distance):
    labels = labels.reshape(-1, 1)
    pdist_matrix = tfa_distances(embeddings, distance)
    adjacency = labels == labels.T
    adjacency_not = (~adjacency).astype(np.float32)
    hard_negatives = tfa_masked_minimum(pdist_matrix, adjacency_not)
    batch_size = labels.size
    mask_positives = adjacency.astype(np.float32) - np.eye(batch_size, dtype=np.float32)
    hard_positives = tfa_masked_maximum(pdist_matrix, mask_positives)
    return np.mean(np.maximum(hard_positives - hard_negatives + margin, 0.0))


def batch_all_loss(labels, embeddings, margin, distance):
    distances = tfa_distances(embeddings, distance)
    total, count = 0.0, 0
    for a in range(len(labels)):
        for p in range(len(labels)):
            if p == a or labels[p] != labels[a]:
                continue
            for n in range(len(labels)):
                if labels[n] != labels[a]:
                    total += max(distances[a, p] - distances[a, n] + margin, 0.0)
                    count += 1
    return total / count


def nt_xent_reference(views, temperature):
    """SimCLR Algorithm 1 as a loop: 2N augmented embeddings, views k and k + N paired."""
    n = len(views)
    z = np.concatenate([views[:, 0], views[:, 1]]).astype(np.float64)
    z = z / np.linalg.norm(z, axis=1, keepdims=True)
    total = 0.0
    for i in range(2 * n):
        j = (i + n) % (2 * n)
        denominator = sum(np.exp(z[i] @ z[k] / temperature) for k in range(2 * n) if k != i)
        total += -np.log(np.exp(z[i] @ z[j] / temperature) / denominator)
    return total / (2 * n)


def random_batch(seed, batch=12, dim=4, classes=3):
    rng = np.random.default_rng(seed)
    labels = rng.integers(0, classes, size=batch).astype("int32")
    embeddings = rng.normal(size=(batch, dim)).astype("float32")
    return labels, embeddings


# --------------------------------------------------------------------------------------------
# Contrastive
# --------------------------------------------------------------------------------------------


def test_contrastive_hand_computed():
    loss = ContrastiveLoss(margin=1.0)
    # similar: 0.2^2 = 0.04; dissimilar: (1 - 0.5)^2 = 0.25; dissimilar beyond margin: 0.
    value = loss(np.array([1, 0, 0]), np.array([0.2, 0.5, 1.7], "float32"))
    np.testing.assert_allclose(float(value), (0.04 + 0.25 + 0.0) / 3, rtol=1e-6)


def test_contrastive_harness():
    rng = np.random.default_rng(0)
    y_true = rng.integers(0, 2, size=(8, 1)).astype("float32")
    y_pred = rng.uniform(0, 2, size=(8, 1)).astype("float32")
    expected = np.mean(y_true * y_pred**2 + (1 - y_true) * np.maximum(1.5 - y_pred, 0) ** 2)
    harness.run_loss_test(ContrastiveLoss, {"margin": 1.5}, y_true, y_pred, expected=expected)


# --------------------------------------------------------------------------------------------
# Triplet
# --------------------------------------------------------------------------------------------

REFERENCES = {
    "semi_hard": tfa_triplet_semihard_loss,
    "hard": tfa_triplet_hard_loss,
    "all": batch_all_loss,
}


@pytest.mark.parametrize("strategy", ["semi_hard", "hard", "all"])
@pytest.mark.parametrize("distance", ["euclidean", "squared_euclidean", "cosine"])
def test_triplet_matches_reference_on_random_batches(strategy, distance):
    loss = TripletLoss(margin=0.7, strategy=strategy, distance=distance)
    for seed in range(4):
        labels, embeddings = random_batch(seed, batch=10 + seed)
        expected = REFERENCES[strategy](labels, embeddings, 0.7, distance)
        np.testing.assert_allclose(float(loss(labels, embeddings)), expected, rtol=1e-5, atol=1e-5)


def test_semi_hard_falls_back_to_the_farthest_negative():
    # 1-D embeddings: anchor 0 at 0, positive at 3, negatives at 1 and 2 are both closer than
    # the positive, so TFA takes the farthest of them (2): loss = margin + 3 - 2.
    labels = np.array([0, 0, 1, 1])
    embeddings = np.array([[0.0], [3.0], [1.0], [2.0]], "float32")
    value = float(TripletLoss(margin=0.5, distance="euclidean")(labels, embeddings))
    expected = tfa_triplet_semihard_loss(labels, embeddings, 0.5, "euclidean")
    np.testing.assert_allclose(value, expected, rtol=1e-6)
    # By hand, per ordered positive pair (anchor, positive): (0, 1) and (1, 0) have no negative
    # beyond d_ap = 3, fall back to the farthest (2): 1.5 each. (2, 3) and (3, 2) have d_ap = 1
    # and a semi-hard negative at 2: max(0.5 + 1 - 2, 0) = 0.
    np.testing.assert_allclose(value, (1.5 + 1.5 + 0 + 0) / 4, rtol=1e-6)


@pytest.mark.parametrize("strategy", ["semi_hard", "hard", "all"])
def test_triplet_harness(strategy):
    labels, embeddings = random_batch(7, batch=8)
    harness.run_loss_test(
        TripletLoss,
        {"margin": 1.0, "strategy": strategy, "distance": "euclidean"},
        labels,
        embeddings,
        expected=REFERENCES[strategy](labels, embeddings, 1.0, "euclidean"),
    )


# --------------------------------------------------------------------------------------------
# NT-Xent
# --------------------------------------------------------------------------------------------


def test_nt_xent_matches_reference():
    rng = np.random.default_rng(3)
    views = rng.normal(size=(6, 2, 5)).astype("float32")
    for temperature in (0.1, 0.5, 1.0):
        value = float(NTXentLoss(temperature=temperature)(np.zeros(6), views))
        np.testing.assert_allclose(value, nt_xent_reference(views, temperature), rtol=1e-5)


def test_nt_xent_harness():
    rng = np.random.default_rng(4)
    views = rng.normal(size=(8, 2, 4)).astype("float32")
    harness.run_loss_test(
        NTXentLoss,
        {"temperature": 0.5},
        np.zeros(8, "float32"),
        views,
        expected=nt_xent_reference(views, 0.5),
    )


# --------------------------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------------------------


def test_bad_arguments_are_rejected():
    with pytest.raises(ValueError, match="margin=-1"):
        ContrastiveLoss(margin=-1)
    with pytest.raises(ValueError, match="strategy='easy'"):
        TripletLoss(strategy="easy")
    with pytest.raises(ValueError, match="distance='l1'"):
        TripletLoss(distance="l1")
    with pytest.raises(ValueError, match="temperature=0"):
        NTXentLoss(temperature=0)
    with pytest.raises(ValueError, match=r"y_pred.shape=\(4, 6\)"):
        NTXentLoss()(np.zeros(4), np.ones((4, 6), "float32"))
    with pytest.raises(ValueError, match=r"y_pred.shape=\(4, 2, 3\)"):
        TripletLoss()(np.zeros(4), np.ones((4, 2, 3), "float32"))


# --------------------------------------------------------------------------------------------
# End to end: a small model trained with each loss; the loss falls.
# --------------------------------------------------------------------------------------------


def _clustered_data(seed=0, classes=3, per_class=16, dim=6):
    rng = np.random.default_rng(seed)
    centers = rng.normal(scale=2.0, size=(classes, dim))
    labels = np.repeat(np.arange(classes), per_class)
    features = centers[labels] + rng.normal(scale=1.0, size=(len(labels), dim))
    order = rng.permutation(len(labels))
    return features[order].astype("float32"), labels[order].astype("int32")


def _embedding_model(dim=6):
    inputs = keras.Input((dim,))
    hidden = keras.layers.Dense(16, activation="relu")(inputs)
    return inputs, keras.layers.Dense(4)(hidden)


def _losses_fall(model, x, y, loss, epochs=15, learning_rate=0.01):
    model.compile(optimizer=keras.optimizers.Adam(learning_rate), loss=loss)
    history = model.fit(x, y, batch_size=len(y), epochs=epochs, verbose=0, shuffle=False)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses))
    assert losses[-1] < 0.8 * losses[0], losses


@pytest.mark.parametrize("strategy", ["semi_hard", "hard", "all"])
def test_triplet_trains(strategy):
    x, y = _clustered_data()
    inputs, embeddings = _embedding_model()
    _losses_fall(keras.Model(inputs, embeddings), x, y, TripletLoss(0.5, strategy))


def test_contrastive_trains():
    x, y = _clustered_data()
    rng = np.random.default_rng(1)
    first, second = rng.integers(0, len(y), size=(2, 96))
    similar = (y[first] == y[second]).astype("float32")
    left, right = keras.Input((6,)), keras.Input((6,))
    tower_in, tower_out = _embedding_model()
    tower = keras.Model(tower_in, tower_out)
    difference = keras.layers.Subtract()([tower(left), tower(right)])
    distance = keras.layers.Lambda(
        lambda d: keras.ops.sqrt(keras.ops.sum(keras.ops.square(d), axis=1, keepdims=True) + 1e-9)
    )(difference)
    model = keras.Model([left, right], distance)
    _losses_fall(model, [x[first], x[second]], similar[:, None], ContrastiveLoss(1.0))


def test_nt_xent_trains():
    rng = np.random.default_rng(2)
    x = rng.normal(size=(48, 6)).astype("float32")
    view_a = x + rng.normal(scale=0.1, size=x.shape).astype("float32")
    view_b = x + rng.normal(scale=0.1, size=x.shape).astype("float32")
    a, b = keras.Input((6,)), keras.Input((6,))
    tower_in, tower_out = _embedding_model()
    tower = keras.Model(tower_in, tower_out)
    paired = keras.layers.Lambda(lambda t: keras.ops.stack(t, axis=1))([tower(a), tower(b)])
    model = keras.Model([a, b], paired)
    targets = np.zeros(len(x), "float32")
    _losses_fall(model, [view_a, view_b], targets, NTXentLoss(0.2), epochs=20, learning_rate=0.02)


# --------------------------------------------------------------------------------------------
# SparseLabelSmoothingCrossentropy: class ids or the probability labels of MixUp/CutMix.
# --------------------------------------------------------------------------------------------

SMOOTHING_RNG = np.random.default_rng(0)
LOGITS = SMOOTHING_RNG.normal(size=(6, 4)).astype("float32")
CLASS_IDS = np.array([0, 3, 1, 2, 2, 0])
MIXED = np.array(
    [
        [0.7, 0.3, 0.0, 0.0],
        [0.0, 0.0, 0.4, 0.6],
        [0.0, 1.0, 0.0, 0.0],
        [0.2, 0.0, 0.8, 0.0],
        [0.5, 0.0, 0.0, 0.5],
        [0.1, 0.1, 0.1, 0.7],
    ],
    "float32",
)


def reference_smoothed_loss(targets, logits, smoothing, from_logits=True):
    """Szegedy et al.'s smoothed cross-entropy, mean over the batch, in NumPy."""
    num_classes = logits.shape[-1]
    targets = (1 - smoothing) * targets + smoothing / num_classes
    if from_logits:
        shifted = logits - logits.max(-1, keepdims=True)
        log_p = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    else:
        log_p = np.log(logits / logits.sum(-1, keepdims=True))
    return float(-(targets * log_p).sum(-1).mean())


def test_smoothing_loss_on_probability_labels_matches_numpy_and_passes_harness():
    expected = reference_smoothed_loss(MIXED, LOGITS, 0.1)
    harness.run_loss_test(
        SparseLabelSmoothingCrossentropy,
        {"label_smoothing": 0.1, "from_logits": True},
        MIXED,
        LOGITS,
        expected=expected,
    )


@pytest.mark.parametrize("shape", [(6,), (6, 1)])
def test_smoothing_loss_on_class_ids_matches_numpy_and_one_hot(shape):
    loss = SparseLabelSmoothingCrossentropy(0.2)
    one_hot = np.eye(4, dtype="float32")[CLASS_IDS]
    expected = reference_smoothed_loss(one_hot, LOGITS, 0.2)
    np.testing.assert_allclose(float(loss(CLASS_IDS.reshape(shape), LOGITS)), expected, rtol=1e-5)
    np.testing.assert_allclose(float(loss(one_hot, LOGITS)), expected, rtol=1e-5)


def test_smoothing_loss_on_probabilities_from_softmax_outputs():
    probabilities = keras.ops.convert_to_numpy(keras.ops.softmax(LOGITS))
    loss = SparseLabelSmoothingCrossentropy(0.1, from_logits=False)
    expected = reference_smoothed_loss(MIXED, probabilities, 0.1, from_logits=False)
    np.testing.assert_allclose(float(loss(MIXED, probabilities)), expected, rtol=1e-5)


def test_smoothing_loss_rejects_labels_of_another_width_and_bad_smoothing():
    with pytest.raises(ValueError, match=r"Received: labels of shape \(6, 3\)"):
        SparseLabelSmoothingCrossentropy(0.1)(MIXED[:, :3], LOGITS)
    with pytest.raises(ValueError, match="label_smoothing=1.0"):
        SparseLabelSmoothingCrossentropy(1.0)


def test_smoothing_loss_saved_before_the_move_still_loads():
    # What `serialize_keras_object` wrote when the class lived in zoo/vision/task.py: the
    # registered name, not the module, finds the class.
    saved = {
        "module": "zoo.vision.task",
        "class_name": "SparseLabelSmoothingCrossentropy",
        "config": {
            "name": "sparse_label_smoothing_crossentropy",
            "reduction": "sum_over_batch_size",
            "label_smoothing": 0.2,
            "from_logits": False,
        },
        "registered_name": "keras_zoo>SparseLabelSmoothingCrossentropy",
    }
    for module in ("zoo.vision.task", "no_such_module"):
        loss = keras.saving.deserialize_keras_object({**saved, "module": module})
        assert type(loss) is SparseLabelSmoothingCrossentropy
        assert (loss.label_smoothing, loss.from_logits) == (0.2, False)
    assert keras.saving.serialize_keras_object(loss)["registered_name"] == saved["registered_name"]
