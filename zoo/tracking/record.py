"""Adding sections (dataset fingerprints, carbon, tracking, status) to a run's `run.json`."""

from __future__ import annotations

import json
import os


def merge_into_record(path: str, sections: dict) -> str:
    """Adds `sections` as top-level keys to the JSON object in `path` and returns `path`.

    The file (a `run.json` written by `zoo.utils.write_run_record`) is created when missing;
    keys already there are replaced. Written to a temporary file, then renamed, so a reader
    never sees half a record.

    Args:
        path: the JSON file.
        sections: JSON-serialisable values by key (`default=str` for the rest).

    Returns:
        `path`.

    Example:

    ```python
    merge_into_record("artifacts/train/run.json", {"status": "FINISHED"})
    ```
    """
    record = {}
    if os.path.exists(path):
        with open(path) as f:
            record = json.load(f)
        if not isinstance(record, dict):
            raise ValueError(f"{path!r} must hold a JSON object. Received: {type(record).__name__}")
    record.update(sections)
    os.makedirs(os.path.dirname(os.path.abspath(path)), exist_ok=True)
    temporary = f"{path}.{os.getpid()}.partial"
    with open(temporary, "w") as f:
        json.dump(record, f, indent=2, default=str)
    os.replace(temporary, path)
    return path
