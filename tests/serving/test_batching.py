"""Server-side batching in-process: the parameters file, merging, padding, splitting, queue limits.

The scheduler is driven deterministically: batches wait for a long timeout and run when full or
when `drain()` releases them, so no assertion depends on timing.
"""

import threading

import numpy as np
import pytest

import serving
from serving.errors import ServingError
from serving.server.batching import BatchScheduler
from serving.server.batching_config import (
    BatchingParameters,
    read_batching_parameters,
)
from serving.server.models import ModelManager

HOUR_MICROS = 3_600_000_000


class RecordingSignature:
    """A signature stand-in: y = 2x + 1 row by row, recording each batch it is called with."""

    def __init__(self, scalar_output=False):
        self.batches = []
        self.scalar_output = scalar_output
        self.lock = threading.Lock()

    def execute(self, arrays, output_names):
        x = arrays["x"]
        with self.lock:
            self.batches.append(x.copy())
        if self.scalar_output:
            return {"y": np.float32(x.sum())}
        return {"y": 2 * x + 1}


def scheduler(**params):
    params.setdefault("batch_timeout_micros", HOUR_MICROS)
    params.setdefault("num_batch_threads", 1)
    batcher = BatchScheduler(BatchingParameters(**params))
    batcher.start()
    return batcher


def rows(*values):
    return {"x": np.asarray(values, np.float32).reshape(-1, 1)}


def test_write_model_config_batching_file_reads_back(tmp_path):
    config = serving.write_model_config(tmp_path, ["digits"], batching={"max_batch_size": 16})
    params = read_batching_parameters(config.batching_config)
    assert (params.max_batch_size, params.batch_timeout_micros) == (16, 1000)
    assert (params.max_enqueued_batches, params.num_batch_threads) == (100, 4)
    assert params.allowed_batch_sizes == ()
    # Unset fields take TF Serving's defaults.
    defaults = BatchingParameters.from_text("")
    assert (defaults.max_batch_size, defaults.batch_timeout_micros) == (1000, 0)
    assert defaults.max_enqueued_batches == 10


BAD_FILES = [
    ("max_batch_sise { value: 8 }", 'no field named "max_batch_sise"'),
    ("max_batch_size: 8", "max_batch_size"),
    ("max_batch_size { value: 0 }", "Received: max_batch_size=0"),
    ("batch_timeout_micros { value: -1 }", "Received: batch_timeout_micros=-1"),
    ("num_batch_threads { value: 0 }", "Received: num_batch_threads=0"),
    ("max_enqueued_batches { value: 0 }", "Received: max_enqueued_batches=0"),
    (
        "max_batch_size { value: 8 } allowed_batch_sizes: 2 allowed_batch_sizes: 4",
        "must equal max_batch_size=8 (TF Serving's rule). Received: allowed_batch_sizes=[2, 4]",
    ),
    (
        "max_batch_size { value: 8 } allowed_batch_sizes: 4 allowed_batch_sizes: 4 "
        "allowed_batch_sizes: 8",
        "monotonically increasing. Received: allowed_batch_sizes=[4, 4, 8]",
    ),
    ("max_batch_size { value: 8 } allowed_batch_sizes: 0", "Received: allowed_batch_sizes[0]=0"),
    (
        "max_batch_size { value: 8 } enable_large_batch_splitting { value: true } "
        "max_execution_batch_size { value: 9 }",
        "Received: max_execution_batch_size=9",
    ),
    ("max_execution_batch_size { value: 4 }", "applies only with enable_large_batch_splitting"),
    ("pad_variable_length_inputs: true", "Received: pad_variable_length_inputs=true"),
]


@pytest.mark.parametrize("text,fragment", BAD_FILES, ids=[str(i) for i in range(len(BAD_FILES))])
def test_bad_batching_files_name_the_field_and_value(tmp_path, text, fragment):
    path = tmp_path / "batching.config"
    path.write_text(text)
    with pytest.raises(ValueError, match="batching.config") as info:
        read_batching_parameters(path)
    assert fragment in str(info.value)


def test_missing_batching_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match="Received: batching_parameters_file=.*nope"):
        read_batching_parameters(tmp_path / "nope")


def test_concurrent_requests_merge_into_one_call_and_split_back():
    signature = RecordingSignature()
    batcher = scheduler(max_batch_size=4)
    futures = [batcher.submit(signature, rows(i), ["y"]) for i in range(3)]
    assert not any(f.done() for f in futures)  # the batch is not full and the timeout is long
    futures.append(batcher.submit(signature, rows(3), ["y"]))  # fills it: it runs now
    outputs = [f.result(timeout=60)["y"] for f in futures]
    batcher.stop()
    assert [b.ravel().tolist() for b in signature.batches] == [[0, 1, 2, 3]]
    assert [o.ravel().tolist() for o in outputs] == [[1], [3], [5], [7]]
    assert batcher.batch_sizes == {4: 1}


