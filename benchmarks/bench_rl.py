"""PPO on CartPole-v1 (target 475) and SAC on Pendulum-v1 (target -200) versus stable-baselines3.

Reports environment steps, training wall-clock seconds and training CPU seconds (the process's
user + system time, less sensitive than wall time to other jobs on a shared machine) to the
target, evaluated every 4,096 (PPO) / 1,000 (SAC) steps on 10 deterministic episodes, fresh each
time and seeded alike on both sides (evaluation time excluded from both clocks). SB3 runs in its
own venv (`SB3_PYTHON`, made by `make bench-rl`) with rl-baselines3-zoo's tuned hyperparameters,
which our defaults copy.

Both sides run with `RL_THREADS` intra-op threads (default 1: on a small MLP one thread is the
fastest setting for both frameworks, and it keeps the comparison fair on a shared machine); the
two sides alternate seed by seed so they see the same machine load.

Run: `.venv/bin/python -m benchmarks.bench_rl` (env `RL_SEEDS=0,1,2`, `RL_ALGOS=ppo,sac`).
"""

from __future__ import annotations

import json
import os
import subprocess
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

SEEDS = tuple(int(s) for s in os.environ.get("RL_SEEDS", "0").split(","))
ALGOS = tuple(os.environ.get("RL_ALGOS", "ppo,sac").split(","))
THREADS = int(os.environ.get("RL_THREADS", "1"))
EVAL_SEED = 1_000_000  # evaluation episodes are seeded EVAL_SEED + step, on both sides
SB3_PYTHON = os.environ.get("SB3_PYTHON", ".venv-sb3/bin/python")
TASKS = {
    "ppo": ("CartPole-v1", 475.0, 100_000, 4_096),
    "sac": ("Pendulum-v1", -200.0, 20_000, 1_000),
}

SB3_SCRIPT = r"""
import json, sys, time
import gymnasium as gym
from stable_baselines3 import PPO, SAC
from stable_baselines3.common.callbacks import BaseCallback
from stable_baselines3.common.env_util import make_vec_env
from stable_baselines3.common.evaluation import evaluate_policy
from stable_baselines3.common.vec_env import DummyVecEnv

import torch

algo, env_id, target, budget, every, seed, threads = sys.argv[1:8]
EVAL_SEED = 1_000_000
target, budget, every, seed = float(target), int(budget), int(every), int(seed)
torch.set_num_threads(int(threads))


class ToTarget(BaseCallback):
    def __init__(self):
        super().__init__()
        self.next_eval, self.eval_seconds, self.eval_cpu, self.result = every, 0.0, 0.0, None

    def _on_step(self):
        if self.num_timesteps < self.next_eval:
            return True
        start, start_cpu = time.perf_counter(), time.process_time()
        evaluation = DummyVecEnv([lambda: gym.make(env_id)])
        evaluation.seed(EVAL_SEED + self.next_eval)  # fresh episodes, seeded, every evaluation
        mean, _ = evaluate_policy(self.model, evaluation, n_eval_episodes=10)
        self.eval_seconds += time.perf_counter() - start
        self.eval_cpu += time.process_time() - start_cpu
        if mean >= target:
            self.result = [
                self.num_timesteps,
                time.perf_counter() - t0 - self.eval_seconds,
                time.process_time() - c0 - self.eval_cpu,
            ]
            return False
        self.next_eval += every
        return True


if algo == "ppo":  # rl-baselines3-zoo ppo.yml CartPole-v1
    model = PPO("MlpPolicy", make_vec_env(env_id, 8, seed=seed), n_steps=32, batch_size=256,
                gae_lambda=0.8, gamma=0.98, n_epochs=20, ent_coef=0.0,
                learning_rate=lambda p: 1e-3 * p, clip_range=lambda p: 0.2 * p, seed=seed,
                device="cpu")
else:  # rl-baselines3-zoo sac.yml Pendulum-v1
    model = SAC("MlpPolicy", env_id, learning_rate=1e-3, seed=seed, device="cpu")
callback = ToTarget()
t0, c0 = time.perf_counter(), time.process_time()
model.learn(budget, callback=callback)
print(json.dumps(callback.result))
"""


def ours(algo: str, seed: int):
    from zoo.rl import PPO, SAC

    env_id, target, budget, every = TASKS[algo]
    agent = (PPO if algo == "ppo" else SAC)(env_id, seed=seed, verbose=0)
    state = {"next": every, "eval_seconds": 0.0, "eval_cpu": 0.0, "result": None}

    def to_target(agent) -> bool:
        if agent.num_timesteps < state["next"]:
            return True
        start, start_cpu = time.perf_counter(), time.process_time()
        # Fresh, seeded evaluation episodes each time, as on the SB3 side.
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


def sb3(algo: str, seed: int):
    if not os.path.exists(SB3_PYTHON):
        return None
    env_id, target, budget, every = TASKS[algo]
    args = [SB3_PYTHON, "-c", SB3_SCRIPT, algo, env_id, str(target), str(budget), str(every)]
    args += [str(seed), str(THREADS)]
    out = subprocess.run(args, capture_output=True, text=True, check=True).stdout
    return json.loads(out.strip().splitlines()[-1])


def _median(values: list[float]) -> float | None:
    return float(sorted(values)[len(values) // 2]) if values else None


def _ratio(a, b) -> str:
    return f"{a / b:.2f}" if a is not None and b else "n/a"


def main() -> None:
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(THREADS)
    tf.config.threading.set_inter_op_parallelism_threads(THREADS)
    if not os.path.exists(SB3_PYTHON):
        print(f"{SB3_PYTHON} not found (run `make bench-rl`): SB3 columns are empty.")
    print(
        "| algo | env | seed | ours steps | ours s | ours CPU s | SB3 steps | SB3 s | SB3 CPU s "
        "| s ratio | CPU ratio |"
    )
    print("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    results: dict[str, tuple[list, list]] = {}
    for algo in ALGOS:
        for seed in SEEDS:
            a, b = ours(algo, seed), sb3(algo, seed)
            for side, result in zip(results.setdefault(algo, ([], [])), (a, b), strict=True):
                side.append(result)

            def fmt(r):
                return (str(r[0]), f"{r[1]:.1f}", f"{r[2]:.1f}") if r else ("not reached", "-", "-")

            wall = _ratio(a[1], b[1]) if a and b else "n/a"
            cpu = _ratio(a[2], b[2]) if a and b else "n/a"
            print(
                f"| {algo} | {TASKS[algo][0]} | {seed} | {' | '.join(fmt(a))} | "
                f"{' | '.join(fmt(b))} | {wall} | {cpu} |",
                flush=True,
            )

    for algo, (a, b) in results.items():
        failed = [sum(r is None for r in side) for side in (a, b)]
        line = [f"\n{algo}: {len(a)} seeds, not reached: ours {failed[0]}, SB3 {failed[1]}"]
        for name, k in (("seconds", 1), ("CPU seconds", 2), ("steps", 0)):
            ma = _median([r[k] for r in a if r])
            mb = _median([r[k] for r in b if r])
            shown = [f"{m:.1f}" if m is not None else "n/a" for m in (ma, mb)]
            line.append(f"median {name}: ours {shown[0]}, SB3 {shown[1]} ({_ratio(ma, mb)}x)")
        print("\n".join(line), flush=True)


if __name__ == "__main__":
    main()
