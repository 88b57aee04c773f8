"""Few-shot data that needs no download: held-out digit classes and rendered glyphs.

Two meta-learning datasets built offline, each with disjoint meta-train and meta-test classes:

- `digits_few_shot`: scikit-learn's 8x8 digits, meta-train on 0-4 (each also rotated by 90,
  180 and 270 degrees as new classes, the augmentation Omniglot practice uses: Santoro et al.
  2016, Vinyals et al. 2016), meta-test on 5-9.
- `glyphs_few_shot`: an Omniglot-like set: letters of five alphabets (Latin, Greek and Cyrillic
  for meta-training; Armenian and Georgian for meta-testing) rendered from the twelve DejaVu
  faces that matplotlib ships (Sans, Sans Mono and Serif, each regular, bold, oblique/italic
  and both), each instance with a small random affine jitter. Letters that look the same as
  one kept before (Latin A, Greek Alpha, Cyrillic A) are dropped, so no test class is a
  training class in disguise.

Both are deterministic: the same arguments give the same arrays.
"""

from __future__ import annotations

import dataclasses
import functools
import os

import numpy as np

from layers.validation import check_positive_int
from zoo.datasets import Split, load_digits

DIGIT_TEST_CLASSES = (5, 6, 7, 8, 9)

# Unicode letters of each alphabet (upper and lower case where the script has them).
ALPHABETS = {
    "latin": [*range(0x41, 0x5B), *range(0x61, 0x7B)],
    "greek": [c for c in range(0x391, 0x3CA) if c != 0x3A2],
    "cyrillic": list(range(0x410, 0x450)),
    "armenian": [*range(0x531, 0x557), *range(0x561, 0x587)],
    "georgian": list(range(0x10D0, 0x10F7)),
}
TRAIN_ALPHABETS = ("latin", "greek", "cyrillic")
TEST_ALPHABETS = ("armenian", "georgian")
FONT_FACES = tuple(
    f"DejaVu{family}{style}.ttf"
    for family, styles in (
        ("Sans", ("", "-Bold", "-Oblique", "-BoldOblique")),
        ("SansMono", ("", "-Bold", "-Oblique", "-BoldOblique")),
        ("Serif", ("", "-Bold", "-Italic", "-BoldItalic")),
    )
    for style in styles
)
# Two letters count as the same when their images differ by less than this fraction of the
# ink of the inkier one (exact look-alikes differ by 0-1.4%; "Q" and "O" by 8.5%).
_SAME_GLYPH = 0.05


@dataclasses.dataclass(frozen=True)
class FewShotData:
    """A few-shot dataset: examples of the meta-train classes and of disjoint meta-test ones.

    Attributes:
        train: images `[n, h, w, 1]` (float32 in [0, 1]) and integer class ids of the
            meta-training classes.
        test: the same for the meta-test classes (no class id in common with `train`).
        class_names: a name for every class id (`"3 rotated 90"`, `"armenian U+0531"`).
    """

    train: Split
    test: Split
    class_names: dict[int, str]


def digits_few_shot(rotations: bool = True) -> FewShotData:
    """scikit-learn's digits split by class: meta-train on 0-4, meta-test on 5-9.

    Ten classes are few for meta-learning, so each training digit rotated by 90, 180 and 270
    degrees is a further class (ids `10 * k + digit` for `k` quarter turns), as Omniglot
    practice does: 20 training classes of about 180 images each.

    Args:
        rotations: add the rotated training classes. Defaults to `True`.

    Returns:
        `FewShotData` of 8x8x1 float32 images in [0, 1], all 1,797 digits used.

    Example:

    ```python
    data = digits_few_shot()
    sampler = EpisodeSampler(data.train.x, data.train.y, n_way=5, k_shot=5)
    ```
    """
    digits = load_digits(dtype="float32")
    x = np.concatenate([digits.train.x, digits.test.x])
    y = np.concatenate([digits.train.y, digits.test.y])
    is_test = np.isin(y, DIGIT_TEST_CLASSES)
    train_x, train_y = [x[~is_test]], [y[~is_test]]
    names = {int(c): str(c) for c in np.unique(y)}
    for quarter_turns in (1, 2, 3) if rotations else ():
        train_x.append(np.rot90(x[~is_test], quarter_turns, axes=(1, 2)))
        train_y.append(y[~is_test] + 10 * quarter_turns)
        for c in np.unique(y[~is_test]):
            names[int(c) + 10 * quarter_turns] = f"{c} rotated {90 * quarter_turns}"
    return FewShotData(
        train=Split(np.concatenate(train_x).astype("float32"), np.concatenate(train_y)),
        test=Split(x[is_test], y[is_test]),
        class_names=names,
    )


def _font_path(face: str) -> str:
    import matplotlib

    return os.path.join(matplotlib.get_data_path(), "fonts", "ttf", face)


@functools.lru_cache(maxsize=64)
def _font(face: str, size: int):
    from PIL import ImageFont

    return ImageFont.truetype(_font_path(face), size)


