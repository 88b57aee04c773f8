"""`zoo train --strategy mirrored|multiworker` gives the single-device result.

Each run takes full-batch steps on TFRecords, so every strategy averages the gradient over the
same examples; replicas and workers only split the batch (by example or by shard). The
single-device reference trains in this process (`zoo.train.train`, which the command calls);
the distributed runs need processes of their own.
"""

import json
import os
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest

import tfrecords
import zoo  # noqa: F401  (registers the model classes for loading)
from zoo.train import train

EXAMPLES = 128
OVERRIDES = {"hidden_units": [16], "dropout": 0.0}

pytestmark = pytest.mark.heavy


@pytest.fixture(scope="module")
def shards(tmp_path_factory):
    rng = np.random.default_rng(0)
    directory = tmp_path_factory.mktemp("records")
    features = rng.normal(size=(EXAMPLES, 64)).astype("float32")
    labels = (features[:, :10].argmax(axis=1)).astype("int64")
    files = tfrecords.write(
        {"x": features, "label": labels}, str(directory / "train"), num_shards=2, verbose=0
    )
    assert len(files) == 2
    return str(directory / "train")


def _command(data: str, output: str, *extra: str) -> list[str]:
    command = [sys.executable, "-m", "zoo", "train", "mlp_digits", "--data", data]
    command += ["--batch-size", str(EXAMPLES), "--epochs", "3", "--seed", "0", "--no-shuffle"]
    command += [f"--override={key}={json.dumps(value)}" for key, value in OVERRIDES.items()]
    return [*command, "--output", output, "--verbose", "0", *extra]


def _env(**extra: str) -> dict:
    return {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2", **extra}


def _weights(output: str) -> list[np.ndarray]:
    return keras.saving.load_model(os.path.join(output, "mlp_digits.keras")).get_weights()


@pytest.fixture(scope="module")
def single_device(shards, tmp_path_factory):
    # Op determinism is left off: it would stay on for the rest of this test process. The
    # distributed runs differ from the reference by summation order anyway (see the tolerance).
    output = str(tmp_path_factory.mktemp("single"))
    train(
        model="mlp_digits", data=shards, batch_size=EXAMPLES, epochs=3, seed=0, shuffle=False,
        overrides=dict(OVERRIDES), output=output, verbose=0, deterministic=False,
    )  # fmt: skip
    return _weights(output)


def _assert_same_weights(actual, expected):
    for a, e in zip(actual, expected, strict=True):
        np.testing.assert_allclose(a, e, atol=2e-5, rtol=1e-4)


def test_mirrored_on_two_logical_cpus_equals_single_device(shards, single_device, tmp_path):
    output = str(tmp_path / "mirrored")
    command = _command(shards, output, "--strategy", "mirrored", "--cpu-devices", "2")
    result = subprocess.run(command, check=True, env=_env(), capture_output=True, text=True)
    assert json.loads(result.stdout[result.stdout.index("{\n") :])["replicas"] == 2
    _assert_same_weights(_weights(output), single_device)


def _free_ports(n: int) -> list[int]:
    sockets = [socket.socket() for _ in range(n)]
    for s in sockets:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in sockets]
    for s in sockets:
        s.close()
    return ports


@pytest.mark.slow  # kept out of `make test`'s 15 minutes
def test_two_worker_processes_equal_single_device(shards, single_device, tmp_path):
    workers = [f"127.0.0.1:{port}" for port in _free_ports(2)]
    processes = []
    for index in range(2):
        tf_config = {"cluster": {"worker": workers}, "task": {"type": "worker", "index": index}}
        output = str(tmp_path / "multiworker")
        command = _command(shards, output, "--strategy", "multiworker")
        processes.append(
            subprocess.Popen(
                command,
                env=_env(TF_CONFIG=json.dumps(tf_config)),
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
        )
    try:
        outputs = [p.communicate(timeout=300) for p in processes]
    finally:
        for p in processes:
            p.kill()
    for p, (_, err) in zip(processes, outputs, strict=True):
        assert p.returncode == 0, err[-3000:]
    chief = json.loads(outputs[0][0][outputs[0][0].index("{\n") :])
    assert chief["replicas"] == 2
    _assert_same_weights(_weights(str(tmp_path / "multiworker")), single_device)
