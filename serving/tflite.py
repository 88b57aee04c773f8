"""TFLite conversion (float, dynamic-range, float16, full int8) and interpreter evaluation."""

from __future__ import annotations

from collections.abc import Iterable

import keras
import numpy as np
import tensorflow as tf

QUANTIZE_MODES = (None, "dynamic", "float16", "int8")


def _is_quantization_aware(model: keras.Model) -> bool:
    from layers.quantization import ActivationQuantizer

    return any(isinstance(layer, ActivationQuantizer) for layer in model.layers)


def _representative_dataset(data, limit: int = 200):
    """Yields `[one-example batch]` lists from an array, a tuple of arrays or a dataset."""

    def generate():
        if isinstance(data, tf.data.Dataset):
            batches = data.unbatch() if data.element_spec is not None else data
            items = batches
        else:
            items = data[0] if isinstance(data, tuple | list) else data
        for count, item in enumerate(items):
            if count >= limit:
                break
            item = item[0] if isinstance(item, tuple | list) else item
            yield [np.asarray(item, np.float32)[None]]

    return generate


def to_tflite(
    model: keras.Model,
    quantize: str | None = None,
    representative_data=None,
) -> bytes:
    """Converts a Keras model to a TFLite flatbuffer with TensorFlow's converter.

    Args:
        model: a Keras model with one input; a model from `layers.quantization.quantize_model`
            for quantization-aware int8.
        quantize: `None` (float32), `"dynamic"` (int8 weights, float activations), `"float16"`
            (float16 weights) or `"int8"` (fully integer, int8 input and output). On a
            quantization-aware model, `"int8"` uses the ranges learned in training; on a float
            model it is post-training quantization calibrated on `representative_data`.
            Defaults to `None`.
        representative_data: calibration inputs for `"int8"`: an array of examples, an `(x, y)`
            tuple, or a `tf.data.Dataset` of batches. Required for `"int8"` on a float model;
            used for layers left float on a quantization-aware one. Defaults to `None`.

    Returns:
        The `.tflite` file contents.

    Example:

    ```python
    open("digits.tflite", "wb").write(to_tflite(qat_model, quantize="int8"))
    ```
    """
    if quantize not in QUANTIZE_MODES:
        raise ValueError(
            f"`quantize` must be one of {QUANTIZE_MODES}. Received: quantize={quantize!r}"
        )
    if len(model.inputs) != 1:
        raise ValueError(
            "`model` must have exactly one input for TFLite conversion. "
            f"Received: a model with {len(model.inputs)} inputs"
        )
    qat = _is_quantization_aware(model)
    if quantize == "int8" and not qat and representative_data is None:
        raise ValueError(
            "`representative_data` is required for quantize='int8' on a float model "
            "(post-training quantization calibrates on it). Received: representative_data=None"
        )
    converter = tf.lite.TFLiteConverter.from_keras_model(model)
    if quantize is not None:
        converter.optimizations = [tf.lite.Optimize.DEFAULT]
    if quantize == "float16":
        converter.target_spec.supported_types = [tf.float16]
    if quantize == "int8":
        if not qat:
            # The converter only accepts this for calibrated models; QAT models are fully
            # integer from their fake-quant ranges alone.
            converter.target_spec.supported_ops = [tf.lite.OpsSet.TFLITE_BUILTINS_INT8]
        converter.inference_input_type = tf.int8
        converter.inference_output_type = tf.int8
        if representative_data is not None:
            converter.representative_dataset = _representative_dataset(representative_data)
    return converter.convert()


def _batches(data, batch_size: int) -> Iterable[tuple[np.ndarray, np.ndarray]]:
    if isinstance(data, tf.data.Dataset):
        for x, y in data.as_numpy_iterator():
            yield x, y
        return
    if not isinstance(data, tuple | list) or len(data) != 2:
        raise ValueError(
            "`data` must be a tf.data.Dataset of (x, y) batches or an (x, y) tuple of arrays. "
            f"Received: data={type(data).__name__}"
        )
    x, y = np.asarray(data[0]), np.asarray(data[1])
    for start in range(0, len(x), batch_size):
        yield x[start : start + batch_size], y[start : start + batch_size]


def tflite_predict(tflite_bytes: bytes, x: np.ndarray) -> np.ndarray:
    """Runs a single-input TFLite model on a batch with the interpreter, in float.

    Inputs are quantized and outputs dequantized with the model's own scale and zero point, so
    an int8 model is called with the same float inputs as the Keras model.

    Args:
        tflite_bytes: the model, as returned by `to_tflite`.
        x: a float batch.

    Returns:
        The float outputs of the batch.

    Example:

    ```python
    logits = tflite_predict(to_tflite(model), images)
    ```
    """
    interpreter = tf.lite.Interpreter(model_content=tflite_bytes)
    source = interpreter.get_input_details()[0]
    interpreter.resize_tensor_input(source["index"], (len(x), *source["shape"][1:]))
    interpreter.allocate_tensors()
    source = interpreter.get_input_details()[0]
    target = interpreter.get_output_details()[0]
    x = np.asarray(x, np.float32)
    if source["dtype"] in (np.int8, np.uint8):
        scale, zero = source["quantization"]
        info = np.iinfo(source["dtype"])
        x = np.clip(np.round(x / scale + zero), info.min, info.max).astype(source["dtype"])
    interpreter.set_tensor(source["index"], x)
    interpreter.invoke()
    out = interpreter.get_tensor(target["index"])
    if target["dtype"] in (np.int8, np.uint8):
        scale, zero = target["quantization"]
        out = (out.astype(np.float32) - zero) * scale
    return out


def evaluate_tflite(tflite_bytes: bytes, data, batch_size: int = 256) -> float:
    """Classification accuracy of a TFLite model, run with the TFLite interpreter.

    Args:
        tflite_bytes: the model, as returned by `to_tflite`.
        data: an `(x, y)` tuple of arrays (integer labels) or a `tf.data.Dataset` of `(x, y)`
            batches.
        batch_size: batch size for arrays. Defaults to `256`.

    Returns:
        The fraction of examples whose arg-max output equals the label.

    Example:

    ```python
    accuracy = evaluate_tflite(to_tflite(qat, quantize="int8"), (x_test, y_test))
    ```
    """
    if not isinstance(tflite_bytes, bytes | bytearray):
        raise TypeError(
            f"`tflite_bytes` must be bytes. Received: tflite_bytes={type(tflite_bytes).__name__}"
        )
    correct = total = 0
    for x, y in _batches(data, batch_size):
        predicted = np.argmax(tflite_predict(tflite_bytes, x), axis=-1)
        correct += int(np.sum(predicted == np.asarray(y).reshape(predicted.shape)))
        total += len(predicted)
    if total == 0:
        raise ValueError("`data` holds no examples. Received: an empty dataset")
    return correct / total
