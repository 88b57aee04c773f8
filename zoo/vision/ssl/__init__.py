"""Self-supervised learning for zoo image encoders: SimCLR, MoCo v2 and their evaluations.

`SimCLR(encoder)` and `MoCo(encoder)` are `keras.Model`s whose `fit` takes unlabelled images
and trains `encoder` in place; `linear_probe` and `fine_tune` measure it with labels.
`feature_model` is the one adapter from any zoo image network (dict outputs, classifiers)
to `[batch, features]`.
"""

from zoo.vision.ssl.augmentation import SimCLRAugmentation
from zoo.vision.ssl.data import label_subset, upscaled_digits
from zoo.vision.ssl.encoder import feature_model
from zoo.vision.ssl.heads import projection_head
from zoo.vision.ssl.moco import MoCo
from zoo.vision.ssl.protocols import fine_tune, linear_probe
from zoo.vision.ssl.simclr import SimCLR

__all__ = [
    "MoCo",
    "SimCLR",
    "SimCLRAugmentation",
    "feature_model",
    "fine_tune",
    "label_subset",
    "linear_probe",
    "projection_head",
    "upscaled_digits",
]
