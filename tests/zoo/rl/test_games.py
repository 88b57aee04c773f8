"""Rules of the built-in games, their symmetries, the reference players and the PettingZoo
adapter (checked move by move against PettingZoo's own Connect Four and tic-tac-toe)."""

import numpy as np
import pytest

from zoo.rl import games

DRAWN_CONNECT_FOUR = [5, 5, 5, 0, 5, 4, 4, 6, 6, 3, 5, 1, 3, 5, 2, 1, 2, 3, 0, 4, 1]
DRAWN_CONNECT_FOUR += [4, 3, 0, 2, 2, 2, 1, 0, 0, 0, 2, 1, 6, 1, 3, 4, 4, 3, 6, 6, 6]


def play(game, actions):
    state = game.initial_state()
    for action in actions:
        state = game.next_state(state, action)
    return state


@pytest.mark.parametrize(
    "moves, winner",
    [
        ((0, 3, 1, 4, 2), 1),  # top row
        ((3, 0, 4, 1, 8, 2), -1),  # O: top row
        ((0, 1, 3, 2, 6), 1),  # left column
        ((1, 0, 2, 4, 3, 8), -1),  # O: main diagonal
        ((2, 0, 4, 1, 6), 1),  # anti-diagonal
        ((0, 1, 2, 4, 3, 5, 7, 6, 8), 0),  # full board, no line: draw
    ],
)
def test_tictactoe_results(moves, winner):
    game = games.TicTacToe()
    state = play(game, moves)
    assert game.is_terminal(state)
    assert game.winner(state) == winner
    assert game.legal_actions(state) == []


def test_tictactoe_legal_moves_and_turns():
    game = games.TicTacToe()
    state = game.initial_state()
    assert game.legal_actions(state) == list(range(9))
    assert game.to_play(state) == 1
    state = play(game, (4, 0))
    assert game.legal_actions(state) == [1, 2, 3, 5, 6, 7, 8]
    assert game.to_play(state) == 1 and not game.is_terminal(state)
    assert game.winner(state) == 0
    np.testing.assert_array_equal(
        game.canonical_board(game.next_state(state, 8)).reshape(-1), [1, 0, 0, 0, -1, 0, 0, 0, -1]
    )


@pytest.mark.parametrize(
    "moves, winner",
    [
        ((0, 0, 1, 1, 2, 2, 3), 1),  # bottom row
        ((6, 0, 6, 0, 6, 0, 5, 0), -1),  # O: column 0
        ((0, 1, 1, 2, 2, 3, 2, 3, 3, 6, 3), 1),  # rising diagonal 0..3
        ((6, 5, 5, 4, 4, 3, 4, 3, 3, 0, 3), 1),  # falling diagonal 3..6
    ],
)
def test_connect_four_results(moves, winner):
    game = games.ConnectFour()
    state = play(game, moves[:-1])
    assert not game.is_terminal(state)
    state = game.next_state(state, moves[-1])
    assert game.is_terminal(state) and game.winner(state) == winner


def test_connect_four_gravity_full_column_and_draw():
    game = games.ConnectFour()
    state = play(game, (3, 3))
    assert state.board[5, 3] == 1 and state.board[4, 3] == -1
    state = play(game, (3, 3, 3, 3, 3, 3))
    assert game.legal_actions(state) == [0, 1, 2, 4, 5, 6]
    with pytest.raises(
        ValueError, match=r"action=3 is not legal.*Legal actions: \[0, 1, 2, 4, 5, 6\]"
    ):
        game.next_state(state, 3)
    drawn = play(game, DRAWN_CONNECT_FOUR)
    assert game.is_terminal(drawn) and game.winner(drawn) == 0 and drawn.moves == 42


def test_illegal_moves_name_the_action_and_the_legal_ones():
    game = games.TicTacToe()
    state = play(game, (4,))
    with pytest.raises(
        ValueError, match=r"action=4 is not legal here\. Legal actions: \[0, 1, 2, 3, 5"
    ):
        game.next_state(state, 4)
    with pytest.raises(ValueError, match=r"action=9 is not legal"):
        game.next_state(state, 9)
    with pytest.raises(ValueError, match=r"must be an integer.*Received: action='a'"):
        game.next_state(state, "a")
    with pytest.raises(ValueError, match=r"the game is over\. Received: action=5"):
        game.next_state(play(game, (0, 3, 1, 4, 2)), 5)
    with pytest.raises(ValueError, match="Received: name='chess'"):
        games.make("chess")


def _random_position(game, rng, plies):
    actions = []
    state = game.initial_state()
    for _ in range(plies):
        action = int(rng.choice(game.legal_actions(state)))
        actions.append(action)
        state = game.next_state(state, action)
    return state, actions


