"""Continual learning: task streams, replay, progressive networks and the forgetting metrics.

Example:

```python
import zoo
from zoo.continual import ContinualEvaluator, ExperienceReplay, ReplayMemory, split_tasks

digits = zoo.datasets.load_digits(dtype="float32")
train = split_tasks(digits.train.x.reshape(-1, 64), digits.train.y, classes_per_task=2)
test = split_tasks(digits.test.x.reshape(-1, 64), digits.test.y, classes_per_task=2)
model = zoo.create("mlp_digits", input_shape=(64,))
replay, evaluator = ExperienceReplay(ReplayMemory(200)), ContinualEvaluator(test)
for x, y in train:
    model.fit(x, y, epochs=5, callbacks=[replay], verbose=0)
    evaluator.evaluate(model)
print(evaluator.matrix)  # R[i, j]: accuracy on task j after training task i
```
"""

from zoo.continual.evaluator import ContinualEvaluator
from zoo.continual.metrics import (
    average_accuracy,
    backward_transfer,
    forgetting,
    forgetting_per_task,
    forward_transfer,
    plot_accuracy_matrix,
    summarize,
)
from zoo.continual.progressive import ProgressiveNetwork, task_inputs
from zoo.continual.replay import ReplayMemory
from zoo.continual.replay_training import DarkExperienceReplay, ExperienceReplay
from zoo.continual.streams import permuted_tasks, split_tasks

__all__ = [
    "ContinualEvaluator",
    "DarkExperienceReplay",
    "ExperienceReplay",
    "ProgressiveNetwork",
    "ReplayMemory",
    "average_accuracy",
    "backward_transfer",
    "forgetting",
    "forgetting_per_task",
    "forward_transfer",
    "permuted_tasks",
    "plot_accuracy_matrix",
    "split_tasks",
    "summarize",
    "task_inputs",
]
