"""`serving.export`, warm-up files and TF Serving config files."""

import os
import subprocess
import sys

import numpy as np
import pytest
import tensorflow as tf
from google.protobuf import text_format
from tensorflow.core.protobuf import saved_model_pb2
from tensorflow_serving.config import model_server_config_pb2

import serving

SAVED_MODEL_CLI = os.path.join(os.path.dirname(sys.executable), "saved_model_cli")


def _softmax(x):
    e = np.exp(x - x.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


def test_export_layout_versions_and_outputs(tmp_path, digits_model):
    images = np.random.default_rng(0).random((3, 8, 8, 1), dtype=np.float32)
    first = serving.export(digits_model, tmp_path, "digits")
    second = serving.export(digits_model, tmp_path, "digits")
    assert first == os.path.join(tmp_path, "digits", "1")
    assert second == os.path.join(tmp_path, "digits", "2")
    assert os.path.isfile(os.path.join(first, "saved_model.pb"))
    assert os.path.isdir(os.path.join(first, "variables"))
    # Nothing half-written is left behind.
    assert sorted(os.listdir(tmp_path / "digits")) == ["1", "2"]
    assert serving.list_versions(tmp_path / "digits") == [1, 2]

    loaded = tf.saved_model.load(first)
    outputs = loaded.signatures["serving_default"](images=tf.constant(images))
    assert list(outputs) == ["logits"]
    np.testing.assert_allclose(
        outputs["logits"].numpy(), digits_model.predict(images, verbose=0), atol=1e-5
    )


def test_export_refuses_existing_version_and_bad_arguments(tmp_path, digits_model):
    serving.export(digits_model, tmp_path, "digits", version=5)
    with pytest.raises(FileExistsError, match="Version 5"):
        serving.export(digits_model, tmp_path, "digits", version=5)
    assert serving.list_versions(tmp_path / "digits") == [5]
    assert serving.export(digits_model, tmp_path, "digits").endswith(os.sep + "6")
    with pytest.raises(ValueError, match="name='../x'"):
        serving.export(digits_model, tmp_path, "../x")
    with pytest.raises(ValueError, match="Received: version=0"):
        serving.export(digits_model, tmp_path, "digits", version=0)
    with pytest.raises(TypeError, match="keras.Model"):
        serving.export("model", tmp_path, "digits")
    with pytest.raises(ValueError, match="serving_default"):
        serving.export(digits_model, tmp_path, "d", signatures={"serving_default": lambda x: x})
    with pytest.raises(ValueError, match="keys=\\['x'\\]"):
        serving.export(digits_model, tmp_path, "d", warmup=[{"x": np.zeros((1, 8, 8, 1))}])


def test_saved_model_cli_lists_signatures_and_methods(tmp_path, digits_model, linear_model):
    digits = serving.export(
        digits_model,
        tmp_path,
        "digits",
        signatures={"classify": serving.classify_signature(k=3)},
    )
    linear = serving.export(
        linear_model, tmp_path, "linear", signatures={"regress": serving.regress_signature()}
    )
    shown = subprocess.run(
        [SAVED_MODEL_CLI, "show", "--all", "--dir", digits],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "signature_def['serving_default']" in shown
    assert "signature_def['classify']" in shown
    assert "inputs['images'] tensor_info" in shown
    assert "outputs['logits'] tensor_info" in shown
    assert "outputs['classes'] tensor_info" in shown
    assert "Method name is: tensorflow/serving/classify" in shown
    assert "Method name is: tensorflow/serving/predict" in shown
    # One saved_model_cli run is enough (it imports TensorFlow); the regression method name is
    # read from the graph proto.
    proto = saved_model_pb2.SavedModel()
    with open(os.path.join(linear, "saved_model.pb"), "rb") as f:
        proto.ParseFromString(f.read())
    regress = proto.meta_graphs[0].signature_def["regress"]
    assert regress.method_name == "tensorflow/serving/regress"
    assert list(regress.inputs) == ["inputs"]
    assert list(regress.outputs) == ["outputs"]


def test_classify_signature_returns_top_k_softmax(tmp_path, digits_model):
    path = serving.export(
        digits_model,
        tmp_path,
        "digits",
        signatures={
            "classify": serving.classify_signature(k=3, class_names=[f"c{i}" for i in range(10)])
        },
    )
    images = np.random.default_rng(1).random((2, 8, 8, 1), dtype=np.float32)
    examples = [
        tf.train.Example(
            features=tf.train.Features(
                feature={
                    "images": tf.train.Feature(float_list=tf.train.FloatList(value=im.ravel()))
                }
            )
        ).SerializeToString()
        for im in images
    ]
    out = tf.saved_model.load(path).signatures["classify"](inputs=tf.constant(examples))
    probs = _softmax(digits_model.predict(images, verbose=0))
    top = np.argsort(-probs, axis=-1)[:, :3]
    np.testing.assert_allclose(out["scores"].numpy(), np.take_along_axis(probs, top, -1), atol=1e-5)
    expected = np.vectorize(lambda i: f"c{i}".encode())(top)
    np.testing.assert_array_equal(out["classes"].numpy(), expected)


def test_classify_and_regress_signature_arguments(linear_model):
    with pytest.raises(ValueError, match="k=0"):
        serving.classify_signature(k=0)
    with pytest.raises(ValueError, match="class_names"):
        serving.classify_signature(class_names=[])


def test_warmup_file_parses_back(tmp_path, linear_model):
    x = np.array([[1.0, 2.0, 3.0]], dtype=np.float32)
    path = serving.export(linear_model, tmp_path, "linear", warmup=[x, x * 2])
    logs = serving.read_warmup(serving.warmup_path(path))
    assert serving.warmup_path(path).endswith(
        os.path.join("assets.extra", "tf_serving_warmup_requests")
    )
    assert len(logs) == 2
    request = logs[1].predict_log.request
    assert request.model_spec.name == "linear"
    assert request.model_spec.signature_name == "serving_default"
    # A Sequential's input gets the stable name "inputs".
    np.testing.assert_array_equal(tf.make_ndarray(request.inputs["inputs"]), x * 2)


def test_image_bytes_preprocess_in_graph(tmp_path, digits_model):
    path = serving.export(
        digits_model, tmp_path, "digits", preprocess=serving.image_bytes_preprocess(8, 8, 1)
    )
    pixels = np.arange(64, dtype=np.uint8).reshape(8, 8, 1) * 4
    png = tf.io.encode_png(pixels).numpy()
    out = tf.saved_model.load(path).signatures["serving_default"](image_bytes=tf.constant([png]))
    expected = digits_model.predict(pixels[None].astype(np.float32) / 255.0, verbose=0)
    np.testing.assert_allclose(out["logits"].numpy(), expected, atol=1e-5)
    with pytest.raises(ValueError, match="channels=2"):
        serving.image_bytes_preprocess(8, 8, channels=2)
    with pytest.raises(ValueError, match="input_signature"):
        serving.export(digits_model, tmp_path, "digits", preprocess=lambda x: x)


def test_write_model_config(tmp_path):
    config = serving.write_model_config(tmp_path, {"digits": None, "linear": "all"})
    with open(config.models_config) as f:
        parsed = text_format.Parse(f.read(), model_server_config_pb2.ModelServerConfig())
    entries = parsed.model_config_list.config
    assert [e.name for e in entries] == ["digits", "linear"]
    assert entries[0].base_path == os.path.join(str(tmp_path), "digits")
    assert entries[0].model_platform == "tensorflow"
    assert entries[0].model_version_policy.latest.num_versions == 1
    assert entries[1].model_version_policy.HasField("all")
    with open(config.batching_config) as f:
        batching = f.read()
    assert batching == (
        "max_batch_size { value: 32 }\n"
        "batch_timeout_micros { value: 1000 }\n"
        "max_enqueued_batches { value: 100 }\n"
        "num_batch_threads { value: 4 }\n"
    )
    assert config.command() == [
        "tensorflow_model_server",
        "--port=8500",
        "--rest_api_port=8501",
        f"--model_config_file={tmp_path}/models.config",
        "--model_config_file_poll_wait_seconds=60",
        "--enable_batching=true",
        f"--batching_parameters_file={tmp_path}/batching.config",
    ]
    with pytest.raises(ValueError, match="version_policy='newest'"):
        serving.write_model_config(tmp_path, {"digits": "newest"})
    with pytest.raises(ValueError, match="unknown keys"):
        serving.write_model_config(tmp_path, ["digits"], batching={"max_batch": 4})
