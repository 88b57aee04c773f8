"""A content hash of a TFRecord dataset (every shard's bytes and the schema), recorded per run."""

from __future__ import annotations

import hashlib
import json
import os

from tfrecords.files import resolve_files
from tfrecords.schema import parse_shard_path, schema_path

_CHUNK = 1 << 20


def _file_sha256(path: str, progress=None) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(_CHUNK):
            digest.update(chunk)
            if progress is not None:
                progress.update(len(chunk))
    return digest.hexdigest()


def _schema_entry(prefix: str) -> dict:
    path = schema_path(prefix)
    if not os.path.isfile(path):
        raise FileNotFoundError(
            f"No schema file {path!r} next to the shards of {prefix!r}: tfrecords.write() "
            "writes it last, so the dataset is incomplete (or its schema was deleted)."
        )
    with open(path, encoding="utf-8") as f:
        content = json.load(f)
    return {
        "file": os.path.basename(path),
        "sha256": _file_sha256(path),
        "features": content.get("features"),
        "compression": content.get("compression"),
        "records": {s["file"]: s["records"] for s in content.get("shards", [])},
    }


# `progress=None` shows a bar from this size on (hashing runs at roughly 0.5-1 GB/s).
PROGRESS_BYTES = 256 * 2**20


def dataset_fingerprint(files, progress: bool | None = False) -> dict:
    """A content hash of the TFRecord dataset named by `files`, with per-shard hashes.

    Hashes (SHA-256) the bytes of every shard and of the schema file that `tfrecords.write`
    puts next to them (`PREFIX.schema.json`: features, compression, per-shard record counts).
    The dataset's `sha256` covers each file's base name and hash, so it changes when any byte,
    shard or schema entry changes, and not when the folder is moved or copied. Shards not
    written by `tfrecords.write` (no `PREFIX-00000-of-00004.tfrecord` name) are hashed without
    a schema.

    Args:
        files: a shard, glob pattern, directory, prefix given to `tfrecords.write`, or a list of
            them (as `tfrecords.read` takes).
        progress: show a progress bar over the bytes hashed; `None`: only for datasets of
            256 MiB or more. Defaults to `False`.

    Returns:
        A JSON-serialisable dict: `sha256`, `num_shards`, `num_bytes`, `num_records` (from the
        schema; `None` when a shard has no schema), `shards` (`file`, `bytes`, `sha256`,
        `records`), `schemas` (`file`, `sha256`, `features`, `compression`).

    Example:

    ```python
    tfrecords.write({"x": x, "label": y}, "data/train", num_shards=2)
    print(dataset_fingerprint("data/train")["sha256"])
    ```
    """
    paths = resolve_files(files)
    schemas: dict[str, dict] = {}
    for path in paths:
        prefix = parse_shard_path(path)
        if prefix is not None and prefix not in schemas:
            schemas[prefix] = _schema_entry(prefix)
    total = sum(os.path.getsize(p) for p in paths)
    bar = None
    if progress or (progress is None and total >= PROGRESS_BYTES):
        from tqdm import tqdm

        bar = tqdm(total=total, unit="B", unit_scale=True, desc="hashing")
    shards = []
    try:
        for path in paths:
            prefix = parse_shard_path(path)
            name = os.path.basename(path)
            records = schemas[prefix]["records"].get(name) if prefix is not None else None
            shards.append(
                {
                    "file": name,
                    "bytes": os.path.getsize(path),
                    "sha256": _file_sha256(path, bar),
                    "records": records,
                    "prefix": os.path.basename(prefix) if prefix is not None else None,
                }
            )
    finally:
        if bar is not None:
            bar.close()
    combined = hashlib.sha256()
    for kind, entries in (("schema", schemas.values()), ("shard", shards)):
        for entry in sorted(entries, key=lambda e: e["file"]):
            combined.update(f"{kind} {entry['file']} {entry['sha256']}\n".encode())
    counts = [s["records"] for s in shards]
    return {
        "sha256": combined.hexdigest(),
        "num_shards": len(shards),
        "num_bytes": total,
        "num_records": None if None in counts else sum(counts),
        "shards": shards,
        "schemas": [
            {k: entry[k] for k in ("file", "sha256", "features", "compression")}
            for entry in schemas.values()
        ],
    }
