"""AlphaZero: batched PUCT search, self-play samples, the policy-value network, learning,
checkpoints and errors. The learning check (tic-tac-toe against perfect minimax) is slow."""

import json
import os

import numpy as np
import pytest

from tests.harness import run_model_test
from zoo.rl import games
from zoo.rl.alphazero import (
    MCTS,
    AlphaZero,
    PolicyValueNetwork,
    play_games,
    self_play,
    uniform_evaluator,
    visits_to_policy,
)

TINY = dict(
    num_simulations=8,
    games_per_iteration=4,
    filters=8,
    blocks=1,
    eval_every=1,
    eval_games=2,
    batch_size=16,
    verbose=0,
)


def play(game, actions):
    state = game.initial_state()
    for action in actions:
        state = game.next_state(state, action)
    return state


class CountingEvaluator:
    """A uniform evaluator that records the batch sizes it is called with."""

    def __init__(self, action_size):
        self.inner = uniform_evaluator(action_size)
        self.batches = []

    def __call__(self, boards):
        self.batches.append(len(boards))
        return self.inner(boards)


def test_mcts_finds_the_forced_win_in_one():
    game = games.TicTacToe()
    # X: 0, 1; O: 3, 4. X to move wins at 2; O threatens 5 too.
    state = play(game, (0, 3, 1, 4))
    mcts = MCTS(game, uniform_evaluator(9), num_simulations=64, seed=0)
    visits = mcts.search([state])[0]
    assert visits.sum() == 64
    assert int(np.argmax(visits)) == 2
    assert visits[[0, 1, 3, 4]].sum() == 0  # occupied cells are never visited
    # Same for O in Connect Four: three in column 6, O to move.
    c4 = games.ConnectFour()
    state = play(c4, (0, 6, 1, 6, 0, 6, 1))
    visits = MCTS(c4, uniform_evaluator(7), num_simulations=64, seed=0).search([state])[0]
    assert int(np.argmax(visits)) == 6


def test_search_batches_leaves_across_games_and_with_virtual_loss():
    game = games.ConnectFour()
    states = [game.initial_state(), play(game, (3,)), play(game, (3, 3)), play(game, (0, 1))]
    evaluator = CountingEvaluator(7)
    visits = MCTS(game, evaluator, num_simulations=20, seed=0).search(states)
    np.testing.assert_array_equal(visits.sum(axis=1), [20] * 4)
    assert max(evaluator.batches) == 4  # one network call sees a leaf of every tree
    assert len(evaluator.batches) <= 21
    evaluator = CountingEvaluator(7)
    visits = MCTS(game, evaluator, num_simulations=32, leaves_per_tree=8, seed=0).search(states[:1])
    assert visits.sum() == 32
    assert max(evaluator.batches) == 8  # virtual loss spreads 8 walks of one tree
    assert len(evaluator.batches) < 10
    # The virtual loss is fully removed: visits are whole numbers, values within [-N, N].


def test_dirichlet_noise_changes_only_noisy_searches():
    game = games.TicTacToe()
    state = game.initial_state()
    plain = MCTS(game, uniform_evaluator(9), num_simulations=30, seed=0)
    assert np.ptp(plain.search([state])[0]) <= 1  # uniform priors: visits spread evenly
    noisy = MCTS(game, uniform_evaluator(9), num_simulations=30, dirichlet_alpha=0.3, seed=0)
    assert np.ptp(noisy.search([state], add_noise=True)[0]) > 1
    with pytest.raises(ValueError, match="finished game"):
        plain.search([play(game, (0, 3, 1, 4, 2))])
    with pytest.raises(ValueError, match="Received: num_simulations=0"):
        MCTS(game, uniform_evaluator(9), num_simulations=0)


def test_visits_to_policy_temperature():
    rng = np.random.default_rng(0)
    action, pi = visits_to_policy(np.array([1.0, 5.0, 2.0]), 0.0, rng)
    assert action == 1 and pi.tolist() == [0.0, 1.0, 0.0]
    _, pi = visits_to_policy(np.array([1.0, 3.0, 0.0]), 1.0, rng)
    np.testing.assert_allclose(pi, [0.25, 0.75, 0.0])
    _, pi = visits_to_policy(np.array([1.0, 3.0, 0.0]), 0.5, rng)
    np.testing.assert_allclose(pi, [0.1, 0.9, 0.0])


def test_self_play_samples_with_symmetries():
    game = games.TicTacToe()
    mcts = MCTS(game, uniform_evaluator(9), num_simulations=8, seed=0)
    boards, policies, values, stats = self_play(game, mcts, 3, 2, np.random.default_rng(0))
    assert len(boards) == len(policies) == len(values) == 8 * stats["plies"]
    assert stats["first_player_wins"] + stats["draws"] + stats["second_player_wins"] == 3
    np.testing.assert_allclose(policies.sum(axis=1), 1.0, rtol=1e-6)
    assert set(np.unique(values)) <= {-1.0, 0.0, 1.0}
    # Every policy puts mass only on empty cells of its own (transformed) board.
    occupied = boards.sum(axis=-1).reshape(len(boards), 9) > 0
    assert (policies[occupied] == 0).all()


