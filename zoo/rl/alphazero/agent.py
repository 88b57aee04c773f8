"""`AlphaZero`: self-play with batched PUCT search, a replay window of recent games, training of
the policy-value network and periodic evaluation against the previous best network."""

from __future__ import annotations

import collections
import json
import math
import os
import time
from collections.abc import Callable

import keras
import numpy as np
import tensorflow as tf

from layers.validation import (
    check_bool,
    check_non_negative_int,
    check_positive_float,
    check_positive_int,
    check_unit_interval,
)
from zoo.rl import games as games_module
from zoo.rl.alphazero.arena import match_record
from zoo.rl.alphazero.mcts import MCTS, visits_to_policy
from zoo.rl.alphazero.network import PolicyValueNetwork
from zoo.rl.alphazero.self_play import self_play
from zoo.rl.alphazero.workers import SelfPlayPool

META_FILE = "alphazero.json"
WEIGHTS_FILE = "network.weights.h5"
BEST_WEIGHTS_FILE = "best.weights.h5"

# Per-game defaults (simulations per move, games per iteration, network width and depth).
GAME_DEFAULTS = {
    "tic_tac_toe": {"num_simulations": 32, "games_per_iteration": 64, "filters": 32, "blocks": 2},
    "connect_four": {"num_simulations": 64, "games_per_iteration": 64, "filters": 64, "blocks": 4},
}
FALLBACK_DEFAULTS = {"num_simulations": 50, "games_per_iteration": 32, "filters": 32, "blocks": 2}


def make_evaluator(model: keras.Model, board_shape) -> Callable:
    """A compiled `boards -> (logits, values)` for the search (one trace for every batch size)."""

    @tf.function(input_signature=[tf.TensorSpec((None, *board_shape), tf.float32)])
    def forward(boards):
        outputs = model(boards, training=False)
        return outputs["policy_logits"], outputs["value"][:, 0]

    def evaluate(boards: np.ndarray):
        logits, values = forward(tf.convert_to_tensor(boards, tf.float32))
        return logits.numpy(), values.numpy()

    return evaluate


class SearchPlayer:
    """Plays the most visited move (or draws from the visits at `temperature` for the first
    `temperature_moves` plies) after a batched search with `evaluator` (see `make_evaluator`).
    """

    def __init__(
        self,
        game,
        evaluator,
        num_simulations,
        c_puct,
        temperature=0.0,
        temperature_moves=0,
        leaves_per_tree=1,
        seed=None,
    ):
        self.game = game
        self.mcts = MCTS(
            game, evaluator, num_simulations, c_puct, leaves_per_tree=leaves_per_tree, seed=seed
        )
        self.temperature = temperature
        self.temperature_moves = temperature_moves
        self._rng = np.random.default_rng(seed)

    def select_actions(self, states) -> list[int]:
        visits = self.mcts.search(list(states), add_noise=False)
        actions = []
        for state, counts in zip(states, visits, strict=False):
            t = self.temperature if state.moves < self.temperature_moves else 0.0
            actions.append(visits_to_policy(counts, t, self._rng)[0])
        return actions


