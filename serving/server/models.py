"""Loading model versions from a base directory and keeping them in step with it.

Like `tensorflow_model_server` with its default version policy, every folder of `base_dir` is a
model, its latest complete numeric sub-folder is the version served, a newer version replaces it
once loaded (requests in flight finish on the old one), and a removed model or version is
unloaded. Warm-up requests in `assets.extra/` are replayed before a version goes live.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import sys
import threading
from typing import Any

import tensorflow as tf
from tensorflow.core.protobuf import meta_graph_pb2, saved_model_pb2

from layers.validation import check_positive_float
from serving.errors import ServingError, not_found
from serving.export import DEFAULT_SIGNATURE, list_versions
from serving.server.signature import Signature
from serving.warmup import read_warmup, warmup_path

VERSION_POLICIES = ("latest", "all")


@dataclasses.dataclass
class Servable:
    """A loaded version of a model.

    Attributes:
        name: model name.
        version: version number.
        path: the version directory.
        signatures: signature name -> `Signature`.
        signature_defs: the `SignatureDef` protos, as in `saved_model.pb`.
    """

    name: str
    version: int
    path: str
    signatures: dict[str, Signature]
    signature_defs: dict[str, meta_graph_pb2.SignatureDef]
    loaded: Any = None

    def signature(self, name: str | None) -> Signature:
        """The signature `name` (`serving_default` when empty), or a NOT_FOUND-style error."""
        name = name or DEFAULT_SIGNATURE
        if name not in self.signatures:
            raise ServingError(
                f'Serving signature name: "{name}" not found in signature def. Available '
                f"signatures: {sorted(self.signatures)}",
                "INVALID_ARGUMENT",
            )
        return self.signatures[name]


def _register_text_ops() -> None:
    # SavedModels with in-graph tokenizers use tensorflow-text ops, which exist in the process
    # only once the package is imported (TF Serving's binary links them in).
    with contextlib.suppress(ImportError):
        import tensorflow_text  # noqa: F401


def load_servable(name: str, version: int, path: str) -> Servable:
    """Loads one version directory and replays its warm-up requests."""
    proto = saved_model_pb2.SavedModel()
    with open(os.path.join(path, "saved_model.pb"), "rb") as f:
        proto.ParseFromString(f.read())
    signature_defs = dict(proto.meta_graphs[0].signature_def)
    _register_text_ops()
    loaded = tf.saved_model.load(path)
    signatures = {}
    for key, function in loaded.signatures.items():
        _, kwargs = function.structured_input_signature
        signatures[key] = Signature(
            name=key,
            method_name=signature_defs[key].method_name,
            inputs=dict(kwargs),
            outputs=sorted(function.structured_outputs),
            function=function,
            owner=loaded,
        )
    servable = Servable(name, version, path, signatures, signature_defs, loaded)
    warmup = warmup_path(path)
    if os.path.exists(warmup):
        for log in read_warmup(warmup):
            request = log.predict_log.request
            inputs = {k: tf.make_ndarray(v) for k, v in request.inputs.items()}
            servable.signature(request.model_spec.signature_name).run(inputs)
    return servable


class ModelManager:
    """Keeps the loaded versions of every model under `base_dir` in step with the directory.

    Args:
        base_dir: the directory with one folder per model, each with numeric version folders.
        poll_interval: seconds between directory scans when `start()`ed. Defaults to `1.0`.
        version_policy: `"latest"` serves only the newest version of each model (TF Serving's
            default); `"all"` serves every version. Defaults to `"latest"`.
        log: called with one line per load, unload or failure. Defaults to printing to stderr.

    Example:

    ```python
    manager = ModelManager("models")
    manager.poll()
    manager.get("digits").signature(None).run({"images": batch})
    ```
    """

    def __init__(
        self,
        base_dir: str | os.PathLike,
        poll_interval: float = 1.0,
        version_policy: str = "latest",
        log=None,
    ):
        base_dir = os.fspath(base_dir)
        if not os.path.isdir(base_dir):
            raise FileNotFoundError(
                f"`base_dir` must be an existing directory. Received: {base_dir}"
            )
        check_positive_float("poll_interval", poll_interval)
        if version_policy not in VERSION_POLICIES:
            raise ValueError(
                f"`version_policy` must be one of {VERSION_POLICIES}. Received: {version_policy!r}"
            )
        self.base_dir = base_dir
        self.poll_interval = float(poll_interval)
        self.version_policy = version_policy
        self._log = log or (lambda line: print(line, file=sys.stderr, flush=True))
        self._lock = threading.Lock()
        self._models: dict[str, dict[int, Servable]] = {}
        # (name, version) -> (error message, mtime of the folder when it failed): not retried
        # until the folder changes.
        self._failures: dict[tuple[str, int], tuple[str, float]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def _wanted(self) -> dict[str, list[int]]:
        wanted = {}
        for entry in sorted(os.listdir(self.base_dir)):
            if entry.startswith(".") or not os.path.isdir(os.path.join(self.base_dir, entry)):
                continue
            versions = list_versions(os.path.join(self.base_dir, entry))
            if versions:
                wanted[entry] = versions if self.version_policy == "all" else versions[-1:]
        return wanted

    def poll(self) -> None:
        """Scans `base_dir` once: loads new versions, unloads removed or superseded ones."""
        wanted = self._wanted()
        for name, versions in wanted.items():
            for version in versions:
                with self._lock:
                    if version in self._models.get(name, {}):
                        continue
                path = os.path.join(self.base_dir, name, str(version))
                mtime = os.path.getmtime(path)
                failure = self._failures.get((name, version))
                if failure and failure[1] == mtime:
                    continue
                try:
                    servable = load_servable(name, version, path)
                except Exception as e:  # a broken model must not stop the server
                    self._failures[(name, version)] = (f"{type(e).__name__}: {e}", mtime)
                    self._log(f"Failed to load {name} version {version}: {e}")
                    continue
                self._failures.pop((name, version), None)
                with self._lock:
                    self._models.setdefault(name, {})[version] = servable
                self._log(f"Loaded {name} version {version}")
        with self._lock:
            for name in list(self._models):
                keep = set(wanted.get(name, []))
                loaded = self._models[name]
                if self.version_policy == "latest" and name in wanted and not keep & set(loaded):
                    # The newest version failed to load: keep serving what is loaded.
                    keep = {max(loaded)}
                for version in sorted(set(loaded) - keep):
                    del loaded[version]
                    self._log(f"Unloaded {name} version {version}")
                if not loaded:
                    del self._models[name]

    def start(self) -> None:
        """Polls once now, then every `poll_interval` seconds in a daemon thread."""
        self.poll()
        self._thread = threading.Thread(target=self._run, name="model-poller", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(self.poll_interval):
            try:
                self.poll()
            except OSError as e:  # e.g. base_dir briefly unreadable; try again next round
                self._log(f"Polling {self.base_dir} failed: {e}")

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()

    def names(self) -> list[str]:
        with self._lock:
            return sorted(self._models)

    def get(self, name: str, version: int | None = None) -> Servable:
        """The servable for `name` (latest loaded version, or `version`), or NOT_FOUND."""
        with self._lock:
            versions = self._models.get(name, {})
            if version is None:
                if versions:
                    return versions[max(versions)]
                raise not_found(f"Servable not found for request: Latest({name})")
            if version in versions:
                return versions[version]
        raise not_found(f"Servable not found for request: Specific({name}, {version})")

    def status(self, name: str, version: int | None = None) -> list[tuple[int, str, str, str]]:
        """`(version, state, error_code, error_message)` rows, as in GetModelStatus."""
        with self._lock:
            loaded = sorted(self._models.get(name, {}))
        failed = {v: msg for (n, v), (msg, _) in self._failures.items() if n == name}
        rows = [(v, "AVAILABLE", "OK", "") for v in loaded]
        rows += [(v, "END", "UNKNOWN", msg) for v, msg in sorted(failed.items()) if v not in loaded]
        if version is not None:
            rows = [row for row in rows if row[0] == version]
            if not rows:
                raise not_found(
                    f"Could not find version {version} of model {name}"
                    if loaded or failed
                    else f"Could not find any versions of model {name}"
                )
        elif not rows:
            raise not_found(f"Could not find any versions of model {name}")
        return sorted(rows, key=lambda row: -row[0])
