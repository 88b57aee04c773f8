"""The local TF-Serving-compatible development server (`python -m serving BASE_DIR`).

`app.serve` runs it: `models.ModelManager` keeps the versions in step with the directory,
`rest.RestApi` (over uvicorn, `http_app`) and `grpc_service` answer TF Serving's APIs,
`runner.SignatureRunner` runs signatures, batched by `batching.BatchScheduler` with the
parameters `batching_config` reads.
"""

from serving.server.app import serve
from serving.server.batching import BatchScheduler
from serving.server.batching_config import BatchingParameters, read_batching_parameters
from serving.server.models import ModelManager, Servable

__all__ = [
    "BatchScheduler",
    "BatchingParameters",
    "ModelManager",
    "Servable",
    "read_batching_parameters",
    "serve",
]
