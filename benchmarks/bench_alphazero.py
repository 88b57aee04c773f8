"""AlphaZero: search speed (simulations per second, batched vs unbatched), training time to
the tic-tac-toe target (no loss against perfect minimax in 100 games as first and 100 as second
player) and Connect Four against depth-4 alpha-beta after a bounded self-play budget.

There is no peer library in our venvs for AlphaZero, so the ratios are ours against ourselves:
the same search and network with one leaf per network call (unbatched) versus the leaves of 64
parallel games in one call (batched), and one tree with 8 leaves per call (virtual loss).

Run: `.venv/bin/python -m benchmarks.bench_alphazero` (env `AZ_PARTS=sims,tictactoe,connect_four`,
`AZ_C4_MINUTES=30`, `AZ_C4_GAMES=20`, `AZ_C4_EVAL_SIMS=200`, `AZ_C4_TRAIN_STEPS=60`,
`AZ_C4_CHECKPOINT=/tmp/az_c4`).
"""

from __future__ import annotations

import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

PARTS = tuple(os.environ.get("AZ_PARTS", "sims,tictactoe,connect_four").split(","))
C4_MINUTES = float(os.environ.get("AZ_C4_MINUTES", "30"))
C4_GAMES = int(os.environ.get("AZ_C4_GAMES", "20"))
C4_EVAL_SIMS = int(os.environ.get("AZ_C4_EVAL_SIMS", "200"))
C4_CHECKPOINT = os.environ.get("AZ_C4_CHECKPOINT", "/tmp/az_c4")
C4_TRAIN_STEPS = int(os.environ.get("AZ_C4_TRAIN_STEPS", "60"))


def bench_sims() -> dict:
    """Simulations per second of an untrained network's search, three ways, per game."""
    from zoo.rl import games
    from zoo.rl.alphazero import MCTS, PolicyValueNetwork
    from zoo.rl.alphazero.agent import GAME_DEFAULTS, make_evaluator

    results = {}
    for game in (games.TicTacToe(), games.ConnectFour()):
        d = GAME_DEFAULTS[game.name]
        network = PolicyValueNetwork(
            board_shape=game.input_shape,
            action_size=game.action_size,
            filters=d["filters"],
            blocks=d["blocks"],
        )
        evaluator = make_evaluator(network, game.input_shape)
        evaluator(game.encode(game.initial_state())[None])  # trace once
        root = game.initial_state()
        rates = {}
        for label, trees, leaves in (
            ("unbatched", 1, 1),
            ("virtual_loss_8", 1, 8),
            ("batched_64", 64, 1),
        ):
            mcts = MCTS(game, evaluator, num_simulations=128, leaves_per_tree=leaves, seed=0)
            repeats = 16 if trees == 1 else 1
            for _ in range(repeats):
                mcts.search([root] * trees, add_noise=True)
            rates[label] = {
                "sims_per_s": round(mcts.simulations_per_second),
                "leaves_per_network_call": round(mcts.evaluations / mcts.network_calls, 1),
            }
        base = rates["unbatched"]["sims_per_s"]
        for label in rates:
            rates[label]["speedup"] = round(rates[label]["sims_per_s"] / base, 2)
        results[game.name] = rates
    return results


def bench_tictactoe(max_iterations: int = 60, check_every: int = 5) -> dict:
    """Training wall time until the agent loses no game to perfect minimax (checked every
    `check_every` iterations on 20 + 20 games, outside the clock), then the full 100 + 100."""
    from zoo.rl import games
    from zoo.rl.alphazero import AlphaZero, play_games

    game = games.TicTacToe()
    minimax = games.MinimaxPlayer(game, seed=1)
    az = AlphaZero(game, seed=0, verbose=0, eval_every=5)
    train_s, iterations, reached = 0.0, 0, False
    while iterations < max_iterations:
        start = time.perf_counter()
        az.learn(check_every)
        train_s += time.perf_counter() - start
        iterations += check_every
        player = az.player(num_simulations=64)
        losses = int((play_games(game, player, minimax, 20) == -1).sum()) + int(
            (play_games(game, minimax, player, 20) == 1).sum()
        )
        print(f"tic-tac-toe: {iterations} iterations, {train_s:.0f} s, {losses} losses / 40")
        if losses == 0:
            reached = True
            break
    player = az.player(num_simulations=64)
    as_first = play_games(game, player, minimax, 100)
    as_second = play_games(game, minimax, player, 100)
    return {
        "reached": reached,
        "iterations": iterations,
        "train_seconds": round(train_s, 1),
        "self_play_games": iterations * az.hyperparameters["games_per_iteration"],
        "sims_per_move": az.hyperparameters["num_simulations"],
        "as_first": {
            "wins": int((as_first == 1).sum()),
            "draws": int((as_first == 0).sum()),
            "losses": int((as_first == -1).sum()),
        },
        "as_second": {
            "wins": int((as_second == -1).sum()),
            "draws": int((as_second == 0).sum()),
            "losses": int((as_second == 1).sum()),
        },
    }


def bench_connect_four() -> dict:
    """Self-play for `AZ_C4_MINUTES` of wall time (resuming `AZ_C4_CHECKPOINT`), then games
    against depth-4 alpha-beta, half as first player."""
    from zoo.rl import games
    from zoo.rl.alphazero import AlphaZero, match_record

    game = games.ConnectFour()
    if os.path.isfile(os.path.join(C4_CHECKPOINT, "alphazero.json")):
        az = AlphaZero.load(C4_CHECKPOINT, verbose=0)
    else:
        az = AlphaZero(game, seed=0, verbose=0, eval_every=10, train_steps=C4_TRAIN_STEPS)
    deadline = time.perf_counter() + 60 * C4_MINUTES
    start = time.perf_counter()
    while time.perf_counter() < deadline:
        az.learn(1)
        logs = az.history[-1]
        print(
            f"connect four: iteration {az.iteration} loss {logs['loss']:.3f} "
            f"{logs['sims_per_s']:.0f} sims/s {time.perf_counter() - start:.0f} s "
            f"first/draw/second {logs['first_player_wins']}/{logs['draws']}/"
            f"{logs['second_player_wins']}",
            flush=True,
        )
        if az.iteration % 5 == 0:
            az.save(C4_CHECKPOINT)
    az.save(C4_CHECKPOINT)
    train_s = time.perf_counter() - start
    opponent = games.AlphaBetaPlayer(game, depth=4, seed=1)
    record = match_record(game, az.player(num_simulations=C4_EVAL_SIMS), opponent, C4_GAMES)
    return {
        "iterations_total": az.iteration,
        "train_seconds_this_run": round(train_s),
        "self_play_games_total": az.iteration * az.hyperparameters["games_per_iteration"],
        "sims_per_move_self_play": az.hyperparameters["num_simulations"],
        "sims_per_move_eval": C4_EVAL_SIMS,
        "vs_alphabeta_depth4": record,
        "win_rate": record["wins"] / C4_GAMES,
    }


def main() -> None:
    results = {}
    if "sims" in PARTS:
        results["simulations_per_second"] = bench_sims()
        print(json.dumps(results["simulations_per_second"], indent=1), flush=True)
    if "tictactoe" in PARTS:
        results["tictactoe"] = bench_tictactoe()
        print(json.dumps(results["tictactoe"], indent=1), flush=True)
    if "connect_four" in PARTS:
        results["connect_four"] = bench_connect_four()
        print(json.dumps(results["connect_four"], indent=1), flush=True)
    print(json.dumps(results))


if __name__ == "__main__":
    main()
