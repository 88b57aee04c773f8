"""DETR: box ops, Hungarian matching, the set loss, the detector, data, COCO evaluation, Hugging
Face import and serving export."""

import itertools
import json
import os
import shutil

import keras
import numpy as np
import pytest
import tensorflow as tf
from safetensors.numpy import load_file, save_file
from scipy.optimize import linear_sum_assignment

import zoo
import zoo.vision  # noqa: F401  (registers the models and converters)
from zoo.vision.detr import (
    SHAPE_NAMES,
    DETRBackbone,
    DETRDetector,
    DETRSetLoss,
    coco_evaluate,
    cxcywh_to_xyxy,
    detection_model,
    detections_to_coco,
    draw_detections,
    export_detector,
    from_coco,
    generalized_box_iou,
    hungarian_match,
    make_shapes_detection,
    pad_targets,
    postprocess,
    read_detection_tfrecords,
    to_coco,
    write_detection_tfrecords,
    xywh_to_xyxy,
    xyxy_to_cxcywh,
    xyxy_to_xywh,
)

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "huggingface")
TINY = zoo.get_spec("detr_tiny").tiny


@pytest.fixture(scope="module")
def detector():
    keras.utils.set_random_seed(0)
    return zoo.create("detr_tiny", **TINY)


@pytest.fixture(scope="module")
def shapes():
    return make_shapes_detection(6, image_size=32, max_objects=3, min_size=6, max_size=12, seed=3)


# ---------------------------------------------------------------------------------- box ops


def test_generalized_box_iou_matches_the_definition():
    a = np.array([[0.0, 0.0, 2.0, 2.0], [1.0, 1.0, 2.0, 3.0]], "float32")
    b = np.array([[1.0, 1.0, 3.0, 3.0], [4.0, 4.0, 5.0, 5.0], [0.0, 0.0, 2.0, 2.0]], "float32")
    giou = keras.ops.convert_to_numpy(generalized_box_iou(a, b))
    assert giou.shape == (2, 3)
    # IoU 1/7, enclosing box 9, union 7; disjoint: union 5, enclosing 25; identical boxes: 1.
    np.testing.assert_allclose(giou[0], [1 / 7 - 2 / 9, -20 / 25, 1.0], rtol=1e-6)
    # [1,1,2,3] vs [1,1,3,3]: intersection 2, union 4, enclosing 4.
    np.testing.assert_allclose(giou[1, 0], 0.5, rtol=1e-6)


def test_box_format_conversions_round_trip():
    xyxy = np.array([[1.0, 2.0, 5.0, 10.0]], "float32")
    np.testing.assert_allclose(xyxy_to_cxcywh(xyxy), [[3.0, 6.0, 4.0, 8.0]])
    np.testing.assert_allclose(cxcywh_to_xyxy(xyxy_to_cxcywh(xyxy)), xyxy)
    np.testing.assert_allclose(xyxy_to_xywh(xyxy), [[1.0, 2.0, 4.0, 8.0]])
    np.testing.assert_allclose(xywh_to_xyxy(xyxy_to_xywh(xyxy)), xyxy)


# ---------------------------------------------------------------------------------- matching


def test_hungarian_match_equals_scipy_and_brute_force():
    rng = np.random.default_rng(0)
    for rows, cols in ((5, 5), (7, 3), (4, 1)):
        cost = rng.normal(size=(rows, cols))
        r, c = hungarian_match(cost)
        sr, sc = linear_sum_assignment(cost)
        np.testing.assert_array_equal(r, sr)
        np.testing.assert_array_equal(c, sc)
        best = min(
            sum(cost[p[j], j] for j in range(cols))
            for p in itertools.permutations(range(rows), cols)
        )
        np.testing.assert_allclose(cost[r, c].sum(), best)
    with pytest.raises(ValueError, match="cost with shape"):
        hungarian_match(np.zeros(3))


