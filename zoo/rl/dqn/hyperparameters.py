"""Default hyperparameters: rl-baselines3-zoo's tuned DQN values (hyperparams/dqn.yml) per
environment, with the C51 support sized to each task's return range."""

from __future__ import annotations

ZOO_DQN = {
    "CartPole-v1": dict(
        learning_rate=2.3e-3,
        batch_size=64,
        buffer_size=100_000,
        learning_starts=1_000,
        gamma=0.99,
        target_update_interval=10,
        train_freq=256,
        gradient_steps=128,
        exploration_fraction=0.16,
        exploration_final_eps=0.04,
        hidden_sizes=(256, 256),
        v_min=0.0,
        v_max=100.0,
    ),
    "Acrobot-v1": dict(
        learning_rate=6.3e-4,
        batch_size=128,
        buffer_size=50_000,
        learning_starts=0,
        gamma=0.99,
        target_update_interval=250,
        train_freq=4,
        gradient_steps=-1,
        exploration_fraction=0.12,
        exploration_final_eps=0.1,
        hidden_sizes=(256, 256),
        v_min=-100.0,
        v_max=0.0,
    ),
    "MountainCar-v0": dict(
        learning_rate=4e-3,
        batch_size=128,
        buffer_size=10_000,
        learning_starts=1_000,
        gamma=0.98,
        target_update_interval=600,
        train_freq=16,
        gradient_steps=8,
        exploration_fraction=0.2,
        exploration_final_eps=0.07,
        hidden_sizes=(256, 256),
        v_min=-50.0,
        v_max=0.0,
    ),
}

# Everything else (including MinAtar): SB3's DQN defaults with a smaller buffer and net.
GENERIC = dict(
    learning_rate=1e-4,
    batch_size=32,
    buffer_size=100_000,
    learning_starts=1_000,
    gamma=0.99,
    target_update_interval=1_000,
    train_freq=4,
    gradient_steps=1,
    exploration_fraction=0.1,
    exploration_final_eps=0.05,
    hidden_sizes=(128,),
    v_min=-10.0,
    v_max=10.0,
)


def defaults_for(env_id: str | None) -> dict:
    """The tuned defaults for `env_id` (rl-baselines3-zoo) or the generic ones."""
    return dict(ZOO_DQN.get(env_id, GENERIC))
