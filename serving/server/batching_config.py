"""TF Serving's batching parameters: the `--batching_parameters_file` text proto, read and checked.

`tensorflow_model_server --enable_batching --batching_parameters_file=F` reads `F` as a text
`BatchingParameters` message (TF Serving's
`tensorflow_serving/servables/tensorflow/session_bundle_config.proto`), e.g. the file
`serving.write_model_config` writes:

```
max_batch_size { value: 32 }
batch_timeout_micros { value: 1000 }
max_enqueued_batches { value: 100 }
num_batch_threads { value: 4 }
allowed_batch_sizes: 8
allowed_batch_sizes: 32
```

That `.proto` is not shipped in `tensorflow-serving-api`, so its descriptor is declared here (field
names and numbers as TF Serving's) and protobuf's own text parser reads the file: an unknown field
or a malformed value is a parse error naming it. Unset fields take TF Serving's defaults
(`SharedBatchScheduler`'s queue options).
"""

from __future__ import annotations

import dataclasses
import os

from google.protobuf import (
    descriptor_pb2,
    descriptor_pool,
    message_factory,
    text_format,
    wrappers_pb2,
)

_INT64_MAX = 2**63 - 1
_INT32_MAX = 2**31 - 1

# TF Serving's defaults for unset fields (SharedBatchScheduler::QueueOptions; the thread count
# defaults to the machine's parallelism).
DEFAULT_MAX_BATCH_SIZE = 1000
DEFAULT_BATCH_TIMEOUT_MICROS = 0
DEFAULT_MAX_ENQUEUED_BATCHES = 10

# (name, number, wrapper type or scalar type) of each BatchingParameters field.
_FIELDS = (
    ("max_batch_size", 1, ".google.protobuf.Int64Value"),
    ("batch_timeout_micros", 2, ".google.protobuf.Int64Value"),
    ("max_enqueued_batches", 3, ".google.protobuf.Int64Value"),
    ("num_batch_threads", 4, ".google.protobuf.Int64Value"),
    ("thread_pool_name", 5, ".google.protobuf.StringValue"),
    ("allowed_batch_sizes", 6, descriptor_pb2.FieldDescriptorProto.TYPE_INT64),
    ("pad_variable_length_inputs", 7, descriptor_pb2.FieldDescriptorProto.TYPE_BOOL),
    ("enable_large_batch_splitting", 8, ".google.protobuf.BoolValue"),
    ("max_execution_batch_size", 9, ".google.protobuf.Int64Value"),
)


def _message_class():
    """The `tensorflow.serving.BatchingParameters` message class, built from its descriptor."""
    pool = descriptor_pool.DescriptorPool()
    pool.AddSerializedFile(wrappers_pb2.DESCRIPTOR.serialized_pb)
    file_proto = descriptor_pb2.FileDescriptorProto(
        name="keras_zoo/batching_parameters.proto",
        package="tensorflow.serving",
        syntax="proto3",
        dependency=["google/protobuf/wrappers.proto"],
    )
    message = file_proto.message_type.add(name="BatchingParameters")
    proto = descriptor_pb2.FieldDescriptorProto
    for name, number, kind in _FIELDS:
        field = message.field.add(name=name, number=number, label=proto.LABEL_OPTIONAL)
        if isinstance(kind, str):
            field.type, field.type_name = proto.TYPE_MESSAGE, kind
        else:
            field.type = kind
        if name == "allowed_batch_sizes":
            field.label = proto.LABEL_REPEATED
    pool.Add(file_proto)
    return message_factory.GetMessageClass(
        pool.FindMessageTypeByName("tensorflow.serving.BatchingParameters")
    )


BatchingParametersProto = _message_class()


