"""Learning check: SimCLR and MoCo v2 pre-training improve a linear probe on upscaled digits.

The same encoder (the digits CNN at 32x32x3) is probed with 10% of the labels at random
initialisation and after 20 epochs of self-supervision on the unlabelled training images;
`benchmarks/bench_ssl.py` runs the full comparison with the supervised baseline.
"""

import keras
import numpy as np
import pytest

import zoo
from zoo.vision.ssl import MoCo, SimCLR, SimCLRAugmentation, linear_probe
from zoo.vision.ssl.data import label_subset, upscaled_digits

pytestmark = pytest.mark.slow

FILTERS = (16, 32, 64)
BATCH = 128


def encoder(filters, seed):
    keras.utils.set_random_seed(seed)
    return zoo.create("cnn_digits", input_shape=(32, 32, 3), filters=filters, dropout=0.0)


def augmentation(seed):
    # No flip: a mirrored digit is another symbol.
    return SimCLRAugmentation(crop_scale=(0.3, 1.0), flip=False, blur_probability=0.2, seed=seed)


@pytest.fixture(scope="module")
def digits():
    (x_train, y_train), test = upscaled_digits(32, seed=0)
    few = label_subset(y_train, 0.1, seed=0)
    random_probe = linear_probe(encoder(FILTERS, 0), (x_train[few], y_train[few]), test)
    return x_train, (x_train[few], y_train[few]), test, random_probe


@pytest.mark.parametrize("method", ["simclr", "moco"])
def test_self_supervision_beats_the_random_encoder_probe(digits, method):
    x_train, labelled, test, random_probe = digits
    net = encoder(FILTERS, 0)
    if method == "simclr":
        learner = SimCLR(net, projection_dims=64, temperature=0.2, augmentation=augmentation(0))
    else:
        learner = MoCo(
            net,
            queue_size=1024,
            momentum=0.99,
            temperature=0.2,
            projection_dims=64,
            augmentation=augmentation(0),
        )
    whole = len(x_train) // BATCH * BATCH
    history = learner.fit(x_train[:whole], batch_size=BATCH, epochs=20, verbose=0)
    losses = history.history["loss"]
    assert np.all(np.isfinite(losses)) and losses[-1] < losses[0]
    probe = linear_probe(net, labelled, test)
    assert probe >= random_probe + 0.02, (method, probe, random_probe)