def _reference_set_loss(logits, pred, labels, boxes, num_classes, eos):
    """The paper's loss for one decoder output, matching by brute force over permutations."""

    def softmax(x):
        e = np.exp(x - x.max(-1, keepdims=True))
        return e / e.sum(-1, keepdims=True)

    def xyxy(b):
        return np.concatenate([b[..., :2] - b[..., 2:] / 2, b[..., :2] + b[..., 2:] / 2], -1)

    def giou(a, b):
        a, b = xyxy(a), xyxy(b)
        inter = np.prod(np.clip(np.minimum(a[2:], b[2:]) - np.maximum(a[:2], b[:2]), 0, None))
        union = np.prod(a[2:] - a[:2]) + np.prod(b[2:] - b[:2]) - inter
        hull = np.prod(np.maximum(a[2:], b[2:]) - np.minimum(a[:2], b[:2]))
        return inter / union - (hull - union) / hull

    ce_num = ce_den = l1 = g = 0.0
    total_boxes = max(int((labels >= 0).sum()), 1)
    for i in range(len(logits)):
        p = softmax(logits[i])
        n = int((labels[i] >= 0).sum())
        best, best_perm = np.inf, ()
        for perm in itertools.permutations(range(len(logits[i])), n):
            cost = sum(
                -p[q, labels[i, t]]
                + 5 * np.abs(pred[i, q] - boxes[i, t]).sum()
                - 2 * giou(pred[i, q], boxes[i, t])
                for t, q in enumerate(perm)
            )
            if cost < best:
                best, best_perm = cost, perm
        target = np.full(len(logits[i]), num_classes)
        for t, q in enumerate(best_perm):
            target[q] = labels[i, t]
            l1 += np.abs(pred[i, q] - boxes[i, t]).sum()
            g += 1 - giou(pred[i, q], boxes[i, t])
        w = np.where(target == num_classes, eos, 1.0)
        ce_num += (w * -np.log(p[np.arange(len(target)), target])).sum()
        ce_den += w.sum()
    return ce_num / ce_den + 5 * l1 / total_boxes + 2 * g / total_boxes


def test_set_loss_matches_the_paper_formula():
    rng = np.random.default_rng(1)
    logits = rng.normal(size=(2, 4, 4)).astype("float32")
    pred = rng.uniform(0.2, 0.6, size=(2, 4, 4)).astype("float32")
    labels = np.array([[2, 0, -1], [1, -1, -1]], "int32")
    boxes = rng.uniform(0.2, 0.6, size=(2, 3, 4)).astype("float32")
    loss = DETRSetLoss(num_classes=3, eos_coef=0.1)
    targets = {"labels": labels, "boxes": boxes}
    value = float(loss.components(targets, {"logits": logits, "pred_boxes": pred})["loss"])
    expected = _reference_set_loss(logits, pred, labels, boxes, 3, 0.1)
    np.testing.assert_allclose(value, expected, rtol=1e-5)
    # Auxiliary outputs: each decoder output is matched and counted on its own.
    aux = {"aux_logits": logits[:, None], "aux_pred_boxes": pred[:, None]}
    doubled = loss.components(targets, {"logits": logits, "pred_boxes": pred, **aux})["loss"]
    np.testing.assert_allclose(float(doubled), 2 * expected, rtol=1e-5)
    with pytest.raises(ValueError, match="eos_coef=0"):
        DETRSetLoss(3, eos_coef=0)


# ---------------------------------------------------------------------------------- detector


@pytest.mark.heavy
def test_detector_outputs_and_trains_with_the_set_loss(detector, shapes):
    x = shapes["images"].astype("float32") / 255.0
    outputs = detector(x)
    queries, classes = TINY["num_queries"], TINY["num_classes"]
    assert outputs["logits"].shape == (6, queries, classes + 1)
    assert outputs["pred_boxes"].shape == (6, queries, 4)
    assert outputs["aux_logits"].shape == (6, TINY["decoder_layers"] - 1, queries, classes + 1)
    boxes = keras.ops.convert_to_numpy(outputs["pred_boxes"])
    assert np.all((boxes > 0) & (boxes < 1))
    targets = pad_targets(shapes["boxes"], shapes["labels"], (32, 32), max_boxes=queries)
    # Built before `fit`, the optimizer's variables exist and the step is traced once.
    detector.optimizer.build(detector.trainable_variables)
    before = [w.numpy() for w in detector.trainable_weights]
    history = detector.fit(x, targets, batch_size=3, epochs=1, verbose=0, shuffle=False)
    assert {"loss", "loss_ce", "loss_bbox", "loss_giou"} <= set(history.history)
    assert np.isfinite(history.history["loss"][0])
    assert any(
        not np.allclose(b, w.numpy())
        for b, w in zip(before, detector.trainable_weights, strict=True)
    )


