"""`SignatureRunner`: runs signatures for the front ends, batched or one call each."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np

from serving.server.batching import BatchScheduler
from serving.server.signature import Signature


class SignatureRunner:
    """Checks a request's inputs, then runs the model: in a batch, or one call per request.

    With a `BatchScheduler` the request joins a batch (REST and gRPC requests alike). Without
    one, `run` (the REST front end's, in the event loop) calls the signature on a small thread
    pool, so that the loop keeps serving other connections while TensorFlow computes, and
    `run_sync` (the gRPC front end's, in a gRPC worker thread) calls it in the caller's thread.

    Args:
        scheduler: the batch scheduler (`--enable-batching`), or `None`.
        threads: threads calling unbatched signatures. Defaults to `4`.

    Example:

    ```python
    runner = SignatureRunner(None)
    outputs = await runner.run(servable.signature(None), {"images": batch})
    ```
    """

    def __init__(self, scheduler: BatchScheduler | None, threads: int = 4):
        self.scheduler = scheduler
        self._executor = ThreadPoolExecutor(threads, thread_name_prefix="signature")

    async def run(
        self,
        signature: Signature,
        inputs: Mapping[str, Any],
        output_filter: Iterable[str] | None = None,
    ) -> dict[str, np.ndarray]:
        """Validates `inputs` (name -> array-like) and runs `signature`: output name -> array."""
        arrays, output_names = signature.prepare(inputs, output_filter)
        if self.scheduler is not None:
            return await self.scheduler.run(signature, arrays, output_names)
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._executor, signature.execute, arrays, output_names)

    def run_sync(
        self,
        signature: Signature,
        inputs: Mapping[str, Any],
        output_filter: Iterable[str] | None = None,
    ) -> dict[str, np.ndarray]:
        """`run` for threads: blocks until the outputs are ready."""
        arrays, output_names = signature.prepare(inputs, output_filter)
        if self.scheduler is not None:
            return self.scheduler.submit(signature, arrays, output_names).result()
        return signature.execute(arrays, output_names)

    def close(self) -> None:
        """Waits for unbatched calls in progress, then ends the thread pool."""
        self._executor.shutdown(wait=True)
