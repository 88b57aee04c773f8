"""One factory for the learning-rate schedules that `zoo train`, `zoo tune` and the recipes name.

Every schedule peaks at `learning_rate` and spans `total_steps` optimizer steps. The names, defined
here once (`SCHEDULES`), with the options each takes (`OPTIONS`) and their defaults:

- `constant`: `learning_rate`, a float. With `warmup_steps`, `LinearWarmup` from 0 to it.
- `cosine`: keras's `CosineDecay(learning_rate, total_steps, alpha)`, from `learning_rate` to
  `alpha * learning_rate` at `total_steps`; no warmup. Options: `alpha` (0).
- `warmup_cosine`: linear from 0 to `learning_rate` over `warmup_steps`, then cosine down to
  `alpha * learning_rate` at `total_steps` (keras's `CosineDecay` with `warmup_target`; the decay
  lasts `total_steps - warmup_steps`). Without warmup it is `cosine`. Options: `alpha` (0).
- `one_cycle`: `OneCycle` (PyTorch's `OneCycleLR`): a cosine rise from
  `learning_rate / div_factor` over `warmup_steps` (default: 30% of the steps), then a cosine fall
  to `learning_rate / (div_factor * final_div_factor)`. Options: `div_factor` (25),
  `final_div_factor` (1e4).
- `cyclical`: `CyclicalLearningRate` (PyTorch's `CyclicLR`) between `initial_learning_rate` and
  `learning_rate`, `step_size` steps per half cycle; no warmup. Options: `initial_learning_rate`
  (`learning_rate / 10`), `step_size` (`max(1, total_steps // 4)`), `mode` (`"triangular2"`),
  `gamma` (1).
- `linear_warmup_polynomial`: `LinearWarmup` from 0 over keras's `PolynomialDecay` to
  `end_learning_rate` at `total_steps`, passing through `learning_rate` at the end of the warmup.
  With the defaults it is BERT's fine-tuning schedule (Hugging Face's
  `get_linear_schedule_with_warmup`). Options: `end_learning_rate` (0), `power` (1).
"""

from __future__ import annotations

import keras

from layers.schedules.cyclical import CyclicalLearningRate
from layers.schedules.one_cycle import OneCycle
from layers.schedules.warmup import LinearWarmup
from layers.validation import (
    check_choice,
    check_non_negative_float,
    check_non_negative_int,
    check_positive_float,
    check_positive_int,
    check_unit_interval,
)

SCHEDULES = (
    "constant",
    "cosine",
    "warmup_cosine",
    "one_cycle",
    "cyclical",
    "linear_warmup_polynomial",
)
# The names that take `warmup_steps`; `cosine` and `cyclical` have no warmup.
WARMUP_SCHEDULES = ("constant", "warmup_cosine", "one_cycle", "linear_warmup_polynomial")
OPTIONS = {
    "constant": (),
    "cosine": ("alpha",),
    "warmup_cosine": ("alpha",),
    "one_cycle": ("div_factor", "final_div_factor"),
    "cyclical": ("initial_learning_rate", "step_size", "mode", "gamma"),
    "linear_warmup_polynomial": ("end_learning_rate", "power"),
}


