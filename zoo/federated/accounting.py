"""Privacy accounting for DP-SGD with dp-accounting: epsilon for delta, and a budget callback.

Each DP-SGD step is a Poisson-sampled Gaussian mechanism (`PoissonSampledDpEvent` of a
`GaussianDpEvent`); `steps` of them are a `SelfComposedDpEvent`. dp-accounting's RDP accountant
(Mironov 2017, https://arxiv.org/abs/1702.07476) or PLD accountant (Koskela et al. 2020; Doroshenko
et al. 2022, https://arxiv.org/abs/2207.04380) turns that event into epsilon for a given delta.
"""

from __future__ import annotations

import functools
import math

import dp_accounting
import keras
import numpy as np
from dp_accounting import pld, rdp

from layers.validation import check_choice, check_finite_number_above, check_non_negative_int

ACCOUNTANTS = ("rdp", "pld")


def _check_probability(name: str, value, *, include_high: bool) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or not (0 < value < 1 or (include_high and value == 1)):
        interval = "(0, 1]" if include_high else "(0, 1)"
        raise ValueError(f"`{name}` must be a number in {interval}. Received: {name}={value!r}")
    return float(value)


def dp_sgd_event(
    noise_multiplier: float, sampling_rate: float, steps: int
) -> dp_accounting.DpEvent:
    """The `DpEvent` of `steps` DP-SGD steps with Poisson sampling at `sampling_rate`."""
    noise_multiplier = check_finite_number_above(
        "noise_multiplier", noise_multiplier, 0.0, inclusive=False
    )
    sampling_rate = _check_probability("sampling_rate", sampling_rate, include_high=True)
    steps = check_non_negative_int("steps", steps, allow_numpy=True)
    step = dp_accounting.PoissonSampledDpEvent(
        sampling_rate, dp_accounting.GaussianDpEvent(noise_multiplier)
    )
    return dp_accounting.SelfComposedDpEvent(step, int(steps))


@functools.lru_cache(maxsize=64)
def _rdp_curve(noise_multiplier: float, sampling_rate: float, orders: tuple | None = None):
    """`(orders, RDP of one step at each order)`: the expensive part, linear in the steps.

    dp-accounting's `RdpAccountant` composes `steps` steps as `steps` times this curve; computing
    it once lets `PrivacyBudget` search over step counts cheaply.
    """
    ledger = rdp.RdpAccountant(list(orders) if orders is not None else None)
    ledger.compose(dp_sgd_event(noise_multiplier, sampling_rate, 1))
    return np.asarray(ledger._orders, dtype=float), np.asarray(ledger._rdp, dtype=float)


def compute_epsilon(
    noise_multiplier: float,
    sampling_rate: float,
    steps: int,
    delta: float,
    accountant: str = "rdp",
) -> float:
    """Epsilon of DP-SGD after `steps` steps, for `delta`, from dp-accounting.

    Args:
        noise_multiplier: the Gaussian noise's standard deviation over the clipping norm (> 0).
        sampling_rate: the probability that an example is in a step's batch, e.g.
            `batch_size / num_examples` (in (0, 1]).
        steps: the number of steps taken (>= 0).
        delta: the delta of (epsilon, delta)-DP (in (0, 1)).
        accountant: `"rdp"` (Rényi DP, dp-accounting's default orders and its tight RDP-to-DP
            conversion) or `"pld"` (privacy loss distributions: tighter, slower). Defaults to
            `"rdp"`.

    Returns:
        Epsilon (0.0 for no steps).

    Example:

    ```python
    compute_epsilon(1.1, 256 / 60000, 60 * 60000 // 256, 1e-5)  # about 2.6 (RDP)
    ```
    """
    event = dp_sgd_event(noise_multiplier, sampling_rate, steps)
    delta = _check_probability("delta", delta, include_high=False)
    check_choice("accountant", accountant, ACCOUNTANTS)
    if steps == 0:
        return 0.0
    if accountant == "rdp":
        orders, curve = _rdp_curve(float(noise_multiplier), float(sampling_rate))
        return float(rdp.compute_epsilon(orders, curve * int(steps), delta)[0])
    ledger = pld.PLDAccountant()
    ledger.compose(event)
    return float(ledger.get_epsilon(delta))


def classic_rdp_epsilon(
    noise_multiplier: float, sampling_rate: float, steps: int, delta: float, orders=None
) -> float:
    """Epsilon from the RDP curve by Mironov's original conversion (2017, Proposition 3).

    `min_a RDP(a) + log(1 / delta) / (a - 1)`: what TF Privacy's `compute_dp_sgd_privacy`
    printed until 2020, so the figures published with it can be reproduced. It is looser than
    `compute_epsilon(..., accountant="rdp")`.

    Args:
        noise_multiplier, sampling_rate, steps, delta: as for `compute_epsilon`.
        orders: the Rényi orders. Defaults to TF Privacy's of that time, 1.1 to 10.9 by 0.1 and
            12 to 63.

    Returns:
        Epsilon.

    Example:

    ```python
    classic_rdp_epsilon(1.1, 256 / 60000, 14063, 1e-5)  # 3.01, TF Privacy's tutorial README
    ```
    """
    dp_sgd_event(noise_multiplier, sampling_rate, steps)  # the argument checks
    delta = _check_probability("delta", delta, include_high=False)
    if orders is None:
        orders = [1 + x / 10 for x in range(1, 100)] + list(range(12, 64))
    orders, curve = _rdp_curve(float(noise_multiplier), float(sampling_rate), tuple(orders))
    return float(np.min(curve * int(steps) + math.log(1 / delta) / (orders - 1)))


