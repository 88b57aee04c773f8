"""PUCT Monte Carlo tree search, batched: many trees (parallel games) and, with virtual loss,
several leaves per tree are evaluated by one network call."""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Sequence

import numpy as np

from layers.validation import (
    check_non_negative_float,
    check_positive_float,
    check_positive_int,
    check_unit_interval,
)

# evaluator(boards (batch, rows, cols, planes)) -> (policy logits (batch, actions), values (batch,))
Evaluator = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]


class Node:
    """A searched position and the statistics of the edges (moves) leaving it.

    `visits[a]`, `value_sums[a]` (from the side of `player`, the player to move here) and
    `priors[a]` describe the move `a`; `children[a]` is the position it leads to.
    """

    __slots__ = (
        "state",
        "player",
        "legal",
        "priors",
        "visits",
        "value_sums",
        "children",
        "expanded",
        "pending",
        "terminal",
    )

    def __init__(self, game, state):
        self.state = state
        self.player = game.to_play(state)
        self.terminal = game.is_terminal(state)
        self.legal = None if self.terminal else game.legal_mask(state)
        self.children: dict = {}
        self.expanded = False
        self.pending = False
        self.priors = self.visits = self.value_sums = None

    def expand(self, logits: np.ndarray) -> None:
        logits = np.where(self.legal, logits, -np.inf)
        priors = np.exp(logits - logits.max())
        self.priors = priors / priors.sum()
        self.visits = np.zeros(len(logits))
        self.value_sums = np.zeros(len(logits))
        self.expanded = True


