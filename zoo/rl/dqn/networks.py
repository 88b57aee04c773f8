"""The DQN family's Q networks: MLP or conv torso, optional dueling streams, noisy layers and
per-atom (C51) outputs."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf

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


def noise_size(layers: list[NoisyDense]) -> int:
    """Standard normals one draw of factorised noise takes for `layers` (inputs + units each)."""
    return sum(layer.last_dim + layer.units for layer in layers)


def split_noise(layers: list[NoisyDense], normals) -> dict:
    """Factorised noise for every layer of `layers` from `noise_size(layers)` standard normals.

    Returns `{id(layer): (f(e_in), f(e_out))}` with `f(e) = sign(e) sqrt(|e|)`, `e_in` the
    layer's input size and `e_out` its units of `normals`, in order: the noise
    `NoisyDense.reset_noise` draws, as vectors (the kernel noise is their outer product), so
    that one array of normals (drawn by the agent's NumPy generator) feeds every layer of a
    step. For `q_forward`; works in `tf.function` and under XLA.
    """
    if not all(layer.use_factorised for layer in layers):
        raise ValueError("split_noise makes factorised noise; every layer must use it.")
    if not layers:
        return {}
    normals = tf.convert_to_tensor(normals, tf.float32)
    noise = tf.sign(normals) * tf.sqrt(tf.abs(normals))
    out, offset = {}, 0
    for layer in layers:
        n_in, n_out = layer.last_dim, layer.units
        out[id(layer)] = (
            noise[offset : offset + n_in],
            noise[offset + n_in : offset + n_in + n_out],
        )
        offset += n_in + n_out
    return out


def _apply(layer, x, noise):
    if not isinstance(layer, NoisyDense):
        return layer(x)
    kernel, bias = layer.mu_kernel, layer.mu_bias
    if noise is not None and id(layer) in noise:
        noise_in, noise_out = noise[id(layer)]
        # The outer product as a (rank-1) matrix product: XLA on CPU then writes the noise
        # matrix once with a vectorised kernel instead of broadcasting inside each fusion.
        kernel = kernel + layer.sigma_kernel * (noise_in[:, None] * noise_out[None, :])
        if bias is not None:
            bias = bias + layer.sigma_bias * noise_out
    y = tf.matmul(x, tf.convert_to_tensor(kernel))
    if bias is not None:
        y = y + bias
    return y if layer.activation is None else layer.activation(y)


HEADS = ("q", "value", "advantage")


def q_forward(model: keras.Model, observations, noise: dict | None = None):
    """`model(observations)` for a `q_network`, with the noisy layers' noise given explicitly.

    Noisy layers compute `x (mu_w + sigma_w * f_in f_out^T) + mu_b + sigma_b * f_out` from
    `noise` (`split_noise`'s dict) instead of their stored `eps_*` weights, so training draws
    fresh noise per step without writing the noise into variables; `noise=None` gives the
    noise-free (mean) network, what greedy actions and exported policies use. Other layers
    are called as they are.
    """
    layers = {layer.name: layer for layer in model.layers}
    x = observations
    for layer in model.layers:
        if isinstance(layer, keras.layers.InputLayer):
            continue
        if layer.name in HEADS:
            break
        x = _apply(layer, x, noise)
    if "dueling" in layers:
        streams = [
            layers[f"{name}_atoms"](_apply(layers[name], x, noise))
            for name in ("value", "advantage")
        ]
        return layers["dueling"](streams)
    q = _apply(layers["q"], x, noise)
    return layers["atoms"](q) if "atoms" in layers else q


def greedy_copy(model: keras.Model) -> keras.Model:
    """A copy of `model` with its weights and every noisy layer's noise removed."""
    copy = keras.models.clone_model(model)
    copy.set_weights(model.get_weights())
    for layer in noisy_layers(copy):
        layer.remove_noise()
    return copy


class NumpyQNetwork:
    """A NumPy copy of an MLP `q_network` for acting one environment step at a time.

    One step's forward pass is a few small matrix-vector products, far below the cost of a
    TensorFlow call, so the acting step runs here on a copy of the weights taken by
    `refresh()` (call it whenever the network's weights change, e.g. after each training
    call). With `noise` (a NumPy generator), noisy layers get fresh factorised noise for the
    call, one draw shared by the batch as in `NoisyDense`, computed without forming the noisy
    kernel: `x W = x mu + ((x f(e_in)) sigma) f(e_out)`. Without it the noise-free mean
    weights are used.

    Args:
        model: a `q_network` without a conv torso.
        support: the C51 atoms (expected values are returned), or `None` for plain Q values.

    Example:

    ```python
    policy = NumpyQNetwork(agent.q_net, support)
    policy.refresh()
    actions = policy.q_values(observations, rng).argmax(-1)
    ```
    """

    def __init__(self, model: keras.Model, support=None):
        self.model = model
        self.support = None if support is None else np.asarray(support, np.float32)
        names = {layer.name for layer in model.layers}
        if any(isinstance(layer, keras.layers.Conv2D) for layer in model.layers):
            raise ValueError("NumpyQNetwork takes MLP q_networks (no conv torso).")
        self.hidden = sorted(
            (layer for layer in model.layers if layer.name.startswith("hidden_")),
            key=lambda layer: int(layer.name.split("_")[1]),
        )
        self.dueling = "dueling" in names
        self.heads = (
            [model.get_layer("value"), model.get_layer("advantage")]
            if self.dueling
            else [model.get_layer("q")]
        )
        self.scale = float(model.get_layer("scale").scale) if "scale" in names else 1.0
        self.n_actions = model.output_shape[1]
        self.layers = [*self.hidden, *self.heads]
        names = ("mu_kernel", "mu_bias", "sigma_kernel", "sigma_bias")
        variables = [
            [getattr(layer, name) for name in names]
            if isinstance(layer, NoisyDense)
            else [layer.kernel, layer.bias, None, None]
            for layer in self.layers
        ]
        self._shapes = [[None if v is None else tuple(v.shape) for v in row] for row in variables]
        self._variables = [v for row in variables for v in row if v is not None]
        self.weights = None
        self._read = None

    def flat_weights(self):
        """The weights `refresh` copies, as one flat tensor (graph or eager)."""
        return tf.concat([tf.reshape(v, [-1]) for v in self._variables], 0)

    def refresh(self) -> None:
        """Copies the current weights (one TensorFlow call)."""
        if self._read is None:
            self._read = tf.function(self.flat_weights).get_concrete_function()
        flat, offset, self.weights = self._read().numpy(), 0, []
        for shapes in self._shapes:
            row = []
            for shape in shapes:
                if shape is None:
                    row.append(None)
                    continue
                size = int(np.prod(shape))
                row.append(flat[offset : offset + size].reshape(shape))
                offset += size
            self.weights.append(tuple(row))

    def _dense(self, x, weights, noise):
        mu_kernel, mu_bias, sigma_kernel, sigma_bias = weights
        y = x @ mu_kernel
        if mu_bias is not None:
            y += mu_bias
        if sigma_kernel is not None and noise is not None:
            noise_in, noise_out = noise
            y += ((x * noise_in) @ sigma_kernel) * noise_out
            if sigma_bias is not None:
                y += sigma_bias * noise_out
        return y

    def _noise(self, rng):
        sizes = [w[0].shape for w in self.weights if w[2] is not None]
        draw = rng.standard_normal(sum(i + o for i, o in sizes), dtype=np.float32)
        draw = np.copysign(np.sqrt(np.abs(draw)), draw)
        out, offset = [], 0
        for n_in, n_out in sizes:
            out.append((draw[offset : offset + n_in], draw[offset + n_in : offset + n_in + n_out]))
            offset += n_in + n_out
        return iter(out)

    def q_values(self, observations: np.ndarray, rng: np.random.Generator | None = None):
        """Expected Q values `(batch, n_actions)`; fresh noise from `rng` if given."""
        if self.weights is None:
            self.refresh()
        noise = self._noise(rng) if rng is not None else None

        def layer_noise(weights):
            return next(noise) if noise is not None and weights[2] is not None else None

        x = np.asarray(observations, np.float32)
        if self.scale != 1.0:
            x = x * np.float32(self.scale)
        n_hidden = len(self.hidden)
        for weights in self.weights[:n_hidden]:
            x = np.maximum(self._dense(x, weights, layer_noise(weights)), 0.0)
        atoms = () if self.support is None else (len(self.support),)
        heads = [self._dense(x, w, layer_noise(w)) for w in self.weights[n_hidden:]]
        if self.dueling:
            value = heads[0].reshape(len(x), 1, *atoms)
            advantage = heads[1].reshape(len(x), self.n_actions, *atoms)
            q = value + advantage - advantage.mean(axis=1, keepdims=True)
        else:
            q = heads[0].reshape(len(x), self.n_actions, *atoms)
        if self.support is None:
            return q
        q = np.exp(q - q.max(-1, keepdims=True))
        return (q / q.sum(-1, keepdims=True)) @ self.support