def test_detector_saves_and_reloads_with_its_loss(detector, tmp_path, shapes):
    x = shapes["images"][:2].astype("float32") / 255.0
    path = str(tmp_path / "detr.keras")
    detector.save(path)
    loaded = keras.saving.load_model(path)
    assert isinstance(loaded, DETRDetector) and isinstance(loaded.loss, DETRSetLoss)
    np.testing.assert_allclose(loaded(x)["pred_boxes"], detector(x)["pred_boxes"], atol=1e-5)


def test_backbone_freezes_batch_norm_and_any_zoo_backbone_fits():
    backbone = DETRBackbone(depths=(1, 1), hidden_sizes=(8, 16), stem_width=8)
    norms = [
        layer for layer in backbone.layers if isinstance(layer, keras.layers.BatchNormalization)
    ]
    assert norms and not any(layer.trainable for layer in norms)
    # The stem and first stage are frozen too (the paper's code); later stages train.
    assert not backbone.get_layer("stem_conv").trainable
    assert not backbone.get_layer("stage_0_block_0_1_conv").trainable
    assert backbone.get_layer("stage_1_block_0_1_conv").trainable
    assert backbone(np.zeros((1, 64, 48, 3), "float32"))["feature_map"].shape == (1, 8, 6, 16)
    resnet = zoo.vision.ResNetBackbone(image_size=32, depths=(1,), widths=(8,), stem_width=8)
    model = DETRDetector(resnet, num_classes=2, num_queries=3, hidden_dim=8, num_heads=2,
                         encoder_layers=1, decoder_layers=1, ffn_dim=8)  # fmt: skip
    assert model(np.zeros((1, 32, 32, 3), "float32"))["logits"].shape == (1, 3, 3)
    assert "aux_logits" not in model.output


def test_detector_rejects_bad_arguments():
    backbone = DETRBackbone(depths=(1,), hidden_sizes=(8,), block_type="basic", stem_width=8)
    with pytest.raises(TypeError, match="backbone="):
        DETRDetector(keras.Sequential([keras.layers.Dense(2)]))
    with pytest.raises(ValueError, match="num_classes=0"):
        DETRDetector(backbone, num_classes=0)
    with pytest.raises(ValueError, match="hidden_dim=6"):
        DETRDetector(backbone, hidden_dim=6, num_heads=2)
    with pytest.raises(ValueError, match="hidden_sizes=\\(8, 16\\)"):
        DETRBackbone(depths=(1,), hidden_sizes=(8, 16))
    with pytest.raises(ValueError, match="hidden_sizes=\\(6,\\)"):
        DETRBackbone(depths=(1,), hidden_sizes=(6,))


# ---------------------------------------------------------------------------------- data


def test_shapes_set_boxes_are_tight_and_deterministic(shapes):
    again = make_shapes_detection(6, image_size=32, max_objects=3, min_size=6, max_size=12, seed=3)
    np.testing.assert_array_equal(again["images"], shapes["images"])
    for image, boxes, labels in zip(
        shapes["images"], shapes["boxes"], shapes["labels"], strict=True
    ):
        assert 1 <= len(boxes) <= 3 and set(labels.tolist()) <= {0, 1, 2}
        bright = image.max(-1) >= 100
        for x0, y0, x1, y1 in boxes.astype(int):
            inside = bright[y0:y1, x0:x1]
            # The shape touches the box on every side (tight), and nothing bright is outside
            # the shapes' boxes.
            assert inside[0].any() and inside[-1].any() and inside[:, 0].any()
            assert inside[:, -1].any()
            bright[y0:y1, x0:x1] = False
        assert not bright.any()


