import json

import keras
import numpy as np
import pytest
from safetensors.numpy import save_file

import zoo
from zoo import huggingface


def test_missing_files_name_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="config.json"):
        zoo.from_huggingface(str(tmp_path))


def test_unknown_model_type_lists_the_supported_ones(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt_neo"}))
    save_file({"w": np.zeros(2, np.float32)}, str(tmp_path / "model.safetensors"))
    with pytest.raises(ValueError, match=r"Received: model_type='gpt_neo'"):
        zoo.from_huggingface(str(tmp_path))


def test_registered_converter_gets_config_and_weights(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "test_linear", "units": 2}))
    kernel = np.arange(6, dtype=np.float32).reshape(3, 2)
    save_file({"linear.weight": kernel.T.copy()}, str(tmp_path / "model.safetensors"))

    def convert(config, weights, directory):
        model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(config["units"])])
        model.layers[0].set_weights([weights["linear.weight"].T, np.zeros(2, np.float32)])
        return model

    huggingface.register_converter("test_linear")(convert)
    try:
        with pytest.raises(ValueError, match="already registered"):
            huggingface.register_converter("test_linear")(convert)
        model = zoo.from_huggingface(str(tmp_path))
        np.testing.assert_allclose(model(np.eye(3, dtype=np.float32)), kernel)
    finally:
        del huggingface._CONVERTERS["test_linear"]


def test_converter_with_tasks_gets_the_task_asked_for(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "test_tasks"}))
    save_file({"w": np.zeros(2, np.float32)}, str(tmp_path / "model.safetensors"))
    built_for = []

    def convert(config, weights, directory, task):
        built_for.append(task)
        return keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])

    huggingface.register_converter("test_tasks", tasks=("backbone", "causal_lm"))(convert)
    try:
        assert huggingface.supported_tasks("test_tasks") == ("backbone", "causal_lm")
        zoo.from_huggingface(str(tmp_path))
        zoo.from_huggingface(str(tmp_path), task="causal_lm")
        assert built_for == ["backbone", "causal_lm"]
        with pytest.raises(ValueError, match=r"Received: task='seq2seq_lm'"):
            zoo.from_huggingface(str(tmp_path), task="seq2seq_lm")
    finally:
        del huggingface._CONVERTERS["test_tasks"]


def test_a_backbone_only_family_rejects_a_task(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "vit"}))
    save_file({"w": np.zeros(2, np.float32)}, str(tmp_path / "model.safetensors"))
    with pytest.raises(ValueError, match=r"\['backbone'\]. Received: task='causal_lm'"):
        zoo.from_huggingface(str(tmp_path), task="causal_lm")
