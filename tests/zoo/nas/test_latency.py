"""The latency lookup table: real TFLite measurements, structure, additivity and errors."""

import json

import pytest

from zoo import cli
from zoo.nas.latency import (
    block_key,
    block_model,
    load_latency_table,
    measure_latency_table,
    predict_latency,
    save_latency_table,
)

STEM = {
    "type": "stem",
    "input_size": 8,
    "in_channels": 1,
    "out_channels": 4,
    "kernel": 3,
    "stride": 2,
    "activation": "relu6",
}
BLOCK = {
    "type": "mbconv",
    "input_size": 4,
    "in_channels": 4,
    "out_channels": 4,
    "kernel": 3,
    "expand": 2,
    "stride": 1,
    "se_ratio": None,
    "activation": "relu6",
}


def test_measured_table_holds_one_positive_median_per_distinct_block(tmp_path):
    table = measure_latency_table([STEM, STEM, {"type": "skip"}], repeats=3, warmup=1)
    assert table["unit"] == "ms" and table["repeats"] == 3
    assert list(table["latency"]) == [block_key(STEM)]
    assert table["latency"][block_key(STEM)] > 0
    path = tmp_path / "table.json"
    save_latency_table(table, path)
    assert load_latency_table(path) == json.loads(path.read_text()) == table


def test_prediction_is_the_sum_of_the_blocks_entries():
    table = {"latency": {block_key(STEM): 0.25, block_key(BLOCK): 0.5}}
    blocks = [STEM, BLOCK, {"type": "skip"}, BLOCK]
    assert predict_latency(blocks, table) == pytest.approx(0.25 + 0.5 + 0.0 + 0.5)
    assert predict_latency([], table) == 0.0


def test_block_models_have_the_block_shapes():
    assert tuple(block_model(STEM).output.shape) == (1, 4, 4, 4)
    assert tuple(block_model(BLOCK).output.shape) == (1, 4, 4, 4)
    head = {
        "type": "head",
        "input_size": 2,
        "in_channels": 4,
        "out_channels": 8,
        "num_classes": 3,
        "activation": "relu6",
    }
    assert tuple(block_model(head).output.shape) == (1, 3)


def test_bad_specs_and_tables_raise_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="'type' is one of"):
        block_key({"type": "conv9"})
    with pytest.raises(ValueError, match=r"\['stride'\] are missing"):
        block_key({k: v for k, v in STEM.items() if k != "stride"})
    with pytest.raises(ValueError, match="no entry for this block.*kernel=3:expand=2"):
        predict_latency([BLOCK], {"latency": {}})
    with pytest.raises(ValueError, match="must be a latency table"):
        predict_latency([BLOCK], {"entries": {}})
    with pytest.raises(FileNotFoundError, match="missing.json"):
        load_latency_table(tmp_path / "missing.json")
    with pytest.raises(ValueError, match="Received: repeats=0"):
        measure_latency_table([STEM], repeats=0)


def test_measure_latency_command_refuses_to_overwrite_a_table(tmp_path, capsys):
    existing = tmp_path / "table.json"
    existing.write_text("{}")
    assert cli.main(["nas", "measure-latency", "--output", str(existing)]) == 2
    assert "pass --overwrite" in capsys.readouterr().err
    with pytest.raises(SystemExit, match="2"):
        cli.main(["nas", "measure-latency", "--output", "t.json", "--space", "darts"])
    assert "invalid choice: 'darts'" in capsys.readouterr().err
