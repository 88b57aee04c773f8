"""`tfa.metrics` on Keras 3: TFA's streaming metrics (`layers.metrics`) under their TFA names."""

from layers.metrics import (
    CohenKappa,
    F1Score,
    FBetaScore,
    GeometricMean,
    HammingLoss,
    HarmonicMean,
    KendallsTauB,
    KendallsTauC,
    MatthewsCorrelationCoefficient,
    MeanMetricWrapper,
    MultiLabelConfusionMatrix,
    PearsonsCorrelation,
    RSquare,
    SpearmansRank,
    hamming_distance,
    hamming_loss_fn,
)

__all__ = [
    "CohenKappa",
    "F1Score",
    "FBetaScore",
    "GeometricMean",
    "HammingLoss",
    "HarmonicMean",
    "KendallsTauB",
    "KendallsTauC",
    "MatthewsCorrelationCoefficient",
    "MeanMetricWrapper",
    "MultiLabelConfusionMatrix",
    "PearsonsCorrelation",
    "RSquare",
    "SpearmansRank",
    "hamming_distance",
    "hamming_loss_fn",
]
