"""Few-shot accuracy with its 95% confidence interval."""

import numpy as np
import pytest

from zoo.meta import EpisodeSampler, FewShotAccuracy, few_shot_accuracy


def test_interval_is_1_96_standard_errors():
    accuracies = [0.5, 0.75, 1.0, 0.75]
    result = FewShotAccuracy.from_accuracies(accuracies)
    assert result.mean == pytest.approx(0.75)
    assert result.ci95 == pytest.approx(1.96 * np.std(accuracies, ddof=1) / 2)
    assert result.num_episodes == 4
    assert str(result) == f"75.00 +- {100 * result.ci95:.2f}%"


def test_one_episode_has_no_interval():
    with pytest.raises(ValueError, match="at least two episodes"):
        FewShotAccuracy.from_accuracies([0.5])


def sampler(n_way=4):
    y = np.repeat(np.arange(6), 5)
    x = y[:, None].astype("float32")  # an example's value is its class
    return EpisodeSampler(x, y, n_way=n_way, k_shot=1, n_query=3, seed=0)


def test_oracle_and_constant_classifiers():
    def oracle(support_x, support_y, query_x):
        # the query's class is the support example with the same value
        same = np.asarray(query_x)[:, 0][:, None] == np.asarray(support_x)[:, 0][None, :]
        return same[:, np.argsort(np.asarray(support_y))].astype("float32")

    def always_first(support_x, support_y, query_x):
        return np.tile([1.0, 0.0, 0.0, 0.0], (len(query_x), 1))

    perfect = few_shot_accuracy(oracle, sampler().dataset(20))
    assert (perfect.mean, perfect.ci95) == (1.0, 0.0)
    constant = few_shot_accuracy(always_first, sampler().dataset(20))
    assert constant.mean == pytest.approx(0.25)  # one class in four, every episode
    assert constant.ci95 == 0.0


def test_stops_after_num_episodes():
    result = few_shot_accuracy(
        lambda sx, sy, qx: np.zeros((len(qx), 4)), sampler().dataset(), num_episodes=7
    )
    assert result.num_episodes == 7
