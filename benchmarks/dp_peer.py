"""Opacus's side of `benchmarks/bench_dp.py`: a worker in Opacus's own environment.

One JSON request per line on stdin, one `@@ `-prefixed JSON answer per line on stdout (see
`benchmarks/peer_worker.py`). Requests:

- `{"op": "setup", "model": "mlp"|"cnn", "batch": 256, "threads": 2}`: builds the torch model
  twice (same architecture as `bench_dp.build_model`), one with plain SGD and one made private
  by Opacus's `PrivacyEngine` (noise 1.1, clip 1.0, fixed batches); answers the parameter count.
- `{"op": "time", "side": "plain"|"private", "steps": N, "clock": "wall"|"cpu"}`: the seconds
  of each of N SGD steps, by the wall clock (the default) or the process's CPU time.

Runs without this project on the path: it imports only torch, opacus and numpy.
"""

import json
import sys
import time
import warnings

import numpy as np
import torch
from opacus import PrivacyEngine
from torch import nn

STATE = {}


def build(model: str) -> nn.Module:
    if model == "mlp":
        return nn.Sequential(nn.Flatten(), nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, 10))
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1),
        nn.ReLU(),
        nn.Conv2d(16, 32, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(32, 10),
    )


def setup(model: str, batch: int, threads: int) -> dict:
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    rng = np.random.default_rng(0)
    x = torch.tensor(rng.random((batch, 1, 8, 8)), dtype=torch.float32)
    y = torch.tensor(rng.integers(0, 10, batch))
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(x, y), batch_size=batch, shuffle=False
    )
    plain = build(model)
    private = build(model)
    private.load_state_dict(plain.state_dict())
    plain_opt = torch.optim.SGD(plain.parameters(), lr=0.1)
    private_opt = torch.optim.SGD(private.parameters(), lr=0.1)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        private, private_opt, _ = PrivacyEngine().make_private(
            module=private,
            optimizer=private_opt,
            data_loader=loader,
            noise_multiplier=1.1,
            max_grad_norm=1.0,
            poisson_sampling=False,
        )
    STATE.update(x=x, y=y, sides={"plain": (plain, plain_opt), "private": (private, private_opt)})
    return {"params": sum(p.numel() for p in plain.parameters())}


def time_steps(side: str, steps: int, clock: str = "wall") -> dict:
    now = {"wall": time.perf_counter, "cpu": time.process_time}[clock]
    model, optimizer = STATE["sides"][side]
    loss_fn = nn.CrossEntropyLoss()
    seconds = []
    for _ in range(steps):
        start = now()
        optimizer.zero_grad()
        loss = loss_fn(model(STATE["x"]), STATE["y"])
        loss.backward()
        optimizer.step()
        seconds.append(now() - start)
    return {"seconds": seconds, "loss": float(loss)}


def main() -> None:
    import opacus

    for line in sys.stdin:
        request = json.loads(line)
        op = request.pop("op")
        if op == "quit":
            break
        try:
            if op == "setup":
                answer = setup(**request)
                answer.update(torch=torch.__version__, opacus=opacus.__version__)
            elif op == "time":
                answer = time_steps(**request)
            else:
                answer = {"error": f"unknown op {op!r}"}
        except Exception as error:  # noqa: BLE001 (reported to the driver)
            answer = {"error": f"{type(error).__name__}: {error}"}
        print("@@ " + json.dumps(answer), flush=True)


if __name__ == "__main__":
    main()
