"""Small reference models: an MLP and a CNN for tabular/flat and small-image data.

Each is its own network (a `zoo.models.Task` without a separate backbone); `presets.py`
registers `mlp_digits` and `cnn_digits`, `search_spaces.py` declares what `zoo tune` searches.
"""

from zoo.basic import presets
from zoo.basic.cnn import SmallCNNClassifier
from zoo.basic.mlp import MLPClassifier

__all__ = ["MLPClassifier", "SmallCNNClassifier", "presets"]
