"""A multi-layer perceptron classifier."""

from __future__ import annotations

import keras

from layers.validation import check_positive_int, check_positive_ints, check_rate
from zoo.basic.blocks import feature_input
from zoo.models import Task, check_output_activation, classification_head


@keras.saving.register_keras_serializable(package="keras_zoo")
class MLPClassifier(Task):
    """A multi-layer perceptron classifier for flat feature vectors; its own network.

    Each hidden block is Dense, then the activation, then dropout. The model comes compiled with
    AdamW and sparse categorical cross-entropy (see `zoo.models.Task.compile`).

    Args:
        input_shape: shape of one example, without the batch axis. Inputs of rank > 1 are
            flattened. Defaults to `(64,)` (scikit-learn's 8x8 digits, flattened).
        num_classes: number of classes. Defaults to `10`.
        hidden_units: width of each hidden layer. Defaults to `(128, 64)`.
        activation: hidden activation, any name keras accepts. Defaults to `"relu"`.
        dropout: dropout rate after each hidden layer. Defaults to `0.1`.
        output_activation: `None` for logits or `"softmax"` for probabilities. Defaults to `None`.
        **kwargs: `name`, `dtype` (a dtype policy such as `"mixed_float16"`; defaults to the
            global policy) and the other `keras.Model` arguments.

    Example:

    ```python
    model = MLPClassifier(input_shape=(64,), num_classes=10)
    model.fit(x_train, y_train, epochs=5)
    ```

    Reference:
        Rumelhart, Hinton and Williams, "Learning representations by back-propagating errors",
        Nature 1986; Srivastava et al., "Dropout", JMLR 2014.
    """

    def __init__(
        self,
        input_shape=(64,),
        num_classes: int = 10,
        hidden_units=(128, 64),
        activation: str = "relu",
        dropout: float = 0.1,
        output_activation: str | None = None,
        **kwargs,
    ):
        input_shape = check_positive_ints("input_shape", input_shape)
        check_positive_int("num_classes", num_classes)
        hidden_units = check_positive_ints("hidden_units", hidden_units)
        check_rate("dropout", dropout)
        check_output_activation(output_activation)
        dtype = self.dtype_policy_from(kwargs)

        inputs, x = feature_input(input_shape, dtype)
        for i, units in enumerate(hidden_units):
            x = keras.layers.Dense(units, activation=activation, name=f"hidden_{i}", dtype=dtype)(x)
            if dropout:
                x = keras.layers.Dropout(dropout, name=f"dropout_{i}", dtype=dtype)(x)
        outputs = classification_head(
            x, num_classes, output_activation=output_activation, dtype=dtype
        )
        super().__init__(inputs=inputs, outputs=outputs, dtype=dtype, **kwargs)
        self.input_shape_ = input_shape
