"""A multi-layer perceptron classifier."""

from __future__ import annotations

import keras

from layers.validation import check_positive_int, check_positive_ints, check_rate
from zoo.registry import register
from zoo.task import ClassifierTask


@keras.saving.register_keras_serializable(package="keras_zoo")
class MLPClassifier(ClassifierTask):
    """A multi-layer perceptron classifier for flat feature vectors.

    Each hidden block is Dense, then the activation, then dropout. The model comes compiled with
    AdamW and sparse categorical cross-entropy (see `ClassifierTask.compile`).

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
        if output_activation not in (None, "softmax"):
            raise ValueError(
                "`output_activation` must be None (logits) or 'softmax'. "
                f"Received: output_activation={output_activation!r}"
            )

        dtype = self.resolve_dtype_policy(kwargs.pop("dtype", None))
        inputs = keras.Input(shape=input_shape, name="features")
        x = keras.layers.Flatten(dtype=dtype)(inputs) if len(input_shape) > 1 else inputs
        for i, units in enumerate(hidden_units):
            x = keras.layers.Dense(units, activation=activation, name=f"hidden_{i}", dtype=dtype)(x)
            if dropout:
                x = keras.layers.Dropout(dropout, name=f"dropout_{i}", dtype=dtype)(x)
        outputs = keras.layers.Dense(
            num_classes, activation=output_activation, name="logits", dtype="float32"
        )(x)
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.dtype_policy = dtype  # Functional ignores a `dtype` argument

        self.input_shape_ = input_shape
        self.num_classes = num_classes
        self.hidden_units = hidden_units
        self.output_activation = output_activation
        self.activation = activation
        self.dropout = dropout
        self.compile()

    def get_config(self):
        return {
            **self.base_config(),
            "input_shape": list(self.input_shape_),
            "num_classes": self.num_classes,
            "hidden_units": list(self.hidden_units),
            "activation": self.activation,
            "dropout": self.dropout,
            "output_activation": self.output_activation,
        }


def mlp_search_space(hp) -> dict:
    """Depth, width, activation and dropout of `MLPClassifier` for KerasTuner."""
    depth = hp.Int("depth", 1, 3)
    width = hp.Choice("width", [32, 64, 128, 256])
    return {
        "hidden_units": (width,) * depth,
        "activation": hp.Choice("activation", ["relu", "swish", "elu"]),
        "dropout": hp.Float("dropout", 0.0, 0.5, step=0.1),
    }


register(
    "mlp_digits",
    MLPClassifier,
    search_space=mlp_search_space,
    description="MLP for 8x8 digits flattened to 64 features (2 hidden layers, 128 and 64 units).",
    tiny={"hidden_units": (8,)},
    input_shape=(64,),
    num_classes=10,
)
