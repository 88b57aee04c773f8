"""MAML and Reptile vs a jointly pretrained network on the MAML paper's sinusoid regression.

For K = 5 and 10: meta-train MAML (one inner step, α = 0.01, Adam 1e-3) and Reptile (5 inner
SGD steps of 0.02, ε = 0.5), pretrain the same 2x40 ReLU MLP on all tasks' points, then
fine-tune each with 0-10 SGD steps on K points of 100 held-out tasks (the baseline with the
best of several step sizes) and report the query MSE after each step: a Markdown table and a
PNG in the style of Finn et al. (2017), Figure 2.

Run: `.venv/bin/python -m benchmarks.bench_sinusoid [--iterations 5000] [--plot PATH]`
"""

from __future__ import annotations

import argparse
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from zoo.meta.sinusoid import compare_on_sinusoids  # noqa: E402

SHOWN_STEPS = (0, 1, 2, 5, 10)
PRETRAINED_LRS = (0.001, 0.01, 0.02, 0.05)


def plot(results: dict[int, dict], path: str) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axes = plt.subplots(1, len(results), figsize=(5 * len(results), 3.5), squeeze=False)
    for axis, (k_shot, curves) in zip(axes[0], results.items(), strict=True):
        for name, curve in curves.items():
            axis.plot(range(len(curve)), curve, marker="o", label=name)
        axis.set_title(f"sinusoid regression, K={k_shot}")
        axis.set_xlabel("fine-tuning gradient steps")
        axis.set_ylabel("query MSE (100 test tasks)")
        axis.grid(alpha=0.3)
        axis.legend()
    figure.tight_layout()
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return path


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=5000, help="outer iterations")
    parser.add_argument("--tasks-per-step", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", default="artifacts/bench_sinusoid.png")
    args = parser.parse_args(argv)

    results = {}
    for k_shot in (5, 10):
        start = time.perf_counter()
        results[k_shot] = compare_on_sinusoids(
            k_shot=k_shot,
            iterations=args.iterations,
            tasks_per_step=args.tasks_per_step,
            seed=args.seed,
            pretrained_lrs=PRETRAINED_LRS,
        )
        print(f"K={k_shot}: {time.perf_counter() - start:.0f}s", flush=True)

    print(
        f"\n{args.iterations} outer iterations of {args.tasks_per_step} tasks each, seed "
        f"{args.seed}; query MSE on 100 held-out tasks after n SGD steps (α = 0.01 for MAML and "
        f"Reptile, the best of {PRETRAINED_LRS} for the pretrained baseline)\n"
    )
    print("| K | method | " + " | ".join(f"{n} steps" for n in SHOWN_STEPS) + " |")
    print("|---|---|" + "---|" * len(SHOWN_STEPS))
    for k_shot, curves in results.items():
        for name, curve in curves.items():
            cells = " | ".join(f"{curve[n]:.3f}" for n in SHOWN_STEPS)
            print(f"| {k_shot} | {name} | {cells} |")
    print(f"\nplot: {plot(results, args.plot)}")


if __name__ == "__main__":
    main()
