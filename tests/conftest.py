"""Test session set-up: quiet TensorFlow, two logical CPU devices, deterministic seeds, quicker
XLA compiles, and the `heavy` tests queued first."""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
# The XLA checks ask whether a model compiles and what it computes; LLVM's optimisation of the
# generated CPU code only makes those tiny programs run faster, and skipping it takes about 40%
# off every XLA compile (the largest part of the shared model checks).
if "xla_backend_optimization_level" not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "") + " --xla_backend_optimization_level=0"
    ).strip()

import keras  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
from tensorflow.python.framework import config as tf_config  # noqa: E402

# MirroredStrategy tests need two devices; logical devices must be configured before TensorFlow
# initialises its runtime, which is why this runs at import time.
_cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(
    _cpu, [tf.config.LogicalDeviceConfiguration(), tf.config.LogicalDeviceConfiguration()]
)


@pytest.fixture(autouse=True)
def _seed_and_policy():
    """Seeds every test; restores the dtype policy and TensorFlow's op determinism (which an
    in-process `zoo.train` with `deterministic=True` turns on for the whole process)."""
    keras.utils.set_random_seed(1234)
    policy = keras.config.dtype_policy()
    deterministic = tf_config.is_op_determinism_enabled()
    yield
    keras.config.set_dtype_policy(policy)
    if tf_config.is_op_determinism_enabled() != deterministic:
        (tf_config.enable_op_determinism if deterministic else tf_config.disable_op_determinism)()


def pytest_collection_modifyitems(config, items):
    """Queues the `heavy` tests first; the order is otherwise kept.

    With `pytest -n 2 --dist worksteal` (pyproject.toml), a long test that starts last keeps
    one worker busy while the other is idle; queued first, the short tests fill in around it.
    """
    items.sort(key=lambda item: item.get_closest_marker("heavy") is None)
