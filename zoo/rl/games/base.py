"""`Game`: the small two-player, zero-sum board-game interface AlphaZero and the reference
players use, and `GameState`, the immutable position it passes around.

Reference: Silver et al., "A general reinforcement learning algorithm that masters chess, shogi,
and Go through self-play", Science 362 (2018): the game is a black box of rules; the network
sees a canonical board (from the player to move's side) and training data is augmented with the
board's symmetries.
"""

from __future__ import annotations

import numbers
from typing import NamedTuple

import numpy as np

STONES = {1: "X", -1: "O", 0: "."}


class GameState(NamedTuple):
    """A position: the board (+1 first player's stones, -1 second's, 0 empty), the player to
    move (+1 or -1), the winner so far (+1, -1 or 0) and the number of plies played."""

    board: np.ndarray
    player: int
    winner: int
    moves: int


class Game:
    """A two-player, alternating, zero-sum board game with a fixed action set.

    Subclasses set `name`, `rows`, `cols`, `action_size`, `dirichlet_alpha` and
    `temperature_moves` (self-play defaults), and implement `_drop(board, action) -> (row, col)`
    (where the stone lands), `_legal_mask(board)`, `_transforms()` (the board symmetries, as
    functions of an array whose first two axes are the board's) and `_action_map(transform)`
    (the action permutation a symmetry induces).

    Example:

    ```python
    game = TicTacToe()
    state = game.next_state(game.initial_state(), 4)
    game.legal_actions(state)  # [0, 1, 2, 3, 5, 6, 7, 8]
    ```
    """

    name = "game"
    rows = 0
    cols = 0
    action_size = 0
    connect = 3
    dirichlet_alpha = 1.0
    temperature_moves = 4

    def __init__(self):
        self._max_moves = self.rows * self.cols
        self._symmetry_transforms = self._transforms()
        # The permutation of the actions each board symmetry induces (identity first).
        self._action_maps = [self._action_map(t) for t in self._symmetry_transforms]

    # --- rules -------------------------------------------------------------------------------
    def initial_state(self) -> GameState:
        board = np.zeros((self.rows, self.cols), np.int8)
        board.flags.writeable = False
        return GameState(board, 1, 0, 0)

    def legal_mask(self, state: GameState) -> np.ndarray:
        """A boolean mask over the `action_size` actions (all False once the game is over)."""
        if self.is_terminal(state):
            return np.zeros(self.action_size, bool)
        return self._legal_mask(state.board)

    def legal_actions(self, state: GameState) -> list[int]:
        return [int(a) for a in np.flatnonzero(self.legal_mask(state))]

    def next_state(self, state: GameState, action) -> GameState:
        """The position after the player to move plays `action`.

        Raises:
            ValueError: the action is not an integer, the game is over or the move is illegal
                (the message names the action and the legal ones).
        """
        if not isinstance(action, numbers.Integral) or isinstance(action, bool):
            raise ValueError(
                f"An action must be an integer in [0, {self.action_size}). "
                f"Received: action={action!r}"
            )
        action = int(action)
        if self.is_terminal(state):
            raise ValueError(
                f"Illegal move in {self.name}: the game is over. Received: action={action}"
            )
        mask = self._legal_mask(state.board)
        if not 0 <= action < self.action_size or not mask[action]:
            raise ValueError(
                f"Illegal move in {self.name}: action={action} is not legal here. "
                f"Legal actions: {[int(a) for a in np.flatnonzero(mask)]}"
            )
        board = state.board.copy()
        row, col = self._drop(board, action)
        board[row, col] = state.player
        board.flags.writeable = False
        winner = state.player if self._wins_through(board, row, col) else 0
        return GameState(board, -state.player, winner, state.moves + 1)

    def is_terminal(self, state: GameState) -> bool:
        return state.winner != 0 or state.moves >= self._max_moves

    def winner(self, state: GameState) -> int:
        """+1 if the first player won, -1 if the second did, 0 for a draw or a game not over."""
        return int(state.winner)

    def to_play(self, state: GameState) -> int:
        """+1 when the first player is to move, -1 for the second."""
        return int(state.player)

    def terminal_value(self, state: GameState) -> float:
        """The result from the side of the player to move: -1 lost (the opponent just won),
        0 draw. Only meaningful once `is_terminal(state)`."""
        return float(state.winner * state.player)

    def _wins_through(self, board: np.ndarray, row: int, col: int) -> bool:
        player = board[row, col]
        for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
            count = 1
            for sign in (1, -1):
                r, c = row + sign * dr, col + sign * dc
                while 0 <= r < self.rows and 0 <= c < self.cols and board[r, c] == player:
                    count += 1
                    r, c = r + sign * dr, c + sign * dc
            if count >= self.connect:
                return True
        return False

    # --- what the network sees ---------------------------------------------------------------
    def canonical_board(self, state: GameState) -> np.ndarray:
        """The board from the side of the player to move: its stones +1, the opponent's -1."""
        return state.board * np.int8(state.player)

    def encode(self, state: GameState) -> np.ndarray:
        """Network input `(rows, cols, 2)` float32: the mover's stones, the opponent's."""
        canonical = self.canonical_board(state)
        return np.stack([canonical == 1, canonical == -1], axis=-1).astype(np.float32)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (self.rows, self.cols, 2)

    def symmetries(self, planes: np.ndarray, policy: np.ndarray) -> list[tuple]:
        """Every symmetric copy `(planes, policy)` of an encoded board and a policy over actions
        (the identity first): the same transformation applied to both."""
        policy = np.asarray(policy)
        return [
            (np.ascontiguousarray(transform(planes)), policy[perm])
            for transform, perm in zip(self._symmetry_transforms, self._action_maps, strict=False)
        ]

    def _transforms(self) -> list:
        raise NotImplementedError

    def _action_map(self, transform) -> np.ndarray:
        raise NotImplementedError

    def _legal_mask(self, board: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def _drop(self, board: np.ndarray, action: int) -> tuple[int, int]:
        raise NotImplementedError

    # --- display -----------------------------------------------------------------------------
    def render(self, state: GameState) -> str:
        lines = [" ".join(STONES[int(v)] for v in row) for row in state.board]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
