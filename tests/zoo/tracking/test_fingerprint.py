import hashlib
import json
import os
import shutil

import numpy as np
import pytest

import tfrecords
from zoo import cli
from zoo.tracking import dataset_fingerprint, diff_datasets


def _write(prefix, n=40, shards=2, seed=0):
    rng = np.random.default_rng(seed)
    data = {"x": rng.random((n, 3)).astype("float32"), "label": np.arange(n) % 2}
    tfrecords.write(data, str(prefix), num_shards=shards)
    return str(prefix)


def test_fingerprint_hashes_every_shard_and_the_schema(tmp_path):
    prefix = _write(tmp_path / "a" / "train")
    first = dataset_fingerprint(prefix)
    assert first == dataset_fingerprint(str(tmp_path / "a"))  # the directory names the same
    assert first["num_shards"] == 2 and first["num_records"] == 40
    for shard in first["shards"]:
        path = tmp_path / "a" / shard["file"]
        assert shard["sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
        assert shard["bytes"] == path.stat().st_size
    schema = tmp_path / "a" / "train.schema.json"
    assert first["schemas"][0]["sha256"] == hashlib.sha256(schema.read_bytes()).hexdigest()
    assert first["schemas"][0]["features"]["x"]["shape"] == [3]

    # A copy elsewhere has the same hash; one flipped byte in a shard changes it.
    shutil.copytree(tmp_path / "a", tmp_path / "copy")
    assert dataset_fingerprint(str(tmp_path / "copy" / "train"))["sha256"] == first["sha256"]
    shard = tmp_path / "copy" / first["shards"][1]["file"]
    content = bytearray(shard.read_bytes())
    content[-5] ^= 1
    shard.write_bytes(bytes(content))
    changed = dataset_fingerprint(str(tmp_path / "copy" / "train"))
    assert changed["sha256"] != first["sha256"]
    assert [s["sha256"] for s in changed["shards"]][0] == first["shards"][0]["sha256"]

    # The schema is part of the dataset: an edit of it (same shards) changes the hash too.
    schema_copy = tmp_path / "copy" / "train.schema.json"
    shutil.copy(schema, schema_copy)
    shard.write_bytes((tmp_path / "a" / first["shards"][1]["file"]).read_bytes())
    assert dataset_fingerprint(str(tmp_path / "copy"))["sha256"] == first["sha256"]
    schema_copy.write_text(schema.read_text().replace('"records": 20', '"records": 20 '))
    assert dataset_fingerprint(str(tmp_path / "copy"))["sha256"] != first["sha256"]


def test_missing_schema_and_missing_files_are_clear_errors(tmp_path):
    prefix = _write(tmp_path / "train", shards=1)
    os.remove(prefix + ".schema.json")
    with pytest.raises(FileNotFoundError, match="schema"):
        dataset_fingerprint(prefix)
    with pytest.raises(FileNotFoundError, match="nothing"):
        dataset_fingerprint(str(tmp_path / "nothing"))


def test_diff_and_zoo_data_diff(tmp_path, capsys):
    a = _write(tmp_path / "v1" / "train")
    same = _write(tmp_path / "v2" / "train_copy")  # another prefix, the same content
    diff = diff_datasets(a, same)
    assert diff.same and diff.records == (40, 40)
    assert cli.main(["data", "diff", a, same]) == 0
    assert capsys.readouterr().out.strip().endswith("same")

    # v3: one more shard and other records, with a new feature.
    rng = np.random.default_rng(0)
    data = {
        "x": rng.random((45, 3)).astype("float32"),
        "label": np.arange(45) % 2,
        "weight": np.ones(45, "float32"),
    }
    tfrecords.write(data, str(tmp_path / "v3" / "train"), num_shards=3)
    diff = diff_datasets(a, str(tmp_path / "v3"))
    assert not diff.same
    assert diff.added == [
        "-00000-of-00003.tfrecord",
        "-00001-of-00003.tfrecord",
        "-00002-of-00003.tfrecord",
    ]
    assert diff.removed == ["-00000-of-00002.tfrecord", "-00001-of-00002.tfrecord"]
    assert any("'weight' added" in change for change in diff.schema_changes)
    assert diff.records == (40, 45)
    assert cli.main(["data", "diff", a, str(tmp_path / "v3")]) == 1
    out = capsys.readouterr().out
    assert "records: 40 -> 45" in out and out.strip().endswith("different")

    # The same shard names with other bytes are "changed", with their record counts.
    _write(tmp_path / "v4" / "train", seed=1)
    diff = diff_datasets(a, str(tmp_path / "v4" / "train"))
    assert [c["shard"] for c in diff.changed] == [
        "-00000-of-00002.tfrecord",
        "-00001-of-00002.tfrecord",
    ]
    assert diff.changed[0]["records"] == (20, 20) and not diff.added and not diff.schema_changes

    assert cli.main(["data", "diff", a, str(tmp_path / "missing")]) == 2
    assert "missing" in capsys.readouterr().err


@pytest.mark.slow  # two training runs; `zoo train --track` in test_train_tracking covers it fast
def test_zoo_train_records_data_and_carbon_and_reruns_from_run_json(tmp_path, capsys):
    from zoo.train import train

    rng = np.random.default_rng(0)
    data = {"x": rng.random((64, 64)).astype("float32"), "label": np.arange(64) % 10}
    tfrecords.write(data, str(tmp_path / "digits"), num_shards=2)
    train(
        model="mlp_digits",
        data=str(tmp_path / "digits"),
        epochs=2,
        output=str(tmp_path / "out"),
        verbose=0,
        overrides={"hidden_units": [4]},
        carbon=True,
        carbon_country="FRA",
    )
    record = json.loads((tmp_path / "out" / "run.json").read_text())
    recorded = record["datasets"]["data"]
    assert recorded["sha256"] == dataset_fingerprint(str(tmp_path / "digits"))["sha256"]
    assert recorded["source"] == str(tmp_path / "digits") and recorded["num_records"] == 64
    assert record["config"]["track"] is None and "tracking" not in record
    assert record["carbon"]["country_iso_code"] == "FRA" and record["carbon"]["energy_kwh"] > 0

    # The README's reproduce recipe: the recorded config (JSON is YAML) gives the same run.
    (tmp_path / "config.json").write_text(json.dumps(record["config"]))
    rerun = ["train", "--config", str(tmp_path / "config.json"), "--output", str(tmp_path / "re")]
    assert cli.main(rerun) == 0
    capsys.readouterr()
    history = json.loads((tmp_path / "out" / "history.json").read_text())
    assert json.loads((tmp_path / "re" / "history.json").read_text()) == history
    again = json.loads((tmp_path / "re" / "run.json").read_text())
    assert again["datasets"]["data"]["sha256"] == recorded["sha256"]
