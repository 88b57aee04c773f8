"""Tic-tac-toe: 3x3, three in a row wins; actions are the cells 0-8 in row-major order."""

from __future__ import annotations

import numpy as np

from zoo.rl.games.base import Game


def _dihedral(k: int, flip: bool):
    def transform(x: np.ndarray) -> np.ndarray:
        x = np.rot90(x, k, axes=(0, 1))
        return np.flip(x, axis=1) if flip else x

    return transform


class TicTacToe(Game):
    """Tic-tac-toe (noughts and crosses) on a 3x3 board.

    Actions are cells `0..8`, row-major (`3 * row + col`). The first player (+1) is `X`. The
    8 symmetries of the square (4 rotations, each with and without a mirror) augment training.

    Example:

    ```python
    game = TicTacToe()
    state = game.initial_state()
    for cell in (0, 3, 1, 4, 2):
        state = game.next_state(state, cell)
    game.winner(state)  # 1: X has the top row
    ```
    """

    name = "tic_tac_toe"
    rows = 3
    cols = 3
    action_size = 9
    connect = 3
    dirichlet_alpha = 1.0
    temperature_moves = 3

    def _legal_mask(self, board: np.ndarray) -> np.ndarray:
        return board.reshape(-1) == 0

    def _drop(self, board: np.ndarray, action: int) -> tuple[int, int]:
        return divmod(action, 3)

    def _transforms(self) -> list:
        return [_dihedral(k, flip) for flip in (False, True) for k in range(4)]

    def _action_map(self, transform) -> np.ndarray:
        return transform(np.arange(9).reshape(3, 3)).reshape(-1)
