"""The local server under load, as real processes: no request lost, batching, queue, SIGTERM.

Nothing here asserts timing. Requests are held in flight deterministically by batching with an
hour-long batch timeout; a full request queue is detected by polling until the server answers
503 (REST) or RESOURCE_EXHAUSTED (gRPC), and SIGTERM's drain then runs the held batch.
"""

import concurrent.futures
import http.client
import json
import shutil
import signal
import threading
import time

import grpc
import keras
import numpy as np
import pytest
import tensorflow as tf
from tensorflow_serving.apis import get_model_status_pb2, model_service_pb2_grpc

import serving

W = np.array([[1.0], [2.0], [3.0]], np.float32)
BIAS = 0.5
HOUR_MICROS = 3_600_000_000


class Probe(tf.Module):
    """y = x . [1, 2, 3] + 0.5, and `batch`: the batch size the model was called with, per row."""

    def __init__(self):
        super().__init__()
        self.w = tf.Variable(W)
        self.b = tf.Variable(BIAS)

    @tf.function(input_signature=[tf.TensorSpec([None, 3], tf.float32, name="x")])
    def serve(self, x):
        n = tf.shape(x)[0]
        return {"y": tf.matmul(x, self.w) + self.b, "batch": tf.fill([n], n)}


def export_probe(base):
    probe = Probe()
    tf.saved_model.save(
        probe, str(base / "probe" / "1"), signatures={"serving_default": probe.serve}
    )


def expected_y(x):
    return x @ W + BIAS  # exact: the inputs are small integers


def integer_rows(n, seed):
    return np.random.default_rng(seed).integers(-4, 5, (n, 3)).astype(np.float32)


def batching_file(base, text):
    path = base / "batching.config"
    path.write_text(text)
    return path


def post(url, path, payload, timeout=120):
    """One POST on a new connection (no client library): (status, parsed JSON body)."""
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=timeout)
    try:
        conn.request("POST", path, body=json.dumps(payload))
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def get_status(url):
    host, port = url.removeprefix("http://").split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=60)
    try:
        conn.request("GET", "/v1/models/probe")
        response = conn.getresponse()
        return response.status, json.loads(response.read())
    finally:
        conn.close()


def wait_until(predicate, what, timeout=120.0):
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"Timed out waiting until {what}")
        time.sleep(0.05)


def grpc_status_code(target):
    """The status code of a GetModelStatus call: OK, or why it was refused."""
    with grpc.insecure_channel(target) as channel:
        stub = model_service_pb2_grpc.ModelServiceStub(channel)
        request = get_model_status_pb2.GetModelStatusRequest()
        request.model_spec.name = "probe"
        try:
            stub.GetModelStatus(request, timeout=60)
            return grpc.StatusCode.OK
        except grpc.RpcError as e:
            return e.code()


@pytest.fixture(scope="module")
def batching_server(tmp_path_factory):
    base = tmp_path_factory.mktemp("batching")
    export_probe(base)
    config = batching_file(
        base,
        "max_batch_size { value: 8 }\n"
        "batch_timeout_micros { value: 100000 }\n"
        "max_enqueued_batches { value: 100 }\n"
        "num_batch_threads { value: 2 }\n"
        "allowed_batch_sizes: 2\nallowed_batch_sizes: 4\nallowed_batch_sizes: 8\n",
    )
    with serving.local_server(
        base,
        grpc_port=0,
        poll_interval=0.2,
        enable_batching=True,
        batching_parameters_file=config,
    ) as running:
        yield running, base


