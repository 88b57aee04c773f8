"""Rainbow DQN: `DQN` with double Q-learning, dueling heads, prioritized replay, n-step returns,
C51 and noisy nets as independent flags, and `Rainbow` with all of them on.

Example:

```python
from zoo.rl.dqn import Rainbow

agent = Rainbow("CartPole-v1", seed=0).learn(30_000)
print(agent.evaluate(10))
```
"""

from zoo.rl.dqn.agent import DQN, FLAGS, Rainbow
from zoo.rl.dqn.layers import CategoricalExpectation, DuelingAggregate
from zoo.rl.dqn.networks import NumpyQNetwork, noise_size, q_forward, q_network, split_noise
from zoo.rl.dqn.projection import categorical_projection
from zoo.rl.dqn.replay import DQNReplayBuffer, GraphReplay, NStepAccumulator, NStepBatch
from zoo.rl.dqn.sum_tree import GraphSumTree, SumTree

__all__ = [
    "DQN",
    "FLAGS",
    "CategoricalExpectation",
    "DQNReplayBuffer",
    "DuelingAggregate",
    "GraphReplay",
    "GraphSumTree",
    "NStepAccumulator",
    "NStepBatch",
    "NumpyQNetwork",
    "Rainbow",
    "SumTree",
    "categorical_projection",
    "noise_size",
    "q_forward",
    "q_network",
    "split_noise",
]
