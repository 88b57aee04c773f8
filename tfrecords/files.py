"""Finds the shards a user names (a list, a glob, a directory or a prefix) and their schema."""

from __future__ import annotations

import glob
import os

from tfrecords.errors import SchemaError
from tfrecords.schema import Schema, parse_shard_path, schema_path

_GLOB_CHARACTERS = "*?["


def _expand(pattern: str) -> list[str]:
    if os.path.isdir(pattern):
        found = glob.glob(os.path.join(glob.escape(pattern), "*.tfrecord*"))
    elif any(c in pattern for c in _GLOB_CHARACTERS):
        found = glob.glob(pattern)
    elif os.path.isfile(pattern):
        found = [pattern]
    else:
        # A bare prefix, as passed to `write`: "data/train" names "data/train-*-of-*.tfrecord".
        found = glob.glob(glob.escape(pattern) + "-*-of-*.tfrecord*")
    # Hidden names are unfinished writes (`.NAME.partial`); schema files are not shards.
    return sorted(
        f
        for f in found
        if os.path.isfile(f) and not os.path.basename(f).startswith(".") and ".tfrecord" in f
    )


def resolve_files(files) -> list[str]:
    """Shard paths named by a path, glob, directory or prefix, or a list of them; sorted."""
    patterns = [files] if isinstance(files, str | os.PathLike) else list(files)
    if not patterns:
        raise ValueError("`files` is empty. Pass a path, a glob pattern or a directory.")
    resolved: list[str] = []
    for pattern in patterns:
        pattern = os.fspath(pattern)
        found = _expand(pattern)
        if not found:
            raise FileNotFoundError(f"No TFRecord files match {pattern!r}.")
        resolved.extend(f for f in found if f not in resolved)
    return resolved


def load_schema(paths: list[str]) -> tuple[Schema, list[int]]:
    """The schema shared by `paths` and each path's record count from it."""
    schemas: dict[str, Schema] = {}
    counts = []
    for path in paths:
        prefix = parse_shard_path(path)
        if prefix is None:
            raise ValueError(
                f"{path!r} is not a shard written by tfrecords.write() (expected a name like "
                "PREFIX-00000-of-00004.tfrecord with PREFIX.schema.json next to it)."
            )
        if prefix not in schemas:
            schemas[prefix] = Schema.load(schema_path(prefix))
        listed = {shard["file"]: shard["records"] for shard in schemas[prefix].shards}
        name = os.path.basename(path)
        if name not in listed:
            raise SchemaError(
                f"Shard {path!r} is not listed in {schema_path(prefix)!r}; it is left over from "
                "an earlier write. Delete it or rewrite the dataset."
            )
        counts.append(listed[name])
    first_prefix, first = next(iter(schemas.items()))
    for prefix, schema in schemas.items():
        if schema.features != first.features or schema.compression != first.compression:
            raise SchemaError(
                f"The shards of {first_prefix!r} and {prefix!r} have different schemas; read "
                "them separately."
            )
    return first, counts