def test_tfrecords_round_trip_gives_padded_targets(tmp_path, shapes):
    write_detection_tfrecords(
        str(tmp_path / "shapes"), shapes["images"], shapes["boxes"], shapes["labels"], 3
    )
    images, targets = next(iter(read_detection_tfrecords(str(tmp_path / "shapes"), 6, 4)))
    np.testing.assert_allclose(images.numpy(), shapes["images"] / 255.0, atol=1e-6)
    expected = pad_targets(shapes["boxes"], shapes["labels"], (32, 32), 4)
    np.testing.assert_array_equal(targets["labels"].numpy(), expected["labels"])
    np.testing.assert_allclose(targets["boxes"].numpy(), expected["boxes"], atol=1e-6)


def test_bad_detection_records_are_named(tmp_path, shapes):
    images, boxes, labels = shapes["images"], list(shapes["boxes"]), list(shapes["labels"])
    path = str(tmp_path / "bad")
    outside = boxes.copy()
    outside[2] = np.array([[20.0, 20.0, 40.0, 30.0]], "float32")
    with pytest.raises(ValueError, match="record 2.*inside the 32x32 image"):
        write_detection_tfrecords(path, images, outside, labels, 3)
    empty = boxes.copy()
    empty[1] = np.array([[5.0, 5.0, 5.0, 9.0]], "float32")
    with pytest.raises(ValueError, match="record 1.*positive width"):
        write_detection_tfrecords(path, images, empty, labels, 3)
    wrong = labels.copy()
    wrong[4] = np.full(len(boxes[4]), 3)
    with pytest.raises(ValueError, match="record 4.*label=3"):
        write_detection_tfrecords(path, images, boxes, wrong, 3)
    with pytest.raises(ValueError, match="images with shape \\(32, 32, 3\\)"):
        write_detection_tfrecords(path, images[0], boxes, labels, 3)
    with pytest.raises(ValueError, match="max_boxes=1"):
        pad_targets(boxes, labels, (32, 32), max_boxes=1)


# ---------------------------------------------------------------------------------- COCO


def test_coco_json_round_trip_and_evaluation(tmp_path, shapes):
    gt = to_coco(
        (32, 32), shapes["boxes"], shapes["labels"], SHAPE_NAMES, path=str(tmp_path / "gt.json")
    )
    back = from_coco(str(tmp_path / "gt.json"))
    assert back["class_names"] == list(SHAPE_NAMES)
    for a, b in zip(back["boxes"], shapes["boxes"], strict=True):
        np.testing.assert_allclose(a, b)
    perfect = [
        {"boxes": b, "scores": np.ones(len(b)), "labels": lab}
        for b, lab in zip(shapes["boxes"], shapes["labels"], strict=True)
    ]
    scores = coco_evaluate(gt, detections_to_coco(perfect))
    assert scores["AP"] == pytest.approx(1.0) and scores["AP50"] == pytest.approx(1.0)
    # Every box shifted by 15% of its side: IoU (0.85 / 1.15) ~ 0.74, found at 0.5, not 0.75.
    shifted = [
        {**d, "boxes": d["boxes"] + 0.15 * (d["boxes"][:, 2:3] - d["boxes"][:, 0:1])}
        for d in perfect
    ]
    scores = coco_evaluate(gt, detections_to_coco(shifted))
    assert scores["AP50"] == pytest.approx(1.0) and scores["AP75"] == pytest.approx(0.0)
    assert coco_evaluate(gt, [])["AP"] == 0.0


