"""TFLite conversion of the digits CNN: float, dynamic, float16, PTQ int8 and QAT int8."""

import keras
import numpy as np
import pytest
import tensorflow as tf

import zoo
from layers.quantization import quantize_model
from serving.tflite import evaluate_tflite, tflite_predict, to_tflite
from zoo.datasets import load_digits


def io_dtypes(tflite_bytes):
    interpreter = tf.lite.Interpreter(model_content=tflite_bytes)
    return interpreter.get_input_details()[0]["dtype"], interpreter.get_output_details()[0]["dtype"]


@pytest.fixture(scope="module")
def digits_models():
    keras.utils.set_random_seed(0)
    digits = load_digits(dtype="float32")
    train, test = (digits.train.x, digits.train.y), (digits.test.x, digits.test.y)
    model = zoo.create("cnn_digits")
    model.fit(*train, epochs=8, batch_size=32, verbose=0)
    qat = quantize_model(model)
    qat.compile(
        keras.optimizers.Adam(1e-4),
        keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    qat.fit(*train, epochs=1, batch_size=32, verbose=0)
    return model, qat, train, test


def test_qat_int8_is_fully_integer_and_as_accurate_as_float(digits_models):
    model, qat, _, test = digits_models
    float_accuracy = evaluate_tflite(to_tflite(model), test)
    keras_accuracy = float(np.mean(np.argmax(model.predict(test[0], verbose=0), -1) == test[1]))
    assert float_accuracy == pytest.approx(keras_accuracy, abs=1 / len(test[1]))
    int8 = to_tflite(qat, quantize="int8")
    assert io_dtypes(int8) == (np.int8, np.int8)
    assert evaluate_tflite(int8, test) >= float_accuracy - 0.01
    # The TFLite int8 model computes what the QAT Keras model computes (up to one int8 step).
    logits = tflite_predict(int8, test[0][:64])
    np.testing.assert_allclose(logits, qat.predict(test[0][:64], verbose=0), atol=0.3)


def test_post_training_int8_and_weight_only_modes(digits_models):
    model, _, train, test = digits_models
    ptq = to_tflite(model, quantize="int8", representative_data=train[0][:100])
    assert io_dtypes(ptq) == (np.int8, np.int8)
    float_accuracy = evaluate_tflite(to_tflite(model), test)
    assert evaluate_tflite(ptq, test) >= float_accuracy - 0.03
    for mode in ("dynamic", "float16"):
        converted = to_tflite(model, quantize=mode)
        assert io_dtypes(converted) == (np.float32, np.float32)
        assert evaluate_tflite(converted, test) >= float_accuracy - 0.01


def test_qat_int8_file_is_at_most_30_percent_of_float():
    # Flatbuffer overhead and per-channel scales are ~6 KB; with the default (32, 64) filters
    # (19k weights) the ratio is 0.32, so the size check uses the (64, 128) digits CNN.
    keras.utils.set_random_seed(0)
    model = zoo.create("cnn_digits", filters=(64, 128))
    qat = quantize_model(model)
    qat(np.random.default_rng(0).uniform(size=(32, 8, 8, 1)).astype("float32"), training=True)
    assert len(to_tflite(qat, quantize="int8")) <= 0.30 * len(to_tflite(model))


def test_dataset_input_and_errors(digits_models):
    model, _, _, test = digits_models
    dataset = tf.data.Dataset.from_tensor_slices(test).batch(100)
    float_bytes = to_tflite(model)
    assert evaluate_tflite(float_bytes, dataset) == evaluate_tflite(float_bytes, test)
    with pytest.raises(ValueError, match="quantize='int4'"):
        to_tflite(model, quantize="int4")
    with pytest.raises(ValueError, match="representative_data=None"):
        to_tflite(model, quantize="int8")
    with pytest.raises(TypeError, match="tflite_bytes=str"):
        evaluate_tflite("model.tflite", test)
