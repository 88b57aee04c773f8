"""Accuracy-matrix metrics on hand-made matrices, and the evaluator callback through `fit`."""

import keras
import numpy as np
import pytest

from zoo.continual import (
    ContinualEvaluator,
    average_accuracy,
    backward_transfer,
    forgetting,
    forgetting_per_task,
    forward_transfer,
    plot_accuracy_matrix,
    summarize,
)

# R[i, j]: accuracy on task j after training task i.
R = np.array(
    [
        [0.9, 0.2, 0.1],
        [0.7, 0.8, 0.3],
        [0.5, 0.9, 0.6],
    ]
)


def test_metrics_of_a_hand_made_matrix():
    assert average_accuracy(R) == pytest.approx((0.5 + 0.9 + 0.6) / 3)
    assert backward_transfer(R) == pytest.approx(((0.5 - 0.9) + (0.9 - 0.8)) / 2)
    np.testing.assert_allclose(forgetting_per_task(R), [0.9 - 0.5, 0.8 - 0.9])
    assert forgetting(R) == pytest.approx(0.15)
    assert forward_transfer(R, baseline=[0.1, 0.1, 0.2]) == pytest.approx(
        ((0.2 - 0.1) + (0.3 - 0.2)) / 2
    )


def test_forgetting_ignores_rows_before_the_task_was_learned():
    # Task 1 scores 0.95 before it is trained (row 0); its best trained accuracy is 0.8.
    matrix = [[0.9, 0.95, 0.1], [0.7, 0.8, 0.3], [0.5, 0.6, 0.6]]
    np.testing.assert_allclose(forgetting_per_task(matrix), [0.4, 0.2])


def test_metrics_of_a_partial_matrix_use_the_tasks_trained_so_far():
    assert summarize(R[:2]) == pytest.approx(
        {"average_accuracy": 0.75, "backward_transfer": -0.2, "forgetting": 0.2}
    )
    assert summarize(R[:1]) == pytest.approx(
        {"average_accuracy": 0.9, "backward_transfer": 0.0, "forgetting": 0.0}
    )


def test_metric_errors():
    with pytest.raises(ValueError, match=r"Received: shape=\(3,\)"):
        average_accuracy([0.1, 0.2, 0.3])
    with pytest.raises(ValueError, match=r"at least as many columns.*shape=\(3, 2\)"):
        backward_transfer(R[:, :2])
    with pytest.raises(ValueError, match="non-finite"):
        forgetting([[np.nan]])
    with pytest.raises(ValueError, match="each of the 3 tasks"):
        forward_transfer(R, baseline=[0.1])


def test_plot_writes_a_png(tmp_path):
    path = plot_accuracy_matrix(R[:2], str(tmp_path / "plots" / "matrix.png"))
    with open(path, "rb") as file:
        assert file.read(8) == b"\x89PNG\r\n\x1a\n"


def two_tasks():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 2)).astype("float32")
    return [(x, (x[:, 0] > 0).astype("int64")), (x, (x[:, 1] > 0).astype("int64"))]


def test_evaluator_fills_a_row_after_each_fit(tmp_path):
    keras.utils.set_random_seed(0)
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(2)])
    model.compile(keras.optimizers.SGD(0.0), "sparse_categorical_crossentropy")
    tasks = two_tasks()
    evaluator = ContinualEvaluator(tasks, plot_path=str(tmp_path / "matrix.png"))
    model.fit(*tasks[0], epochs=1, callbacks=[evaluator], verbose=0)
    expected = [np.mean(model.predict(x, verbose=0).argmax(1) == y) for x, y in tasks]
    np.testing.assert_allclose(evaluator.matrix, [expected])
    model.fit(*tasks[1], epochs=1, callbacks=[evaluator], verbose=0)
    assert evaluator.matrix.shape == (2, 2) and (tmp_path / "matrix.png").exists()
    np.testing.assert_allclose(evaluator.matrix[1], expected)  # learning rate 0
    assert evaluator.summary()["average_accuracy"] == pytest.approx(np.mean(expected))
    with pytest.raises(ValueError, match="already has a row for each of the 2 tasks"):
        evaluator.evaluate(model)


def test_evaluator_predict_fn_gets_the_task_index():
    calls = []

    def predict_fn(model, x, task_index):
        calls.append(task_index)
        return np.eye(2)[np.full(len(x), task_index)]  # always predicts the task index

    tasks = [(np.zeros((4, 1)), np.zeros(4, "int64")), (np.zeros((2, 1)), np.array([1, 0]))]
    evaluator = ContinualEvaluator(tasks, predict_fn=predict_fn)
    np.testing.assert_allclose(evaluator.evaluate(model=None), [1.0, 0.5])
    assert calls == [0, 1]


def test_evaluator_errors():
    with pytest.raises(ValueError, match=r"non-empty list of \(x, y\) pairs"):
        ContinualEvaluator([])
    with pytest.raises(ValueError, match="predict_fn=3"):
        ContinualEvaluator(two_tasks(), predict_fn=3)
    with pytest.raises(ValueError, match="No task has been evaluated"):
        ContinualEvaluator(two_tasks()).summary()
    evaluator = ContinualEvaluator(two_tasks(), predict_fn=lambda model, x, task: np.zeros(len(x)))
    with pytest.raises(ValueError, match=r"scores of shape \(40, classes\)"):
        evaluator.evaluate(None)
