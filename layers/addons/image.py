"""`tfa.image` on Keras 3: TFA's image ops (`layers.image`) under their TFA names and arguments.

Batched, in-graph functions: they run in a `tf.data` map, inside a model and in a SavedModel.
"""

from layers.image import *  # noqa: F403 (the whole of `tfa.image`, names unchanged)
from layers.image import __all__  # noqa: F401
