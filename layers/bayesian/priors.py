"""Weight priors for the Bayesian layers, and the KL divergence of a posterior from each."""

from __future__ import annotations

import math
from collections.abc import Callable

import keras
import tensorflow_probability as tfp
from keras import ops

from layers.validation import check_positive_float, check_unit_interval

tfd = tfp.distributions


class Prior:
    """Base class of the weight priors: a distribution and the KL of a posterior from it.

    Subclasses define `distribution()` and, where TFP knows a closed form, leave
    `kl_divergence` as is; otherwise they override it with a sampled estimate.
    """

    def distribution(self) -> tfd.Distribution:
        """The prior over one weight (a scalar distribution broadcast over a whole kernel)."""
        raise NotImplementedError

    def kl_divergence(self, loc, scale, sample_noise: Callable) -> keras.KerasTensor:
        """`KL(N(loc, scale) || prior)` summed over every weight, in float32.

        Args:
            loc: posterior means, float32.
            scale: posterior standard deviations, float32, same shape.
            sample_noise: `shape -> standard normal draws`; used by priors without a closed
                form.
        """
        posterior = tfd.Normal(loc, scale)
        return ops.sum(tfd.kl_divergence(posterior, self.distribution()))

    def get_config(self) -> dict:
        raise NotImplementedError

    @classmethod
    def from_config(cls, config: dict) -> Prior:
        return cls(**config)

    def __repr__(self) -> str:
        arguments = ", ".join(f"{k}={v!r}" for k, v in self.get_config().items())
        return f"{type(self).__name__}({arguments})"


@keras.saving.register_keras_serializable(package="keras_zoo")
class NormalPrior(Prior):
    """A Gaussian prior `N(loc, scale^2)` on every weight; the KL has a closed form.

    Args:
        loc: prior mean. Defaults to `0.0`.
        scale: prior standard deviation, positive. Defaults to `1.0` (the standard normal).

    Example:

    ```python
    layer = DenseFlipout(16, prior=NormalPrior(scale=0.5), kl_weight=1 / 60_000)
    ```
    """

    def __init__(self, loc: float = 0.0, scale: float = 1.0):
        if isinstance(loc, bool) or not isinstance(loc, int | float) or not math.isfinite(loc):
            raise ValueError(f"`loc` must be a finite number. Received: loc={loc!r}")
        self.loc = float(loc)
        self.scale = check_positive_float("scale", scale)

    def distribution(self) -> tfd.Distribution:
        return tfd.Normal(self.loc, self.scale)

    def get_config(self) -> dict:
        return {"loc": self.loc, "scale": self.scale}


@keras.saving.register_keras_serializable(package="keras_zoo")
class ScaleMixturePrior(Prior):
    """The scale-mixture prior of Blundell et al.: `pi N(0, s1^2) + (1 - pi) N(0, s2^2)`.

    A wide component (`scale_1`) and a narrow one (`scale_2 << 1`) give a heavy-tailed prior
    that pulls many weights close to zero. The KL from a Gaussian posterior has no closed form,
    so each call estimates it with one reparameterised sample `w ~ q`:
    `log q(w) - log p(w)` (unbiased, and differentiable through `w`).

    Args:
        mixture_weight: `pi`, the weight of the first component, in `(0, 1)`. Defaults to `0.5`.
        scale_1: standard deviation of the first (wide) component. Defaults to `1.0`.
        scale_2: standard deviation of the second (narrow) component. Defaults to
            `exp(-6) ~= 0.00248` (the paper's grid is `-log scale_2` in `{6, 7, 8}`).

    Example:

    ```python
    layer = DenseReparameterization(16, prior=ScaleMixturePrior(0.25, 1.0, math.exp(-7)))
    ```

    Reference:
        Blundell, Cornebise, Kavukcuoglu and Wierstra, "Weight Uncertainty in Neural Networks",
        ICML 2015, section 3.3. https://arxiv.org/abs/1505.05424
    """

    def __init__(
        self,
        mixture_weight: float = 0.5,
        scale_1: float = 1.0,
        scale_2: float = math.exp(-6.0),
    ):
        self.mixture_weight = check_unit_interval(
            "mixture_weight", mixture_weight, include_low=False, include_high=False
        )
        self.scale_1 = check_positive_float("scale_1", scale_1)
        self.scale_2 = check_positive_float("scale_2", scale_2)

    def distribution(self) -> tfd.Distribution:
        return tfd.MixtureSameFamily(
            mixture_distribution=tfd.Categorical(
                probs=[self.mixture_weight, 1.0 - self.mixture_weight]
            ),
            components_distribution=tfd.Normal(loc=[0.0, 0.0], scale=[self.scale_1, self.scale_2]),
        )

    def kl_divergence(self, loc, scale, sample_noise: Callable) -> keras.KerasTensor:
        weights = loc + scale * sample_noise(ops.shape(loc))
        log_posterior = tfd.Normal(loc, scale).log_prob(weights)
        return ops.sum(log_posterior - self.distribution().log_prob(weights))

    def get_config(self) -> dict:
        return {
            "mixture_weight": self.mixture_weight,
            "scale_1": self.scale_1,
            "scale_2": self.scale_2,
        }


_NAMED_PRIORS = {"normal": NormalPrior, "scale_mixture": ScaleMixturePrior}


def get_prior(identifier) -> Prior:
    """Returns a `Prior` from `None`, a name, a serialised config or a `Prior` instance.

    Args:
        identifier: `None` or `"normal"` (the standard normal), `"scale_mixture"` (Blundell et
            al.'s defaults), a dict from `keras.saving.serialize_keras_object(prior)`, or a
            `Prior`.
    """
    if identifier is None:
        return NormalPrior()
    if isinstance(identifier, Prior):
        return identifier
    if isinstance(identifier, str) and identifier in _NAMED_PRIORS:
        return _NAMED_PRIORS[identifier]()
    if isinstance(identifier, dict):
        prior = keras.saving.deserialize_keras_object(identifier)
        if isinstance(prior, Prior):
            return prior
    raise ValueError(
        f"`prior` must be None, one of {sorted(_NAMED_PRIORS)}, a Prior or a serialised Prior. "
        f"Received: prior={identifier!r}"
    )
