"""`zoo explain gradcam MODEL IMAGE`: the PNGs it writes, what it prints, and user errors."""

import json

import keras
import numpy as np
import pytest
from PIL import Image

import zoo
from zoo import cli


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A tiny digits CNN and a tiny ViT saved as .keras, and a 16x16 RGB PNG."""
    folder = tmp_path_factory.mktemp("explain")
    keras.utils.set_random_seed(0)
    cnn = zoo.create("cnn_digits", **zoo.get_spec("cnn_digits").tiny)
    (folder / "cnn").mkdir()
    cnn.save(folder / "cnn" / "cnn_digits.keras")
    vit = zoo.create("vit_tiny_digits", **zoo.get_spec("vit_tiny_digits").tiny)
    vit.save(folder / "vit.keras")
    pixels = np.random.default_rng(0).integers(0, 256, size=(16, 16, 3)).astype("uint8")
    Image.fromarray(pixels).save(folder / "digit.png")
    (folder / "notes.png").write_text("not an image")
    return folder


def explain(capsys, *argv):
    status = cli.main(["explain", "gradcam", *map(str, argv)])
    captured = capsys.readouterr()
    return status, captured.out, captured.err


def test_writes_the_heatmap_and_overlay_and_prints_their_paths(saved, tmp_path, capsys):
    model, image = saved / "cnn" / "cnn_digits.keras", saved / "digit.png"
    status, out, _ = explain(capsys, model, image, "--output", tmp_path, "--class-index", "3")
    assert status == 0
    result = json.loads(out)
    assert result["heatmap"] == str(tmp_path / "digit_gradcam.png")
    assert result["overlay"] == str(tmp_path / "digit_gradcam_overlay.png")
    assert result["class_index"] == 3 and result["layer"] == "act_0"
    for key in ("heatmap", "overlay"):
        picture = Image.open(result[key])
        assert picture.format == "PNG" and picture.size == (256, 256)  # 16 px, scaled 16x


def test_a_training_directory_and_grad_cam_plus_plus(saved, tmp_path, capsys):
    status, out, _ = explain(
        capsys,
        saved / "cnn",
        saved / "digit.png",
        "--output",
        tmp_path,
        "--method",
        "gradcam++",
        "--scale",
        "2",
    )
    assert status == 0
    result = json.loads(out)
    assert result["class_index"] == result["predicted_class"]
    assert Image.open(result["heatmap"]).size == (32, 32)
    assert result["heatmap"].endswith("digit_gradcam_plus_plus.png")


def test_vit_attention_rollout(saved, tmp_path, capsys):
    status, out, _ = explain(
        capsys,
        saved / "vit.keras",
        saved / "digit.png",
        "--output",
        tmp_path,
        "--method",
        "rollout",
    )
    assert status == 0
    assert json.loads(out)["class_index"] is None


def test_vit_grad_cam_uses_a_token_map(saved, tmp_path, capsys):
    status, out, _ = explain(capsys, saved / "vit.keras", saved / "digit.png", "--output", tmp_path)
    assert status == 0
    assert json.loads(out)["layer"] == "backbone/final_norm"


def test_a_registered_name_is_refused(saved, capsys):
    status, _, err = explain(capsys, "cnn_digits", saved / "digit.png")
    assert status == 2 and "MODEL must be a saved .keras file" in err


def test_a_missing_model_file_is_refused(saved, capsys):
    status, _, err = explain(capsys, saved / "missing.keras", saved / "digit.png")
    assert status == 2 and "No .keras file" in err


def test_a_file_that_is_no_image_is_refused(saved, capsys):
    status, _, err = explain(capsys, saved / "cnn", saved / "notes.png")
    assert status == 2 and "must be a PNG, JPEG" in err


def test_a_layer_that_is_no_feature_map_is_refused_with_the_candidates(saved, capsys):
    status, _, err = explain(capsys, saved / "cnn", saved / "digit.png", "--layer", "logits")
    assert status == 2
    assert "one of ['conv_0', 'bn_0', 'act_0', 'pool_0']. Received: layer_name='logits'" in err


def test_a_class_index_out_of_range_is_refused(saved, capsys):
    status, _, err = explain(capsys, saved / "cnn", saved / "digit.png", "--class-index", "10")
    assert status == 2 and "Received: class_index=10" in err


def test_rollout_refuses_a_class_index(saved, capsys):
    argv = (saved / "vit.keras", saved / "digit.png", "--method", "rollout", "--class-index", "1")
    status, _, err = explain(capsys, *argv)
    assert status == 2 and "do not apply to --method rollout" in err


def test_help(capsys):
    with pytest.raises(SystemExit) as exit_info:
        cli.main(["explain", "gradcam", "--help"])
    assert exit_info.value.code == 0
    assert "--class-index" in capsys.readouterr().out