class AlphaZero:
    """AlphaZero for two-player board games (Silver et al. 2018).

    Each iteration of `learn` plays `games_per_iteration` self-play games together (one
    batched network call per simulation step across all of them), adds their positions and
    symmetric copies to a replay window of the last `replay_window` iterations, trains the
    network on minibatches from the window (cross-entropy to the search policy + squared error
    to the result + L2), and every `eval_every` iterations plays `eval_games` against the
    previous best network: a score (wins + draws / 2) of at least `gating_threshold` makes the
    current network the best. With `gating=True` self-play uses the best network (AlphaGo Zero);
    by default it uses the latest, as AlphaZero does.

    Args:
        game: a `zoo.rl.games.Game` (`TicTacToe()`, `ConnectFour()`, a `PettingZooGame`).
        seed: seed of Keras, the search noise and move sampling. Defaults to `0`.
        num_simulations: search simulations per move. Defaults to a per-game value (32
            tic-tac-toe, 64 Connect Four).
        games_per_iteration: self-play games per iteration, searched as one batch. Defaults
            per game (64).
        c_puct: PUCT exploration constant. Defaults to `1.5`.
        dirichlet_alpha: root noise concentration. Defaults to `game.dirichlet_alpha`.
        dirichlet_epsilon: root noise weight. Defaults to `0.25`.
        temperature_moves: plies played at temperature 1 in self-play. Defaults to
            `game.temperature_moves`.
        leaves_per_tree: leaves per tree per network call (virtual loss). Defaults to `1`.
        replay_window: iterations of games kept for training. Defaults to `20`.
        batch_size: training minibatch. Defaults to `256`.
        train_steps: minibatches per iteration. Defaults to `None` (one pass over the samples
            added this iteration, at least 1).
        learning_rate: Adam learning rate. Defaults to `1e-3`.
        filters, blocks: network width and residual blocks. Defaults per game.
        l2: L2 weight decay. Defaults to `1e-4`.
        eval_every: iterations between evaluations against the best network (0: never).
            Defaults to `5`.
        eval_games: games per evaluation. Defaults to `20`.
        gating: self-play with the best network instead of the latest. Defaults to `False`.
        gating_threshold: score needed to replace the best network. Defaults to `0.55`.
        n_workers: self-play worker processes feeding this learner (`SelfPlayPool`; 0 plays
            in this process). Defaults to `0`.
        verbose: 1 shows a progress bar. Defaults to `1`.

    Example:

    ```python
    from zoo.rl import AlphaZero, games

    game = games.TicTacToe()
    az = AlphaZero(game, seed=0).learn(iterations=20)
    az.select_action(game.initial_state(), temperature=0.0)
    ```
    """

    def __init__(
        self,
        game,
        seed: int | None = 0,
        num_simulations: int | None = None,
        games_per_iteration: int | None = None,
        c_puct: float = 1.5,
        dirichlet_alpha: float | None = None,
        dirichlet_epsilon: float = 0.25,
        temperature_moves: int | None = None,
        leaves_per_tree: int = 1,
        replay_window: int = 20,
        batch_size: int = 256,
        train_steps: int | None = None,
        learning_rate: float = 1e-3,
        filters: int | None = None,
        blocks: int | None = None,
        l2: float = 1e-4,
        eval_every: int = 5,
        eval_games: int = 20,
        gating: bool = False,
        gating_threshold: float = 0.55,
        n_workers: int = 0,
        verbose: int = 1,
    ):
        for method in ("initial_state", "legal_actions", "next_state", "is_terminal", "encode"):
            if not callable(getattr(game, method, None)):
                raise TypeError(
                    f"`game` must implement the zoo.rl.games.Game interface (missing "
                    f"`{method}`). Received: game={game!r}"
                )
        defaults = GAME_DEFAULTS.get(getattr(game, "name", None), FALLBACK_DEFAULTS)
        self.game = game
        self.seed = check_non_negative_int("seed", seed, allow_none=True, allow_numpy=True)
        self.hyperparameters = {
            "num_simulations": check_positive_int(
                "num_simulations", num_simulations or defaults["num_simulations"]
            ),
            "games_per_iteration": check_positive_int(
                "games_per_iteration", games_per_iteration or defaults["games_per_iteration"]
            ),
            "c_puct": check_positive_float("c_puct", c_puct),
            "dirichlet_alpha": dirichlet_alpha,
            "dirichlet_epsilon": dirichlet_epsilon,
            "temperature_moves": check_non_negative_int(
                "temperature_moves",
                game.temperature_moves if temperature_moves is None else temperature_moves,
            ),
            "leaves_per_tree": check_positive_int("leaves_per_tree", leaves_per_tree),
            "replay_window": check_positive_int("replay_window", replay_window),
            "batch_size": check_positive_int("batch_size", batch_size),
            "train_steps": check_positive_int("train_steps", train_steps, allow_none=True),
            "learning_rate": check_positive_float("learning_rate", learning_rate),
            "filters": check_positive_int("filters", filters or defaults["filters"]),
            "blocks": check_positive_int("blocks", blocks or defaults["blocks"]),
            "l2": l2,
            "eval_every": check_non_negative_int("eval_every", eval_every),
            "eval_games": check_positive_int("eval_games", eval_games),
            "gating": check_bool("gating", gating),
            "gating_threshold": check_unit_interval(
                "gating_threshold", gating_threshold, include_low=True, include_high=True
            ),
            "n_workers": check_non_negative_int("n_workers", n_workers),
        }
        self._pool = None
        self.verbose = verbose
        if self.seed is not None:
            keras.utils.set_random_seed(self.seed)
        self._rng = np.random.default_rng(self.seed)
        self.board_shape = tuple(game.input_shape)
        self.network = self._new_network()
        self.network.compile(
            optimizer=keras.optimizers.Adam(self.hyperparameters["learning_rate"]),
            loss={
                "policy_logits": keras.losses.CategoricalCrossentropy(from_logits=True),
                "value": keras.losses.MeanSquaredError(),
            },
        )
        self.best_network = self._new_network()
        self.best_network.set_weights(self.network.get_weights())
        self._evaluate = make_evaluator(self.network, self.board_shape)
        self._evaluate_best = make_evaluator(self.best_network, self.board_shape)
        self.mcts = self._search(self._evaluate, noise=True)
        self.replay: collections.deque = collections.deque(
            maxlen=self.hyperparameters["replay_window"]
        )
        self.iteration = 0
        self.history: list[dict] = []

    def _new_network(self) -> PolicyValueNetwork:
        h = self.hyperparameters
        return PolicyValueNetwork(
            board_shape=self.board_shape,
            action_size=self.game.action_size,
            filters=h["filters"],
            blocks=h["blocks"],
            l2=h["l2"],
        )

    def _search(self, evaluator, noise: bool, num_simulations=None, seed=None) -> MCTS:
        h = self.hyperparameters
        return MCTS(
            self.game,
            evaluator,
            num_simulations or h["num_simulations"],
            h["c_puct"],
            dirichlet_alpha=h["dirichlet_alpha"],
            dirichlet_epsilon=h["dirichlet_epsilon"] if noise else 0.0,
            leaves_per_tree=h["leaves_per_tree"],
            seed=int(self._rng.integers(2**31)) if seed is None else seed,
        )

    # --- training -----------------------------------------------------------------------------
    def learn(self, iterations: int, callback: Callable | None = None) -> AlphaZero:
        """Runs `iterations` more iterations of self-play, training and (every `eval_every`)
        evaluation. `callback(az, logs)` after each iteration may return `False` to stop."""
        check_positive_int("iterations", iterations, allow_numpy=True)
        progbar = keras.utils.Progbar(
            int(iterations),
            verbose=1 if self.verbose else 0,
            stateful_metrics=["loss", "policy_loss", "value_loss", "sims_per_s", "eval_score"],
            unit_name="iteration",
        )
        for step in range(int(iterations)):
            logs = self._iteration()
            self.history.append(logs)
            progbar.update(
                step + 1, [(k, v) for k, v in logs.items() if k in progbar.stateful_metrics]
            )
            if callback is not None and callback(self, logs) is False:
                break
        return self

    def _iteration(self) -> dict:
        h = self.hyperparameters
        start = time.perf_counter()
        if h["n_workers"]:
            boards, policies, values, stats, sims_per_s = self._self_play_in_workers()
        else:
            mcts = self.mcts if not h["gating"] else self._search(self._evaluate_best, noise=True)
            sims, seconds = mcts.simulations, mcts.seconds
            boards, policies, values, stats = self_play(
                self.game, mcts, h["games_per_iteration"], h["temperature_moves"], self._rng
            )
            sims_per_s = (mcts.simulations - sims) / max(mcts.seconds - seconds, 1e-9)
        self.replay.append((boards, policies, values))
        self_play_s = time.perf_counter() - start
        losses = self._train(new_samples=len(values))
        self.iteration += 1
        logs = {
            "iteration": self.iteration,
            **losses,
            "sims_per_s": sims_per_s,
            "self_play_s": self_play_s,
            "train_s": time.perf_counter() - start - self_play_s,
            **stats,
        }
        if h["eval_every"] and self.iteration % h["eval_every"] == 0:
            logs.update(self._evaluate_against_best())
        return logs

    def _self_play_in_workers(self):
        h = self.hyperparameters
        if self._pool is None:
            mcts_kwargs = {
                "num_simulations": h["num_simulations"],
                "c_puct": h["c_puct"],
                "dirichlet_alpha": h["dirichlet_alpha"],
                "dirichlet_epsilon": h["dirichlet_epsilon"],
                "leaves_per_tree": h["leaves_per_tree"],
            }
            self._pool = SelfPlayPool(
                self.game,
                self.network.get_config(),
                mcts_kwargs,
                h["temperature_moves"],
                h["n_workers"],
            )
        source = self.best_network if h["gating"] else self.network
        seed = int(self._rng.integers(2**31))
        result = self._pool.play(source.get_weights(), h["games_per_iteration"], seed)
        return (*result, self._pool.simulations_per_second)

    def close(self) -> None:
        """Stops the self-play worker processes (started by `learn` when `n_workers` > 0)."""
        if self._pool is not None:
            self._pool.close()
            self._pool = None

    def _train(self, new_samples: int) -> dict:
        h = self.hyperparameters
        boards = np.concatenate([b for b, _, _ in self.replay])
        policies = np.concatenate([p for _, p, _ in self.replay])
        values = np.concatenate([v for _, _, v in self.replay])
        steps = h["train_steps"] or max(1, math.ceil(new_samples / h["batch_size"]))
        totals = collections.defaultdict(float)
        for _ in range(steps):
            idx = self._rng.integers(len(values), size=min(h["batch_size"], len(values)))
            result = self.network.train_on_batch(
                boards[idx],
                {"policy_logits": policies[idx], "value": values[idx, None]},
                return_dict=True,
            )
            for key, value in result.items():
                totals[key] += float(value) / steps
        return {
            "loss": totals.get("loss", 0.0),
            "policy_loss": totals.get("policy_logits_loss", 0.0),
            "value_loss": totals.get("value_loss", 0.0),
        }

    def _evaluate_against_best(self) -> dict:
        h = self.hyperparameters
        seed = int(self._rng.integers(2**31))
        current = SearchPlayer(
            self.game,
            self._evaluate,
            h["num_simulations"],
            h["c_puct"],
            temperature=1.0,
            temperature_moves=1,
            seed=seed,
        )
        best = SearchPlayer(
            self.game,
            self._evaluate_best,
            h["num_simulations"],
            h["c_puct"],
            temperature=1.0,
            temperature_moves=1,
            seed=seed + 1,
        )
        record = match_record(self.game, current, best, h["eval_games"])
        score = (record["wins"] + 0.5 * record["draws"]) / h["eval_games"]
        promoted = score >= h["gating_threshold"]
        if promoted:
            self.best_network.set_weights(self.network.get_weights())
        return {
            "eval_score": score,
            "eval_promoted": int(promoted),
            **{f"eval_{k}": v for k, v in record.items()},
        }

    # --- playing ------------------------------------------------------------------------------
    def player(
        self,
        num_simulations: int | None = None,
        temperature: float = 0.0,
        leaves_per_tree: int | None = None,
        seed: int | None = None,
    ) -> SearchPlayer:
        """A batch player (for `zoo.rl.alphazero.arena`) searching with the current network."""
        h = self.hyperparameters
        return SearchPlayer(
            self.game,
            self._evaluate,
            check_positive_int("num_simulations", num_simulations or h["num_simulations"]),
            h["c_puct"],
            temperature=temperature,
            temperature_moves=10**9 if temperature else 0,
            leaves_per_tree=leaves_per_tree or h["leaves_per_tree"],
            seed=self.seed if seed is None else seed,
        )

    def select_action(
        self, state, temperature: float = 0.0, num_simulations: int | None = None
    ) -> int:
        """A legal move for the player to move in `state` after a search (no noise): the most
        visited at `temperature=0`, else drawn from visits^(1/temperature)."""
        if temperature < 0:
            raise ValueError(f"`temperature` must be >= 0. Received: temperature={temperature}")
        if self.game.is_terminal(state):
            raise ValueError("The game is over: there is no legal action to select.")
        mcts = self._search(self._evaluate, noise=False, num_simulations=num_simulations)
        visits = mcts.search([state])[0]
        return visits_to_policy(visits, temperature, self._rng)[0]

    def policy_value(self, state) -> tuple[np.ndarray, float]:
        """The raw network's move probabilities (legal moves only) and value for `state`."""
        logits, values = self._evaluate(self.game.encode(state)[None])
        logits = np.where(self.game.legal_mask(state), logits[0], -np.inf)
        probs = np.exp(logits - logits.max())
        return probs / probs.sum(), float(values[0])

    def export_network(self, base_dir, name: str, version: int | None = None) -> str:
        """Writes the policy-value network (encoded boards -> `policy_logits`, `value`) for TF
        Serving through `serving.export`; the search stays client-side."""
        import serving

        return serving.export(self.network, base_dir, name, version=version)

    # --- checkpoints --------------------------------------------------------------------------
    def save(self, path) -> None:
        """Writes the hyperparameters, counters and both networks' weights to `path`/."""
        os.makedirs(path, exist_ok=True)
        meta = {
            "class": "AlphaZero",
            "game": getattr(self.game, "name", None),
            "seed": self.seed,
            "iteration": self.iteration,
            "hyperparameters": self.hyperparameters,
        }
        with open(os.path.join(path, META_FILE), "w") as f:
            json.dump(meta, f, indent=1)
        if not self.network.optimizer.built:  # same variables saved before and after training
            self.network.optimizer.build(self.network.trainable_variables)
        self.network.save_weights(os.path.join(path, WEIGHTS_FILE))
        self.best_network.save_weights(os.path.join(path, BEST_WEIGHTS_FILE))

    @classmethod
    def load(cls, path, game=None, **overrides) -> AlphaZero:
        """Rebuilds an agent written by `save`; `game` defaults to the saved built-in game.

        Raises:
            FileNotFoundError: `path` holds no AlphaZero checkpoint.
            ValueError: the checkpoint is corrupt or for another game.
        """
        meta_path = os.path.join(path, META_FILE)
        if not os.path.isfile(meta_path):
            raise FileNotFoundError(f"No AlphaZero checkpoint ({META_FILE}) in path={str(path)!r}")
        try:
            with open(meta_path) as f:
                meta = json.load(f)
            hyperparameters = dict(meta["hyperparameters"])
            saved_game = meta["game"]
        except (json.JSONDecodeError, KeyError, TypeError) as error:
            raise ValueError(
                f"Corrupt AlphaZero checkpoint: {meta_path} is not a valid {META_FILE} "
                f"({error}). Received: path={str(path)!r}"
            ) from error
        if game is None:
            game = games_module.make(saved_game)
        elif getattr(game, "name", None) != saved_game:
            raise ValueError(
                f"The checkpoint was trained on {saved_game!r}, not on this game. "
                f"Received: game={game!r}"
            )
        az = cls(
            game,
            seed=meta.get("seed"),
            verbose=overrides.pop("verbose", 0),
            **{**hyperparameters, **overrides},
        )
        # Build the optimizer first so that its saved state (moments, step) is restored too.
        az.network.optimizer.build(az.network.trainable_variables)
        try:
            az.network.load_weights(os.path.join(path, WEIGHTS_FILE))
            az.best_network.load_weights(os.path.join(path, BEST_WEIGHTS_FILE))
        except (OSError, ValueError, KeyError) as error:
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else ""
            raise ValueError(
                f"Corrupt AlphaZero checkpoint: the network weights in {str(path)!r} could not "
                f"be read ({type(error).__name__}: {first_line})."
            ) from error
        az.iteration = int(meta.get("iteration", 0))
        return az
