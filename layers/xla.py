"""XLA helpers shared by the components: where the ops being built will run."""

from __future__ import annotations

import tensorflow as tf
from tensorflow.python.ops import control_flow_util


def compiling_with_xla() -> bool:
    """Whether the ops being built go into a function compiled with XLA (`jit_compile=True`,
    at any depth of nested `tf.function`s).

    Components use it to pick ops that XLA compiles (or to explain why they cannot be), and to
    skip compiling a part of their own with XLA when the whole step already is.

    Example:

    ```python
    @tf.function(jit_compile=True)
    def step():
        return compiling_with_xla()  # True while tracing
    ```
    """
    if tf.executing_eagerly():
        return False
    return control_flow_util.GraphOrParentsInXlaContext(tf.compat.v1.get_default_graph())
