"""`ContinualEvaluator`: fills the accuracy matrix after each task's `fit` and plots it."""

from __future__ import annotations

import keras
import numpy as np

from layers.validation import check_positive_int
from zoo.continual.metrics import plot_accuracy_matrix, summarize
from zoo.continual.streams import labelled_arrays


class ContinualEvaluator(keras.callbacks.Callback):
    """Fills the accuracy matrix `R[i, j]` (accuracy on task `j` after training task `i`).

    Used as a callback in the `fit` of each task (one `fit` per task), it evaluates the model
    on every task's test data when that `fit` ends and appends the row; `evaluate(model)` does
    the same without `fit` (e.g. after several `fit` calls on one task). Accuracy is the
    fraction of examples whose highest-scoring output is the label. The matrix, the metrics
    (`summary()`: average accuracy, backward transfer, forgetting) and, with `plot_path`, a
    PNG heatmap are updated after every task.

    Args:
        tasks: the test data of every task, a list of `(x_t, y_t)` as `split_tasks` or
            `permuted_tasks` return.
        batch_size: prediction batch size. Defaults to `256`.
        predict_fn: `predict_fn(model, x, task_index) -> scores (n, classes)` for models that
            need the task (an output per task, as progressive networks have); `None` uses
            `model.predict(x)`. Defaults to `None`.
        plot_path: PNG file rewritten after every task. Defaults to `None` (no plot).

    Example:

    ```python
    train = split_tasks(digits.train.x, digits.train.y, classes_per_task=2)
    evaluator = ContinualEvaluator(
        split_tasks(digits.test.x, digits.test.y, classes_per_task=2), plot_path="r.png"
    )
    for x_task, y_task in train:
        model.fit(x_task, y_task, epochs=5, callbacks=[evaluator])
    print(evaluator.matrix, evaluator.summary())
    ```

    Reference: Lopez-Paz & Ranzato, "Gradient Episodic Memory for Continual Learning",
    NeurIPS 2017.
    """

    def __init__(self, tasks, batch_size: int = 256, predict_fn=None, plot_path=None):
        super().__init__()
        if not isinstance(tasks, list | tuple) or not tasks:
            raise ValueError(
                f"`tasks` must be a non-empty list of (x, y) pairs. Received: tasks={tasks!r}"
            )
        if predict_fn is not None and not callable(predict_fn):
            raise ValueError(f"`predict_fn` must be callable. Received: predict_fn={predict_fn!r}")
        self.tasks = [labelled_arrays(*task) for task in tasks]
        self.batch_size = check_positive_int("batch_size", batch_size)
        self.predict_fn = predict_fn
        self.plot_path = plot_path
        self.rows: list[np.ndarray] = []

    @property
    def matrix(self) -> np.ndarray:
        """R so far: one row per task trained, one column per task."""
        return np.array(self.rows).reshape(len(self.rows), len(self.tasks))

    def on_train_end(self, logs=None):
        self.evaluate(self.model)

    def evaluate(self, model: keras.Model) -> np.ndarray:
        """Appends the row of accuracies of `model` on every task and returns it."""
        if len(self.rows) == len(self.tasks):
            raise ValueError(
                f"The matrix already has a row for each of the {len(self.tasks)} tasks; use one "
                f"`fit` per task (or `evaluate` once per task). Received: {len(self.rows) + 1} "
                "rows"
            )
        row = np.array([self.accuracy(model, index) for index in range(len(self.tasks))])
        self.rows.append(row)
        if self.plot_path is not None:
            plot_accuracy_matrix(self.matrix, self.plot_path)
        return row

    def accuracy(self, model: keras.Model, task_index: int) -> float:
        """The accuracy of `model` on task `task_index`'s test data."""
        x, y = self.tasks[task_index]
        if self.predict_fn is None:
            scores = model.predict(x, batch_size=self.batch_size, verbose=0)
        else:
            scores = self.predict_fn(model, x, task_index)
        scores = np.asarray(scores)
        labels = y.argmax(-1) if y.ndim == 2 else y.reshape(-1)
        if scores.ndim != 2 or len(scores) != len(labels):
            raise ValueError(
                f"Predictions must be scores of shape ({len(labels)}, classes). "
                f"Received: shape={scores.shape}"
            )
        return float(np.mean(scores.argmax(-1) == labels))

    def summary(self) -> dict[str, float]:
        """Average accuracy, backward transfer and forgetting over the tasks trained so far."""
        if not self.rows:
            raise ValueError("No task has been evaluated yet. Received: 0 rows")
        return summarize(self.matrix)