def learning_rate_schedule(
    schedule: str,
    learning_rate: float,
    total_steps: int | None = None,
    warmup_steps: int | None = None,
    **options,
) -> float | keras.optimizers.schedules.LearningRateSchedule:
    """The learning rate named `schedule`: a float for `"constant"`, else a serializable schedule.

    The names and their meanings are the table in this module's docstring (`SCHEDULES` lists
    them): `"constant"`, `"cosine"` (keras `CosineDecay`, no warmup), `"warmup_cosine"`,
    `"one_cycle"` (`OneCycle`), `"cyclical"` (`CyclicalLearningRate`, triangular2 between a
    tenth of the rate and the rate) and `"linear_warmup_polynomial"` (`LinearWarmup` over
    `PolynomialDecay`: BERT's and Hugging Face's `get_linear_schedule_with_warmup`).

    Args:
        schedule: a name from `SCHEDULES`.
        learning_rate: the constant rate, or the schedule's peak.
        total_steps: optimizer steps of the whole run (epochs * steps per epoch); needed by
            every schedule but `"constant"`. Defaults to `None`.
        warmup_steps: steps of linear warmup (the rise of `"one_cycle"`), less than
            `total_steps`; only for `WARMUP_SCHEDULES`. `None` takes the schedule's default:
            no warmup, or 30% of the steps for `"one_cycle"`. Defaults to `None`.
        **options: the schedule's own options, from `OPTIONS[schedule]` (see the table).

    Returns:
        A float for `"constant"` without warmup, otherwise a
        `keras.optimizers.schedules.LearningRateSchedule`.

    Example:

    ```python
    rate = learning_rate_schedule("warmup_cosine", 1e-3, total_steps=1000, warmup_steps=100)
    model.compile(optimizer=keras.optimizers.AdamW(rate), loss="mse")
    ```

    Reference:
        Loshchilov and Hutter, "SGDR", ICLR 2017 (cosine); Goyal et al., "Accurate, Large
        Minibatch SGD", 2017 (warmup); Smith and Topin, "Super-Convergence", 2017 (one cycle);
        Smith, "Cyclical Learning Rates", WACV 2017; Devlin et al., "BERT", NAACL 2019.
    """
    check_choice("schedule", schedule, SCHEDULES)
    learning_rate = check_positive_float("learning_rate", learning_rate)
    if total_steps is not None:
        check_positive_int("total_steps", total_steps)
    elif schedule != "constant":
        raise ValueError(
            f"The {schedule!r} schedule needs the number of training steps; pass `total_steps`. "
            f"Received: total_steps=None"
        )
    if warmup_steps is not None:
        _check_warmup(schedule, warmup_steps, total_steps)
    unknown = sorted(set(options) - set(OPTIONS[schedule]))
    if unknown:
        raise ValueError(
            f"schedule={schedule!r} takes the options {list(OPTIONS[schedule])}. "
            f"Received: {unknown[0]}={options[unknown[0]]!r}"
        )
    warmup = warmup_steps or 0
    if schedule == "constant":
        return LinearWarmup(learning_rate, warmup) if warmup else learning_rate
    if schedule in ("cosine", "warmup_cosine"):
        return _cosine(learning_rate, total_steps, warmup, **options)
    if schedule == "one_cycle":
        if warmup_steps is not None:
            options["pct_start"] = warmup_steps / total_steps
        return OneCycle(max_learning_rate=learning_rate, total_steps=total_steps, **options)
    if schedule == "cyclical":
        return _cyclical(learning_rate, total_steps, **options)
    return _linear_warmup_polynomial(learning_rate, total_steps, warmup, **options)


def _check_warmup(schedule: str, warmup_steps, total_steps: int | None) -> None:
    check_non_negative_int("warmup_steps", warmup_steps)
    if warmup_steps and schedule not in WARMUP_SCHEDULES:
        hint = " (use 'warmup_cosine')" if schedule == "cosine" else ""
        raise ValueError(
            f"schedule={schedule!r} has no warmup{hint}; `warmup_steps` must be 0 or None. "
            f"Received: warmup_steps={warmup_steps}"
        )
    if total_steps is not None and warmup_steps >= total_steps:
        raise ValueError(
            f"`warmup_steps` must be less than `total_steps={total_steps}`. "
            f"Received: warmup_steps={warmup_steps}"
        )


def _cosine(learning_rate: float, total_steps: int, warmup: int, alpha: float = 0.0):
    # keras counts its decay steps after the warmup: the whole schedule spans `total_steps`.
    alpha = check_unit_interval("alpha", alpha, include_low=True, include_high=True)
    if not warmup:
        return keras.optimizers.schedules.CosineDecay(learning_rate, total_steps, alpha=alpha)
    return keras.optimizers.schedules.CosineDecay(
        0.0,
        total_steps - warmup,
        alpha=alpha,
        warmup_target=learning_rate,
        warmup_steps=warmup,
    )


def _cyclical(
    learning_rate: float,
    total_steps: int,
    initial_learning_rate: float | None = None,
    step_size: int | None = None,
    mode: str = "triangular2",
    gamma: float = 1.0,
):
    return CyclicalLearningRate(
        initial_learning_rate=(
            learning_rate / 10 if initial_learning_rate is None else initial_learning_rate
        ),
        maximal_learning_rate=learning_rate,
        step_size=max(1, total_steps // 4) if step_size is None else step_size,
        mode=mode,
        gamma=gamma,
    )


def _linear_warmup_polynomial(
    learning_rate: float,
    total_steps: int,
    warmup: int,
    end_learning_rate: float = 0.0,
    power: float = 1.0,
):
    end_learning_rate = check_non_negative_float("end_learning_rate", end_learning_rate)
    power = check_positive_float("power", power)
    # `LinearWarmup` hands over to the decay at `warmup`: start the decay higher so that it
    # passes through `learning_rate` there (BERT's `peak * total / (total - warmup)` at power 1).
    height = (learning_rate - end_learning_rate) * total_steps**power
    start = end_learning_rate + height / (total_steps - warmup) ** power
    decay = keras.optimizers.schedules.PolynomialDecay(
        start, decay_steps=total_steps, end_learning_rate=end_learning_rate, power=power
    )
    return LinearWarmup(decay, warmup) if warmup else decay
