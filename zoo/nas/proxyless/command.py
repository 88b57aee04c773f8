"""`zoo nas search proxyless`: search, derive, and measure the found network's latency."""

from __future__ import annotations

import json
import os

import numpy as np

from zoo.nas.latency import measure_model_latency, predict_latency

STATE_FILE = "proxyless_state.npz"

# The digits search space of the command and of BENCHMARKS.md (16x16 upscaled digits).
DIGITS_PROXYLESS = dict(
    input_shape=(16, 16, 1),
    num_classes=10,
    stem_channels=8,
    stage_channels=(16, 24, 32),
    stage_depths=(2, 2, 2),
    stage_strides=(1, 2, 2),
    head_channels=64,
)


def latency_range(supernet, table: dict) -> tuple[float, float]:
    """The lowest and highest predicted latency of any path through `supernet`, in ms."""
    fixed = predict_latency([supernet._stem_spec(), supernet._head_spec()], table)
    per_block = [
        [predict_latency([spec], table) for spec in supernet.candidate_specs(b)]
        for b in range(len(supernet.paths))
    ]
    return fixed + sum(min(c) for c in per_block), fixed + sum(max(c) for c in per_block)


def proxyless_search_command(
    output: str,
    target_ms: float,
    data: str = "digits",
    table: str | None = None,
    epochs: int = 5,
    warmup_epochs: int = 1,
    seed: int = 0,
    verbose: int = 1,
) -> dict:
    """Searches the digits space under `target_ms`, writes `proxyless.json` and the derived
    `proxyless_model.keras` to `output`, and measures the derived model with TFLite.

    The search's state is saved to `output/proxyless_state.npz` after every epoch; a rerun
    with the same `output` and settings resumes from it (a larger `epochs` extends it).

    Raises:
        ValueError: `target_ms` is below the fastest path's predicted latency (the error names
            both).

    Returns:
        A summary dict: the found paths, predicted and measured latency, the budget.
    """
    from zoo.nas.ofa.command import table_for
    from zoo.nas.ofa.data import load_search_data
    from zoo.nas.proxyless.search import proxyless_search
    from zoo.nas.proxyless.supernet import ProxylessSupernet

    os.makedirs(output, exist_ok=True)
    supernet = ProxylessSupernet(**DIGITS_PROXYLESS)
    latency = table_for(
        supernet, table or os.path.join(output, "latency_table.json"), verbose=verbose
    )
    low, _ = latency_range(supernet, latency)
    if target_ms < low:
        raise ValueError(
            f"No path meets the latency budget: the fastest path's predicted latency is "
            f"{low:.4f} ms. Received: target_ms={target_ms}"
        )
    train, validation = load_search_data(data, DIGITS_PROXYLESS["input_shape"][0], seed=seed)
    result = proxyless_search(
        supernet,
        train,
        validation,
        latency,
        target_ms,
        epochs=epochs,
        warmup_epochs=warmup_epochs,
        seed=seed,
        verbose=verbose,
        state_path=os.path.join(output, STATE_FILE),
    )
    model = supernet.derive(result.paths)
    model_path = os.path.join(output, "proxyless_model.keras")
    model.save(model_path)
    logits = model.predict(validation[0], verbose=0)
    summary = {
        "paths": list(result.names),
        "budget_ms": target_ms,
        "predicted_latency_ms": result.predicted_latency_ms,
        "measured_latency_ms": measure_model_latency(model),
        "supernet_validation_accuracy": float(np.mean(np.argmax(logits, -1) == validation[1])),
        "model": model_path,
    }
    with open(os.path.join(output, "proxyless.json"), "w", encoding="utf-8") as f:
        json.dump(summary, f, indent=1)
    return summary


def add_arguments(p) -> None:
    """The options of `zoo nas search proxyless`."""
    from zoo.cli.arguments import non_negative_int, positive_float, positive_int

    p.add_argument(
        "--output",
        required=True,
        help="directory for the table, the search state and the model; a rerun resumes",
    )
    p.add_argument("--target-ms", type=positive_float("target_ms"), required=True)
    p.add_argument("--data", default="digits", help="'digits' or a TFRecord PATTERN")
    p.add_argument("--table", help="a latency table (measured into --output when missing)")
    p.add_argument("--epochs", type=positive_int("epochs"), default=5)
    p.add_argument("--warmup-epochs", type=non_negative_int("warmup_epochs"), default=1)
    p.add_argument("--seed", type=int, default=0)


def run(args) -> int:
    """Runs `zoo nas search proxyless`; prints the summary."""
    summary = proxyless_search_command(
        args.output,
        args.target_ms,
        data=args.data,
        table=args.table,
        epochs=args.epochs,
        warmup_epochs=args.warmup_epochs,
        seed=args.seed,
    )
    print(json.dumps(summary, indent=1))
    return 0
