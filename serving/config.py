"""TF Serving configuration files: `models.config` and the batching parameters file."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence

from google.protobuf import text_format
from tensorflow_serving.config import file_system_storage_path_source_pb2 as storage_pb2
from tensorflow_serving.config import model_server_config_pb2

from layers.validation import check_positive_int, is_positive_int
from serving.export import check_model_name

MODELS_CONFIG = "models.config"
BATCHING_CONFIG = "batching.config"

_BATCHING_DEFAULTS = {
    "max_batch_size": 32,
    "batch_timeout_micros": 1000,
    "max_enqueued_batches": 100,
    "num_batch_threads": 4,
}


@dataclasses.dataclass(frozen=True)
class ServerConfig:
    """Paths written by `write_model_config`, and the command line that uses them.

    Attributes:
        models_config: path of `models.config` (a text `ModelServerConfig`).
        batching_config: path of the batching parameters file, or `None`.
    """

    models_config: str
    batching_config: str | None

    def command(self, grpc_port: int = 8500, rest_api_port: int = 8501) -> list[str]:
        """The `tensorflow_model_server` command line serving these files."""
        args = [
            "tensorflow_model_server",
            f"--port={grpc_port}",
            f"--rest_api_port={rest_api_port}",
            f"--model_config_file={self.models_config}",
            "--model_config_file_poll_wait_seconds=60",
        ]
        if self.batching_config:
            args += ["--enable_batching=true", f"--batching_parameters_file={self.batching_config}"]
        return args


def _version_policy(policy) -> storage_pb2.FileSystemStoragePathSourceConfig.ServableVersionPolicy:
    policy_pb = storage_pb2.FileSystemStoragePathSourceConfig.ServableVersionPolicy
    if policy in (None, "latest"):
        return policy_pb(latest=policy_pb.Latest(num_versions=1))
    if policy == "all":
        return policy_pb(all=policy_pb.All())
    if is_positive_int(policy):
        return policy_pb(latest=policy_pb.Latest(num_versions=policy))
    if isinstance(policy, (list, tuple)) and policy and all(map(is_positive_int, policy)):
        return policy_pb(specific=policy_pb.Specific(versions=list(policy)))
    raise ValueError(
        "A model's `version_policy` must be 'latest', 'all', a number of latest versions, or a "
        f"list of versions. Received: version_policy={policy!r}"
    )


def write_model_config(
    base_dir: str | os.PathLike,
    models: Sequence[str] | Mapping[str, str | int | Sequence[int] | None],
    batching: Mapping[str, int] | bool = True,
) -> ServerConfig:
    """Writes TF Serving's `models.config` (and a batching parameters file) into `base_dir`.

    Each model is served from `base_dir/NAME` (absolute path) on the TensorFlow platform. Start
    the server with `ServerConfig.command()`:
    `tensorflow_model_server --port=8500 --rest_api_port=8501
    --model_config_file=BASE/models.config --model_config_file_poll_wait_seconds=60
    --enable_batching=true --batching_parameters_file=BASE/batching.config`.

    Args:
        base_dir: the directory holding one folder per model (as written by `export`).
        models: model names, or a dict of name -> version policy: `"latest"` (TF Serving's
            default), `"all"`, an integer (that many latest versions) or a list of versions.
        batching: `True` for default batching parameters (max batch 32, 1 ms timeout, 100 queued
            batches, 4 threads), a dict overriding some of them, or `False` for no batching file.
            Defaults to `True`.

    Returns:
        A `ServerConfig` with the file paths and `command()`.

    Example:

    ```python
    config = serving.write_model_config("models", ["digits"])
    print(" ".join(config.command()))
    ```
    """
    base_dir = os.path.abspath(os.fspath(base_dir))
    if not isinstance(models, Mapping):
        if isinstance(models, str):
            raise ValueError(f"`models` must be a list of names or a dict. Received: {models!r}")
        models = {name: None for name in models}
    if not models:
        raise ValueError(f"`models` must name at least one model. Received: models={models!r}")

    config = model_server_config_pb2.ModelServerConfig()
    for name, policy in models.items():
        check_model_name(name)
        entry = config.model_config_list.config.add()
        entry.name = name
        entry.base_path = os.path.join(base_dir, name)
        entry.model_platform = "tensorflow"
        entry.model_version_policy.CopyFrom(_version_policy(policy))

    os.makedirs(base_dir, exist_ok=True)
    models_path = os.path.join(base_dir, MODELS_CONFIG)
    with open(models_path, "w") as f:
        f.write(text_format.MessageToString(config))

    batching_path = None
    if batching is not False:
        params = dict(_BATCHING_DEFAULTS)
        overrides = {} if batching is True else dict(batching)
        unknown = set(overrides) - set(params)
        if unknown:
            raise ValueError(
                f"`batching` accepts {sorted(params)}. Received unknown keys: {sorted(unknown)}"
            )
        for key, value in overrides.items():
            check_positive_int(f"batching[{key!r}]", value)
        params.update(overrides)
        # BatchingParameters is a text proto of wrapped integers; its .proto is not shipped in
        # tensorflow-serving-api, so the file is written directly.
        batching_path = os.path.join(base_dir, BATCHING_CONFIG)
        with open(batching_path, "w") as f:
            f.writelines(f"{key} {{ value: {value} }}\n" for key, value in params.items())
    return ServerConfig(models_path, batching_path)
