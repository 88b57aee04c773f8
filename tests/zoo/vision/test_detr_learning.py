"""DETR's slow checks: learning on the synthetic shapes set, and a query to the local server."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import serving
import zoo
import zoo.vision  # noqa: F401  (registers the models and converters)
from zoo.vision.detr import (
    detection_model,
    evaluate_detector,
    export_detector,
    make_shapes_detection,
    pad_targets,
)


@pytest.mark.slow
def test_detr_tiny_learns_the_shapes_set():
    # benchmarks/bench_detr.py learn: AP50 0.5-0.6 after 40 epochs of 512 images, ~0.8 after 60.
    keras.utils.set_random_seed(0)
    train = make_shapes_detection(512, seed=0)
    test = make_shapes_detection(128, seed=1)
    targets = pad_targets(train["boxes"], train["labels"], (64, 64), max_boxes=10)
    detector = zoo.create("detr_tiny")
    # The paper's schedule: the learning rate / 10 for the last third (of 40 epochs, 32 steps).
    schedule = keras.optimizers.schedules.PiecewiseConstantDecay([27 * 32], [1e-3, 1e-4])
    detector.compile(optimizer=keras.optimizers.AdamW(schedule, weight_decay=1e-4, clipnorm=0.1))
    x_test = test["images"].astype("float32") / 255.0
    before = evaluate_detector(detector, x_test, test["boxes"], test["labels"])
    detector.fit(train["images"] / 255.0, targets, batch_size=16, epochs=40, verbose=0)
    after = evaluate_detector(detector, x_test, test["boxes"], test["labels"])
    assert before["AP50"] < 0.05
    assert after["AP50"] > 0.35, after


@pytest.mark.slow
def test_exported_detector_answers_the_local_server(tmp_path):
    detector = zoo.create("detr_tiny", **zoo.get_spec("detr_tiny").tiny)
    export_detector(detector, str(tmp_path), "shapes", (32, 32))
    image = make_shapes_detection(1, image_size=32, min_size=6, max_size=12)["images"]
    png = tf.io.encode_png(image[0]).numpy()
    expected = detection_model(detector)(image.astype("float32") / 255.0)
    with serving.local_server(str(tmp_path)) as server:
        outputs = serving.Client(server.url, "shapes").predict({"image_bytes": [png]})
    np.testing.assert_allclose(outputs["boxes"], expected["boxes"], atol=1e-4)
    np.testing.assert_allclose(outputs["scores"], expected["scores"], atol=1e-4)
