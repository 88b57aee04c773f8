"""Serving signatures beyond `serving_default`: TF Serving's Classify and Regress APIs.

TF Serving's `:classify` and `:regress` endpoints only run signatures whose method name is
`tensorflow/serving/classify` or `tensorflow/serving/regress`, whose single input `inputs` is a
batch of serialised `tf.train.Example` protos, and whose outputs are named `classes`/`scores`
(classify) or `outputs` (regress). The builders here produce exactly that around a Keras model, so
`export(..., signatures={"classify": classify_signature(k=3)})` is servable by
`tensorflow_model_server` and by the local server alike.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import keras
import tensorflow as tf

from layers.validation import check_positive_int

PREDICT_METHOD = "tensorflow/serving/predict"
CLASSIFY_METHOD = "tensorflow/serving/classify"
REGRESS_METHOD = "tensorflow/serving/regress"


@dataclasses.dataclass(frozen=True)
class ModelCall:
    """What a signature builder needs from `export`: the raw input specs and the forward pass.

    Attributes:
        input_specs: the serving inputs (raw inputs when there is in-graph preprocessing), keyed
            by name.
        forward: `dict[str, tf.Tensor] -> dict[str, tf.Tensor]`, preprocessing plus the model, in
            inference mode.
        model: the Keras model.
    """

    input_specs: dict[str, tf.TensorSpec]
    forward: Any
    model: keras.Model


def _example_features(input_specs: dict[str, tf.TensorSpec]) -> dict[str, Any]:
    features = {}
    for name, spec in input_specs.items():
        shape = spec.shape[1:]
        if not shape.is_fully_defined():
            raise ValueError(
                "Classify/regress signatures parse fixed-size tf.Example features, so every input "
                f"needs a fully defined shape after the batch axis. Received: input {name!r} with "
                f"shape={spec.shape}"
            )
        if spec.dtype.is_floating:
            dtype = tf.float32
        elif spec.dtype.is_integer or spec.dtype == tf.bool:
            dtype = tf.int64
        elif spec.dtype == tf.string:
            dtype = tf.string
        else:
            raise ValueError(
                f"tf.Example cannot carry input {name!r} of dtype={spec.dtype.name}; "
                "use float, integer or string inputs."
            )
        features[name] = tf.io.FixedLenFeature(shape.as_list(), dtype)
    return features


def _parse_examples(serialized: tf.Tensor, input_specs: dict[str, tf.TensorSpec]):
    parsed = tf.io.parse_example(serialized, _example_features(input_specs))
    return {name: tf.cast(parsed[name], spec.dtype) for name, spec in input_specs.items()}


def _single_output(outputs: dict[str, tf.Tensor], output_name: str | None, what: str):
    if output_name is None:
        if len(outputs) != 1:
            raise ValueError(
                f"The model has several outputs ({', '.join(outputs)}); pass `output_name` to "
                f"say which one {what} uses. Received: output_name=None"
            )
        return next(iter(outputs.values()))
    if output_name not in outputs:
        raise ValueError(
            f"`output_name` must be one of the model's outputs ({', '.join(outputs)}). "
            f"Received: output_name={output_name!r}"
        )
    return outputs[output_name]


def _ends_in_softmax(model: keras.Model) -> bool:
    if getattr(model, "output_activation", None) == "softmax":
        return True
    last = model.layers[-1] if model.layers else None
    activation = getattr(last, "activation", None)
    return activation is keras.activations.softmax or isinstance(last, keras.layers.Softmax)


@dataclasses.dataclass(frozen=True)
class SignatureBuilder:
    """A signature that `export` builds around the model (see `classify_signature`)."""

    method_name: str
    options: dict[str, Any]

    def build(self, call: ModelCall) -> tf.types.experimental.GenericFunction:
        if self.method_name == CLASSIFY_METHOD:
            return _build_classify(call, **self.options)
        return _build_regress(call, **self.options)


def classify_signature(
    k: int = 5,
    class_names: Sequence[str] | None = None,
    from_logits: bool | None = None,
    output_name: str | None = None,
) -> SignatureBuilder:
    """A TF Serving classification signature returning the top-`k` classes and their scores.

    The signature takes `inputs`, a batch of serialised `tf.train.Example` protos with one
    feature per serving input (same name, flattened values), and returns `classes` (string,
    `[batch, k]`) and `scores` (float32 probabilities, `[batch, k]`), best first. Its method name
    is `tensorflow/serving/classify`, so TF Serving's `:classify` REST endpoint and gRPC `Classify`
    call run it.

    Args:
        k: how many classes to return per example. Defaults to `5` (capped at the number of
            classes).
        class_names: label of each class index. Defaults to the indices as strings.
        from_logits: whether the model outputs logits (softmax is applied) or probabilities.
            Defaults to `None`: probabilities when the model's last layer is a softmax.
        output_name: which model output holds the class scores. Defaults to the only output.

    Example:

    ```python
    serving.export(model, "models", "digits",
                   signatures={"classify": serving.classify_signature(k=3)})
    ```
    """
    check_positive_int("k", k)
    if class_names is not None:
        class_names = [str(c) for c in class_names]
        if not class_names:
            raise ValueError(
                f"`class_names` must not be empty. Received: class_names={class_names}"
            )
    return SignatureBuilder(
        CLASSIFY_METHOD,
        {
            "k": k,
            "class_names": class_names,
            "from_logits": from_logits,
            "output_name": output_name,
        },
    )


def regress_signature(output_name: str | None = None) -> SignatureBuilder:
    """A TF Serving regression signature: serialised `tf.train.Example` in, one float out.

    The signature takes `inputs` (serialised examples, as in `classify_signature`) and returns
    `outputs`, float32 of shape `[batch]`, from a model output with one value per example. Its
    method name is `tensorflow/serving/regress` (TF Serving's `:regress` / gRPC `Regress`).

    Args:
        output_name: which model output is the regression value. Defaults to the only output.

    Example:

    ```python
    serving.export(model, "models", "prices",
                   signatures={"regress": serving.regress_signature()})
    ```
    """
    return SignatureBuilder(REGRESS_METHOD, {"output_name": output_name})


def _build_classify(call, k, class_names, from_logits, output_name):
    num_classes = None
    probe = call.model.outputs
    if probe is not None and len(probe) >= 1:
        num_classes = probe[0].shape[-1] if output_name is None else None
    if class_names is not None and num_classes is not None and len(class_names) != num_classes:
        raise ValueError(
            f"`class_names` must name each of the model's {num_classes} classes. "
            f"Received: {len(class_names)} class_names"
        )
    if from_logits is None:
        from_logits = not _ends_in_softmax(call.model)
    input_specs = call.input_specs

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="inputs")])
    def classify(inputs):
        outputs = call.forward(_parse_examples(inputs, input_specs))
        scores = tf.cast(_single_output(outputs, output_name, "classification"), tf.float32)
        if from_logits:
            scores = tf.nn.softmax(scores, axis=-1)
        top = tf.math.top_k(scores, k=min(k, scores.shape[-1] or k))
        if class_names is None:
            classes = tf.strings.as_string(top.indices)
        else:
            classes = tf.gather(tf.constant(class_names), top.indices)
        return {"classes": classes, "scores": top.values}

    return classify


def _build_regress(call, output_name):
    input_specs = call.input_specs

    @tf.function(input_signature=[tf.TensorSpec([None], tf.string, name="inputs")])
    def regress(inputs):
        outputs = call.forward(_parse_examples(inputs, input_specs))
        value = tf.cast(_single_output(outputs, output_name, "regression"), tf.float32)
        if value.shape.rank > 1 and value.shape[1:].num_elements() != 1:
            raise ValueError(
                "A regression signature needs one value per example; the model output has "
                f"shape={value.shape}. Pass `output_name` to pick a single-value output."
            )
        return {"outputs": tf.reshape(value, [-1])}

    return regress
