"""Tracking URIs: parsing `--track mlflow[:URI]`, and finding out whether a tracker answers."""

from __future__ import annotations

import contextlib
import os
import urllib.parse

TRACKERS = ("mlflow",)
# MLflow 3 refuses `file://` stores (deprecated for SQLite) unless this is set.
ALLOW_FILE_STORE = "MLFLOW_ALLOW_FILE_STORE"
# Retries and timeout of the reachability probe of an HTTP tracking server: one try, 5 seconds,
# instead of MLflow's default of minutes of retries.
PROBE_ENVIRONMENT = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "0", "MLFLOW_HTTP_REQUEST_TIMEOUT": "5"}


class TrackingUnavailableWarning(UserWarning):
    """The tracking server or store could not be used: the run goes on, written locally only."""


def parse_track_option(value: str) -> tuple[str, str | None]:
    """Splits `zoo train --track`'s value into the tracker and its URI.

    Args:
        value: `"mlflow"` (MLflow's default URI) or `"mlflow:URI"`, URI being `file:///path`,
            `sqlite:///path.db`, `http(s)://host:port`, a `databricks` URI, or a plain
            directory path (a file store there).

    Returns:
        `(tracker, uri)`, `uri` `None` for the tracker's default.

    Example:

    ```python
    parse_track_option("mlflow:sqlite:///mlflow.db")  # ("mlflow", "sqlite:///mlflow.db")
    ```
    """
    if not isinstance(value, str) or not value:
        raise ValueError(f"`track` must be 'mlflow' or 'mlflow:URI'. Received: track={value!r}")
    tracker, separator, uri = value.partition(":")
    if tracker not in TRACKERS:
        raise ValueError(
            f"`track` must start with one of {TRACKERS} ('mlflow' or 'mlflow:URI'). "
            f"Received: track={value!r}"
        )
    if separator and not uri:
        raise ValueError(f"`track` has an empty URI after 'mlflow:'. Received: track={value!r}")
    return tracker, uri or None


def resolve_tracking_uri(uri: str | None) -> str:
    """The MLflow tracking URI to use for `uri`; sets `MLFLOW_ALLOW_FILE_STORE` for file stores.

    `None` is MLflow's own default: `MLFLOW_TRACKING_URI` when set, else (MLflow 3)
    `sqlite:///mlflow.db` in the current directory. A plain path (no scheme) is a file store
    in that directory, returned as an absolute `file://` URI. MLflow 3.18 deprecates file
    stores and refuses them unless `MLFLOW_ALLOW_FILE_STORE=true`, which this sets in the
    process environment for `file://` URIs (the user asked for one explicitly).

    Args:
        uri: a tracking URI, a directory path or `None`.

    Returns:
        The URI.
    """
    if uri is None:
        import mlflow

        uri = mlflow.get_tracking_uri()
    if not isinstance(uri, str) or not uri:
        raise ValueError(
            f"`tracking_uri` must be a non-empty string. Received: tracking_uri={uri!r}"
        )
    scheme = urllib.parse.urlparse(uri).scheme
    if not scheme or (len(scheme) == 1 and os.name == "nt"):  # a path (or a Windows drive)
        uri = "file://" + os.path.abspath(uri)
        scheme = "file"
    if scheme == "file":
        os.environ[ALLOW_FILE_STORE] = "true"
    return uri


@contextlib.contextmanager
def _probe_environment():
    """MLflow's HTTP retries and timeout set short, unless the user set them."""
    added = {k: v for k, v in PROBE_ENVIRONMENT.items() if k not in os.environ}
    os.environ.update(added)
    try:
        yield
    finally:
        for key in added:
            os.environ.pop(key, None)


def unreachable_reason(client) -> str | None:
    """Why the tracking store of an `MlflowClient` cannot be used, or `None` when it answers.

    Lists one experiment, with one HTTP try of at most 5 seconds for a server (unless
    `MLFLOW_HTTP_REQUEST_MAX_RETRIES`/`MLFLOW_HTTP_REQUEST_TIMEOUT` are set).
    """
    with _probe_environment():
        try:
            client.search_experiments(max_results=1)
        except Exception as error:  # any failure: connection, permissions, a bad database
            text = str(error).strip().splitlines()
            return f"{type(error).__name__}: {text[0] if text else ''}"
    return None


@contextlib.contextmanager
def global_tracking_uri(uri: str):
    """MLflow's global tracking URI set to `uri` for a block, then restored.

    MLflow 3.18's file-store model registry looks up logged models with a new `MlflowClient()`
    on the global URI (a TODO in `mlflow/store/model_registry/file_store.py`), which would open
    (and create) `./mlflow.db`; registration runs inside this.
    """
    import mlflow
    from mlflow.tracking._tracking_service import utils

    previous = utils._tracking_uri
    environment = os.environ.get("MLFLOW_TRACKING_URI")
    mlflow.set_tracking_uri(uri)
    try:
        yield
    finally:
        mlflow.set_tracking_uri(previous)
        if environment is not None:
            os.environ["MLFLOW_TRACKING_URI"] = environment
