"""`PettingZooGame`: PettingZoo's classic two-player AEC environments (tic-tac-toe, Connect
Four, ...) behind the `Game` interface, so `AlphaZero` and the reference players run on them.

Needs the `rl-games` extra (`pettingzoo` and `pygame`, which its classic environments import).
"""

from __future__ import annotations

import importlib
from typing import NamedTuple

import numpy as np

from zoo.extras import require_extra

CLASSIC = {"tic_tac_toe": "tictactoe_v3", "connect_four": "connect_four_v3"}


class PettingZooState(NamedTuple):
    """A position: the environment after the plies in `history` (never stepped again) and its
    result."""

    env: object
    history: tuple
    player: int
    winner: int
    moves: int
    done: bool


class PettingZooGame:
    """A PettingZoo classic environment as a `Game`.

    PettingZoo environments are stateful and do not survive `copy.deepcopy`, so each
    `next_state` replays the move history on a fresh environment: positions stay independent,
    at a cost linear in the game's length (use the built-in games for training). The network
    input is the environment's own observation for the agent to move (already from its side) and the
    legal moves come from its `action_mask`. No symmetries are assumed.

    Args:
        env: a classic environment id in `CLASSIC` (`"tic_tac_toe"`, `"connect_four"`) or a
            function returning a fresh AEC environment.

    Example:

    ```python
    game = PettingZooGame("connect_four")
    state = game.next_state(game.initial_state(), 3)
    game.legal_actions(state)  # [0, 1, 2, 3, 4, 5, 6]
    ```
    """

    dirichlet_alpha = 1.0
    temperature_moves = 4

    def __init__(self, env="connect_four"):
        require_extra("pettingzoo.classic", "rl-games", "PettingZoo games")
        if isinstance(env, str):
            if env not in CLASSIC:
                raise ValueError(
                    f"`env` must be one of {sorted(CLASSIC)} or a function returning an AEC "
                    f"environment. Received: env={env!r}"
                )
            module = importlib.import_module(f"pettingzoo.classic.{CLASSIC[env]}")
            self.name = env
            self._env_fn = module.env
        elif callable(env):
            self._env_fn = env
            self.name = "pettingzoo"
        else:
            raise ValueError(
                f"`env` must be a classic environment id or a callable. Received: env={env!r}"
            )
        probe = self._env_fn()
        probe.reset(seed=0)
        self._agents = list(probe.possible_agents)
        if len(self._agents) != 2:
            raise ValueError(
                f"Only two-player environments are supported. Received: agents={self._agents}"
            )
        first = self._agents[0]
        self.action_size = int(probe.action_space(first).n)
        self.input_shape = tuple(probe.observation_space(first)["observation"].shape)
        probe.close()

    def initial_state(self) -> PettingZooState:
        env = self._env_fn()
        env.reset(seed=0)
        return PettingZooState(env, (), 1, 0, 0, False)

    def _observation(self, state: PettingZooState) -> dict:
        return state.env.observe(state.env.agent_selection)

    def legal_mask(self, state: PettingZooState) -> np.ndarray:
        if state.done:
            return np.zeros(self.action_size, bool)
        return np.asarray(self._observation(state)["action_mask"], bool)

    def legal_actions(self, state: PettingZooState) -> list[int]:
        return [int(a) for a in np.flatnonzero(self.legal_mask(state))]

    def next_state(self, state: PettingZooState, action) -> PettingZooState:
        legal = self.legal_actions(state)
        if state.done or not isinstance(action, (int, np.integer)) or int(action) not in legal:
            raise ValueError(
                f"Illegal move in {self.name}: action={action!r} is not legal here. "
                f"Legal actions: {legal}"
            )
        env = self._env_fn()
        env.reset(seed=0)
        for previous in state.history:
            env.step(previous)
        mover = env.agent_selection
        env.step(int(action))
        done = all(env.terminations.values()) or all(env.truncations.values())
        winner = 0
        if done:
            reward = env.rewards[mover]  # +1 the mover won, -1 lost, 0 draw
            winner = int(np.sign(reward)) * state.player
        history = (*state.history, int(action))
        return PettingZooState(env, history, -state.player, winner, state.moves + 1, done)

    def is_terminal(self, state: PettingZooState) -> bool:
        return bool(state.done)

    def winner(self, state: PettingZooState) -> int:
        return int(state.winner)

    def to_play(self, state: PettingZooState) -> int:
        return int(state.player)

    def terminal_value(self, state: PettingZooState) -> float:
        return float(state.winner * state.player)

    def encode(self, state: PettingZooState) -> np.ndarray:
        return np.asarray(self._observation(state)["observation"], np.float32)

    def symmetries(self, planes: np.ndarray, policy: np.ndarray) -> list[tuple]:
        return [(planes, np.asarray(policy))]

    def render(self, state: PettingZooState) -> str:
        """The board with `X` for the player to move's stones and `O` for the opponent's."""
        planes = self.encode(state)
        cells = (planes[..., 0] + 2 * planes[..., 1]).astype(int)
        return "\n".join(" ".join(".XO"[v] for v in row) for row in cells)

    def __repr__(self) -> str:
        return f"PettingZooGame({self.name!r})"
