"""Learning runs on Split-digits: replay keeps earlier classes that fine-tuning forgets."""

import keras
import numpy as np
import pytest

from zoo.basic import MLPClassifier
from zoo.continual import ExperienceReplay, ReplayMemory, average_accuracy, split_tasks
from zoo.datasets import load_digits


def split_digits():
    digits = load_digits(dtype="float32")
    flat = lambda split: (split.x.reshape(len(split.x), -1), split.y)  # noqa: E731
    (x_train, y_train), (x_test, y_test) = flat(digits.train), flat(digits.test)
    return (
        split_tasks(x_train, y_train, classes_per_task=2),
        split_tasks(x_test, y_test, classes_per_task=2),
    )


def final_average_accuracy(train, test, callbacks) -> float:
    """Trains one MLP through the class-incremental stream; the last row of R, averaged."""
    keras.utils.set_random_seed(0)
    model = MLPClassifier(input_shape=(64,), num_classes=10, hidden_units=(64, 64), dropout=0.0)
    for x_task, y_task in train:
        model.fit(x_task, y_task, batch_size=32, epochs=5, callbacks=callbacks, verbose=0)
    last_row = [np.mean(np.argmax(model.predict(x, verbose=0), axis=-1) == y) for x, y in test]
    return average_accuracy([last_row] * len(test))


@pytest.mark.slow
def test_replay_beats_fine_tuning_on_class_incremental_split_digits():
    train, test = split_digits()
    fine_tuning = final_average_accuracy(train, test, callbacks=[])
    replay = ExperienceReplay(ReplayMemory(capacity=200, seed=0), replay_batch_size=32)
    with_replay = final_average_accuracy(train, test, callbacks=[replay])
    # Fine-tuning ends up predicting the last task's two classes only (about 1 / 5 of the test
    # examples); 200 replayed examples keep most of the earlier classes.
    assert fine_tuning < 0.3
    assert with_replay > fine_tuning + 0.3
