"""Deep ensembles: independently trained members whose predictions are mixed."""

from __future__ import annotations

import json
import os
from collections.abc import Callable

import keras
import numpy as np

from layers.validation import (
    check_bool,
    check_choice,
    check_non_negative_int,
    check_positive_float,
    check_positive_int,
)
from zoo.uncertainty.adversarial import FGSMTrainer
from zoo.uncertainty.gaussian import has_gaussian_head, split_mean_variance
from zoo.uncertainty.mc_predict import TASKS
from zoo.uncertainty.summaries import (
    PredictiveSummary,
    summarize_classification,
    summarize_regression,
    to_probabilities,
)

MANIFEST = "ensemble.json"
_FORMAT_VERSION = 1


class DeepEnsemble:
    """An ensemble of independently initialised and trained models (Lakshminarayanan et al.).

    `build_fn()` returns a fresh compiled model; member `i` is built and trained after
    `keras.utils.set_random_seed(seed + i)`, so members differ in initialisation and data order
    and the run is reproducible. With `adversarial_epsilon` each member also trains on
    fast-gradient-sign adversarial inputs, as in the paper. `predict` returns the mixture's
    mean and variance: for classification the average of the members' class probabilities and
    their variance; for regression members with a `GaussianHead` (train them with
    `GaussianNLL`) the moment-matched Gaussian mixture, `mu* = mean(mu_i)` and
    `var* = mean(var_i + mu_i^2) - mu*^2`; for plain regression members the variance of their
    predictions.

    Args:
        build_fn: a callable with no arguments returning a compiled `keras.Model`, or `None`
            when the members are given (see `load`).
        members: number of members, a positive integer. Defaults to `5`.
        task: `"classification"` or `"regression"`. Defaults to `"classification"`.
        from_logits: classification members output logits. Defaults to `False`.
        adversarial_epsilon: FGSM step size for adversarial training, in input units, or
            `None` for plain training. Defaults to `None`.
        seed: seed of the first member, an integer >= 0; member `i` uses `seed + i`.
            Defaults to `0`.

    Example:

    ```python
    def build():
        model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(50, activation="relu"),
                                  GaussianHead(1)])
        model.compile(keras.optimizers.Adam(0.01), loss=GaussianNLL())
        return model

    ensemble = DeepEnsemble(build, members=5, task="regression", adversarial_epsilon=0.01)
    ensemble.fit(x, y, epochs=40, verbose=0)
    mean, variance = ensemble.predict(x_test)
    ensemble.save("ensemble_dir")
    ensemble = DeepEnsemble.load("ensemble_dir")
    ```

    Reference:
        Lakshminarayanan, Pritzel and Blundell, "Simple and Scalable Predictive Uncertainty
        Estimation using Deep Ensembles", NeurIPS 2017. https://arxiv.org/abs/1612.01474
    """

    def __init__(
        self,
        build_fn: Callable[[], keras.Model] | None,
        members: int = 5,
        task: str = "classification",
        from_logits: bool = False,
        adversarial_epsilon: float | None = None,
        seed: int = 0,
    ):
        if build_fn is not None and not callable(build_fn):
            raise TypeError(f"`build_fn` must be callable. Received: build_fn={build_fn!r}")
        check_positive_int("members", members)
        check_choice("task", task, TASKS)
        check_bool("from_logits", from_logits)
        check_positive_float("adversarial_epsilon", adversarial_epsilon, allow_none=True)
        check_non_negative_int("seed", seed)  # `keras.utils.set_random_seed` takes no negatives
        self.build_fn = build_fn
        self.num_members = members
        self.task = task
        self.from_logits = from_logits
        self.adversarial_epsilon = adversarial_epsilon
        self.seed = seed
        self.members: list[keras.Model] = []

    def build(self) -> list[keras.Model]:
        """Builds the members (each after seeding with `seed + i`)."""
        if self.build_fn is None:
            raise ValueError("This ensemble has no `build_fn`; it can only predict and save.")
        self.members = []
        for i in range(self.num_members):
            keras.utils.set_random_seed(self.seed + i)
            model = self.build_fn()
            if not isinstance(model, keras.Model) or not model.compiled:
                raise TypeError(
                    f"`build_fn` must return a compiled keras.Model. Received: {model!r}"
                )
            self.members.append(model)
        return self.members

    def fit(self, x, y, **fit_kwargs) -> list[keras.callbacks.History]:
        """Builds (if needed) and trains every member with `model.fit(x, y, **fit_kwargs)`.

        Returns:
            One `History` per member.
        """
        if not self.members:
            self.build()
        histories = []
        for i, model in enumerate(self.members):
            keras.utils.set_random_seed(self.seed + i)
            trainer = model
            if self.adversarial_epsilon is not None:
                trainer = FGSMTrainer(model, self.adversarial_epsilon)
            histories.append(trainer.fit(x, y, **fit_kwargs))
        return histories

    def predict_samples(self, x, batch_size: int = 256):
        """Each member's prediction, stacked: `(members, n, ...)`.

        For Gaussian-head members, returns `(means, variances)`.
        """
        if not self.members:
            raise ValueError("The ensemble has no members yet; call `fit` or `load` first.")
        outputs = np.stack(
            [m.predict(x, batch_size=batch_size, verbose=0) for m in self.members]
        ).astype("float64")
        if self.task == "regression" and has_gaussian_head(self.members[0]):
            return split_mean_variance(outputs)
        return outputs

    def predict_distribution(self, x, batch_size: int = 256) -> PredictiveSummary:
        """The full `PredictiveSummary`: adds entropy and mutual information for classification."""
        outputs = self.predict_samples(x, batch_size)
        if self.task == "classification":
            return summarize_classification(to_probabilities(outputs, self.from_logits))
        if isinstance(outputs, tuple):
            return summarize_regression(*outputs)
        return summarize_regression(outputs)

    def predict(self, x, batch_size: int = 256) -> tuple[np.ndarray, np.ndarray]:
        """The mixture's `(mean, variance)` (see the class description)."""
        summary = self.predict_distribution(x, batch_size)
        return summary.mean, summary.variance

    def save(self, directory: str) -> str:
        """Writes `member_<i>.keras` files and an `ensemble.json` manifest into `directory`."""
        if not self.members:
            raise ValueError("The ensemble has no members yet; call `fit` first.")
        os.makedirs(directory, exist_ok=True)
        files = []
        for i, model in enumerate(self.members):
            name = f"member_{i}.keras"
            model.save(os.path.join(directory, name))
            files.append(name)
        manifest = {
            "format_version": _FORMAT_VERSION,
            "members": files,
            "task": self.task,
            "from_logits": self.from_logits,
            "adversarial_epsilon": self.adversarial_epsilon,
            "seed": self.seed,
        }
        with open(os.path.join(directory, MANIFEST), "w") as f:
            json.dump(manifest, f, indent=2)
        return directory

    @classmethod
    def load(cls, directory: str, build_fn: Callable[[], keras.Model] | None = None):
        """Loads an ensemble written by `save` (members come back compiled)."""
        path = os.path.join(directory, MANIFEST)
        if not os.path.isfile(path):
            raise FileNotFoundError(
                f"No {MANIFEST} in the ensemble directory. Received: directory={directory!r}"
            )
        with open(path) as f:
            manifest = json.load(f)
        if manifest.get("format_version") != _FORMAT_VERSION:
            raise ValueError(
                f"Unsupported ensemble format. Received: format_version="
                f"{manifest.get('format_version')!r}"
            )
        ensemble = cls(
            build_fn,
            members=len(manifest["members"]),
            task=manifest["task"],
            from_logits=manifest["from_logits"],
            adversarial_epsilon=manifest["adversarial_epsilon"],
            seed=manifest["seed"],
        )
        ensemble.members = [
            keras.saving.load_model(os.path.join(directory, name)) for name in manifest["members"]
        ]
        return ensemble
