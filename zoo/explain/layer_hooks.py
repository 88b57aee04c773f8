"""Seeing inside a Keras model while it runs: every layer's output, nested models included.

Grad-CAM needs the output of an inner layer (often one inside a nested backbone) and the model's
prediction from the same forward pass, so that `tf.GradientTape` can differentiate one with
respect to the other. A functional model cannot output a layer of a model nested in it, so
instead of rebuilding the model, the layers' `call` methods are wrapped for the duration of one
call: `Layer.__call__` runs `self.call`, which then finds the wrapper set on the instance. The
wrapper returns what the layer returned, unchanged, so the model computes exactly what it
computes without it; the instance attribute is removed again on exit.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import keras


def walk_layers(model: keras.layers.Layer, prefix: str = "") -> list[tuple[str, Any]]:
    """`(path, layer)` of every layer of `model`, nested models opened in place.

    A layer of a nested model gets the path `"backbone/head_conv"`; other layers with sublayers
    (a custom block) count as one layer and are not opened.

    Args:
        model: a `keras.Model` (functional, sequential or subclassed) or a layer.
        prefix: path of `model` itself. Defaults to `""`.

    Returns:
        The `(path, layer)` pairs in the order of `model.layers`.

    Example:

    ```python
    paths = [path for path, _ in walk_layers(zoo.create("mobilenet_v2_050_32"))]
    # [..., "backbone/head_conv", "backbone/head_bn", "backbone/head_act", "gap", "logits"]
    ```
    """
    found = []
    for layer in getattr(model, "layers", []):
        path = f"{prefix}{layer.name}"
        if isinstance(layer, keras.Model):
            found.extend(walk_layers(layer, prefix=f"{path}/"))
        else:
            found.append((path, layer))
    return found


@dataclasses.dataclass
class LayerCall:
    """One call of one layer: where it sits, the layer, its first input and what it returned."""

    path: str
    layer: Any
    inputs: Any
    outputs: Any


@contextlib.contextmanager
def replaced_calls(
    layers: Sequence[Any], make_call: Callable[[Any, Callable], Callable]
) -> Iterator[None]:
    """Replaces each layer's `call` by `make_call(layer, original_call)` inside the block.

    Args:
        layers: the layers.
        make_call: `(layer, original) -> call`, the function that runs instead of `call`.

    Example:

    ```python
    with replaced_calls([dense], lambda layer, call: lambda x: call(x) * 2):
        doubled = model(x)
    ```
    """
    saved = []
    try:
        for layer in layers:
            own = layer.__dict__.get("call")
            saved.append((layer, own))
            # `object.__setattr__`: keras' `Layer.__setattr__` would track the function.
            object.__setattr__(layer, "call", make_call(layer, layer.call))
        yield
    finally:
        for layer, own in reversed(saved):
            if own is None:
                object.__delattr__(layer, "call")
            else:
                object.__setattr__(layer, "call", own)


@contextlib.contextmanager
def recorded_calls(model: keras.layers.Layer) -> Iterator[list[LayerCall]]:
    """Records every call of every layer of `model` (see `walk_layers`), in the order they run.

    Args:
        model: the model.

    Yields:
        A list that fills with one `LayerCall` per layer call while the block runs the model.

    Example:

    ```python
    with tf.GradientTape() as tape, recorded_calls(model) as calls:
        predictions = model(images, training=False)
    feature_map = next(c.outputs for c in calls if c.path == "backbone/head_act")
    ```
    """
    calls: list[LayerCall] = []
    paths = dict((id(layer), path) for path, layer in walk_layers(model))
    layers = {id(layer): layer for _, layer in walk_layers(model)}

    def make_call(layer, original):
        def call(*args, **kwargs):
            outputs = original(*args, **kwargs)
            inputs = args[0] if args else next(iter(kwargs.values()), None)
            calls.append(LayerCall(paths[id(layer)], layer, inputs, outputs))
            return outputs

        return call

    with replaced_calls(list(layers.values()), make_call):
        yield calls
