"""Heatmap colours, overlays, PNG files and images prepared for a model."""

import numpy as np
import pytest
from PIL import Image

from zoo.explain import colored_heatmap, overlay, read_image, save_png
from zoo.explain.images import image_for_model


def test_colored_heatmap_uses_the_colormap_ends():
    rgb = colored_heatmap(np.array([[0.0, 1.0]]), colormap="gray")
    np.testing.assert_array_equal(rgb, [[[0, 0, 0], [255, 255, 255]]])


def test_overlay_blends_and_resizes_the_heatmap():
    image = np.full((4, 4), 200, "uint8")
    blended = overlay(image, np.ones((2, 2)), alpha=0.25, colormap="gray")
    assert blended.shape == (4, 4, 3)
    np.testing.assert_array_equal(blended, round(0.75 * 200 + 0.25 * 255))


def test_png_round_trip_with_scaling(tmp_path):
    rgb = np.arange(2 * 3 * 3, dtype="uint8").reshape(2, 3, 3)
    path = save_png(rgb, str(tmp_path / "sub" / "map.png"), scale=2)
    assert Image.open(path).size == (6, 4)
    np.testing.assert_array_equal(read_image(path)[::2, ::2], rgb)


def test_image_for_model_matches_size_channels_and_range():
    pixels = np.full((16, 16, 3), 255, "uint8")
    batch = image_for_model(pixels, (8, 8, 1), value_range=(-1.0, 1.0))
    assert batch.shape == (1, 8, 8, 1)
    np.testing.assert_allclose(batch, 1.0, atol=1e-3)  # grey weights sum to 0.9999
    assert image_for_model(pixels[..., :1], (None, None, 3)).shape == (1, 16, 16, 3)


def test_a_heatmap_of_the_wrong_shape_is_refused():
    with pytest.raises(ValueError, match=r"Received: heatmap.shape=\(1, 2, 2\)"):
        colored_heatmap(np.zeros((1, 2, 2)))


def test_a_missing_image_is_refused(tmp_path):
    with pytest.raises(FileNotFoundError, match="No image file"):
        read_image(str(tmp_path / "none.png"))
