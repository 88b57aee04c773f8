"""AlphaZero (Silver et al. 2018): `AlphaZero`, its `PolicyValueNetwork`, the batched PUCT
search `MCTS` and match play (`play_games`, `match_record`).

Example:

```python
from zoo.rl import AlphaZero, games

az = AlphaZero(games.TicTacToe(), seed=0).learn(iterations=30)
az.select_action(games.TicTacToe().initial_state())
```
"""

from zoo.rl.alphazero.agent import AlphaZero, SearchPlayer
from zoo.rl.alphazero.arena import match_record, play_games
from zoo.rl.alphazero.mcts import MCTS, uniform_evaluator, visits_to_policy
from zoo.rl.alphazero.network import PolicyValueNetwork
from zoo.rl.alphazero.self_play import self_play

__all__ = [
    "MCTS",
    "AlphaZero",
    "PolicyValueNetwork",
    "SearchPlayer",
    "match_record",
    "play_games",
    "self_play",
    "uniform_evaluator",
    "visits_to_policy",
]
