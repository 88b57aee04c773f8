"""Distribution strategies and mixed-precision policies for `zoo train` and `zoo tune`."""

from __future__ import annotations

import json
import os

import keras
import tensorflow as tf

from layers.validation import check_positive_int

STRATEGIES = ("default", "mirrored", "multiworker")
MIXED_PRECISION = {"float16": "mixed_float16", "bfloat16": "mixed_bfloat16"}


def split_cpu(num_devices: int) -> None:
    """Splits the CPU into `num_devices` logical devices so `MirroredStrategy` can use them.

    Useful for testing data parallelism on a machine without GPUs. Must run before TensorFlow
    initialises its runtime (before the first tensor is created).

    Raises:
        RuntimeError: TensorFlow's runtime is already initialised with another device count.
    """
    check_positive_int("num_devices", num_devices)
    cpu = tf.config.list_physical_devices("CPU")[0]
    current = tf.config.get_logical_device_configuration(cpu)
    if current is not None and len(current) == num_devices:
        return
    try:
        tf.config.set_logical_device_configuration(
            cpu, [tf.config.LogicalDeviceConfiguration() for _ in range(num_devices)]
        )
    except RuntimeError as error:
        raise RuntimeError(
            "The CPU can only be split into logical devices before TensorFlow creates its first "
            f"tensor. Received: num_devices={num_devices}"
        ) from error


def make_strategy(name: str = "default", cpu_devices: int | None = None) -> tf.distribute.Strategy:
    """Returns the `tf.distribute` strategy named `name`.

    Args:
        name: `"default"` (one device), `"mirrored"` (`MirroredStrategy` over the local GPUs, or
            over `cpu_devices` logical CPU devices when there are none), or `"multiworker"`
            (`MultiWorkerMirroredStrategy`; the cluster comes from the `TF_CONFIG` environment
            variable).
        cpu_devices: with `"mirrored"` on a machine without GPUs, the number of logical CPU
            devices to split the CPU into. Defaults to `None` (one device).

    Example:

    ```python
    strategy = make_strategy("mirrored")
    with strategy.scope():
        model = zoo.create("cnn_digits")
    ```
    """
    if name not in STRATEGIES:
        raise ValueError(f"`strategy` must be one of {STRATEGIES}. Received: strategy={name!r}")
    if name == "default":
        return tf.distribute.get_strategy()
    if name == "mirrored":
        if cpu_devices and not tf.config.list_physical_devices("GPU"):
            split_cpu(cpu_devices)
            devices = [d.name for d in tf.config.list_logical_devices("CPU")][:cpu_devices]
            return tf.distribute.MirroredStrategy(devices)
        return tf.distribute.MirroredStrategy()
    if "TF_CONFIG" not in os.environ:
        raise ValueError(
            "`strategy='multiworker'` needs the TF_CONFIG environment variable describing the "
            "cluster and this worker's task. Received: TF_CONFIG unset"
        )
    try:
        json.loads(os.environ["TF_CONFIG"])
    except json.JSONDecodeError as error:
        raise ValueError(f"TF_CONFIG is not valid JSON: {error}. Received: TF_CONFIG=...") from None
    return tf.distribute.MultiWorkerMirroredStrategy()


def set_mixed_precision(precision: str | None) -> str:
    """Sets Keras's global dtype policy: `"float16"` or `"bfloat16"` mixed precision, or `None`.

    Under `mixed_float16`, `compile` wraps the optimizer in `LossScaleOptimizer` (loss scaling);
    `mixed_bfloat16` needs none.

    Returns:
        The policy name now in force.
    """
    if precision is None:
        policy = "float32"
    elif precision in MIXED_PRECISION:
        policy = MIXED_PRECISION[precision]
    else:
        raise ValueError(
            f"`mixed_precision` must be None, 'float16' or 'bfloat16'. "
            f"Received: mixed_precision={precision!r}"
        )
    keras.config.set_dtype_policy(policy)
    return policy


def is_chief() -> bool:
    """Whether this process is the chief (or only) worker of a `TF_CONFIG` cluster."""
    config = json.loads(os.environ.get("TF_CONFIG", "{}") or "{}")
    task = config.get("task", {})
    if not task:
        return True
    if task.get("type") == "chief":
        return True
    return (
        task.get("type") == "worker"
        and task.get("index", 0) == 0
        and ("chief" not in config.get("cluster", {}))
    )
