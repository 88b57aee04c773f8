import json

from zoo.demo import run_demo


def test_demo_runs_end_to_end(tmp_path):
    lines = []
    summary = run_demo(str(tmp_path), epochs=6, verbose=0, queries=5, log=lines.append)
    assert summary["test_accuracy"] >= 0.9
    assert summary["served_matches_local"]
    assert summary["served_accuracy"] == summary["test_accuracy"]
    for key in ("data_bytes", "keras_model_bytes", "saved_model_bytes"):
        assert summary[key] > 0
    assert summary["latency_ms_p50"] <= summary["latency_ms_p99"]
    assert (tmp_path / "training_curve.png").stat().st_size > 1000
    assert (tmp_path / "serving" / "digits" / "1" / "saved_model.pb").is_file()
    assert summary["served_version"] == 1 and summary["server_url"].startswith("http://127.0.0.1:")
    assert len(list((tmp_path / "data").glob("train-*-of-00002.tfrecord"))) == 2
    assert json.loads((tmp_path / "summary.json").read_text()) == summary
    assert lines[0].startswith("[1/6]") and any("test accuracy" in line for line in lines)
