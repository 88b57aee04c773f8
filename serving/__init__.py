"""Serving Keras models with TF Serving: export, configuration, clients and a local server.

`export` writes a SavedModel version in TF Serving's `BASE/NAME/VERSION/` layout (signatures,
in-graph preprocessing, warm-up requests); `write_model_config` writes `models.config` and a
batching file for `tensorflow_model_server`; `Client` (REST, a thread-safe keep-alive connection
pool, orjson) and `GrpcClient` (gRPC) talk to TF Serving; `python -m serving BASE` (or
`zoo serve BASE`) and `local_server` run a TF-Serving-compatible development server on the same
directory: uvicorn for REST, grpc for gRPC, TF Serving's server-side batching with
`--enable-batching --batching-parameters-file F`, a bounded request queue (503 when full) and a
graceful drain on SIGTERM.

Example:

```python
import keras
import serving

serving.export(keras.saving.load_model("digits.keras"), "models", "digits")
with serving.local_server("models") as server:
    print(serving.Client(server.url, "digits").predict(images))
config = serving.write_model_config("models", ["digits"])
with serving.local_server(
    "models", enable_batching=True, batching_parameters_file=config.batching_config
) as server:
    print(serving.Client(server.url, "digits").predict(images))
```
"""

from serving.config import ServerConfig, write_model_config
from serving.errors import ServingError
from serving.export import export, list_versions
from serving.grpc_client import GrpcClient
from serving.local import LocalServer, local_server
from serving.preprocessing import image_bytes_preprocess
from serving.rest_client import Client
from serving.signatures import classify_signature, regress_signature
from serving.tflite import evaluate_tflite, tflite_predict, to_tflite
from serving.warmup import read_warmup, warmup_path

__all__ = [
    "evaluate_tflite",
    "tflite_predict",
    "to_tflite",
    "Client",
    "GrpcClient",
    "LocalServer",
    "ServerConfig",
    "ServingError",
    "classify_signature",
    "export",
    "image_bytes_preprocess",
    "list_versions",
    "local_server",
    "read_warmup",
    "regress_signature",
    "warmup_path",
    "write_model_config",
]
