"""`zoo rl play` against a saved AlphaZero, with the person's moves fed through stdin."""

import argparse
import io

import pytest

from zoo.cli import rl as rl_cli
from zoo.rl import AlphaZero, games


def parse(argv):
    parser = argparse.ArgumentParser(prog="zoo")
    rl_cli.add_commands(parser.add_subparsers(dest="command", required=True))
    return parser.parse_args(argv)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    path = tmp_path_factory.mktemp("az") / "connect_four"
    AlphaZero(games.ConnectFour(), seed=0, filters=8, blocks=1, verbose=0).save(path)
    return str(path)


def run(args, text, monkeypatch):
    stdout = io.StringIO()
    monkeypatch.setattr("sys.stdin", io.StringIO(text))
    monkeypatch.setattr("sys.stdout", stdout)
    status = args.handler(args)
    return status, stdout.getvalue()


def test_play_a_whole_game_from_stdin(model_dir, monkeypatch):
    args = parse(["rl", "play", "connect_four", "--model", model_dir, "--simulations", "4"])
    # Bad input first, then every column in turn (full ones are refused and asked again).
    moves = "7\nabc\n" + "3\n2\n4\n1\n5\n0\n6\n" * 8
    status, out = run(args, moves, monkeypatch)
    assert status == 0
    assert "Illegal move in connect_four: action=7 is not legal here" in out
    assert "not a number: 'abc'" in out
    assert "Model plays" in out
    assert out.rstrip().splitlines()[-1] in ("Draw.", "Model wins.", "You win!")
    assert "0 1 2 3 4 5 6" in out


def test_quit_and_model_first(model_dir, monkeypatch):
    args = parse(
        ["rl", "play", "connect_four", "--model", model_dir, "--simulations", "2", "--model-first"]
    )
    status, out = run(args, "q\n", monkeypatch)
    assert status == 1 and "Game abandoned" in out
    assert out.index("Model plays") < out.index("Your move")


def test_bad_arguments(tmp_path, monkeypatch):
    with pytest.raises(SystemExit):
        parse(["rl", "play", "chess", "--model", "x"])
    with pytest.raises(SystemExit):
        parse(["rl", "play", "connect_four", "--model", "x", "--simulations", "0"])
    args = parse(["rl", "play", "connect_four", "--model", str(tmp_path / "none")])
    with pytest.raises(FileNotFoundError, match="No AlphaZero checkpoint"):
        run(args, "", monkeypatch)
