"""`from layers import addons as tfa` reaches TensorFlow Addons' API under TFA's names.

`tests/fixtures/tfa/public_api.json` lists every public name of TFA 0.23's user-facing modules,
written by TFA itself (`tests/fixtures/tfa/make_tfa_fixtures.py`). Each of those names must be
reachable under its TFA module, or be listed in `layers.addons.migration.ABSENT` with the
reason (TFA-internal plumbing only); the migration guide made from them must be current.
"""

import json
import pathlib

import pytest

from layers import addons as tfa
from layers.addons.migration import ABSENT, DIFFERENCES, GUIDE, guide

API = json.loads((pathlib.Path(__file__).parents[1] / "fixtures/tfa/public_api.json").read_text())

# Every TFA module: every name has a home in `layers.addons`.
MODULES = [module for module in API if module != "tensorflow_addons"]


def expected_names() -> list[tuple[str, str]]:
    names = [(module, name) for module in MODULES for name in API[module]]
    return sorted(names)


def test_the_fixture_is_tfa_0_23s_api():
    assert API["tensorflow_addons"] == "0.23.0"
    assert "crf_log_likelihood" in API["text"] and "BeamSearchDecoder" in API["seq2seq"]


@pytest.mark.parametrize("module,name", expected_names())
def test_tfa_name_is_reachable(module, name):
    if (module, name) in ABSENT:
        assert not hasattr(getattr(tfa, module), name)
        return
    value = getattr(getattr(tfa, module), name, None)
    assert value is not None, f"tfa.{module}.{name} is not reachable in layers.addons"
    # The namespace is thin: every name is one of the project's own objects.
    assert getattr(value, "__module__", "layers").startswith(("layers", "keras")), value


def test_absent_names_are_tfa_names():
    for module, name in ABSENT:
        assert name in API[module]


def test_the_migration_guide_is_current():
    # `python -m layers.addons.migration` rewrites it.
    assert GUIDE.read_text() == guide()


def test_every_noted_difference_is_a_reachable_tfa_name():
    for module, name in DIFFERENCES:
        assert name in API[module] and (module, name) not in ABSENT, (module, name)
