"""Reference opponents for evaluation: a perfect minimax player (exhaustive search with a
transposition table, for tic-tac-toe) and a depth-limited alpha-beta player with a heuristic
(for Connect Four)."""

from __future__ import annotations

import numpy as np

from layers.validation import check_positive_int
from zoo.rl.games.base import Game, GameState

WIN = 1_000_000.0


def _connect_windows(game: Game) -> np.ndarray:
    """Flat board indices of every straight line of `game.connect` cells, shape (n, connect)."""
    windows = []
    n = game.connect
    for r in range(game.rows):
        for c in range(game.cols):
            for dr, dc in ((0, 1), (1, 0), (1, 1), (1, -1)):
                cells = [(r + i * dr, c + i * dc) for i in range(n)]
                if all(0 <= rr < game.rows and 0 <= cc < game.cols for rr, cc in cells):
                    windows.append([rr * game.cols + cc for rr, cc in cells])
    return np.asarray(windows)


class MinimaxPlayer:
    """A perfect player: full negamax search, memoised, random among the optimal moves.

    Values are +1 (forced win), 0 (draw) or -1 (forced loss) for the player to move; among
    moves of equal value a win is taken as soon as possible and a loss put off as long as
    possible. Exhaustive, so meant for small games (tic-tac-toe: ~5,500 positions).

    Args:
        game: the game (a `TicTacToe` in practice).
        seed: seed for the choice among equally good moves. Defaults to `None`.

    Example:

    ```python
    player = MinimaxPlayer(TicTacToe(), seed=0)
    player.select_action(TicTacToe().initial_state())
    ```
    """

    def __init__(self, game: Game, seed: int | None = None):
        self.game = game
        self._rng = np.random.default_rng(seed)
        self._cache: dict = {}

    def value(self, state: GameState) -> float:
        """Game-theoretic value for the player to move, scaled so quicker wins score higher."""
        key = (state.board.tobytes(), state.player)
        if key in self._cache:
            return self._cache[key]
        if self.game.is_terminal(state):
            # The loser is the player to move; a loss sooner is worse (more empty cells left).
            value = self.game.terminal_value(state) * (1.0 + self._empty(state))
        else:
            value = max(
                -self.value(self.game.next_state(state, a)) for a in self.game.legal_actions(state)
            )
        self._cache[key] = value
        return value

    def _empty(self, state: GameState) -> int:
        return self.game.rows * self.game.cols - state.moves

    def action_values(self, state: GameState) -> dict[int, float]:
        """The value of each legal move for the player to move (sign: win/draw/loss)."""
        return {
            a: -self.value(self.game.next_state(state, a)) for a in self.game.legal_actions(state)
        }

    def optimal_actions(self, state: GameState) -> list[int]:
        """Every legal move that keeps the best game-theoretic result (win, draw or loss)."""
        values = self.action_values(state)
        best = max(np.sign(v) for v in values.values())
        return [a for a, v in values.items() if np.sign(v) == best]

    def select_action(self, state: GameState) -> int:
        values = self.action_values(state)
        best = max(values.values())
        return int(self._rng.choice([a for a, v in values.items() if v == best]))

    __call__ = select_action


class AlphaBetaPlayer:
    """Depth-limited negamax with alpha-beta pruning and a line-counting heuristic.

    Leaves at `depth` plies are scored by counting every line of `game.connect` cells: lines
    holding only one player's stones score by how full they are (3 of 4: 5, 2 of 4: 2), the
    opponent's count negatively, plus 3 per stone in the centre column. A found win scores
    `1e6` (more for quicker wins). Ties at the root are broken at random.

    Args:
        game: the game (a `ConnectFour` in practice).
        depth: plies searched, the player's own move included. Defaults to `4`.
        seed: seed for the choice among equally scored moves. Defaults to `None`.

    Example:

    ```python
    player = AlphaBetaPlayer(ConnectFour(), depth=4, seed=0)
    player.select_action(ConnectFour().initial_state())
    ```
    """

    def __init__(self, game: Game, depth: int = 4, seed: int | None = None):
        self.game = game
        self.depth = check_positive_int("depth", depth)
        self._rng = np.random.default_rng(seed)
        self._windows = _connect_windows(game)
        self._weights = np.zeros(game.connect + 1)
        self._weights[game.connect - 1] = 5.0
        if game.connect > 2:
            self._weights[game.connect - 2] = 2.0
        center = np.zeros((game.rows, game.cols))
        center[:, game.cols // 2] = 3.0
        self._center = center.reshape(-1)
        # Centre-first move ordering prunes more.
        self._order = sorted(range(game.action_size), key=lambda a: abs(a - game.cols // 2))

    def heuristic(self, state: GameState) -> float:
        """Static score of a non-terminal position for the player to move."""
        flat = state.board.reshape(-1) * state.player
        lines = flat[self._windows]
        own = (lines == 1).sum(axis=1)
        opp = (lines == -1).sum(axis=1)
        score = self._weights[own[opp == 0]].sum() - 0.8 * self._weights[opp[own == 0]].sum()
        return float(score + self._center @ (flat == 1) - self._center @ (flat == -1))

    def _negamax(self, state: GameState, depth: int, alpha: float, beta: float) -> float:
        if self.game.is_terminal(state):
            return self.game.terminal_value(state) * (WIN + depth)
        if depth == 0:
            return self.heuristic(state)
        mask = self.game.legal_mask(state)
        best = -np.inf
        for a in self._order:
            if not mask[a]:
                continue
            value = -self._negamax(self.game.next_state(state, a), depth - 1, -beta, -alpha)
            best = max(best, value)
            alpha = max(alpha, value)
            if alpha >= beta:
                break
        return best

    def action_values(self, state: GameState) -> dict[int, float]:
        """Each legal move's exact depth-limited negamax score (full window, no root pruning)."""
        return {
            a: -self._negamax(self.game.next_state(state, a), self.depth - 1, -np.inf, np.inf)
            for a in self.game.legal_actions(state)
        }

    def select_action(self, state: GameState) -> int:
        values = self.action_values(state)
        best = max(values.values())
        return int(self._rng.choice([a for a, v in values.items() if v == best]))

    __call__ = select_action
