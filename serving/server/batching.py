"""Server-side batching with the semantics of TF Serving's `--enable_batching`.

Requests (tasks) to the same signature, asking for the same outputs, with inputs of the same
shape after the batch axis, share a queue. A queue holds closed batches and one open batch that
tasks join; a task that does not fit the open batch (rows beyond `max_batch_size`) closes it and
opens the next, and a queue that already holds `max_enqueued_batches` batches answers
UNAVAILABLE. `num_batch_threads` threads, shared by all queues, each take the next closed batch,
or an open batch that is full or whose first task has waited `batch_timeout_micros`; the batch's
inputs are concatenated, padded up to the next `allowed_batch_sizes` entry with copies of the
last task's first row (as TF Serving pads), the signature runs once, and its outputs are split
back along the batch axis. With `enable_large_batch_splitting`, a task larger than the room
left in the open batch is split across batches and its outputs are joined again.

This is the same queueing as TF Serving's `SharedBatchScheduler` + `BatchingSession` (one
queue per signature); the one difference is that inputs of another shape get their own queue,
where TF Serving fails a batch mixing them (`pad_variable_length_inputs` is not supported).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any

import numpy as np

from serving.errors import ServingError, invalid_argument
from serving.server.batching_config import BatchingParameters

QueueKey = tuple[Any, ...]


Resolve = Callable[[Any, BaseException | None], None]


class _Task:
    """Rows of one request (or one piece of a split request) and where their outputs go.

    `resolve(outputs, error)` delivers the result; when `loop` is set it must run in that
    event loop, and the batch thread hands it over with one loop wake-up per batch.
    """

    __slots__ = ("inputs", "size", "resolve", "loop", "enqueued")

    def __init__(
        self,
        inputs: dict[str, np.ndarray],
        size: int,
        resolve: Resolve,
        loop: asyncio.AbstractEventLoop | None = None,
    ):
        self.inputs = inputs
        self.size = size
        self.resolve = resolve
        self.loop = loop
        self.enqueued = time.monotonic()


class _Batch:
    __slots__ = ("tasks", "size", "opened")

    def __init__(self):
        self.tasks: list[_Task] = []
        self.size = 0
        self.opened = 0.0

    def add(self, task: _Task) -> None:
        if not self.tasks:
            self.opened = task.enqueued
        self.tasks.append(task)
        self.size += task.size


class _Queue:
    """The batches of one signature, output set and input shape."""

    def __init__(self, signature, output_names: list[str]):
        self.signature = signature
        self.output_names = output_names
        self.closed: collections.deque[_Batch] = collections.deque()
        self.open = _Batch()
        self.running = 0

    @property
    def num_batches(self) -> int:
        """Enqueued batches, the open one included (TF Serving's count)."""
        return len(self.closed) + 1

    def idle(self) -> bool:
        return not self.closed and not self.open.tasks and not self.running


class BatchScheduler:
    """Merges concurrent calls of a signature into batches and runs them on a thread pool.

    Args:
        params: the `BatchingParameters` (what `--batching_parameters_file` holds).

    Example:

    ```python
    scheduler = BatchScheduler(read_batching_parameters("models/batching.config"))
    scheduler.start()
    arrays, outputs = signature.prepare({"images": batch})
    result = scheduler.submit(signature, arrays, outputs).result()  # output name -> array
    scheduler.stop()
    ```
    """

    def __init__(self, params: BatchingParameters):
        self.params = params
        self._cond = threading.Condition()
        self._queues: dict[QueueKey, _Queue] = {}
        self._next = 0  # round-robin start among queues
        self._draining = False
        self._stopping = False
        self._threads: list[threading.Thread] = []
        # Padded batch size -> batches run, for logs and tests.
        self.batch_sizes: collections.Counter[int] = collections.Counter()

    def start(self) -> None:
        """Starts the `num_batch_threads` batch threads."""
        for i in range(self.params.num_batch_threads):
            thread = threading.Thread(
                target=self._work, name=f"{self.params.thread_pool_name}_{i}", daemon=True
            )
            thread.start()
            self._threads.append(thread)

    def drain(self) -> None:
        """Stops waiting for batches to fill: whatever is enqueued, or arrives, runs at once."""
        with self._cond:
            self._draining = True
            self._cond.notify_all()

    def stop(self, timeout: float | None = None) -> None:
        """Runs every enqueued batch, then ends the batch threads."""
        with self._cond:
            self._draining = self._stopping = True
            self._cond.notify_all()
        for thread in self._threads:
            thread.join(timeout)

    def submit(self, signature, arrays: dict[str, np.ndarray], output_names: list[str]) -> Future:
        """Enqueues one request; its future gets the request's own rows of each output.

        Args:
            signature: the `Signature` to run (its `execute` is called with whole batches).
            arrays: the request's inputs, as `Signature.prepare` returned them.
            output_names: the outputs to return.

        Raises:
            ServingError: INVALID_ARGUMENT for a request of more than `max_batch_size` rows or
                with a scalar input, UNAVAILABLE when the queue is full.
        """
        future: Future = Future()
        self._schedule(signature, arrays, output_names, _future_resolver(future), None)
        return future

    async def run(
        self, signature, arrays: dict[str, np.ndarray], output_names: list[str]
    ) -> dict[str, np.ndarray]:
        """`submit` for asyncio callers: awaits the request's rows of each output."""
        loop = asyncio.get_running_loop()
        future = loop.create_future()
        self._schedule(signature, arrays, output_names, _future_resolver(future), loop)
        return await future

    def _schedule(self, signature, arrays, output_names, resolve: Resolve, loop) -> None:
        size = _batch_size(arrays)
        params = self.params
        if size > params.max_batch_size:
            raise invalid_argument(
                f"Task size {size} is larger than maximum input batch size "
                f"{params.max_batch_size}. Send at most max_batch_size={params.max_batch_size} "
                "rows per request (or set enable_large_batch_splitting). "
                f"Received: batch size={size}"
            )
        key = (
            id(signature),
            tuple(output_names),
            tuple((name, a.dtype.str, a.shape[1:]) for name, a in sorted(arrays.items())),
        )
        task = _Task(arrays, size, resolve, loop)
        with self._cond:
            queue = self._queues.get(key)
            if queue is None:
                queue = self._queues[key] = _Queue(signature, output_names)
            if params.enable_large_batch_splitting:
                self._enqueue_split(queue, task)
            else:
                self._enqueue(queue, task)
            self._cond.notify()

    def _enqueue(self, queue: _Queue, task: _Task) -> None:
        if queue.open.size + task.size > self.params.max_batch_size:
            if queue.num_batches >= self.params.max_enqueued_batches:
                raise ServingError(
                    "The batch scheduling queue to which this task was submitted is full; "
                    f"currently {queue.num_batches} batches enqueued and max_enqueued_batches "
                    f"is {self.params.max_enqueued_batches}",
                    "UNAVAILABLE",
                )
            queue.closed.append(queue.open)
            queue.open = _Batch()
        queue.open.add(task)

    def _enqueue_split(self, queue: _Queue, task: _Task) -> None:
        limit = self.params.execution_batch_size
        room = limit - queue.open.size
        capacity = (self.params.max_enqueued_batches - queue.num_batches) * limit + room
        if task.size > capacity:
            raise ServingError(
                "The batch scheduling queue to which this task was submitted is full; task size "
                f"is {task.size} but scheduling capacity is only {capacity} "
                f"(num_enqueued_batches={queue.num_batches}, max_enqueued_batches="
                f"{self.params.max_enqueued_batches}, open_batch_size={queue.open.size}, "
                f"max_execution_batch_size={limit})",
                "UNAVAILABLE",
            )
        if task.size <= room:
            queue.open.add(task)
            return
        bounds = [0, room] if room else [0]
        while bounds[-1] < task.size:
            bounds.append(min(bounds[-1] + limit, task.size))
        pieces = []
        join = _Join(len(bounds) - 1, task)
        for i, (start, end) in enumerate(zip(bounds[:-1], bounds[1:], strict=True)):
            inputs = {name: a[start:end] for name, a in task.inputs.items()}
            pieces.append(_Task(inputs, end - start, join.resolver(i)))
        for piece in pieces:
            if queue.open.size + piece.size > limit:
                queue.closed.append(queue.open)
                queue.open = _Batch()
            queue.open.add(piece)

    def _ready(self, queue: _Queue, now: float) -> bool:
        open_batch = queue.open
        if not open_batch.tasks:
            return False
        return (
            self._draining
            or open_batch.size >= self.params.execution_batch_size
            or now - open_batch.opened >= self.params.batch_timeout_seconds
        )

    def _take(self) -> tuple[_Queue, _Batch] | float | None:
        """The next batch to run; else seconds until an open batch times out, or None."""
        now = time.monotonic()
        queues = list(self._queues.items())
        wait = None
        for i in range(len(queues)):
            key, queue = queues[(self._next + i) % len(queues)]
            if queue.closed:
                batch = queue.closed.popleft()
            elif self._ready(queue, now):
                batch, queue.open = queue.open, _Batch()
            else:
                if queue.open.tasks:
                    due = queue.open.opened + self.params.batch_timeout_seconds - now
                    wait = due if wait is None else min(wait, due)
                elif queue.idle():
                    del self._queues[key]
                continue
            self._next = (self._next + i + 1) % max(len(queues), 1)
            queue.running += 1
            return queue, batch
        return wait

    def _work(self) -> None:
        while True:
            with self._cond:
                while True:
                    taken = self._take()
                    if isinstance(taken, tuple):
                        break
                    if self._stopping and not self._queues:
                        return
                    self._cond.wait(taken)
            queue, batch = taken
            padded = None
            try:
                padded = self._run(queue, batch)
            finally:
                with self._cond:
                    queue.running -= 1
                    if padded is not None:
                        self.batch_sizes[padded] += 1
                    if self._stopping:
                        self._cond.notify_all()

    def _run(self, queue: _Queue, batch: _Batch) -> int | None:
        """Runs one batch and resolves its tasks; the padded batch size, or None on error."""
        padded = _round_up(batch.size, self.params.allowed_batch_sizes)
        try:
            inputs = {}
            for name in batch.tasks[0].inputs:
                parts = [task.inputs[name] for task in batch.tasks]
                if padded > batch.size:
                    # TF Serving pads with copies of the first row of the last task's input.
                    parts.append(np.repeat(parts[-1][:1], padded - batch.size, axis=0))
                inputs[name] = parts[0] if len(parts) == 1 else np.concatenate(parts)
            outputs = queue.signature.execute(inputs, queue.output_names)
            for name, value in outputs.items():
                if value.ndim == 0 or value.shape[0] != padded:
                    raise ServingError(
                        f"Batched output tensor {name!r} must have the batch size {padded} as "
                        f"its 0th dimension (batching splits outputs along it). Received: "
                        f"shape={list(value.shape)}",
                        "FAILED_PRECONDITION",
                    )
        except Exception as e:  # every task of the batch gets the error
            error = e if isinstance(e, ServingError) else _internal(e)
            _deliver([(task, None, error) for task in batch.tasks])
            return None
        results, start = [], 0
        for task in batch.tasks:
            end = start + task.size
            rows = {name: value[start:end] for name, value in outputs.items()}
            results.append((task, rows, None))
            start = end
        _deliver(results)
        return padded


def _batch_size(arrays: dict[str, np.ndarray]) -> int:
    if not arrays:
        raise invalid_argument("Batching Run() must have at least one input tensor")
    for name, array in arrays.items():
        if array.ndim == 0:
            raise invalid_argument(
                "Batching Run() input tensors must have at least one dimension. Received: "
                f"input {name!r} with shape=[]"
            )
    return next(iter(arrays.values())).shape[0]


def _round_up(size: int, allowed: tuple[int, ...]) -> int:
    for allowed_size in allowed:
        if allowed_size >= size:
            return allowed_size
    return size


def _internal(error: Exception) -> ServingError:
    return ServingError(f"Internal error: {type(error).__name__}: {error}", "INTERNAL")


def _future_resolver(future) -> Resolve:
    """Sets a `concurrent.futures.Future` or an `asyncio.Future` (in its loop)."""

    def resolve(result, error):
        if future.done():  # an asyncio caller that gave up (cancelled)
            return
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(result)

    return resolve


def _call_all(items) -> None:
    for resolve, result, error in items:
        resolve(result, error)


def _deliver(results: list[tuple[_Task, Any, BaseException | None]]) -> None:
    """Resolves tasks: directly, or with one `call_soon_threadsafe` per event loop."""
    by_loop: dict[asyncio.AbstractEventLoop, list] = {}
    for task, result, error in results:
        if task.loop is None:
            task.resolve(result, error)
        else:
            by_loop.setdefault(task.loop, []).append((task.resolve, result, error))
    for loop, items in by_loop.items():
        with contextlib.suppress(RuntimeError):  # the loop has closed: nobody is waiting
            loop.call_soon_threadsafe(_call_all, items)


class _Join:
    """Collects the pieces of a split task and resolves the task with their outputs joined."""

    def __init__(self, count: int, task: _Task):
        self.results: list[Any] = [None] * count
        self.remaining = count
        self.error: BaseException | None = None
        self.task = task
        self.lock = threading.Lock()

    def resolver(self, index: int) -> Resolve:
        def resolve(result, error):
            with self.lock:
                self.results[index] = result
                self.error = self.error or error
                self.remaining -= 1
                if self.remaining:
                    return
            if self.error is not None:
                _deliver([(self.task, None, self.error)])
                return
            joined = {
                name: np.concatenate([r[name] for r in self.results]) for name in self.results[0]
            }
            _deliver([(self.task, joined, None)])

        return resolve
