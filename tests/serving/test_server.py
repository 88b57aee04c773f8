"""The local TF-Serving-compatible server, started as a real process, over REST and gRPC."""

import base64
import concurrent.futures
import http.client
import json
import shutil
import time

import keras
import numpy as np
import pytest
import tensorflow as tf

import serving

MAX_REQUEST_BYTES = 200_000
LINEAR_W = np.array([1.0, 2.0, 3.0], dtype=np.float32)


def _wait_for(predicate, timeout=60.0):
    """Polls `predicate` until it returns a truthy value or `timeout` seconds pass."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.1)


@pytest.fixture(scope="module")
def models(tmp_path_factory, digits_model, linear_model):
    base = tmp_path_factory.mktemp("models")
    serving.export(
        digits_model,
        base,
        "digits",
        signatures={"classify": serving.classify_signature(k=3)},
        warmup=[np.zeros((2, 8, 8, 1), np.float32)],
    )
    serving.export(
        linear_model, base, "linear", signatures={"regress": serving.regress_signature()}
    )
    serving.export(
        digits_model, base, "images", preprocess=serving.image_bytes_preprocess(8, 8, channels=1)
    )
    return base


@pytest.fixture(scope="module")
def server(models):
    with serving.local_server(
        models,
        grpc_port=0,
        poll_interval=0.2,
        extra_args=("--max-request-bytes", str(MAX_REQUEST_BYTES)),
    ) as running:
        yield running


@pytest.fixture(scope="module")
def grpc_digits(server):
    with serving.GrpcClient(server.grpc_target, "digits") as client:
        yield client


def _raw(server, method, path, body=None):
    """One HTTP request without the client library: (status, parsed JSON body)."""
    host, port = server.url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    try:
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        conn.request(method, path, body=body)
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def _images(n, seed=0):
    return np.random.default_rng(seed).random((n, 8, 8, 1), dtype=np.float32)


def test_status_and_metadata(server):
    client = serving.Client(server.url, "digits")
    assert client.status() == [
        {"version": "1", "state": "AVAILABLE", "status": {"error_code": "OK", "error_message": ""}}
    ]
    assert serving.Client(server.url, "digits", version=1).status()[0]["version"] == "1"
    metadata = client.metadata()
    assert metadata["model_spec"] == {"name": "digits", "signature_name": "", "version": "1"}
    signatures = metadata["metadata"]["signature_def"]["signature_def"]
    default = signatures["serving_default"]
    assert default["method_name"] == "tensorflow/serving/predict"
    assert default["inputs"]["images"]["dtype"] == "DT_FLOAT"
    dims = [d["size"] for d in default["inputs"]["images"]["tensor_shape"]["dim"]]
    assert dims == ["-1", "8", "8", "1"]
    assert list(default["outputs"]) == ["logits"]
    assert signatures["classify"]["method_name"] == "tensorflow/serving/classify"

    grpc_client = serving.GrpcClient(server.grpc_target, "digits")
    assert grpc_client.status() == client.status()
    grpc_metadata = grpc_client.metadata()
    assert grpc_metadata["model_spec"] == {"name": "digits", "version": "1"}
    assert grpc_metadata["signature_def"]["serving_default"]["inputs"]["images"]["dtype"] == (
        "DT_FLOAT"
    )
    grpc_client.close()


def test_predict_columnar_row_and_grpc_match_the_model(server, digits_model, grpc_digits):
    images = _images(4)
    expected = digits_model.predict(images, verbose=0)
    client = serving.Client(server.url, "digits")
    np.testing.assert_allclose(client.predict({"images": images}), expected, atol=1e-5)
    np.testing.assert_allclose(client.predict(images), expected, atol=1e-5)
    np.testing.assert_allclose(client.predict(instances=list(images)), expected, atol=1e-5)
    rows = client.predict(instances=[{"images": im} for im in images])
    np.testing.assert_allclose(rows, expected, atol=1e-5)
    status, body = _raw(
        server, "POST", "/v1/models/digits/versions/1:predict", {"instances": images[:1].tolist()}
    )
    assert status == 200 and list(body) == ["predictions"]
    np.testing.assert_allclose(body["predictions"], expected[:1], atol=1e-5)

    outputs = grpc_digits.predict({"images": images})
    assert list(outputs) == ["logits"]
    np.testing.assert_allclose(outputs["logits"], expected, atol=1e-5)
    np.testing.assert_allclose(grpc_digits.predict(images)["logits"], expected, atol=1e-5)


def test_classify_and_regress_rest_and_grpc(server, digits_model, grpc_digits):
    images = _images(2, seed=3)
    logits = digits_model.predict(images, verbose=0)
    probs = np.exp(logits) / np.exp(logits).sum(-1, keepdims=True)
    top = np.argsort(-probs, axis=-1)[:, :3]
    examples = [{"images": im.ravel().tolist()} for im in images]
    rest = serving.Client(server.url, "digits").classify(examples, signature_name="classify")
    over_grpc = grpc_digits.classify(examples, signature_name="classify")
    for result in (rest, over_grpc):
        assert [[label for label, _ in row] for row in result] == [
            [str(i) for i in row] for row in top
        ]
        np.testing.assert_allclose(
            [[score for _, score in row] for row in result],
            np.take_along_axis(probs, top, -1),
            atol=1e-5,
        )
    # y = x . [1, 2, 3] + 0.5, by hand: 1 + 4 + 9 + 0.5 and 0 + 0 - 3 + 0.5.
    examples = [{"inputs": [1.0, 2.0, 3.0]}, {"inputs": [0.0, 0.0, -1.0]}]
    linear = serving.Client(server.url, "linear")
    np.testing.assert_allclose(linear.regress(examples, signature_name="regress"), [14.5, -2.5])
    with serving.GrpcClient(server.grpc_target, "linear") as client:
        np.testing.assert_allclose(client.regress(examples, signature_name="regress"), [14.5, -2.5])
        # Context features are shared by every example.
        np.testing.assert_allclose(
            client.regress([{}], context={"inputs": [1.0, 1.0, 1.0]}, signature_name="regress"),
            [6.5],
        )
    status, body = _raw(
        server,
        "POST",
        "/v1/models/linear:regress",
        {"signature_name": "regress", "examples": examples},
    )
    assert status == 200 and body == {"result": [14.5, -2.5]}


def test_binary_inputs_travel_as_b64(server, digits_model):
    pixels = (np.arange(64, dtype=np.uint8).reshape(8, 8, 1) * 3)[None]
    png = tf.io.encode_png(pixels[0]).numpy()
    expected = digits_model.predict(pixels.astype(np.float32) / 255.0, verbose=0)
    client = serving.Client(server.url, "images")
    np.testing.assert_allclose(client.predict({"image_bytes": [png]}), expected, atol=1e-5)
    np.testing.assert_allclose(client.predict(instances=[png]), expected, atol=1e-5)
    status, body = _raw(
        server,
        "POST",
        "/v1/models/images:predict",
        {"instances": [{"b64": base64.b64encode(png).decode()}]},
    )
    assert status == 200
    np.testing.assert_allclose(body["predictions"], expected, atol=1e-5)
    with serving.GrpcClient(server.grpc_target, "images") as grpc_client:
        out = grpc_client.predict({"image_bytes": np.array([png], dtype=object)})
    np.testing.assert_allclose(out["logits"], expected, atol=1e-5)


REST_ERRORS = [
    # (method, path, body, status, message fragment)
    ("POST", "/v1/models/digits:predict", "{not json", 400, "JSON Parse error"),
    ("POST", "/v1/models/digits:predict", [1, 2], 400, "must be a JSON object"),
    (
        "POST",
        "/v1/models/digits:predict",
        {"signature_name": "serving_default"},
        400,
        "Missing 'inputs' or 'instances' key",
    ),
    (
        "POST",
        "/v1/models/digits:predict",
        {"inputs": [], "instances": []},
        400,
        "only one of 'inputs' or 'instances'",
    ),
    (
        "POST",
        "/v1/models/digits:predict",
        {"inputs": [[1.0, 2.0]]},
        400,
        "must have shape [-1, 8, 8, 1]. Received: shape=[1, 2]",
    ),
    (
        "POST",
        "/v1/models/digits:predict",
        {"inputs": [[["a"] * 1] * 8] * 8},
        400,
        "rectangular array of float32",
    ),
    (
        "POST",
        "/v1/models/digits:predict",
        {"instances": [[[[0.0]]], [[[0.0], [1.0]]]]},
        400,
        "rectangular array of float32",
    ),
    (
        "POST",
        "/v1/models/digits:predict",
        {"inputs": {"pixels": [[0.0]]}},
        400,
        "unexpected=['pixels']",
    ),
    (
        "POST",
        "/v1/models/digits:predict",
        {"signature_name": "nope", "inputs": [[0.0]]},
        400,
        'signature name: "nope" not found',
    ),
    (
        "POST",
        "/v1/models/linear:predict",
        {"inputs": [[1, 2, 3]], "signature_name": "regress"},
        400,
        "rectangular array of string",
    ),
    (
        "POST",
        "/v1/models/linear:classify",
        {"examples": [{"inputs": [1.0, 2.0, 3.0]}], "signature_name": "regress"},
        400,
        "Expected classification signature method_name",
    ),
    (
        "POST",
        "/v1/models/linear:regress",
        {"examples": [{"inputs": [1.0, 2.0]}], "signature_name": "regress"},
        400,
        "inputs",
    ),
    ("POST", "/v1/models/linear:regress", {"examples": []}, 400, "'examples' must be"),
    (
        "POST",
        "/v1/models/missing:predict",
        {"inputs": [[0.0]]},
        404,
        "Servable not found for request: Latest(missing)",
    ),
    (
        "POST",
        "/v1/models/digits/versions/7:predict",
        {"inputs": [[0.0]]},
        404,
        "Servable not found for request: Specific(digits, 7)",
    ),
    ("GET", "/v1/models/missing", None, 404, "Could not find any versions of model missing"),
    ("GET", "/v1/models/digits/versions/7", None, 404, "Could not find version 7"),
    ("GET", "/v1/models/digits/versions/7/metadata", None, 404, "Specific(digits, 7)"),
    ("GET", "/v1/models/digits/versions/abc", None, 400, "Malformed request"),
    ("GET", "/v1/models/digits:predict", None, 400, "Malformed request: GET"),
    ("POST", "/v1/models/digits:explain", {}, 400, "Malformed request: POST"),
    ("GET", "/healthz", None, 404, "Not found"),
    (
        "POST",
        "/v1/models/digits:predict",
        {"inputs": [0.0] * 40_000},
        413,
        f"exceeds the limit of {MAX_REQUEST_BYTES} bytes",
    ),
]


@pytest.mark.parametrize(
    "method,path,body,status,fragment", REST_ERRORS, ids=[str(i) for i in range(len(REST_ERRORS))]
)
def test_rest_errors_use_tf_serving_error_json(server, method, path, body, status, fragment):
    got_status, got = _raw(server, method, path, body)
    assert got_status == status
    assert list(got) == ["error"]
    assert fragment in got["error"]


def test_server_keeps_serving_after_errors_and_client_raises(server):
    client = serving.Client(server.url, "digits")
    with pytest.raises(serving.ServingError) as info:
        client.predict({"images": np.zeros((1, 3), np.float32)})
    assert info.value.http_status == 400
    assert info.value.code == "INVALID_ARGUMENT"
    assert "Received: shape=[1, 3]" in info.value.message
    with pytest.raises(serving.ServingError) as info:
        serving.Client(server.url, "digits", version=9).predict(_images(1))
    assert (info.value.http_status, info.value.code) == (404, "NOT_FOUND")
    assert client.predict(_images(1)).shape == (1, 10)


def test_grpc_errors_carry_status_and_message(server, grpc_digits):
    with pytest.raises(serving.ServingError) as info:
        grpc_digits.predict({"images": np.zeros((1, 3), np.float32)})
    assert info.value.code == "INVALID_ARGUMENT" and info.value.http_status == 400
    assert "Received: shape=[1, 3]" in info.value.message
    with pytest.raises(serving.ServingError) as info:
        grpc_digits.predict({"images": np.zeros((1, 8, 8, 1), np.int32)})
    assert info.value.code == "INVALID_ARGUMENT"
    assert "to be float32 but int32 is provided" in info.value.message
    with serving.GrpcClient(server.grpc_target, "missing") as missing:
        with pytest.raises(serving.ServingError) as info:
            missing.status()
        assert (info.value.code, info.value.http_status) == ("NOT_FOUND", 404)
        with pytest.raises(serving.ServingError, match="Latest\\(missing\\)"):
            missing.predict({"x": np.zeros(1)})
    client = serving.GrpcClient(server.grpc_target, "digits", version=3)
    with pytest.raises(serving.ServingError, match="Specific\\(digits, 3\\)"):
        client.metadata()
    client.close()
    with pytest.raises(serving.ServingError, match="Expected classification signature"):
        grpc_digits.classify([{"images": [0.0] * 64}])  # serving_default is a predict signature
    big = np.zeros((1, 8, 8, 1000), np.float32)  # ~256 KB > --max-request-bytes
    with pytest.raises(serving.ServingError) as info:
        grpc_digits.predict({"images": big})
    assert info.value.code == "RESOURCE_EXHAUSTED"
    assert grpc_digits.predict(_images(1))["logits"].shape == (1, 10)


def test_concurrent_clients_lose_no_request(server, digits_model, grpc_digits):
    n_threads, per_thread = 16, 20
    images = _images(n_threads * per_thread, seed=5)
    expected = digits_model.predict(images, verbose=0)
    rest = serving.Client(server.url, "digits")

    def worker(t):
        results = {}
        for j in range(per_thread):
            i = t * per_thread + j
            if j % 4 == 3:
                out = grpc_digits.predict({"images": images[i : i + 1]})["logits"]
            else:
                out = rest.predict({"images": images[i : i + 1]})
            results[i] = out[0]
        return results

    with concurrent.futures.ThreadPoolExecutor(n_threads) as pool:
        results = {}
        for part in pool.map(worker, range(n_threads)):
            results.update(part)
    assert len(results) == n_threads * per_thread
    got = np.stack([results[i] for i in range(len(images))])
    np.testing.assert_allclose(got, expected, atol=1e-5)


def test_new_versions_and_models_are_picked_up_and_removed(server, models):
    x = np.array([[1.0, 1.0, 1.0]], np.float32)
    client = serving.Client(server.url, "hot")

    def make(bias):
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        model.layers[0].set_weights([LINEAR_W[:, None], np.array([bias], np.float32)])
        return model

    def served_version():
        try:
            return client.status()[0]["version"]
        except serving.ServingError:
            return None

    serving.export(make(0.0), models, "hot")  # a new model while running
    assert _wait_for(lambda: served_version() == "1")
    np.testing.assert_allclose(client.predict(x), [[6.0]])
    version_2 = serving.export(make(10.0), models, "hot")  # a new version replaces it
    assert _wait_for(lambda: served_version() == "2")
    np.testing.assert_allclose(client.predict(x), [[16.0]])
    assert [s["version"] for s in client.status()] == ["2"]
    shutil.rmtree(version_2)  # removing the latest version falls back to version 1
    assert _wait_for(lambda: served_version() == "1")
    np.testing.assert_allclose(client.predict(x), [[6.0]])
    shutil.rmtree(models / "hot")  # removing the model unloads it
    assert _wait_for(lambda: served_version() is None)
    with pytest.raises(serving.ServingError, match="Latest\\(hot\\)"):
        client.predict(x)


def test_non_finite_values_pass_through_rest_as_tf_serving_writes_them(server):
    client = serving.Client(server.url, "linear")
    x = np.array([[np.nan, 0.0, 0.0], [np.inf, 0.0, 0.0], [1.0, 1.0, 1.0]], np.float32)
    np.testing.assert_array_equal(client.predict(x), [[np.nan], [np.inf], [6.5]])
    status, body = _raw(server, "POST", "/v1/models/linear:predict", '{"inputs": [[NaN, 0, 0]]}')
    assert status == 200 and np.isnan(body["outputs"][0][0])