def render_glyph(character: str, face: str, canvas: int) -> np.ndarray:
    """`character` drawn in white on black, on a common baseline, `[canvas, canvas]` in [0, 1].

    The size is fixed (not fitted to the box), so "o" and "O" stay different letters.
    """
    from PIL import Image, ImageDraw

    image = Image.new("L", (canvas, canvas), 0)
    font = _font(face, round(0.55 * canvas))
    ImageDraw.Draw(image).text((canvas / 2, 0.72 * canvas), character, 255, font, anchor="ms")
    return np.asarray(image, dtype="float32") / 255.0


def _jitter(image: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """A random small affine warp: rotation +-10 degrees, scale 0.9-1.1, shear +-0.1 and a
    shift of up to 4% of the side, about the image centre."""
    from scipy import ndimage

    angle = np.deg2rad(rng.uniform(-10, 10))
    scale = rng.uniform(0.9, 1.1)
    shear = rng.uniform(-0.1, 0.1)
    rotation = np.array([[np.cos(angle), -np.sin(angle)], [np.sin(angle), np.cos(angle)]])
    forward = scale * rotation @ np.array([[1.0, shear], [0.0, 1.0]])
    inverse = np.linalg.inv(forward)  # affine_transform maps output to input coordinates
    centre = (np.array(image.shape) - 1) / 2
    shift = rng.uniform(-0.04, 0.04, size=2) * image.shape[0]
    offset = centre - inverse @ (centre + shift)
    return ndimage.affine_transform(image, inverse, offset=offset, order=1, mode="constant")


def _downsample(image: np.ndarray, factor: int) -> np.ndarray:
    side = image.shape[0] // factor
    return image.reshape(side, factor, side, factor).mean(axis=(1, 3))


def _same_glyph(image: np.ndarray, other: np.ndarray) -> bool:
    ink = max(image.sum(), other.sum())
    return np.abs(image - other).sum() < _SAME_GLYPH * ink


def _distinct_letters(image_size: int) -> dict[str, list[int]]:
    """The letters of each alphabet (training alphabets first) that look different from every
    letter kept before them, in the regular Sans face."""
    kept: dict[str, list[int]] = {}
    references: list[np.ndarray] = []
    for alphabet in (*TRAIN_ALPHABETS, *TEST_ALPHABETS):
        kept[alphabet] = []
        for code in ALPHABETS[alphabet]:
            image = _downsample(render_glyph(chr(code), FONT_FACES[0], 2 * image_size), 2)
            if any(_same_glyph(image, other) for other in references):
                continue
            references.append(image)
            kept[alphabet].append(code)
    return kept


@functools.lru_cache(maxsize=4)
def _glyphs(image_size: int, instances_per_class: int, seed: int) -> FewShotData:
    rng = np.random.default_rng(seed)
    canvas = 2 * image_size  # drawn at twice the size, then averaged down: smooth edges
    letters = _distinct_letters(image_size)
    splits, names = {"train": ([], []), "test": ([], [])}, {}
    class_id = 0
    for part, alphabets in (("train", TRAIN_ALPHABETS), ("test", TEST_ALPHABETS)):
        images, labels = splits[part]
        for alphabet in alphabets:
            for code in letters[alphabet]:
                for instance in range(instances_per_class):
                    face = FONT_FACES[instance % len(FONT_FACES)]
                    drawn = _jitter(render_glyph(chr(code), face, canvas), rng)
                    images.append(_downsample(drawn, 2))
                    labels.append(class_id)
                names[class_id] = f"{alphabet} U+{code:04X}"
                class_id += 1
    train, test = (
        Split(np.stack(splits[p][0])[..., None].astype("float32"), np.asarray(splits[p][1]))
        for p in ("train", "test")
    )
    return FewShotData(train=train, test=test, class_names=names)


def glyphs_few_shot(
    image_size: int = 28, instances_per_class: int = 20, seed: int = 0
) -> FewShotData:
    """An Omniglot-like few-shot set rendered from the DejaVu fonts that matplotlib ships.

    Classes are letters: Latin, Greek and Cyrillic ones for meta-training (138 classes after
    look-alikes are dropped), Armenian and Georgian ones for meta-testing (unseen alphabets, as
    Omniglot's evaluation alphabets are; 108 classes). Instance `i` of a letter is drawn
    in face `i mod 12` of the twelve DejaVu Sans / Sans Mono / Serif faces, then warped by a
    random affine jitter (rotation within 10 degrees, scale 0.9-1.1, shear 0.1, shift 4%),
    like Omniglot's 20 drawers per character.

    Args:
        image_size: side of the square images. Defaults to `28` (Omniglot's usual size).
        instances_per_class: images per letter. Defaults to `20`.
        seed: seed of the jitter. Defaults to `0`.

    Returns:
        `FewShotData` of `[n, image_size, image_size, 1]` float32 images in [0, 1] (white
        letters on black); the arrays are cached per argument set.

    Example:

    ```python
    data = glyphs_few_shot()
    sampler = EpisodeSampler(data.test.x, data.test.y, n_way=5, k_shot=1, n_query=15)
    ```
    """
    check_positive_int("image_size", image_size)
    check_positive_int("instances_per_class", instances_per_class)
    return _glyphs(image_size, instances_per_class, seed)