def test_batches_are_padded_to_allowed_sizes_with_the_last_tasks_first_row():
    signature = RecordingSignature()
    batcher = scheduler(max_batch_size=8, allowed_batch_sizes=(2, 4, 8))
    first = batcher.submit(signature, rows(5), ["y"])
    second = batcher.submit(signature, rows(6, 7), ["y"])
    batcher.drain()  # runs the open batch of 3 rows without waiting for the timeout
    assert first.result(timeout=60)["y"].ravel().tolist() == [11]
    assert second.result(timeout=60)["y"].ravel().tolist() == [13, 15]
    batcher.stop()
    assert [b.ravel().tolist() for b in signature.batches] == [[5, 6, 7, 6]]
    assert batcher.batch_sizes == {4: 1}


def test_a_task_that_does_not_fit_closes_the_open_batch():
    signature = RecordingSignature()
    batcher = scheduler(max_batch_size=4, allowed_batch_sizes=(4,))
    futures = [
        batcher.submit(signature, rows(1, 2, 3), ["y"]),
        batcher.submit(signature, rows(4, 5), ["y"]),  # 3 + 2 > 4: the first batch closes
    ]
    futures[0].result(timeout=60)
    assert [b.ravel().tolist() for b in signature.batches] == [[1, 2, 3, 1]]
    batcher.drain()
    assert futures[1].result(timeout=60)["y"].ravel().tolist() == [9, 11]
    batcher.stop()
    assert [b.ravel().tolist() for b in signature.batches][1] == [4, 5, 4, 4]


def test_request_larger_than_max_batch_size_is_refused_with_the_values():
    batcher = scheduler(max_batch_size=2)
    with pytest.raises(ServingError) as info:
        batcher.submit(RecordingSignature(), rows(1, 2, 3), ["y"])
    batcher.stop()
    assert info.value.code == "INVALID_ARGUMENT" and info.value.http_status == 400
    assert "Task size 3 is larger than maximum input batch size 2" in info.value.message
    assert "max_batch_size=2" in info.value.message


def test_full_queue_answers_unavailable():
    signature = RecordingSignature()
    batcher = scheduler(max_batch_size=2, max_enqueued_batches=1)
    held = [batcher.submit(signature, rows(i), ["y"]) for i in range(2)]  # fills the open batch
    with pytest.raises(ServingError) as info:
        batcher.submit(signature, rows(9), ["y"])
    assert info.value.code == "UNAVAILABLE" and info.value.http_status == 503
    assert "The batch scheduling queue to which this task was submitted is full" in str(info.value)
    batcher.stop()
    assert [f.result(timeout=60)["y"].ravel().tolist() for f in held] == [[1], [3]]


def test_large_batch_splitting_spreads_a_request_over_batches():
    signature = RecordingSignature()
    batcher = scheduler(
        max_batch_size=8,
        enable_large_batch_splitting=True,
        max_execution_batch_size=3,
        allowed_batch_sizes=(2, 3),
    )
    small = batcher.submit(signature, rows(10), ["y"])
    large = batcher.submit(signature, rows(0, 1, 2, 3, 4, 5, 6), ["y"])  # 7 rows: 2 + 3 + 2
    batcher.drain()
    assert large.result(timeout=60)["y"].ravel().tolist() == [1, 3, 5, 7, 9, 11, 13]
    assert small.result(timeout=60)["y"].ravel().tolist() == [21]
    batcher.stop()
    assert sorted(b.ravel().tolist() for b in signature.batches) == [
        [2, 3, 4],
        [5, 6],
        [10, 0, 1],
    ]
    with pytest.raises(ServingError, match="Task size 9 is larger than maximum input batch size 8"):
        batcher.submit(signature, rows(*range(9)), ["y"])


def test_batch_errors_reach_every_request_and_scalars_are_refused():
    batcher = scheduler(max_batch_size=2)
    futures = [batcher.submit(RecordingSignature(scalar_output=True), rows(1), ["y"])]
    batcher.drain()
    with pytest.raises(ServingError) as info:
        futures[0].result(timeout=60)
    assert info.value.code == "FAILED_PRECONDITION"
    assert "output tensor 'y' must have the batch size 1" in info.value.message
    assert "Received: shape=[]" in info.value.message
    with pytest.raises(ServingError, match="at least one dimension"):
        batcher.submit(RecordingSignature(), {"x": np.float32(1.0)}, ["y"])
    batcher.stop()


def test_batched_outputs_equal_unbatched_calls_of_a_real_model(tmp_path, linear_model):
    serving.export(linear_model, tmp_path, "linear")
    manager = ModelManager(tmp_path, log=lambda line: None)
    manager.poll()
    signature = manager.get("linear").signature(None)
    x = np.random.default_rng(0).standard_normal((6, 3)).astype(np.float32)
    unbatched = [signature.run({"inputs": x[i : i + 1]})["value"] for i in range(6)]
    batcher = scheduler(max_batch_size=8, allowed_batch_sizes=(4, 8))
    futures = [
        batcher.submit(signature, *signature.prepare({"inputs": x[i : i + 1]})) for i in range(6)
    ]
    batcher.drain()
    batched = [f.result(timeout=60)["value"] for f in futures]
    batcher.stop()
    assert batcher.batch_sizes == {8: 1}
    # Equal up to float rounding: TensorFlow picks another matmul kernel for 8 rows than for 1
    # (a last-bit difference, as with TF Serving's batching).
    for got, want in zip(batched, unbatched, strict=True):
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
