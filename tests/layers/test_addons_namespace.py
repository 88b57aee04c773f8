"""`from layers import addons as tfa` reaches TensorFlow Addons' API under TFA's names.

`tests/fixtures/tfa/public_api.json` lists every public name of TFA 0.23's user-facing modules,
written by TFA itself (`tests/fixtures/tfa/make_tfa_fixtures.py`). Each of those names
must be reachable under its TFA module, or be listed in `DELIBERATELY_ABSENT` with the reason
(TFA-internal plumbing only).
"""

import json
import pathlib

import pytest

from layers import addons as tfa

API = json.loads((pathlib.Path(__file__).parents[1] / "fixtures/tfa/public_api.json").read_text())

# Every TFA module: every name has a home in `layers.addons`.
MODULES = [module for module in API if module != "tensorflow_addons"]

DELIBERATELY_ABSENT = {
    ("optimizers", "KerasLegacyOptimizer"): (
        "TFA's alias of Keras 2's `tf.keras.optimizers.legacy.Optimizer`, the base its "
        "optimizers had to extend; Keras 3 has no legacy optimizers"
    ),
    ("text", "CrfDecodeForwardRnnCell"): (
        "the RNN cell inside TFA's `crf_decode_forward`, a `tf.keras` implementation detail; "
        "`crf_decode_forward` itself is here"
    ),
}


def expected_names() -> list[tuple[str, str]]:
    names = [(module, name) for module in MODULES for name in API[module]]
    return sorted(names)


def test_the_fixture_is_tfa_0_23s_api():
    assert API["tensorflow_addons"] == "0.23.0"
    assert "crf_log_likelihood" in API["text"] and "BeamSearchDecoder" in API["seq2seq"]


@pytest.mark.parametrize("module,name", expected_names())
def test_tfa_name_is_reachable(module, name):
    if (module, name) in DELIBERATELY_ABSENT:
        assert not hasattr(getattr(tfa, module), name)
        return
    value = getattr(getattr(tfa, module), name, None)
    assert value is not None, f"tfa.{module}.{name} is not reachable in layers.addons"
    # The namespace is thin: every name is one of the project's own objects.
    assert getattr(value, "__module__", "layers").startswith(("layers", "keras")), value


def test_absent_names_are_tfa_names():
    for module, name in DELIBERATELY_ABSENT:
        assert name in API[module]