@pytest.mark.parametrize(
    "full",
    [pytest.param(False, id="fast"), pytest.param(True, id="all_checks", marks=pytest.mark.slow)],
)
def test_policy_value_network_model_checks(full):
    run_model_test(
        lambda: PolicyValueNetwork(
            board_shape=(3, 3, 2), action_size=9, filters=4, blocks=1, value_units=4
        ),
        np.random.default_rng(0).integers(0, 2, (4, 3, 3, 2)).astype("float32"),
        init_kwargs=dict(board_shape=(3, 3, 2), action_size=9, filters=4, blocks=1, value_units=4),
        run_mixed_precision=full,
        run_distributed=full,
        run_jit=full,
    )
    with pytest.raises(ValueError, match="Received: board_shape=\\(3, 3\\)"):
        PolicyValueNetwork(board_shape=(3, 3), action_size=9)


def test_learn_select_save_load(tmp_path):
    game = games.TicTacToe()
    az = AlphaZero(game, seed=0, **TINY).learn(iterations=1)
    logs = az.history[-1]
    assert np.isfinite(logs["loss"]) and logs["sims_per_s"] > 0
    assert logs["eval_wins"] + logs["eval_draws"] + logs["eval_losses"] == 2
    state = play(game, (4, 0))
    action = az.select_action(state)
    assert action in game.legal_actions(state)
    assert az.select_action(state, temperature=1.0) in game.legal_actions(state)
    az.save(tmp_path / "az")
    loaded = AlphaZero.load(tmp_path / "az")
    assert loaded.iteration == 1 and loaded.hyperparameters == az.hyperparameters
    probs, value = az.policy_value(state)
    loaded_probs, loaded_value = loaded.policy_value(state)
    np.testing.assert_allclose(loaded_probs, probs, atol=1e-6)
    assert loaded_value == pytest.approx(value, abs=1e-6)
    assert probs[[0, 4]].sum() == 0 and probs.sum() == pytest.approx(1.0)
    winners = play_games(game, az.player(num_simulations=4), games.MinimaxPlayer(game, 0), 2)
    assert set(winners.tolist()) <= {-1, 0, 1}


def test_errors(tmp_path):
    game = games.TicTacToe()
    with pytest.raises(ValueError, match="Received: num_simulations=-1"):
        AlphaZero(game, num_simulations=-1, verbose=0)
    with pytest.raises(TypeError, match="Game interface"):
        AlphaZero("tic_tac_toe", verbose=0)
    az = AlphaZero(game, seed=0, **TINY)
    with pytest.raises(ValueError, match="game is over"):
        az.select_action(play(game, (0, 3, 1, 4, 2)))
    with pytest.raises(FileNotFoundError, match="No AlphaZero checkpoint"):
        AlphaZero.load(tmp_path / "missing")
    az.save(tmp_path / "az")
    with pytest.raises(ValueError, match="trained on 'tic_tac_toe'"):
        AlphaZero.load(tmp_path / "az", game=games.ConnectFour())
    with open(tmp_path / "az" / "network.weights.h5", "wb") as f:
        f.write(b"not an h5 file")
    with pytest.raises(ValueError, match="Corrupt AlphaZero checkpoint: the network weights"):
        AlphaZero.load(tmp_path / "az")
    with open(os.path.join(tmp_path, "az", "alphazero.json"), "w") as f:
        f.write(json.dumps({"class": "AlphaZero"})[:-3])
    with pytest.raises(ValueError, match="Corrupt AlphaZero checkpoint"):
        AlphaZero.load(tmp_path / "az")


@pytest.mark.slow
def test_tictactoe_from_scratch_never_loses_to_perfect_minimax():
    game = games.TicTacToe()
    az = AlphaZero(game, seed=0, verbose=0).learn(iterations=30)
    player = az.player(num_simulations=64)
    minimax = games.MinimaxPlayer(game, seed=1)
    as_first = play_games(game, player, minimax, 100)
    as_second = play_games(game, minimax, player, 100)
    assert (as_first != -1).all(), f"lost {(as_first == -1).sum()} of 100 games as first player"
    assert (as_second != 1).all(), f"lost {(as_second == 1).sum()} of 100 games as second player"


@pytest.mark.slow
def test_self_play_in_worker_processes():
    game = games.TicTacToe()
    az = AlphaZero(game, seed=0, n_workers=2, **{**TINY, "eval_every": 0})
    try:
        az.learn(iterations=2)
    finally:
        az.close()
    for logs in az.history:
        assert logs["first_player_wins"] + logs["draws"] + logs["second_player_wins"] == 4
        assert logs["plies"] >= 4 * 5 and logs["sims_per_s"] > 0
    assert sum(len(v) for _, _, v in az.replay) == 8 * sum(h["plies"] for h in az.history)


@pytest.mark.slow
def test_export_network_serves_the_same_outputs(tmp_path):
    import tensorflow as tf

    game = games.ConnectFour()
    az = AlphaZero(game, seed=0, filters=8, blocks=1, verbose=0)
    path = az.export_network(tmp_path, "connect_four", version=1)
    boards = np.stack([game.encode(play(game, (3, 2))), game.encode(game.initial_state())])
    served = tf.saved_model.load(path).signatures["serving_default"]
    outputs = served(tf.constant(boards))
    expected = az.network(boards)
    np.testing.assert_allclose(outputs["policy_logits"], expected["policy_logits"], atol=1e-5)
    np.testing.assert_allclose(outputs["value"], expected["value"], atol=1e-5)
