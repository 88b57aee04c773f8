"""Reproducibility: seeding everything and recording what a run ran on."""

from __future__ import annotations

import datetime
import importlib.metadata
import json
import os
import platform
import subprocess
import sys

import keras
import tensorflow as tf

from layers.validation import check_non_negative_int

_RECORDED_PACKAGES = (
    "keras-zoo",
    "tensorflow",
    "keras",
    "numpy",
    "tensorflow-probability",
    "keras-tuner",
    "tensorflow-text",
    "scikit-learn",
)


def seed_everything(seed: int, deterministic_ops: bool = True) -> None:
    """Seeds Python, NumPy, TensorFlow and Keras, and optionally makes TF ops deterministic.

    With `deterministic_ops=True`, TensorFlow's op determinism is enabled
    (`tf.config.experimental.enable_op_determinism`), so two runs with the same seed give
    identical weights on CPU, at some cost in speed on GPU.

    Args:
        seed: the seed, a non-negative integer.
        deterministic_ops: also make TensorFlow ops deterministic. Defaults to `True`.

    Example:

    ```python
    seed_everything(42)
    model = zoo.create("cnn_digits")
    ```
    """
    check_non_negative_int("seed", seed)
    os.environ["PYTHONHASHSEED"] = str(seed)
    keras.utils.set_random_seed(seed)
    if deterministic_ops:
        tf.config.experimental.enable_op_determinism()


def _package_versions() -> dict[str, str]:
    versions = {}
    for name in _RECORDED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            continue
    return versions


def _git_commit(directory: str) -> str | None:
    try:
        result = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=directory,
            capture_output=True,
            text=True,
            timeout=10,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    if result.returncode != 0:
        return None
    return result.stdout.strip() or None


def run_record(config: dict, seed: int | None = None) -> dict:
    """What a run needs to be reproduced: versions, hardware, configuration, seed, git commit.

    Args:
        config: the run's full configuration (JSON-serialisable).
        seed: the seed used, if any.

    Returns:
        A JSON-serialisable dict.
    """
    return {
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "command": sys.argv,
        "config": config,
        "seed": seed,
        "python": sys.version.split()[0],
        "packages": _package_versions(),
        "hardware": {
            "platform": platform.platform(),
            "machine": platform.machine(),
            "cpu_count": os.cpu_count(),
            "gpus": [d.name for d in tf.config.list_physical_devices("GPU")],
        },
        "git_commit": _git_commit(os.getcwd()),
    }


def write_run_record(path: str, config: dict, seed: int | None = None) -> str:
    """Writes `run_record(config, seed)` as JSON to `path` and returns `path`."""
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    with open(path, "w") as f:
        json.dump(run_record(config, seed), f, indent=2, default=str)
    return path
