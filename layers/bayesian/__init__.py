"""Bayesian layers for Keras 3: mean-field Gaussian posteriors trained by variational inference.

`tfp.layers` only runs on `tf_keras`; these layers run on Keras 3 and use `tfp.distributions`
for the priors and KL divergences. Every call samples the weights (set `deterministic=True` for
the posterior mean) and adds `kl_weight * KL(q || prior)` to `layer.losses`. Set `kl_weight` to
`1 / N` for `N` training examples (`2 s^2 / N` with `loss="mse"` and noise std `s`): the
training loss is then the negative ELBO per example, `NLL + KL / N`. The default, `1e-4`, is
`1 / N` for `N = 10_000`.
"""

from layers.bayesian.conv import Conv2DFlipout
from layers.bayesian.dense import DenseFlipout, DenseReparameterization
from layers.bayesian.posterior import BayesianLayer
from layers.bayesian.priors import NormalPrior, Prior, ScaleMixturePrior, get_prior

__all__ = [
    "BayesianLayer",
    "Conv2DFlipout",
    "DenseFlipout",
    "DenseReparameterization",
    "NormalPrior",
    "Prior",
    "ScaleMixturePrior",
    "get_prior",
]
