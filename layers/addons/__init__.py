"""TensorFlow Addons' API on Keras 3, one import away: `from layers import addons as tfa`.

The namespace mirrors TFA's modules, names, argument names and defaults
(`tfa.text.crf_log_likelihood`, `tfa.seq2seq.BeamSearchDecoder`, `tfa.optimizers.LazyAdam`,
`tfa.rnn.LayerNormLSTMCell`, `tfa.layers.CRF`, ...) and the same calls give TFA 0.23's numbers
(the tests replay fixtures written by TFA itself, `tests/fixtures/tfa/`). It is thin: each name
is the project's own implementation, which lives in its own room (`layers/crf/`,
`layers/seq2seq/`, `layers/recurrent/`, `layers/optimizers/`, ...).

Example:

```python
from layers import addons as tfa

log_likelihood, transitions = tfa.text.crf_log_likelihood(potentials, tags, lengths)
tags, score = tfa.text.crf_decode(potentials, transitions, lengths)
```
"""

from layers.addons import (
    activations,
    callbacks,
    image,
    layers,
    losses,
    metrics,
    optimizers,
    rnn,
    seq2seq,
    text,
)

__all__ = [
    "activations",
    "callbacks",
    "image",
    "layers",
    "losses",
    "metrics",
    "optimizers",
    "rnn",
    "seq2seq",
    "text",
]
