"""`tfa.optimizers` on Keras 3: TensorFlow Addons' optimizers under their TFA names."""

from layers.optimizers import LazyAdam

__all__ = ["LazyAdam"]
