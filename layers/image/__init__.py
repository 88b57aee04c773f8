"""Image ops: TensorFlow Addons' `tfa.image` on Keras 3 (TensorFlow-only functions).

Filters (`mean_filter2d`, `median_filter2d`, `gaussian_filter2d`), projective transforms
(`transform`, `rotate`, `translate`, `shear_x`, ...), warping (`dense_image_warp`,
`interpolate_bilinear`, `resampler`, `interpolate_spline`, `sparse_image_warp`), labelling
and distances (`connected_components`, `euclidean_dist_transform`), colour (`sharpness`,
`equalize`, `blend`, `adjust_hsv_in_yiq`, ...) and `cutout`, with TFA's names, arguments and
numbers. All batched, usable in `tf.function`, `tf.data` and SavedModels.
"""

from layers.image.color import (
    adjust_hsv_in_yiq,
    blend,
    equalize,
    random_hsv_in_yiq,
    sharpness,
)
from layers.image.connected_components import connected_components
from layers.image.cutout import cutout, random_cutout
from layers.image.distance import euclidean_dist_transform
from layers.image.filters import gaussian_filter2d, mean_filter2d, median_filter2d
from layers.image.sparse_warp import sparse_image_warp
from layers.image.spline import interpolate_spline
from layers.image.transforms import (
    angles_to_projective_transforms,
    compose_transforms,
    rotate,
    shear_x,
    shear_y,
    transform,
    translate,
    translate_xy,
    translations_to_projective_transforms,
)
from layers.image.warping import dense_image_warp, interpolate_bilinear, resampler

__all__ = [
    "adjust_hsv_in_yiq",
    "angles_to_projective_transforms",
    "blend",
    "compose_transforms",
    "connected_components",
    "cutout",
    "dense_image_warp",
    "equalize",
    "euclidean_dist_transform",
    "gaussian_filter2d",
    "interpolate_bilinear",
    "interpolate_spline",
    "mean_filter2d",
    "median_filter2d",
    "random_cutout",
    "random_hsv_in_yiq",
    "resampler",
    "rotate",
    "sharpness",
    "shear_x",
    "shear_y",
    "sparse_image_warp",
    "transform",
    "translate",
    "translate_xy",
    "translations_to_projective_transforms",
]
