"""What differs between two TFRecord datasets: shards added, removed or changed, schema, counts."""

from __future__ import annotations

import dataclasses

from zoo.tracking.fingerprint import dataset_fingerprint


@dataclasses.dataclass
class DatasetDiff:
    """The differences between dataset `a` and dataset `b` (see `diff_datasets`).

    Attributes:
        a, b: the two `dataset_fingerprint` dicts.
        added: shards only in `b`; removed: shards only in `a` (their keys, see
            `diff_datasets`).
        changed: shards in both whose bytes differ: `{"shard", "bytes", "records"}` with
            `(a, b)` pairs.
        schema_changes: one line per feature added, removed or changed, and compression.
    """

    a: dict
    b: dict
    added: list[str]
    removed: list[str]
    changed: list[dict]
    schema_changes: list[str]

    @property
    def same(self) -> bool:
        """No shard added, removed or changed, and the same features and compression."""
        return not (self.added or self.removed or self.changed or self.schema_changes)

    @property
    def records(self) -> tuple[int | None, int | None]:
        """The record counts of `a` and `b` (`None` where a shard has no schema)."""
        return self.a["num_records"], self.b["num_records"]


def _shard_keys(fingerprint: dict) -> dict[str, dict]:
    """Shards by key: without the dataset's prefix when it has a single one, else by file name."""
    prefixes = {s["prefix"] for s in fingerprint["shards"]}
    single = len(prefixes) == 1 and None not in prefixes
    return {
        (s["file"][len(s["prefix"]) :] if single else s["file"]): s for s in fingerprint["shards"]
    }


def _features(fingerprint: dict) -> tuple[dict, set]:
    features: dict = {}
    compressions = set()
    for schema in fingerprint["schemas"]:
        for name, spec in (schema["features"] or {}).items():
            features.setdefault(name, spec)
        compressions.add(schema["compression"])
    return features, compressions


def _schema_changes(a: dict, b: dict) -> list[str]:
    features_a, compression_a = _features(a)
    features_b, compression_b = _features(b)
    changes = []
    for name in features_a.keys() - features_b.keys():
        changes.append(f"feature {name!r} removed ({features_a[name]})")
    for name in features_b.keys() - features_a.keys():
        changes.append(f"feature {name!r} added ({features_b[name]})")
    for name in features_a.keys() & features_b.keys():
        if features_a[name] != features_b[name]:
            changes.append(f"feature {name!r}: {features_a[name]} -> {features_b[name]}")
    if compression_a != compression_b:
        changes.append(
            f"compression: {sorted(compression_a, key=str)} -> {sorted(compression_b, key=str)}"
        )
    if bool(a["schemas"]) != bool(b["schemas"]):
        changes.append(f"schema files: {len(a['schemas'])} -> {len(b['schemas'])}")
    return sorted(changes)


def diff_datasets(a, b, progress: bool = False) -> DatasetDiff:
    """Compares two TFRecord datasets shard by shard, by content hash.

    Shards are matched by name; when a dataset has a single prefix (as `tfrecords.write`
    produces), by the part after it (`-00001-of-00004.tfrecord`), so `data/v1/train` and
    `data/v2/train_clean` compare shard for shard.

    Args:
        a, b: TFRecord datasets, anything `dataset_fingerprint` takes (a prefix, directory,
            glob or list).
        progress: show a progress bar while hashing. Defaults to `False`.

    Returns:
        A `DatasetDiff`; `diff.same` tells whether they hold the same shards and schema.

    Example:

    ```python
    diff = diff_datasets("data/v1/train", "data/v2/train")
    print(format_diff(diff))
    ```
    """
    fingerprint_a = dataset_fingerprint(a, progress=progress)
    fingerprint_b = dataset_fingerprint(b, progress=progress)
    shards_a, shards_b = _shard_keys(fingerprint_a), _shard_keys(fingerprint_b)
    changed = [
        {
            "shard": key,
            "bytes": (shards_a[key]["bytes"], shards_b[key]["bytes"]),
            "records": (shards_a[key]["records"], shards_b[key]["records"]),
        }
        for key in sorted(shards_a.keys() & shards_b.keys())
        if shards_a[key]["sha256"] != shards_b[key]["sha256"]
    ]
    return DatasetDiff(
        a=fingerprint_a,
        b=fingerprint_b,
        added=sorted(shards_b.keys() - shards_a.keys()),
        removed=sorted(shards_a.keys() - shards_b.keys()),
        changed=changed,
        schema_changes=_schema_changes(fingerprint_a, fingerprint_b),
    )


def format_diff(diff: DatasetDiff, name_a: str = "A", name_b: str = "B") -> str:
    """The lines `zoo data diff` prints for `diff`."""

    def describe(name, fingerprint):
        return (
            f"{name}: {fingerprint['num_shards']} shard(s), {fingerprint['num_bytes']} bytes, "
            f"{fingerprint['num_records']} records, sha256 {fingerprint['sha256']}"
        )

    lines = [describe(name_a, diff.a), describe(name_b, diff.b)]
    lines += [f"shard removed: {key}" for key in diff.removed]
    lines += [f"shard added: {key}" for key in diff.added]
    for change in diff.changed:
        (bytes_a, bytes_b), (records_a, records_b) = change["bytes"], change["records"]
        lines.append(
            f"shard changed: {change['shard']} ({bytes_a} -> {bytes_b} bytes, "
            f"{records_a} -> {records_b} records)"
        )
    lines += [f"schema: {change}" for change in diff.schema_changes]
    records_a, records_b = diff.records
    if records_a != records_b:
        lines.append(f"records: {records_a} -> {records_b}")
    lines.append("same" if diff.same else "different")
    return "\n".join(lines)
