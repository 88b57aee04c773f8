"""Connect Four: 6 rows by 7 columns, stones drop to the lowest free cell, four in a row wins;
actions are the columns 0-6."""

from __future__ import annotations

import numpy as np

from zoo.rl.games.base import Game


def _identity(x: np.ndarray) -> np.ndarray:
    return x


def _mirror(x: np.ndarray) -> np.ndarray:
    return np.flip(x, axis=1)


class ConnectFour(Game):
    """Connect Four on the standard 6x7 board.

    Actions are the columns `0..6`; a stone lands on the lowest empty cell of its column (row 0
    is the top row of the board). The first player (+1) is `X`. The left-right mirror is the
    one symmetry used for augmentation.

    Example:

    ```python
    game = ConnectFour()
    state = game.initial_state()
    for column in (3, 0, 3, 0, 3, 0, 3):
        state = game.next_state(state, column)
    game.winner(state)  # 1: four in column 3
    ```
    """

    name = "connect_four"
    rows = 6
    cols = 7
    action_size = 7
    connect = 4
    dirichlet_alpha = 1.0
    temperature_moves = 10

    def _legal_mask(self, board: np.ndarray) -> np.ndarray:
        return board[0] == 0

    def _drop(self, board: np.ndarray, action: int) -> tuple[int, int]:
        row = self.rows - 1 - int(np.count_nonzero(board[:, action]))
        return row, action

    def _transforms(self) -> list:
        return [_identity, _mirror]

    def _action_map(self, transform) -> np.ndarray:
        return transform(np.tile(np.arange(self.cols), (self.rows, 1)))[0]

    def render(self, state) -> str:
        return super().render(state) + "\n" + " ".join(str(c) for c in range(self.cols))
