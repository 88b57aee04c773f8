"""The mean-field Gaussian posterior that every Bayesian layer keeps over its weights.

Each weight tensor gets two variables of the same shape: `*_loc`, the posterior mean, and
`*_untransformed_scale`, `rho`, with standard deviation `softplus(rho) + MIN_SCALE` (Blundell et
al.'s parameterisation, which keeps the scale positive without constraints).
"""

from __future__ import annotations

import math

import keras
from keras import ops

from layers.bayesian.priors import get_prior
from layers.validation import check_bool, check_finite_number_above, check_optional_seed

# Keeps the scale away from zero so that log-densities in the KL stay finite.
MIN_SCALE = 1e-6
# The ELBO weight of the KL for N = 10,000 training examples (`1 / N`): see `BayesianLayer`.
DEFAULT_KL_WEIGHT = 1e-4
DEFAULT_POSTERIOR_SCALE = 0.01


def untransformed_scale(scale: float) -> float:
    """The `rho` with `softplus(rho) + MIN_SCALE == scale`."""
    return math.log(math.expm1(scale - MIN_SCALE))


class BayesianLayer(keras.layers.Layer):
    """Shared machinery of the Bayesian layers: posterior variables, sampling and the KL term.

    The posterior variables opt out of Keras' autocasting so that `call` reads them in float32:
    the KL is a sum over every weight and would overflow float16 under `mixed_float16`. The
    sampled weights are cast to the compute dtype once, just before they meet the inputs.

    **The KL weight and the dataset size.** Variational inference maximises the ELBO,
    `E_q[log p(data | w)] - KL(q || prior)`. Keras averages the data loss over the examples of
    a batch and adds `layer.losses` to it, so the training loss is the negative ELBO divided by
    the number of training examples `N`, `mean NLL + KL / N`, exactly when
    `kl_weight = 1 / N`. With `loss="mse"`, which is `2 s^2` times the Gaussian NLL for a noise
    standard deviation `s` (plus a constant), the matching weight is `2 s^2 / N`. A weight far
    above that lets the KL swamp the data term: the posterior falls back to the prior and the
    predictions to noise (a weight of `1.0` does this below millions of examples). The default,
    `1e-4`, is `1 / N` for `N = 10_000`; set your own from the size of your training set.
    """

    def __init__(
        self,
        prior=None,
        kl_weight: float = DEFAULT_KL_WEIGHT,
        posterior_scale_init: float = DEFAULT_POSTERIOR_SCALE,
        deterministic: bool = False,
        seed: int | None = None,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.prior_config = prior
        self.prior = get_prior(prior)
        self.kl_weight = check_finite_number_above("kl_weight", kl_weight, 0.0)
        self.posterior_scale_init = check_finite_number_above(
            "posterior_scale_init", posterior_scale_init, MIN_SCALE, inclusive=False
        )
        self.deterministic = check_bool("deterministic", deterministic)
        self.seed = check_optional_seed("seed", seed)
        self.seed_generator = keras.random.SeedGenerator(seed)

    def add_posterior(self, name: str, shape, loc_initializer) -> None:
        """Creates `{name}_loc` and `{name}_untransformed_scale` of `shape`."""
        setattr(
            self,
            f"{name}_loc",
            self.add_weight(
                name=f"{name}_loc", shape=shape, initializer=loc_initializer, autocast=False
            ),
        )
        rho = keras.initializers.Constant(untransformed_scale(self.posterior_scale_init))
        setattr(
            self,
            f"{name}_untransformed_scale",
            self.add_weight(
                name=f"{name}_untransformed_scale", shape=shape, initializer=rho, autocast=False
            ),
        )

    def posterior(self, name: str):
        """`(loc, scale)` of the posterior over weight `name`, float32."""
        loc = ops.convert_to_tensor(getattr(self, f"{name}_loc"))
        rho = ops.convert_to_tensor(getattr(self, f"{name}_untransformed_scale"))
        return loc, ops.softplus(rho) + MIN_SCALE

    def normal(self, shape, dtype: str = "float32"):
        return keras.random.normal(shape, dtype=dtype, seed=self.seed_generator)

    def rademacher(self, shape, dtype: str):
        """Random signs, +1 or -1 with equal probability."""
        bits = keras.random.randint(shape, 0, 2, dtype="int32", seed=self.seed_generator)
        return ops.cast(2 * bits - 1, dtype)

    def use_mean(self, deterministic: bool | None) -> bool:
        return self.deterministic if deterministic is None else bool(deterministic)

    def add_kl_loss(self, names) -> None:
        """Adds `kl_weight * sum KL(q || prior)` over the named weights to the layer's losses."""
        total = 0.0
        for name in names:
            loc, scale = self.posterior(name)
            total = total + self.prior.kl_divergence(loc, scale, self.normal)
        self.add_loss(self.kl_weight * total)

    def get_config(self):
        prior = self.prior_config
        if prior is not None and not isinstance(prior, str):
            prior = keras.saving.serialize_keras_object(self.prior)
        return {
            **super().get_config(),
            "prior": prior,
            "kl_weight": self.kl_weight,
            "posterior_scale_init": self.posterior_scale_init,
            "deterministic": self.deterministic,
            "seed": self.seed,
        }
