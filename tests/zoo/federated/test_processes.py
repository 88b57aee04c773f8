"""`zoo federated server` and three `zoo federated client` processes on localhost."""

import json
import os
import socket
import subprocess
import sys

import keras
import numpy as np
import pytest

import zoo
from zoo.cli import main


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_bad_client_arguments_are_user_errors(capsys):
    status = main(
        [
            "federated",
            "client",
            "--model",
            "mlp_digits",
            "--partition",
            "3",
            "--num-partitions",
            "3",
        ]
    )
    assert status == 2
    assert "partition=3" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_info:
        main(["federated", "server", "--model", "mlp_digits", "--address", "localhost"])
    assert exit_info.value.code == 2
    assert "HOST:PORT" in capsys.readouterr().err


@pytest.mark.slow
def test_server_and_three_client_processes_finish_their_rounds(tmp_path):
    address = f"127.0.0.1:{_free_port()}"
    output = str(tmp_path / "global.keras")
    env = {**os.environ, "TF_NUM_INTRAOP_THREADS": "1", "TF_NUM_INTEROP_THREADS": "1"}
    zoo_command = [sys.executable, "-m", "zoo", "federated"]
    server = subprocess.Popen(
        [
            *zoo_command,
            "server",
            "--model",
            "mlp_digits",
            "--rounds",
            "2",
            "--min-clients",
            "3",
            "--address",
            address,
            "--output",
            output,
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    clients = [
        subprocess.Popen(
            [
                *zoo_command,
                "client",
                "--model",
                "mlp_digits",
                "--partition",
                str(k),
                "--num-partitions",
                "3",
                "--server",
                address,
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for k in range(3)
    ]
    try:
        out, err = server.communicate(timeout=540)
        client_outputs = [c.communicate(timeout=60) for c in clients]
    finally:
        for process in (server, *clients):
            if process.poll() is None:
                process.kill()
    assert server.returncode == 0, err[-3000:]
    assert all(c.returncode == 0 for c in clients), [e[-2000:] for _, e in client_outputs]
    summary = json.loads(out[out.index("{\n") :])
    rounds = summary["rounds"]
    assert [r["round"] for r in rounds] == [1, 2]
    # The saved global model is the one the server evaluated after the last round.
    model = keras.saving.load_model(output)
    digits = zoo.datasets.load_digits(dtype="float32")
    logs = model.evaluate(digits.test.x.reshape(-1, 64), digits.test.y, verbose=0, return_dict=True)
    np.testing.assert_allclose(logs["accuracy"], rounds[-1]["centralized_accuracy"], rtol=1e-5)
    assert rounds[-1]["centralized_accuracy"] > 0.3  # two rounds of training, from ~0.1
