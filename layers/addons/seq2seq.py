"""`tfa.seq2seq` on Keras 3: `layers.seq2seq` under TFA's names (all of them are TFA's)."""

from layers.seq2seq import *  # noqa: F403 (the whole of `tfa.seq2seq`, names unchanged)
from layers.seq2seq import __all__  # noqa: F401
