"""Self-play: many games advance together, one batched search per move; every finished game
becomes training samples `(board, search policy, result)`, symmetries included."""

from __future__ import annotations

import numpy as np

from zoo.rl.alphazero.mcts import MCTS, visits_to_policy


def self_play(
    game, mcts: MCTS, n_games: int, temperature_moves: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, dict]:
    """Plays `n_games` games of the searched network against itself.

    Moves are drawn from the visit counts at temperature 1 for the first `temperature_moves`
    plies, then the most visited move is played (temperature -> 0); the search adds Dirichlet
    noise at every root. Each position is stored with its visit-count policy and the final
    result from the side of the player who was to move, in every symmetric copy.

    Returns:
        `(boards, policies, values, stats)`: arrays `(n, rows, cols, planes)`, `(n, actions)`,
        `(n,)` and a dict with `first_player_wins`, `draws`, `second_player_wins`, `plies`.
    """
    states = [game.initial_state() for _ in range(n_games)]
    records: list[list] = [[] for _ in range(n_games)]
    active = list(range(n_games))
    while active:
        visits = mcts.search([states[i] for i in active], add_noise=True)
        for i, counts in zip(active, visits, strict=False):
            state = states[i]
            temperature = 1.0 if state.moves < temperature_moves else 0.0
            action, _ = visits_to_policy(counts, temperature, rng)
            # The training target is the visit distribution itself (temperature 1).
            records[i].append((game.encode(state), counts / counts.sum(), game.to_play(state)))
            states[i] = game.next_state(state, action)
        active = [i for i in active if not game.is_terminal(states[i])]
    boards, policies, values = [], [], []
    for state, record in zip(states, records, strict=False):
        winner = game.winner(state)
        for planes, policy, player in record:
            for sym_planes, sym_policy in game.symmetries(planes, policy):
                boards.append(sym_planes)
                policies.append(sym_policy)
                values.append(float(winner * player))
    winners = np.array([game.winner(s) for s in states])
    stats = {
        "first_player_wins": int((winners == 1).sum()),
        "draws": int((winners == 0).sum()),
        "second_player_wins": int((winners == -1).sum()),
        "plies": int(sum(len(r) for r in records)),
    }
    return (
        np.asarray(boards, np.float32),
        np.asarray(policies, np.float32),
        np.asarray(values, np.float32),
        stats,
    )
