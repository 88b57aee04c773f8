"""Rainbow / DQN on CartPole-v1 (target 475) and Acrobot-v1 (target -100) versus
stable-baselines3's DQN and sb3-contrib's QR-DQN.

Reports environment steps and training wall-clock seconds to the target, evaluated every
`every` steps on 10 deterministic episodes, fresh each time and seeded alike on all sides
(evaluation time excluded). Seconds are given as wall time and as the process's CPU time:
on a shared machine the CPU time is the steadier measure. Every side uses rl-baselines3-zoo's
tuned hyperparameters (dqn.yml / qrdqn.yml), which our defaults copy; SB3 runs in its own venv
(`SB3_PYTHON`).
`DQN_SIDES` picks the sides: `rainbow` (all components), `dqn` (all off: SB3's algorithm),
`no_<flag>` (Rainbow with one component off, for the ablation table), `sb3` and `qrdqn`.

Both frameworks run with `RL_THREADS` intra-op threads (default 1); the sides alternate seed
by seed so they see the same machine load, and each row ends with the 1-minute load average
when the run finished.

Run: `.venv/bin/python -m benchmarks.bench_dqn` (env `RL_SEEDS=0,1,2,3,4`,
`DQN_TASKS=cartpole,acrobot`, `DQN_SIDES=rainbow,sb3,qrdqn`).
"""

from __future__ import annotations

import json
import os
import subprocess
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SEEDS = tuple(int(s) for s in os.environ.get("RL_SEEDS", "0,1,2,3,4").split(","))
TASK_NAMES = tuple(os.environ.get("DQN_TASKS", "cartpole,acrobot").split(","))
SIDES = tuple(os.environ.get("DQN_SIDES", "rainbow,sb3,qrdqn").split(","))
THREADS = int(os.environ.get("RL_THREADS", "1"))
EVAL_SEED = 1_000_000
SB3_PYTHON = os.environ.get("SB3_PYTHON", "/tmp/sb3-venv/bin/python")
TASKS = {  # env id, target, step budget, evaluation interval
    "cartpole": ("CartPole-v1", 475.0, 60_000, 2_500),
    "acrobot": ("Acrobot-v1", -100.0, 100_000, 5_000),
}
FLAGS = ("double", "dueling", "prioritized", "n_step", "distributional", "noisy")

SB3_SCRIPT = r"""
import json, sys, time
import gymnasium as gym
from stable_baselines3 import DQN
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import DummyVecEnv
import torch

algo, env_id, target, budget, every, seed, threads = sys.argv[1:8]
EVAL_SEED = 1_000_000
target, budget, every, seed = float(target), int(budget), int(every), int(seed)
torch.set_num_threads(int(threads))
ZOO = {  # rl-baselines3-zoo dqn.yml (qrdqn.yml is the same plus n_quantiles)
    "CartPole-v1": dict(learning_rate=2.3e-3, batch_size=64, buffer_size=100_000,
        learning_starts=1_000, gamma=0.99, target_update_interval=10, train_freq=256,
        gradient_steps=128, exploration_fraction=0.16, exploration_final_eps=0.04),
    "Acrobot-v1": dict(learning_rate=6.3e-4, batch_size=128, buffer_size=50_000,
        learning_starts=0, gamma=0.99, target_update_interval=250, train_freq=4,
        gradient_steps=-1, exploration_fraction=0.12, exploration_final_eps=0.1),
}
QUANTILES = {"CartPole-v1": 10, "Acrobot-v1": 25}


class ToTarget(BaseCallback):
    def __init__(self):
        super().__init__()
        self.next_eval, self.eval_seconds, self.eval_cpu, self.result = every, 0.0, 0.0, None

    def _on_step(self):
        if self.num_timesteps < self.next_eval:
            return True
        start, start_cpu = time.perf_counter(), time.process_time()
        evaluation = DummyVecEnv([lambda: gym.make(env_id)])
        evaluation.seed(EVAL_SEED + self.next_eval)
        mean, _ = evaluate_policy(self.model, evaluation, n_eval_episodes=10)
        self.eval_seconds += time.perf_counter() - start
        self.eval_cpu += time.process_time() - start_cpu
        if mean >= target:
            self.result = [self.num_timesteps, time.perf_counter() - t0 - self.eval_seconds,
                           time.process_time() - c0 - self.eval_cpu]
            return False
        self.next_eval += every
        return True


kwargs = dict(ZOO[env_id], seed=seed, device="cpu")
if algo == "qrdqn":
    from sb3_contrib import QRDQN
    net = dict(net_arch=[256, 256], n_quantiles=QUANTILES[env_id])
    model = QRDQN("MlpPolicy", env_id, policy_kwargs=net, **kwargs)
else:
    model = DQN("MlpPolicy", env_id, policy_kwargs=dict(net_arch=[256, 256]), **kwargs)
callback = ToTarget()
t0, c0 = time.perf_counter(), time.process_time()
model.learn(budget, callback=callback)
print(json.dumps(callback.result))
"""