@keras.saving.register_keras_serializable(package="keras_zoo")
class PrivacyBudget(keras.callbacks.Callback):
    """Stops DP-SGD training before epsilon exceeds `target_epsilon`, logging epsilon per epoch.

    The steps taken are the optimizer's `iterations` (so a second `fit`, or a reloaded model,
    continues the count). At the start of `fit` the callback finds, with `compute_epsilon`, the
    largest number of steps whose epsilon is at most the target, and stops training (within the
    epoch) when the optimizer reaches it; it raises an error if the budget is already spent.
    Each epoch's `logs["epsilon"]` (also in the `History`) is the epsilon spent so far.

    The accounting assumes Poisson sampling at `sampling_rate`; Keras's shuffled batches are the
    usual stand-in for it (as in TF Privacy's and Opacus's tutorials).

    Args:
        target_epsilon: the budget (> 0).
        delta: the delta of (epsilon, delta)-DP (in (0, 1)).
        sampling_rate: `batch_size / num_examples` (in (0, 1]).
        noise_multiplier: the noise multiplier; defaults to `None`: the model's `DPOptimizer`'s.
        accountant: `"rdp"` or `"pld"`. Defaults to `"rdp"` (the RDP curve of one step is
            computed once, so the search costs milliseconds; each PLD evaluation takes seconds
            and the search at the start of `fit` makes a few dozen).

    Example:

    ```python
    budget = PrivacyBudget(target_epsilon=3.0, delta=1e-5, sampling_rate=256 / len(x))
    model.fit(x, y, batch_size=256, epochs=100, callbacks=[PrivateTraining(), budget])
    ```

    Reference: Abadi et al., "Deep Learning with Differential Privacy", CCS 2016.
    """

    def __init__(
        self,
        target_epsilon: float,
        delta: float,
        sampling_rate: float,
        noise_multiplier: float | None = None,
        accountant: str = "rdp",
    ):
        super().__init__()
        self.target_epsilon = check_finite_number_above(
            "target_epsilon", target_epsilon, 0.0, inclusive=False
        )
        self.delta = _check_probability("delta", delta, include_high=False)
        self.sampling_rate = _check_probability("sampling_rate", sampling_rate, include_high=True)
        if noise_multiplier is not None:
            noise_multiplier = check_finite_number_above(
                "noise_multiplier", noise_multiplier, 0.0, inclusive=False
            )
        self.noise_multiplier = noise_multiplier
        self.accountant = check_choice("accountant", accountant, ACCOUNTANTS)
        self.max_steps = None

    def epsilon(self, steps: int) -> float:
        """Epsilon after `steps` steps."""
        return compute_epsilon(
            self._noise, self.sampling_rate, int(steps), self.delta, self.accountant
        )

    def _model_noise_multiplier(self) -> float:
        from layers.privacy.dp_optimizer import find_dp_optimizer

        optimizer = find_dp_optimizer(getattr(self.model, "optimizer", None))
        if optimizer is None:
            raise ValueError(
                "PrivacyBudget needs `noise_multiplier`, or a model compiled with a DPOptimizer. "
                "Received: noise_multiplier=None"
            )
        return optimizer.noise_multiplier

    def _largest_steps_within_budget(self, start: int) -> int:
        """The largest step count whose epsilon is at most the target (>= start)."""
        low, high = start, max(2 * start, start + 1)
        while self.epsilon(high) <= self.target_epsilon:
            low, high = high, 2 * high
        while high - low > 1:  # epsilon(low) <= target < epsilon(high)
            middle = (low + high) // 2
            if self.epsilon(middle) <= self.target_epsilon:
                low = middle
            else:
                high = middle
        return low

    def _steps_taken(self) -> int:
        return int(keras.ops.convert_to_numpy(self.model.optimizer.iterations))

    def on_train_begin(self, logs=None):
        self._noise = self.noise_multiplier or self._model_noise_multiplier()
        if self._noise <= 0:
            raise ValueError(
                "PrivacyBudget needs noise: with noise_multiplier=0 epsilon is infinite. "
                f"Received: noise_multiplier={self._noise!r}"
            )
        taken = self._steps_taken()
        spent = self.epsilon(taken)
        if spent >= self.target_epsilon or self.epsilon(taken + 1) > self.target_epsilon:
            raise ValueError(
                f"The privacy budget is already spent: after {taken} steps epsilon is "
                f"{spent:.4g} (delta={self.delta:g}), and another step would exceed the target. "
                f"Received: target_epsilon={self.target_epsilon!r}"
            )
        self.max_steps = self._largest_steps_within_budget(taken)

    def on_train_batch_end(self, batch, logs=None):
        if self._steps_taken() >= self.max_steps:
            self.model.stop_training = True

    def on_epoch_end(self, epoch, logs=None):
        if logs is not None:
            logs["epsilon"] = self.epsilon(self._steps_taken())

    @classmethod
    def from_config(cls, config):
        return cls(**config)

    def get_config(self):
        return {
            "target_epsilon": self.target_epsilon,
            "delta": self.delta,
            "sampling_rate": self.sampling_rate,
            "noise_multiplier": self.noise_multiplier,
            "accountant": self.accountant,
        }