@pytest.mark.parametrize("game", [games.TicTacToe(), games.ConnectFour()], ids=lambda g: g.name)
def test_symmetries_map_boards_and_policies_consistently(game):
    """Replaying the mapped moves gives the transformed board; legal moves map to legal ones."""
    rng = np.random.default_rng(0)
    state, actions = _random_position(game, rng, 4)
    planes = game.encode(state)
    policy = rng.random(game.action_size)
    copies = game.symmetries(planes, policy)
    assert len(copies) == (8 if game.name == "tic_tac_toe" else 2)
    np.testing.assert_array_equal(copies[0][0], planes)
    np.testing.assert_array_equal(copies[0][1], policy)
    for perm, (sym_planes, sym_policy) in zip(game._action_maps, copies, strict=True):
        # New action i is old action perm[i]; an old action a becomes argwhere(perm == a).
        inverse = np.argsort(perm)
        mapped = play(game, [int(inverse[a]) for a in actions])
        np.testing.assert_array_equal(game.encode(mapped), sym_planes)
        np.testing.assert_array_equal(game.legal_mask(mapped), game.legal_mask(state)[perm])
        np.testing.assert_allclose(sorted(sym_policy), sorted(policy))
        for a in range(game.action_size):
            assert sym_policy[inverse[a]] == policy[a]


def test_minimax_is_perfect():
    game = games.TicTacToe()
    player = games.MinimaxPlayer(game, seed=0)
    assert player.value(game.initial_state()) == 0  # tic-tac-toe is a draw
    # 5,478 legal positions are reachable from the empty board (a classic count).
    assert len(player._cache) == 5478
    # X in a corner, O on an adjacent edge: X forces a win; O in the centre holds the draw.
    assert player.value(play(game, (0, 1))) > 0
    assert player.value(play(game, (0, 4))) == 0
    # Win at once when possible; otherwise block.
    assert player.select_action(play(game, (0, 3, 1, 4))) == 2
    assert player.select_action(play(game, (0, 4, 8, 2))) == 6
    assert player.optimal_actions(game.initial_state()) == list(range(9))


def _plain_negamax(player, state, depth):
    game = player.game
    if game.is_terminal(state):
        return game.terminal_value(state) * (games.players.WIN + depth)
    if depth == 0:
        return player.heuristic(state)
    return max(
        -_plain_negamax(player, game.next_state(state, a), depth - 1)
        for a in game.legal_actions(state)
    )


def test_alphabeta_matches_plain_negamax_and_finds_tactics():
    game = games.ConnectFour()
    player = games.AlphaBetaPlayer(game, depth=3, seed=0)
    rng = np.random.default_rng(1)
    for plies in (4, 9):
        state, _ = _random_position(game, rng, plies)
        values = player.action_values(state)
        for a, v in values.items():
            assert v == pytest.approx(-_plain_negamax(player, game.next_state(state, a), 2))
    deep = games.AlphaBetaPlayer(game, depth=4, seed=0)
    assert deep.select_action(play(game, (0, 6, 0, 6, 0))) == 0  # O must block column 0
    assert deep.select_action(play(game, (0, 6, 0, 6, 0, 5))) == 0  # X wins in column 0
    with pytest.raises(ValueError, match="Received: depth=0"):
        games.AlphaBetaPlayer(game, depth=0)


@pytest.mark.parametrize("name", ["connect_four", "tic_tac_toe"])
def test_pettingzoo_adapter_agrees_with_pettingzoo(name):
    pytest.importorskip("pettingzoo.classic")
    ours, theirs = games.make(name), games.PettingZooGame(name)
    assert theirs.action_size == ours.action_size
    assert theirs.input_shape == ours.input_shape
    rng = np.random.default_rng(0)
    for _ in range(3):
        state, adapted = ours.initial_state(), theirs.initial_state()
        while not ours.is_terminal(state):
            assert theirs.legal_actions(adapted) == ours.legal_actions(state)
            np.testing.assert_array_equal(theirs.encode(adapted), ours.encode(state))
            action = int(rng.choice(ours.legal_actions(state)))
            state, adapted = ours.next_state(state, action), theirs.next_state(adapted, action)
        assert theirs.is_terminal(adapted) and theirs.winner(adapted) == ours.winner(state)
    with pytest.raises(ValueError, match=r"Illegal move in .*action=99.*Legal actions"):
        theirs.next_state(theirs.initial_state(), 99)
    with pytest.raises(ValueError, match="Received: env='go'"):
        games.PettingZooGame("go")
