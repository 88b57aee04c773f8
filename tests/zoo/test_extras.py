"""A missing optional extra is named, in Python and on the command line."""

import pytest

from zoo.cli import main
from zoo.extras import MissingExtraError, require_extra


def test_require_extra_imports_an_installed_module():
    assert require_extra("json", "test", "JSON").dumps([1]) == "[1]"


def test_require_extra_names_the_extra_to_install():
    with pytest.raises(MissingExtraError, match=r"pip install 'keras-zoo\[tracking\]'"):
        require_extra("no_such_module_xyz", "tracking", "MLflow tracking")


def test_the_command_line_prints_a_missing_extra_as_one_error_line(monkeypatch, capsys):
    import zoo.tuning

    def missing(*args, **kwargs):
        require_extra("no_such_module_xyz", "tracking", "Tuning with Optuna")

    monkeypatch.setattr(zoo.tuning, "tune", missing)
    assert main(["tune", "mlp_digits", "--backend", "optuna"]) == 2
    error = capsys.readouterr().err
    assert error.startswith("zoo: error: Tuning with Optuna needs `no_such_module_xyz`")
