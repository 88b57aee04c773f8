"""Reinforcement-learning agents on Keras 3 for gymnasium environments: `PPO` and `SAC`.

Example:

```python
from zoo.rl import PPO

agent = PPO("CartPole-v1", seed=0).learn(50_000)
print(agent.evaluate(10))
agent.export_policy("models", "cartpole")
```
"""

from zoo.rl import games
from zoo.rl.alphazero import AlphaZero
from zoo.rl.base import Agent, GreedyAction
from zoo.rl.buffers import ReplayBatch, ReplayBuffer, RolloutBatch, RolloutBuffer, compute_gae
from zoo.rl.dqn import DQN, Rainbow
from zoo.rl.normalization import RunningMeanStd
from zoo.rl.ppo import PPO
from zoo.rl.sac import SAC

__all__ = [
    "AlphaZero",
    "games",
    "DQN",
    "Rainbow",
    "PPO",
    "SAC",
    "Agent",
    "GreedyAction",
    "ReplayBatch",
    "ReplayBuffer",
    "RolloutBatch",
    "RolloutBuffer",
    "RunningMeanStd",
    "compute_gae",
]
