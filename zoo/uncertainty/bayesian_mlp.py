"""A Bayesian multi-layer perceptron classifier built from Flipout layers."""

from __future__ import annotations

import keras

from layers.bayesian import DenseFlipout
from layers.validation import check_positive_int, check_positive_ints
from zoo.basic.blocks import feature_input
from zoo.models import Task, check_output_activation
from zoo.uncertainty.flipout_arguments import DIGITS_TRAINING_EXAMPLES, flipout_arguments


@keras.saving.register_keras_serializable(package="keras_zoo")
class BayesianMLP(Task):
    """A Bayesian multi-layer perceptron classifier: every layer is a `DenseFlipout`.

    Every forward pass samples the weights from their Gaussian posteriors, so repeated
    predictions (`zoo.uncertainty.mc_predict`) give the predictive distribution; with
    `deterministic=True` every layer uses its posterior mean. Each layer adds its KL term to
    `model.losses`, scaled by `kl_weight`; the model comes compiled with AdamW and sparse
    categorical cross-entropy, so the training loss is the negative ELBO per example when
    `kl_weight = 1 / num_training_examples`. The model is its own network (no backbone).

    Args:
        input_shape: shape of one example, without the batch axis; inputs of rank > 1 are
            flattened. Defaults to `(64,)`.
        num_classes: number of classes. Defaults to `10`.
        hidden_units: width of each hidden layer. Defaults to `(64,)`.
        activation: hidden activation. Defaults to `"relu"`.
        kl_weight: KL factor of every layer, a number >= 0; set it to
            `1 / num_training_examples`. Defaults to `1 / 1437` (the digits training split).
        prior: weight prior, as in `DenseFlipout`. Defaults to `None` (standard normal).
        posterior_scale_init: initial posterior standard deviation. Defaults to `0.01`.
        deterministic: use posterior means instead of sampling. Defaults to `False`.
        output_activation: `None` for logits or `"softmax"`. Defaults to `None`.
        **kwargs: `name`, `dtype` (a dtype policy such as `"mixed_float16"`; defaults to the
            global policy) and the other `keras.Model` arguments.

    Example:

    ```python
    model = BayesianMLP(kl_weight=1 / len(x_train))
    model.fit(x_train, y_train, epochs=20)
    summary = mc_predict(model, x_test, samples=30, from_logits=True)
    ```

    Reference:
        Blundell et al., "Weight Uncertainty in Neural Networks", ICML 2015; Wen et al.,
        "Flipout", ICLR 2018.
    """

    def __init__(
        self,
        input_shape=(64,),
        num_classes: int = 10,
        hidden_units=(64,),
        activation: str = "relu",
        kl_weight: float = 1.0 / DIGITS_TRAINING_EXAMPLES,
        prior=None,
        posterior_scale_init: float = 0.01,
        deterministic: bool = False,
        output_activation: str | None = None,
        **kwargs,
    ):
        input_shape = check_positive_ints("input_shape", input_shape)
        hidden_units = check_positive_ints("hidden_units", hidden_units)
        check_positive_int("num_classes", num_classes)
        check_output_activation(output_activation)
        bayesian = flipout_arguments(kl_weight, prior, posterior_scale_init, deterministic)
        dtype = self.dtype_policy_from(kwargs)

        inputs, x = feature_input(input_shape, dtype)
        for i, units in enumerate(hidden_units):
            x = DenseFlipout(
                units, activation=activation, name=f"hidden_{i}", dtype=dtype, **bayesian
            )(x)
        outputs = DenseFlipout(
            num_classes, activation=output_activation, name="logits", dtype="float32", **bayesian
        )(x)
        super().__init__(inputs=inputs, outputs=outputs, dtype=dtype, **kwargs)
        self.input_shape_ = input_shape