def test_256_concurrent_clients_all_get_200_and_the_right_numbers(batching_server):
    server, _ = batching_server
    pooled = serving.Client(server.url, "probe")
    grpc_client = serving.GrpcClient(server.grpc_target, "probe")
    clients, per_client = 256, 3

    def worker(t):
        results = []
        for j in range(per_client):
            x = integer_rows(1 + (t + j) % 2, seed=t * per_client + j)
            if t % 3 == 0:  # a new connection per request
                status, body = post(server.url, "/v1/models/probe:predict", {"inputs": x.tolist()})
                assert status == 200, body
                y, batch = np.asarray(body["outputs"]["y"]), np.asarray(body["outputs"]["batch"])
            elif t % 3 == 1:  # the shared, pooled REST client
                out = pooled.predict({"x": x})
                y, batch = out["y"], out["batch"]
            else:  # the shared gRPC client
                out = grpc_client.predict({"x": x})
                y, batch = out["y"], out["batch"]
            results.append((x, y, batch))
        return results

    with concurrent.futures.ThreadPoolExecutor(clients) as pool:
        results = [r for part in pool.map(worker, range(clients)) for r in part]
    grpc_client.close()
    assert len(results) == clients * per_client
    for x, y, batch in results:
        np.testing.assert_array_equal(y, expected_y(x))
        assert set(batch.tolist()) <= {2, 4, 8} and batch[0] >= len(x)


def test_batching_merges_pads_and_refuses_oversized_requests(batching_server):
    server, _ = batching_server
    client = serving.Client(server.url, "probe")
    # Alone, 3 rows wait for the batch timeout (0.1 s) and run padded to the allowed size 4.
    x = integer_rows(3, seed=1)
    out = client.predict({"x": x})
    np.testing.assert_array_equal(out["y"], expected_y(x))
    assert out["batch"].tolist() == [4, 4, 4]
    # Concurrent one-row requests share batches; each gets its own row back.
    xs = [integer_rows(1, seed=10 + i) for i in range(16)]
    with concurrent.futures.ThreadPoolExecutor(16) as pool:
        outs = list(pool.map(lambda x: client.predict({"x": x}), xs))
    for x, out in zip(xs, outs, strict=True):
        np.testing.assert_array_equal(out["y"], expected_y(x))
    assert max(int(out["batch"][0]) for out in outs) > 1
    # More rows than max_batch_size: refused with the values, over REST and gRPC.
    big = integer_rows(9, seed=2)
    status, body = post(server.url, "/v1/models/probe:predict", {"inputs": big.tolist()})
    assert status == 400
    assert "Task size 9 is larger than maximum input batch size 8" in body["error"]
    grpc_client = serving.GrpcClient(server.grpc_target, "probe")
    with pytest.raises(serving.ServingError, match="max_batch_size=8") as info:
        grpc_client.predict({"x": big})
    grpc_client.close()
    assert info.value.code == "INVALID_ARGUMENT"


def test_versions_swap_under_load_without_errors(batching_server):
    server, base = batching_server
    x = np.ones((1, 3), np.float32)
    client = serving.Client(server.url, "hot")

    def export(bias):
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
        model.layers[0].set_weights([W, np.array([bias], np.float32)])
        return serving.export(model, base, "hot")

    def served():
        try:
            return client.status()[0]["version"]
        except serving.ServingError:
            return None

    export(10.0)
    wait_until(lambda: served() == "1", "version 1 is served")
    stop, errors, seen = threading.Event(), [], set()

    def load():
        for _ in range(5000):
            if stop.is_set():
                return
            try:
                seen.add(float(client.predict(x)[0, 0]))
            except Exception as e:  # any failure under the swap is a lost request
                errors.append(repr(e))

    threads = [threading.Thread(target=load) for _ in range(4)]
    for thread in threads:
        thread.start()
    try:
        export(20.0)
        wait_until(lambda: served() == "2", "version 2 is served")
        export(30.0)
        wait_until(lambda: served() == "3", "version 3 is served")
        shutil.rmtree(base / "hot" / "1")
        shutil.rmtree(base / "hot" / "2")
        wait_until(lambda: 36.0 in seen, "the load reaches version 3")
        time.sleep(0.5)  # a few more polls of the directory while under load
    finally:
        stop.set()
        for thread in threads:
            thread.join()
    assert errors == []
    assert seen <= {16.0, 26.0, 36.0}


