"""`layers.xla`: where the ops being built will run."""

import tensorflow as tf

from layers.xla import compiling_with_xla


def test_compiling_with_xla_is_true_only_inside_jit_compiled_functions():
    seen = []

    def probe():
        seen.append(compiling_with_xla())
        return tf.constant(0)

    probe()
    tf.function(probe)()
    tf.function(probe, jit_compile=True)()
    tf.function(lambda: tf.function(probe)(), jit_compile=True)()
    assert seen == [False, False, True, True]