def test_postprocess_and_drawing(detector, shapes, tmp_path):
    x = shapes["images"][:2].astype("float32") / 255.0
    outputs = detector(x)
    found = postprocess(outputs, (32, 32))
    assert len(found) == 2 and found[0]["boxes"].shape == (TINY["num_queries"], 4)
    served = detection_model(detector)(x)
    pixels = np.stack([f["boxes"] for f in found])
    np.testing.assert_allclose(keras.ops.convert_to_numpy(served["boxes"]) * 32, pixels, atol=1e-4)
    np.testing.assert_allclose(served["scores"], np.stack([f["scores"] for f in found]), atol=1e-5)
    path = draw_detections(
        shapes["images"][:2],
        found,
        str(tmp_path / "d.png"),
        class_names=SHAPE_NAMES,
        ground_truth_boxes=shapes["boxes"][:2],
    )
    with open(path, "rb") as f:
        assert f.read(8) == b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------------------------- export


@pytest.mark.heavy
def test_export_takes_image_bytes_and_returns_detections(detector, shapes, tmp_path):
    path = export_detector(detector, str(tmp_path), "shapes", (32, 32))
    png = [tf.io.encode_png(image).numpy() for image in shapes["images"][:2]]
    serve = tf.saved_model.load(path).signatures["serving_default"]
    outputs = serve(image_bytes=tf.constant(png))
    expected = detection_model(detector)(shapes["images"][:2].astype("float32") / 255.0)
    for key in ("boxes", "scores"):
        np.testing.assert_allclose(outputs[key].numpy(), expected[key], atol=1e-4)
    np.testing.assert_array_equal(outputs["labels"].numpy(), expected["labels"])


# ---------------------------------------------------------------------------------- Hugging Face


def test_huggingface_detr_matches_logits_and_boxes():
    directory = os.path.join(FIXTURES, "detr")
    detector = zoo.from_huggingface(directory)
    assert isinstance(detector, DETRDetector)
    outputs = detector(np.load(os.path.join(directory, "input.npy")))
    expected = np.load(os.path.join(directory, "expected_logits.npy"))
    np.testing.assert_allclose(outputs["logits"], expected, atol=1e-4)
    expected = np.load(os.path.join(directory, "expected_boxes.npy"))
    np.testing.assert_allclose(outputs["pred_boxes"], expected, atol=1e-4)


def test_huggingface_detr_matches_with_a_padding_pixel_mask():
    directory = os.path.join(FIXTURES, "detr")
    detector = zoo.from_huggingface(directory)
    images = np.load(os.path.join(directory, "masked_input.npy"))
    pixel_mask = np.load(os.path.join(directory, "masked_pixel_mask.npy"))
    outputs = detector({"images": images, "pixel_mask": pixel_mask})
    expected = np.load(os.path.join(directory, "expected_masked_logits.npy"))
    np.testing.assert_allclose(outputs["logits"], expected, atol=1e-4)
    assert not np.allclose(detector(images)["logits"], expected, atol=1e-2)  # the mask counts
    expected = np.load(os.path.join(directory, "expected_masked_boxes.npy"))
    np.testing.assert_allclose(outputs["pred_boxes"], expected, atol=1e-4)


def test_huggingface_detr_errors_name_the_parameter_or_option(tmp_path):
    source = os.path.join(FIXTURES, "detr")
    with open(os.path.join(source, "config.json")) as f:
        config = json.load(f)
    (tmp_path / "config.json").write_text(json.dumps({**config, "use_timm_backbone": True}))
    shutil.copy(os.path.join(source, "model.safetensors"), tmp_path)
    with pytest.raises(ValueError, match="use_timm_backbone=True"):
        zoo.from_huggingface(str(tmp_path))
    shutil.copy(os.path.join(source, "config.json"), tmp_path)
    weights = load_file(os.path.join(source, "model.safetensors"))
    weights["model.decoder.layers.1.fc1.bias"] = np.zeros(5, "float32")
    save_file(weights, str(tmp_path / "model.safetensors"))
    with pytest.raises(ValueError, match="model.decoder.layers.1.fc1.bias"):
        zoo.from_huggingface(str(tmp_path))
    del weights["model.query_position_embeddings.weight"]
    save_file(weights, str(tmp_path / "model.safetensors"))
    with pytest.raises(ValueError, match="parameter='model.query_position_embeddings.weight'"):
        zoo.from_huggingface(str(tmp_path))
