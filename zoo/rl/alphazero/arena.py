"""Matches between players on a batch of games at once: AlphaZero against its previous best
network, against minimax or alpha-beta, or a person."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np

from layers.validation import check_positive_int

# A batch player: positions (all with the same player to move) -> one legal action each.
BatchPlayer = Callable[[Sequence], list[int]]


def as_batch_player(player) -> BatchPlayer:
    """A batch player from an object with `select_actions` (batched), `select_action` (one
    position) or a plain callable on one position."""
    if hasattr(player, "select_actions"):
        return player.select_actions
    single = player.select_action if hasattr(player, "select_action") else player
    if not callable(single):
        raise TypeError(f"`player` must be a player object or a callable. Received: {player!r}")
    return lambda states: [int(single(s)) for s in states]


def play_games(game, first, second, n_games: int) -> np.ndarray:
    """Plays `n_games` games of `first` (moves first) against `second`, all games advancing
    together so batch players see every position of a turn at once.

    Returns:
        The winner of each game: +1 `first`, -1 `second`, 0 draw.
    """
    check_positive_int("n_games", n_games)
    players = {1: as_batch_player(first), -1: as_batch_player(second)}
    states = [game.initial_state() for _ in range(n_games)]
    while not all(game.is_terminal(s) for s in states):
        for side in (1, -1):
            turn = [
                i
                for i, s in enumerate(states)
                if not game.is_terminal(s) and game.to_play(s) == side
            ]
            if turn:
                actions = players[side]([states[i] for i in turn])
                for i, action in zip(turn, actions, strict=False):
                    states[i] = game.next_state(states[i], action)
    return np.array([game.winner(s) for s in states])


def match_record(game, player, opponent, n_games: int) -> dict[str, int]:
    """Wins, draws and losses of `player` over `n_games` against `opponent`, half of them
    (rounded up) moving first."""
    check_positive_int("n_games", n_games)
    as_first = (n_games + 1) // 2
    results = list(play_games(game, player, opponent, as_first))
    if n_games - as_first:
        results += list(-play_games(game, opponent, player, n_games - as_first))
    results = np.asarray(results)
    return {
        "wins": int((results == 1).sum()),
        "draws": int((results == 0).sum()),
        "losses": int((results == -1).sum()),
    }