def side_kwargs(side: str) -> dict:
    if side == "rainbow":
        return {}
    if side == "dqn":
        return {flag: (1 if flag == "n_step" else False) for flag in FLAGS}
    flag = side.removeprefix("no_")
    return {flag: 1 if flag == "n_step" else False}


def ours(side: str, task: str, seed: int):
    from zoo.rl.dqn import DQN

    env_id, target, budget, every = TASKS[task]
    agent = DQN(env_id, seed=seed, verbose=0, **side_kwargs(side))
    state = {"next": every, "eval_seconds": 0.0, "eval_cpu": 0.0, "result": None}

    def to_target(agent) -> bool:
        if agent.num_timesteps < state["next"]:
            return True
        start, start_cpu = time.perf_counter(), time.process_time()
        mean, _ = agent.evaluate(10, seed=EVAL_SEED + state["next"])
        state["next"] += every
        state["eval_seconds"] += time.perf_counter() - start
        state["eval_cpu"] += time.process_time() - start_cpu
        if mean >= target:
            seconds = time.perf_counter() - t0 - state["eval_seconds"]
            cpu = time.process_time() - c0 - state["eval_cpu"]
            state["result"] = (agent.num_timesteps, seconds, cpu)
            return False
        return True

    t0, c0 = time.perf_counter(), time.process_time()
    agent.learn(budget, callback=to_target)
    return state["result"]


def peer(side: str, task: str, seed: int):
    if not os.path.exists(SB3_PYTHON):
        return None
    env_id, target, budget, every = TASKS[task]
    algo = "qrdqn" if side == "qrdqn" else "dqn"
    args = [SB3_PYTHON, "-c", SB3_SCRIPT, algo, env_id, str(target), str(budget), str(every)]
    args += [str(seed), str(THREADS)]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def median(values: list[float]) -> float | None:
    values = sorted(values)
    if not values:
        return None
    mid = len(values) // 2
    return values[mid] if len(values) % 2 else 0.5 * (values[mid - 1] + values[mid])


def main() -> None:
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(THREADS)
    tf.config.threading.set_inter_op_parallelism_threads(THREADS)
    if not os.path.exists(SB3_PYTHON):
        print(f"{SB3_PYTHON} not found: the sb3/qrdqn columns are empty.")
    print("| task | seed | side | steps to target | wall s to target | CPU s to target | load |")
    print("|---|---|---|---|---|---|---|")
    results: dict = {}
    for task in TASK_NAMES:
        for seed in SEEDS:
            for side in SIDES:
                run = peer if side in ("sb3", "qrdqn") else ours
                result = run(side, task, seed)
                results.setdefault((task, side), []).append(result)
                cells = (
                    (str(result[0]), f"{result[1]:.1f}", f"{result[2]:.1f}")
                    if result
                    else ("not reached", "-", "-")
                )
                load = f"{os.getloadavg()[0]:.1f}"
                print(f"| {task} | {seed} | {side} | {' | '.join(cells)} | {load} |", flush=True)
    print("\n| task | side | reached | median steps | median wall s | median CPU s |"
          " wall ratio vs sb3 | CPU ratio vs sb3 |")  # fmt: skip
    print("|---|---|---|---|---|---|---|---|")
    for task in TASK_NAMES:
        base = [median([r[k] for r in results.get((task, "sb3"), []) if r]) for k in (1, 2)]
        for side in SIDES:
            runs = results[(task, side)]
            done = [r for r in runs if r]
            values = [median([r[k] for r in done]) for k in (0, 1, 2)]
            cells = ["n/a" if v is None else f"{v:.{0 if k == 0 else 1}f}"
                     for k, v in enumerate(values)]  # fmt: skip
            ratios = [
                f"{v / b:.2f}" if v and b else "n/a" for v, b in zip(values[1:], base, strict=True)
            ]
            print(f"| {task} | {side} | {len(done)}/{len(runs)} | {' | '.join(cells + ratios)} |")


if __name__ == "__main__":
    main()
