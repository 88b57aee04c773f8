"""Meta-learning: few-shot episodes, MAML, Reptile and Prototypical Networks.

`EpisodeSampler` turns labelled data into N-way K-shot episodes (`split_classes` keeps the
meta-train, -validation and -test classes apart); `PrototypicalNetwork` (on `Conv4Backbone`,
registered as `protonet_conv4`), `MAML` (FOMAML, Meta-SGD) and `Reptile` train with `fit` on
them; `few_shot_accuracy` reports accuracy with a 95% interval; `digits_few_shot` and
`glyphs_few_shot` are offline few-shot datasets; `SinusoidTasks` is MAML's regression problem.
"""

from zoo.meta import presets  # noqa: F401  (registers protonet_conv4)
from zoo.meta.conv4 import Conv4Backbone
from zoo.meta.datasets import FewShotData, digits_few_shot, glyphs_few_shot
from zoo.meta.episodes import ClassSplit, EpisodeSampler, split_classes, take_classes
from zoo.meta.evaluation import FewShotAccuracy, few_shot_accuracy
from zoo.meta.functional import TransductiveBatchNormalization, adaptation_curve
from zoo.meta.maml import MAML
from zoo.meta.meta_learner import EpisodicMetaLearner
from zoo.meta.prototypical import PrototypeLogits, PrototypicalNetwork
from zoo.meta.reptile import Reptile
from zoo.meta.sinusoid import SinusoidTasks, compare_on_sinusoids, sinusoid_mlp

__all__ = [
    "MAML",
    "ClassSplit",
    "Conv4Backbone",
    "EpisodeSampler",
    "EpisodicMetaLearner",
    "FewShotAccuracy",
    "FewShotData",
    "PrototypeLogits",
    "PrototypicalNetwork",
    "Reptile",
    "SinusoidTasks",
    "TransductiveBatchNormalization",
    "adaptation_curve",
    "compare_on_sinusoids",
    "digits_few_shot",
    "few_shot_accuracy",
    "glyphs_few_shot",
    "sinusoid_mlp",
    "split_classes",
    "take_classes",
]
