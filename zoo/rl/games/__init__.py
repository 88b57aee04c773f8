"""Two-player board games for `zoo.rl.AlphaZero`: the `Game` interface, `TicTacToe`,
`ConnectFour`, reference players (`MinimaxPlayer`, `AlphaBetaPlayer`) and an adapter for
PettingZoo's classic environments (`PettingZooGame`, needs `pettingzoo`).

Example:

```python
from zoo.rl import games

game = games.ConnectFour()
state = game.next_state(game.initial_state(), 3)
games.AlphaBetaPlayer(game, depth=4, seed=0).select_action(state)
```
"""

from zoo.rl.games.base import Game, GameState
from zoo.rl.games.connect_four import ConnectFour
from zoo.rl.games.players import AlphaBetaPlayer, MinimaxPlayer
from zoo.rl.games.tictactoe import TicTacToe

GAMES = {"tic_tac_toe": TicTacToe, "connect_four": ConnectFour}


def make(name: str) -> Game:
    """The built-in game called `name` (`"tic_tac_toe"` or `"connect_four"`)."""
    if name not in GAMES:
        raise ValueError(f"`name` must be one of {sorted(GAMES)}. Received: name={name!r}")
    return GAMES[name]()


def __getattr__(name: str):
    if name == "PettingZooGame":  # imported lazily: pettingzoo is optional
        from zoo.rl.games.pettingzoo_adapter import PettingZooGame

        return PettingZooGame
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


__all__ = [
    "GAMES",
    "AlphaBetaPlayer",
    "ConnectFour",
    "Game",
    "GameState",
    "MinimaxPlayer",
    "PettingZooGame",
    "TicTacToe",
    "make",
]