class MCTS:
    """PUCT search (AlphaZero) over a batch of positions, one tree each.

    Each simulation walks down a tree choosing `argmax_a Q(s, a) + U(s, a)` with
    `U = c_puct * P(s, a) * sqrt(N(s)) / (1 + N(s, a))` (unvisited moves have `Q = 0`), expands
    the leaf with the network's priors and backs its value up, negated for the opponent. One
    network call evaluates the leaves of all trees at once, `leaves_per_tree` from each: a
    virtual loss (a provisional lost visit on every edge of a pending path) steers the next
    walk of the same tree elsewhere until the real value arrives. Dirichlet noise
    `(1 - epsilon) P + epsilon Dir(alpha)` on the root priors explores in self-play.

    Args:
        game: the `Game`.
        evaluator: `boards -> (logits, values)` for a batch of encoded boards.
        num_simulations: simulations per tree and search. Defaults to `50`.
        c_puct: exploration constant. Defaults to `1.5`.
        dirichlet_alpha: root noise concentration. Defaults to `game.dirichlet_alpha`.
        dirichlet_epsilon: root noise weight. Defaults to `0.25`.
        leaves_per_tree: leaves collected per tree before each network call. Defaults to `1`.
        virtual_loss: size of the virtual loss. Defaults to `1.0`.
        seed: seed of the noise. Defaults to `None`.

    Reference: Silver et al., "A general reinforcement learning algorithm that masters chess,
    shogi, and Go through self-play", Science 362 (2018); virtual loss: Chaslot et al.,
    "Parallel Monte-Carlo Tree Search" (2008).

    Example:

    ```python
    mcts = MCTS(TicTacToe(), uniform_evaluator(9), num_simulations=100)
    visits = mcts.search([TicTacToe().initial_state()])  # (1, 9) visit counts
    ```
    """

    def __init__(
        self,
        game,
        evaluator: Evaluator,
        num_simulations: int = 50,
        c_puct: float = 1.5,
        dirichlet_alpha: float | None = None,
        dirichlet_epsilon: float = 0.25,
        leaves_per_tree: int = 1,
        virtual_loss: float = 1.0,
        seed: int | None = None,
    ):
        self.game = game
        self.evaluator = evaluator
        self.num_simulations = check_positive_int("num_simulations", num_simulations)
        self.c_puct = check_positive_float("c_puct", c_puct)
        alpha = game.dirichlet_alpha if dirichlet_alpha is None else dirichlet_alpha
        self.dirichlet_alpha = check_positive_float("dirichlet_alpha", alpha)
        self.dirichlet_epsilon = check_unit_interval(
            "dirichlet_epsilon", dirichlet_epsilon, include_low=True, include_high=True
        )
        self.leaves_per_tree = check_positive_int("leaves_per_tree", leaves_per_tree)
        self.virtual_loss = check_non_negative_float("virtual_loss", virtual_loss)
        self._rng = np.random.default_rng(seed)
        self.simulations = 0  # totals, for simulations per second
        self.evaluations = 0
        self.network_calls = 0
        self.seconds = 0.0

    def search(self, states: Sequence, add_noise: bool = False) -> np.ndarray:
        """Visit counts `(len(states), action_size)` after `num_simulations` per position."""
        start = time.perf_counter()
        roots = [Node(self.game, s) for s in states]
        if any(root.terminal for root in roots):
            raise ValueError("Cannot search from a finished game: every position needs a move.")
        self._evaluate_and_expand(roots)
        if add_noise:
            for root in roots:
                legal = np.flatnonzero(root.legal)
                noise = self._rng.dirichlet([self.dirichlet_alpha] * len(legal))
                eps = self.dirichlet_epsilon
                root.priors[legal] = (1 - eps) * root.priors[legal] + eps * noise
        done = np.zeros(len(roots), int)
        while (done < self.num_simulations).any():
            pending = []
            for i, root in enumerate(roots):
                for _ in range(min(self.leaves_per_tree, self.num_simulations - done[i])):
                    path, leaf = self._select(root)
                    if leaf.terminal:
                        self._backup(path, self.game.terminal_value(leaf.state), leaf.player)
                        done[i] += 1
                    elif leaf.pending:  # already waiting for the network: stop this tree
                        self._backup(path, None, leaf.player)
                        break
                    else:
                        leaf.pending = True
                        pending.append((path, leaf))
                        done[i] += 1
            if pending:
                leaves = [leaf for _, leaf in pending]
                values = self._evaluate_and_expand(leaves)
                for (path, leaf), value in zip(pending, values, strict=False):
                    leaf.pending = False
                    self._backup(path, float(value), leaf.player)
        self.simulations += len(roots) * self.num_simulations
        self.seconds += time.perf_counter() - start
        return np.stack([root.visits for root in roots])

    @property
    def simulations_per_second(self) -> float:
        return self.simulations / self.seconds if self.seconds else 0.0

    def _evaluate_and_expand(self, nodes: list[Node]) -> np.ndarray:
        boards = np.stack([self.game.encode(node.state) for node in nodes])
        logits, values = self.evaluator(boards)
        self.evaluations += len(nodes)
        self.network_calls += 1
        for node, row in zip(nodes, np.asarray(logits), strict=False):
            node.expand(row)
        return np.asarray(values).reshape(-1)

    def _select(self, root: Node) -> tuple[list, Node]:
        path = []
        node = root
        vl = self.virtual_loss
        while node.expanded and not node.terminal:
            visits = node.visits
            q = np.divide(node.value_sums, visits, out=np.zeros_like(visits), where=visits > 0)
            u = self.c_puct * node.priors * (math.sqrt(max(visits.sum(), 1.0)) / (1.0 + visits))
            score = np.where(node.legal, q + u, -np.inf)
            action = int(np.argmax(score))
            visits[action] += vl
            node.value_sums[action] -= vl
            path.append((node, action))
            child = node.children.get(action)
            if child is None:
                child = Node(self.game, self.game.next_state(node.state, action))
                node.children[action] = child
            node = child
        return path, node

    def _backup(self, path: list, value: float | None, leaf_player: int) -> None:
        """Adds `value` (for `leaf_player`) along `path` and removes the virtual loss; with
        `value=None` only removes the virtual loss (an abandoned walk)."""
        vl = self.virtual_loss
        for node, action in path:
            if value is None:
                node.visits[action] -= vl
                node.value_sums[action] += vl
            else:
                signed = value if node.player == leaf_player else -value
                node.visits[action] += 1.0 - vl
                node.value_sums[action] += signed + vl


def uniform_evaluator(action_size: int) -> Evaluator:
    """An evaluator with uniform priors and value 0 (plain PUCT search with no knowledge)."""

    def evaluate(boards: np.ndarray):
        n = len(boards)
        return np.zeros((n, action_size), np.float32), np.zeros(n, np.float32)

    return evaluate


def visits_to_policy(visits: np.ndarray, temperature: float, rng: np.random.Generator):
    """Returns `(action, pi)`: `pi ∝ visits^(1/temperature)` and an action drawn from it
    (temperature 0: the most visited, ties at random, and `pi` one-hot)."""
    visits = np.asarray(visits, np.float64)
    if temperature == 0:
        best = np.flatnonzero(visits == visits.max())
        action = int(rng.choice(best))
        pi = np.zeros_like(visits)
        pi[action] = 1.0
        return action, pi
    scaled = visits ** (1.0 / temperature)
    pi = scaled / scaled.sum()
    return int(rng.choice(len(pi), p=pi)), pi
