"""`zoo rl play GAME --model PATH` and `zoo rl train GAME --output PATH`: AlphaZero on the
built-in board games.

`play` lets a person play against a saved `zoo.rl.AlphaZero` in the terminal: the board is
printed after every move and the person types a move (a column 0-6 in Connect Four, a cell 0-8
row-major in tic-tac-toe) on standard input; `q` quits. `train` runs self-play iterations and
saves (or resumes) the agent at `--output`.
"""

from __future__ import annotations

import argparse
import os
import sys

from zoo.cli.arguments import positive_int

# `zoo.rl.games.GAMES`, spelled out so that `zoo --help` need not import TensorFlow.
GAMES = ("connect_four", "tic_tac_toe")
MOVE_HELP = {"connect_four": "a column 0-6", "tic_tac_toe": "a cell 0-8, row by row"}


def add_commands(commands: argparse._SubParsersAction) -> None:
    """Adds the `rl` command group."""
    p = commands.add_parser("rl", help="reinforcement learning: AlphaZero board games")
    sub = p.add_subparsers(dest="rl_command", metavar="COMMAND", required=True)
    play = sub.add_parser(
        "play",
        help="play a board game against a trained AlphaZero in the terminal",
        description="Play against a saved AlphaZero agent: type your move on standard input "
        "after each board (q quits).",
    )
    play.add_argument("game", choices=GAMES)
    play.add_argument("--model", required=True, help="directory written by AlphaZero.save")
    play.add_argument(
        "--simulations",
        type=positive_int("simulations"),
        default=200,
        help="search simulations per model move (default 200)",
    )
    play.add_argument("--model-first", action="store_true", help="the model makes the first move")
    play.set_defaults(handler=handler)
    train = sub.add_parser(
        "train",
        help="train AlphaZero by self-play (resumes --output if it holds an agent)",
        description="Self-play training of AlphaZero on a built-in game; the agent is saved "
        "to --output after every iteration.",
    )
    train.add_argument("game", choices=GAMES)
    train.add_argument("--output", required=True, help="directory for the agent")
    train.add_argument("--iterations", type=positive_int("iterations"), default=30)
    train.add_argument("--seed", type=int, default=0)
    train.set_defaults(handler=train_handler)


def _read_move(game, state, stdin, stdout) -> int | None:
    """The person's legal move, asking again after a bad one; `None` to quit."""
    while True:
        stdout.write(f"Your move ({MOVE_HELP.get(game.name, 'an action')}, q to quit): ")
        stdout.flush()
        line = stdin.readline()
        if not line or line.strip().lower() in ("q", "quit"):
            return None
        text = line.strip()
        try:
            action = int(text)
            game.next_state(state, action)  # checks legality
            return action
        except ValueError as error:
            message = str(error) if text.lstrip("-").isdigit() else f"not a number: {text!r}"
            stdout.write(f"{message}. Legal moves: {game.legal_actions(state)}\n")


def handler(args: argparse.Namespace) -> int:
    """`zoo rl play`: one game between the person (stdin) and the model."""
    from zoo.rl import AlphaZero, games

    game = games.make(args.game)
    agent = AlphaZero.load(args.model, game=game)
    stdin, stdout = sys.stdin, sys.stdout
    model_side = 1 if args.model_first else -1
    state = game.initial_state()
    stdout.write(f"You are {'O' if args.model_first else 'X'}.\n")
    while not game.is_terminal(state):
        stdout.write(game.render(state) + "\n")
        if game.to_play(state) == model_side:
            action = agent.select_action(state, num_simulations=args.simulations)
            stdout.write(f"Model plays {action}\n")
        else:
            action = _read_move(game, state, stdin, stdout)
            if action is None:
                stdout.write("\nGame abandoned.\n")
                return 1
        state = game.next_state(state, action)
    stdout.write(game.render(state) + "\n")
    winner = game.winner(state)
    result = "Draw." if winner == 0 else ("Model wins." if winner == model_side else "You win!")
    stdout.write(result + "\n")
    return 0


def train_handler(args: argparse.Namespace) -> int:
    """`zoo rl train`: self-play iterations, saving after each."""
    from zoo.rl import AlphaZero, games

    if os.path.isfile(os.path.join(args.output, "alphazero.json")):
        agent = AlphaZero.load(args.output, game=games.make(args.game), verbose=1)
    else:
        agent = AlphaZero(games.make(args.game), seed=args.seed)
    agent.learn(args.iterations, callback=lambda az, logs: az.save(args.output))
    print(f"Saved after iteration {agent.iteration} to {args.output}")
    return 0
