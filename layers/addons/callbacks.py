"""`tfa.callbacks` on Keras 3: TFA's callbacks (`layers.callbacks`) under their TFA names."""

from layers.callbacks import AverageModelCheckpoint, TimeStopping, TQDMProgressBar

__all__ = ["AverageModelCheckpoint", "TQDMProgressBar", "TimeStopping"]
