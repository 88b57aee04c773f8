"""Small reference models: an MLP and a CNN for tabular/flat and small-image data."""

from zoo.basic.cnn import SmallCNNClassifier
from zoo.basic.mlp import MLPClassifier

__all__ = ["MLPClassifier", "SmallCNNClassifier"]