def hold_in_flight(server, rest_clients, grpc_clients, pool):
    """Starts one-row predicts that the hour-long batch timeout holds in the server."""
    pooled = serving.Client(server.url, "probe")
    futures = []
    for i in range(rest_clients):
        x = integer_rows(1, seed=100 + i)
        if i % 2:
            futures.append((x, pool.submit(pooled.predict, {"x": x})))
        else:
            payload = {"inputs": {"x": x.tolist()}}
            futures.append((x, pool.submit(post, server.url, "/v1/models/probe:predict", payload)))
    if grpc_clients:
        grpc_client = serving.GrpcClient(server.grpc_target, "probe")
        for i in range(grpc_clients):
            x = integer_rows(1, seed=200 + i)
            futures.append((x, pool.submit(grpc_client.predict, {"x": x})))
    return futures


def outputs_of(result):
    if isinstance(result, tuple):  # (status, body) of a raw POST
        status, body = result
        assert status == 200, body
        return {k: np.asarray(v) for k, v in body["outputs"].items()}
    return result


HELD = (
    "max_batch_size { value: 64 }\n"
    f"batch_timeout_micros {{ value: {HOUR_MICROS} }}\n"
    "num_batch_threads { value: 1 }\n"
)


def test_full_request_queue_answers_503_with_tf_serving_error_json(tmp_path):
    export_probe(tmp_path)
    config = batching_file(tmp_path, HELD)
    with serving.local_server(
        tmp_path,
        enable_batching=True,
        batching_parameters_file=config,
        extra_args=("--max-pending-requests", "2"),
    ) as server:
        with concurrent.futures.ThreadPoolExecutor(4) as pool:
            held = hold_in_flight(server, 2, 0, pool)
            wait_until(lambda: get_status(server.url)[0] == 503, "the REST queue is full")
            for _ in range(3):  # new connections, a large body included: answered, not reset
                status, body = post(
                    server.url, "/v1/models/probe:predict", {"inputs": [[0.0] * 3] * 2000}
                )
                assert status == 503 and list(body) == ["error"]
                assert "max_pending_requests=2" in body["error"]
            client = serving.Client(server.url, "probe")
            for _ in range(3):  # kept-alive connections of the pooled client
                with pytest.raises(serving.ServingError) as info:
                    client.predict({"x": integer_rows(1, seed=0)})
                assert (info.value.code, info.value.http_status) == ("UNAVAILABLE", 503)
            server.process.send_signal(signal.SIGTERM)  # drains: the held requests complete
            for x, future in held:
                np.testing.assert_array_equal(outputs_of(future.result())["y"], expected_y(x))
        assert server.process.wait(60) == 0


def test_sigterm_lets_rest_and_grpc_requests_in_flight_complete(tmp_path):
    export_probe(tmp_path)
    config = batching_file(tmp_path, HELD)
    with serving.local_server(
        tmp_path,
        grpc_port=0,
        enable_batching=True,
        batching_parameters_file=config,
        extra_args=("--max-pending-requests", "4"),
    ) as server:
        with concurrent.futures.ThreadPoolExecutor(8) as pool:
            held = hold_in_flight(server, 4, 4, pool)
            # All 8 are inside the server once each front end refuses a 5th call.
            wait_until(lambda: get_status(server.url)[0] == 503, "4 REST requests are held")
            wait_until(
                lambda: grpc_status_code(server.grpc_target) == grpc.StatusCode.RESOURCE_EXHAUSTED,
                "4 gRPC requests are held",
            )
            server.process.send_signal(signal.SIGTERM)
            batch_sizes = []
            for x, future in held:
                outputs = outputs_of(future.result(timeout=120))
                np.testing.assert_array_equal(outputs["y"], expected_y(x))
                batch_sizes.append(int(outputs["batch"][0]))
        # The drain ran every held request. A request the front end has admitted may reach the
        # batcher just after the drain released the batch, so the 8 can run as more than one
        # batch: each batch of size b is seen by exactly b requests.
        for size in set(batch_sizes):
            assert batch_sizes.count(size) % size == 0, batch_sizes
        assert server.process.wait(60) == 0
        with pytest.raises(ConnectionRefusedError):
            get_status(server.url)