@dataclasses.dataclass(frozen=True)
class BatchingParameters:
    """Checked batching parameters, with TF Serving's meaning and defaults.

    Attributes:
        max_batch_size: the largest request (in rows) a queue accepts; also the largest batch
            unless `enable_large_batch_splitting`. Defaults to `1000`.
        batch_timeout_micros: how long the first request of a batch that is not full waits for
            others, in microseconds. Defaults to `0` (a batch runs as soon as a thread is free,
            holding whatever arrived while the threads were busy).
        max_enqueued_batches: batches a queue (one per signature) may hold before it answers
            UNAVAILABLE. Defaults to `10`.
        num_batch_threads: threads running batches, shared by every model. Defaults to the
            number of CPUs.
        allowed_batch_sizes: sizes a batch is padded up to (with copies of its last request's
            first row), increasing, the last equal to `max_batch_size` (or
            `max_execution_batch_size` with splitting). Defaults to `()` (no padding).
        enable_large_batch_splitting: split a request that does not fit the open batch across
            batches. Defaults to `False`.
        max_execution_batch_size: the largest batch run when splitting. Defaults to
            `max_batch_size`.
        thread_pool_name: names the batch threads. Defaults to `"model_server_batch_threads"`.

    Example:

    ```python
    params = BatchingParameters.from_text("max_batch_size { value: 8 } allowed_batch_sizes: 8")
    params = read_batching_parameters("models/batching.config")
    ```
    """

    max_batch_size: int = DEFAULT_MAX_BATCH_SIZE
    batch_timeout_micros: int = DEFAULT_BATCH_TIMEOUT_MICROS
    max_enqueued_batches: int = DEFAULT_MAX_ENQUEUED_BATCHES
    num_batch_threads: int = dataclasses.field(default_factory=lambda: os.cpu_count() or 1)
    allowed_batch_sizes: tuple[int, ...] = ()
    enable_large_batch_splitting: bool = False
    max_execution_batch_size: int | None = None
    thread_pool_name: str = "model_server_batch_threads"

    def __post_init__(self):
        _check_range("max_batch_size", self.max_batch_size, 1, _INT32_MAX)
        _check_range("batch_timeout_micros", self.batch_timeout_micros, 0, _INT64_MAX)
        _check_range("max_enqueued_batches", self.max_enqueued_batches, 1, _INT32_MAX)
        _check_range("num_batch_threads", self.num_batch_threads, 1, 1024)
        if self.max_execution_batch_size is not None:
            if not self.enable_large_batch_splitting:
                raise ValueError(
                    "`max_execution_batch_size` applies only with enable_large_batch_splitting "
                    "{ value: true }. Received: "
                    f"max_execution_batch_size={self.max_execution_batch_size}"
                )
            _check_range(
                "max_execution_batch_size", self.max_execution_batch_size, 1, self.max_batch_size
            )
        sizes = tuple(self.allowed_batch_sizes)
        object.__setattr__(self, "allowed_batch_sizes", sizes)
        for i, size in enumerate(sizes):
            _check_range(f"allowed_batch_sizes[{i}]", size, 1, _INT32_MAX)
            if i and size <= sizes[i - 1]:
                raise ValueError(
                    "`allowed_batch_sizes` entries must be monotonically increasing. Received: "
                    f"allowed_batch_sizes={list(sizes)}"
                )
        if sizes and sizes[-1] != self.execution_batch_size:
            limit = (
                "max_execution_batch_size"
                if self.enable_large_batch_splitting
                else "max_batch_size"
            )
            raise ValueError(
                f"The last entry in `allowed_batch_sizes` must equal {limit}="
                f"{self.execution_batch_size} (TF Serving's rule). Received: "
                f"allowed_batch_sizes={list(sizes)}"
            )

    @property
    def execution_batch_size(self) -> int:
        """The largest batch the model is called with."""
        if self.enable_large_batch_splitting and self.max_execution_batch_size is not None:
            return self.max_execution_batch_size
        return self.max_batch_size

    @property
    def batch_timeout_seconds(self) -> float:
        return self.batch_timeout_micros / 1e6

    @classmethod
    def from_text(cls, text: str, source: str = "batching parameters") -> BatchingParameters:
        """Parses and checks a text `BatchingParameters` message.

        Args:
            text: the text proto, as in a `--batching_parameters_file`.
            source: what to call the text in errors (the file's path).

        Example:

        ```python
        BatchingParameters.from_text("max_batch_size { value: 4 } allowed_batch_sizes: 4")
        ```
        """
        proto = BatchingParametersProto()
        try:
            text_format.Parse(text, proto)
        except text_format.ParseError as e:
            raise ValueError(
                f"Cannot parse {source} as TF Serving's BatchingParameters: {e}"
            ) from None
        if proto.pad_variable_length_inputs:
            raise ValueError(
                f"{source}: the local server does not pad variable-length inputs; send inputs "
                "of one shape per signature. Received: pad_variable_length_inputs=true"
            )
        values = {}
        for name, _, _ in _FIELDS:
            if name in ("allowed_batch_sizes", "pad_variable_length_inputs"):
                continue
            if proto.HasField(name):
                values[name] = getattr(proto, name).value
        try:
            return cls(allowed_batch_sizes=tuple(proto.allowed_batch_sizes), **values)
        except ValueError as e:
            raise ValueError(f"{source}: {e}") from None


def read_batching_parameters(path: str | os.PathLike) -> BatchingParameters:
    """Reads and checks a `--batching_parameters_file`.

    Args:
        path: the file, a text `BatchingParameters` proto (what `write_model_config` writes).

    Returns:
        The `BatchingParameters`; unset fields have TF Serving's defaults.

    Example:

    ```python
    params = read_batching_parameters("models/batching.config")
    print(params.max_batch_size, params.allowed_batch_sizes)
    ```
    """
    path = os.fspath(path)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"`batching_parameters_file` must be an existing file. "
            f"Received: batching_parameters_file={path}"
        )
    with open(path) as f:
        return BatchingParameters.from_text(f.read(), source=path)


def _check_range(name: str, value, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(
            f"`{name}` must be an integer in [{low}, {high}]. Received: {name}={value!r}"
        )
