"""The DQN family's Q networks: MLP or conv torso, optional dueling streams, noisy layers and
per-atom (C51) outputs."""

from __future__ import annotations

import keras

from layers.noisy_dense import NoisyDense
from zoo.rl.dqn.layers import DuelingAggregate
from zoo.rl.networks import check_hidden_sizes

# Nature DQN's conv stack for large frames; MinAtar's single 3x3 layer for small ones.
NATURE_CONVS = ((32, 8, 4), (64, 4, 2), (64, 3, 1))
SMALL_CONVS = ((16, 3, 1),)
NATURE_MIN_SIZE = 36


def torso_kind(shape: tuple, frame_stack: int) -> str | None:
    """`"mlp"` for flat observations, `"cnn"` for `(height, width, channels)` images (with a
    leading stack axis when `frame_stack > 1`), `None` for shapes no torso takes."""
    rank = len(shape) - (1 if frame_stack > 1 else 0)
    if rank == 1:
        return "mlp"
    if rank == 3 and min(shape[-3:-1]) >= 3:
        return "cnn"
    return None


def _dense(units, noisy, sigma, name, activation=None):
    if noisy:
        return NoisyDense(units, sigma=sigma, activation=activation, name=name)
    return keras.layers.Dense(units, activation=activation, name=name)


def q_network(
    input_dim: int,
    torso_shape: tuple,
    frame_stack: int,
    n_actions: int,
    hidden_sizes,
    *,
    dueling: bool,
    noisy: bool,
    n_atoms: int,
    noisy_sigma: float = 0.5,
    input_scale: float = 1.0,
    name: str = "q_network",
) -> keras.Model:
    """A Q network from flat observations to `(batch, n_actions)` values, or to
    `(batch, n_actions, n_atoms)` logits when `n_atoms > 1`.

    The flat input is reshaped to `torso_shape` (the observation before flattening); images
    (stacked frames folded into channels) go through a conv torso, then every fully connected
    layer is a `NoisyDense` when `noisy`. With `dueling` the last hidden layer splits into a
    value head and an advantage head on the shared hidden layers, joined by
    `DuelingAggregate` (the MLP form of the dueling architecture).

    Args:
        input_dim: size of the flat observation.
        torso_shape: the unflattened observation shape (`(d,)`, `(h, w, c)`, or with a leading
            frame-stack axis).
        frame_stack: frames stacked along the first axis of `torso_shape`.
        n_actions: number of discrete actions.
        hidden_sizes: units of the fully connected hidden layers.
        dueling: dueling value/advantage streams.
        noisy: `NoisyDense` instead of `Dense` in the fully connected layers.
        n_atoms: atoms per action (1: plain Q values).
        noisy_sigma: initial noise scale of the noisy layers. Defaults to `0.5`.
        input_scale: multiplies the input (e.g. `1/255` for byte images). Defaults to `1.0`.
        name: the model's name. Defaults to `"q_network"`.

    Example:

    ```python
    net = q_network(4, (4,), 1, 2, (64,), dueling=True, noisy=False, n_atoms=51)
    net(np.zeros((1, 4), "float32")).shape  # (1, 2, 51)
    ```

    Reference: Mnih et al. 2015 (DQN); Wang et al. 2016 (dueling); Fortunato et al. 2018
    (noisy nets); Bellemare et al. 2017 (C51); Hessel et al. 2018 (Rainbow).
    """
    sizes = check_hidden_sizes(hidden_sizes)
    if dueling and not sizes:
        raise ValueError(
            "Dueling streams need at least one hidden layer. Received: hidden_sizes=()"
        )
    inputs = keras.Input((input_dim,), name="observation")
    x = inputs
    if input_scale != 1.0:
        x = keras.layers.Rescaling(input_scale, name="scale")(x)
    if torso_kind(torso_shape, frame_stack) == "cnn":
        x = keras.layers.Reshape(torso_shape, name="unflatten")(x)
        if frame_stack > 1:  # (k, h, w, c) -> (h, w, k * c)
            k, h, w, c = torso_shape
            x = keras.layers.Permute((2, 3, 1, 4), name="stack_last")(x)
            x = keras.layers.Reshape((h, w, k * c), name="fold_stack")(x)
        convs = NATURE_CONVS if min(torso_shape[-3:-1]) >= NATURE_MIN_SIZE else SMALL_CONVS
        for i, (filters, kernel, stride) in enumerate(convs):
            x = keras.layers.Conv2D(filters, kernel, stride, activation="relu", name=f"conv_{i}")(x)
        x = keras.layers.Flatten(name="flatten")(x)
    for i, units in enumerate(sizes):
        x = _dense(units, noisy, noisy_sigma, f"hidden_{i}", "relu")(x)
    atoms = (n_atoms,) if n_atoms > 1 else ()
    if not dueling:
        q = _dense(n_actions * n_atoms, noisy, noisy_sigma, "q")(x)
        if atoms:
            q = keras.layers.Reshape((n_actions, n_atoms), name="atoms")(q)
        return keras.Model(inputs, q, name=name)
    streams = []
    for stream, units in (("value", 1), ("advantage", n_actions)):
        h = _dense(units * n_atoms, noisy, noisy_sigma, stream)(x)
        streams.append(keras.layers.Reshape((units, *atoms), name=f"{stream}_atoms")(h))
    return keras.Model(inputs, DuelingAggregate(name="dueling")(streams), name=name)


def noisy_layers(model: keras.Model) -> list[NoisyDense]:
    return [layer for layer in model.layers if isinstance(layer, NoisyDense)]


def greedy_copy(model: keras.Model) -> keras.Model:
    """A copy of `model` with its weights and every noisy layer's noise removed."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    for layer in noisy_layers(copy):
        layer.remove_noise()
    return copy
