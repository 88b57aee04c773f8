"""`SelfPlayPool`: self-play in worker processes feeding one learner.

Each worker process builds the game, the network (from its config) and a search once; every
iteration the learner sends the current weights and a game count to each worker, the workers
play their share of games with batched search and return the samples, and the learner trains
on all of them. Workers are spawned (no forked TensorFlow state) and run TensorFlow with one
intra-op thread each, so `n_workers` processes use `n_workers` cores.

More machines: the unit of work, `play_share(weights, n_games, seed)`, is a pure function of
its arguments, so the same code maps onto Ray actors: an actor class whose `__init__` is
`_init_worker(...)` and whose method is `_play_share`, weights shared once per iteration with
`ray.put(weights)`, `ray.get([actor.play.remote(ref, n, seed) for actor in actors])` in place
of `pool.starmap`. This is not run or tested here (Ray is not a dependency).
"""

from __future__ import annotations

import multiprocessing
import os
import time
import weakref

import numpy as np

from layers.validation import check_positive_int

_WORKER: dict = {}


def _init_worker(game_spec, network_config: dict, mcts_kwargs: dict, temperature_moves: int):
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(1)
    tf.config.threading.set_inter_op_parallelism_threads(1)
    from zoo.rl import games
    from zoo.rl.alphazero.agent import make_evaluator
    from zoo.rl.alphazero.mcts import MCTS
    from zoo.rl.alphazero.network import PolicyValueNetwork

    game = games.make(game_spec) if isinstance(game_spec, str) else game_spec
    network = PolicyValueNetwork.from_config(network_config)
    evaluator = make_evaluator(network, tuple(game.input_shape))
    _WORKER.update(
        game=game,
        network=network,
        mcts=MCTS(game, evaluator, **mcts_kwargs),
        temperature_moves=temperature_moves,
    )


def _play_share(weights: list, n_games: int, seed: int):
    from zoo.rl.alphazero.self_play import self_play

    _WORKER["network"].set_weights(weights)
    mcts = _WORKER["mcts"]
    mcts._rng = np.random.default_rng(seed)
    sims, seconds = mcts.simulations, mcts.seconds
    result = self_play(
        _WORKER["game"], mcts, n_games, _WORKER["temperature_moves"], np.random.default_rng(seed)
    )
    return result, mcts.simulations - sims, mcts.seconds - seconds


class SelfPlayPool:
    """A pool of `n_workers` spawned self-play processes.

    Args:
        game: the game (built-in games are sent by name, others pickled).
        network_config: `PolicyValueNetwork.get_config()` of the learner's network.
        mcts_kwargs: keyword arguments of `MCTS` (everything but `game` and `evaluator`).
        temperature_moves: plies played at temperature 1.
        n_workers: worker processes.

    Example:

    ```python
    pool = SelfPlayPool(game, network.get_config(), {"num_simulations": 32}, 3, n_workers=2)
    boards, policies, values, stats = pool.play(network.get_weights(), 64, seed=0)
    pool.close()
    ```
    """

    def __init__(self, game, network_config, mcts_kwargs, temperature_moves, n_workers: int):
        from zoo.rl.games import GAMES

        self.n_workers = check_positive_int("n_workers", n_workers)
        name = getattr(game, "name", None)
        spec = name if name in GAMES and type(game) is GAMES[name] else game
        context = multiprocessing.get_context("spawn")
        self._pool = context.Pool(
            n_workers,
            initializer=_init_worker,
            initargs=(spec, network_config, mcts_kwargs, temperature_moves),
        )
        self._finalizer = weakref.finalize(self, self._pool.terminate)
        self.simulations_per_second = 0.0

    def play(self, weights: list, n_games: int, seed: int):
        """Plays `n_games` self-play games split over the workers; same return as `self_play`
        (stats summed), and sets `simulations_per_second` (all workers, wall clock)."""
        shares = [len(part) for part in np.array_split(np.arange(n_games), self.n_workers)]
        jobs = [(weights, n, seed + i) for i, n in enumerate(shares) if n]
        start = time.perf_counter()
        outputs = self._pool.starmap(_play_share, jobs)
        wall = time.perf_counter() - start
        results = [out[0] for out in outputs]
        self.simulations_per_second = sum(out[1] for out in outputs) / max(wall, 1e-9)
        stats = {key: sum(r[3][key] for r in results) for key in results[0][3]}
        return (
            np.concatenate([r[0] for r in results]),
            np.concatenate([r[1] for r in results]),
            np.concatenate([r[2] for r in results]),
            stats,
        )

    def close(self) -> None:
        self._pool.close()
        self._pool.join()
        self._finalizer.detach()
