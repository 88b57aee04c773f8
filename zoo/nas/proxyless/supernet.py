"""`ProxylessSupernet`: a MobileNetV2-style space of `InvertedResidual` paths with binary gates."""

from __future__ import annotations

import re

import keras
import numpy as np
from keras import ops

from layers.convolution import InvertedResidual
from layers.validation import check_positive_int, check_positive_ints
from zoo.nas.ofa.subnet import OFASubnetClassifier, subnet_of
from zoo.vision.inputs import check_image_shape

# The paper's candidates: MBConv with kernel 3/5/7 and expand ratio 3/6, and the zero op
# (the block skipped, leaving its residual connection: the identity).
PROXYLESS_CANDIDATES = ("mb3_e3", "mb3_e6", "mb5_e3", "mb5_e6", "mb7_e3", "mb7_e6", "zero")
_MBCONV = re.compile(r"^mb(\d+)_e(\d+)$")


def parse_candidate(name: str) -> tuple[int, int] | None:
    """`(kernel, expand)` of an `"mb{kernel}_e{expand}"` name; `None` for `"zero"`.

    Raises:
        ValueError: any other name.
    """
    if name == "zero":
        return None
    match = _MBCONV.match(name) if isinstance(name, str) else None
    if match is None or int(match.group(1)) % 2 == 0 or int(match.group(2)) < 1:
        raise ValueError(
            "A ProxylessNAS candidate must be 'zero' or 'mb{kernel}_e{expand}' with an odd "
            f"kernel (such as 'mb5_e6'). Received: candidate={name!r}"
        )
    return int(match.group(1)), int(match.group(2))


@keras.saving.register_keras_serializable(package="keras_zoo")
class ProxylessSupernet(keras.Model):
    """An over-parameterised MobileNetV2-style network: every block holds all candidate paths.

    A 3x3 stride-2 stem, stages of searchable blocks, a 1x1 head convolution, global pooling
    and a classifier. Each block holds one `layers.InvertedResidual` per MBConv candidate and,
    where the block keeps its shape (not the first block of a stage), the `"zero"` candidate
    (the block skipped). Each block has architecture parameters `alpha` (one logit per
    candidate); `run_paths(x, indices)` runs the chosen path of every block and nothing else,
    the binarised forward pass of the paper.

    Args:
        input_shape: `(height, width, channels)`. Defaults to `(32, 32, 1)`.
        num_classes: number of classes. Defaults to `10`.
        stem_channels: filters of the stem. Defaults to `8`.
        stage_channels: output channels per stage. Defaults to `(16, 24, 32)`.
        stage_depths: searchable blocks per stage. Defaults to `(2, 2, 2)`.
        stage_strides: stride of each stage's first block. Defaults to `(1, 2, 2)`.
        candidates: candidate names (`PROXYLESS_CANDIDATES`). Defaults to all of them.
        head_channels: filters of the head convolution. Defaults to `64`.
        activation: activation of the stem, blocks and head. Defaults to `"relu6"`.
        **kwargs: `name` and the other `keras.Model` arguments.

    Example:

    ```python
    supernet = ProxylessSupernet(input_shape=(16, 16, 1), num_classes=10)
    logits = supernet.run_paths(images, supernet.argmax_paths())
    ```

    Reference:
        Cai, Zhu and Han, "ProxylessNAS: Direct Neural Architecture Search on Target Task and
        Hardware", ICLR 2019. https://arxiv.org/abs/1812.00332
    """

    def __init__(
        self,
        input_shape=(32, 32, 1),
        num_classes: int = 10,
        stem_channels: int = 8,
        stage_channels=(16, 24, 32),
        stage_depths=(2, 2, 2),
        stage_strides=(1, 2, 2),
        candidates=PROXYLESS_CANDIDATES,
        head_channels: int = 64,
        activation: str = "relu6",
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.image_shape = check_image_shape("input_shape", input_shape, allow_none=False)
        self.num_classes = check_positive_int("num_classes", num_classes)
        self.stem_channels = check_positive_int("stem_channels", stem_channels)
        self.stage_channels = check_positive_ints("stage_channels", stage_channels)
        self.stage_depths = check_positive_ints("stage_depths", stage_depths)
        self.stage_strides = check_positive_ints("stage_strides", stage_strides)
        if not len(self.stage_channels) == len(self.stage_depths) == len(self.stage_strides):
            raise ValueError(
                "`stage_channels`, `stage_depths` and `stage_strides` must have one entry per "
                f"stage. Received: stage_depths={stage_depths!r}, stage_strides={stage_strides!r}"
            )
        if isinstance(candidates, str) or not candidates:
            raise ValueError(f"`candidates` must be a list of names. Received: {candidates!r}")
        self.candidates = tuple(candidates)
        parsed = [parse_candidate(name) for name in self.candidates]
        if all(p is None for p in parsed):
            raise ValueError(f"`candidates` needs an MBConv candidate. Received: {candidates!r}")
        self.head_channels = check_positive_int("head_channels", head_channels)
        self.activation = activation

        self.stem_conv = keras.layers.Conv2D(
            stem_channels, 3, strides=2, padding="same", use_bias=False, name="stem_conv"
        )
        self.stem_bn = keras.layers.BatchNormalization(epsilon=1e-3, name="stem_bn")
        self.stem_act = keras.layers.Activation(activation, name="stem_act")
        self.block_candidates = []  # per block: the candidate names it allows
        self.paths = []  # per block: one layer (or None for "zero") per allowed candidate
        self.alphas = []
        for s, (filters, depth) in enumerate(
            zip(self.stage_channels, self.stage_depths, strict=True)
        ):
            for j in range(depth):
                names = [n for n in self.candidates if n != "zero" or j > 0]
                self.block_candidates.append(tuple(names))
                layers = []
                for name in names:
                    choice = parse_candidate(name)
                    layers.append(
                        None
                        if choice is None
                        else InvertedResidual(
                            filters,
                            expansion=choice[1],
                            kernel_size=choice[0],
                            strides=self.stage_strides[s] if j == 0 else 1,
                            activation=activation,
                            name=f"stage_{s}_block_{j}_{name}",
                        )
                    )
                self.paths.append(layers)
                self.alphas.append(
                    self.add_weight(
                        name=f"alpha_stage_{s}_block_{j}",
                        shape=(len(names),),
                        initializer="zeros",
                    )
                )
        self.gate_sampler = keras.random.SeedGenerator(0, name="gate_sampler")
        self.head_conv = keras.layers.Conv2D(head_channels, 1, use_bias=False, name="head_conv")
        self.head_bn = keras.layers.BatchNormalization(epsilon=1e-3, name="head_bn")
        self.head_act = keras.layers.Activation(activation, name="head_act")
        self.pool = keras.layers.GlobalAveragePooling2D(name="pool")
        self.logits = keras.layers.Dense(num_classes, name="logits", dtype="float32")
        x = ops.zeros((1, *self.image_shape))
        for index in range(max(len(p) for p in self.paths)):
            # Builds every path once (eagerly).
            self.run_paths(x, [min(index, len(p) - 1) for p in self.paths])

    @property
    def architecture_variables(self) -> list:
        """The architecture parameters: one logit vector per block."""
        return list(self.alphas)

    @property
    def weight_variables(self) -> list:
        """The trainable network weights (everything but the architecture parameters)."""
        ids = {id(a) for a in self.alphas}
        return [v for v in self.trainable_variables if id(v) not in ids]

    def _stem(self, x, training):
        return self.stem_act(self.stem_bn(self.stem_conv(x), training=training))

    def _head(self, x, training):
        x = self.head_act(self.head_bn(self.head_conv(x), training=training))
        return self.logits(self.pool(x))

    def _run_path(self, block: int, index, x, training):
        """Runs only path `index` of `block` (a Python int or a scalar tensor)."""
        layers = self.paths[block]

        def branch(layer):
            return (lambda: x) if layer is None else (lambda: layer(x, training=training))

        if isinstance(index, int | np.integer):
            return branch(layers[int(index)])()
        return ops.switch(index, [branch(layer) for layer in layers])

    def run_paths(self, x, indices, training=False):
        """Runs the network with path `indices[b]` in block `b` (the binarised forward pass)."""
        x = self._stem(x, training)
        for block, index in enumerate(indices):
            x = self._run_path(block, index, x, training)
        return self._head(x, training)

    def run_gated(self, x, first, second, training=False):
        """Two sampled paths per block, mixed by binary gates whose gradient reaches `alpha`.

        In each block only paths `first[b]` and `second[b]` are computed. The gate of the path
        kept is 1 and the other 0, but the gradient of the loss with respect to each gate
        reaches the architecture parameters through the softmax over the two sampled paths,
        `dL/dalpha_i = sum_j dL/dg_j p_j (delta_ij - p_i)`, the paper's estimator (Eq. 4),
        restricted to the two paths as in its Section 3.2.1.
        """
        x = self._stem(x, training)
        for block, alpha in enumerate(self.alphas):
            a, b = first[block], second[block]
            pair = ops.softmax(ops.stack([ops.take(alpha, a), ops.take(alpha, b)]))
            keep_first = ops.cast(
                keras.random.uniform((), seed=self.gate_sampler) < pair[0], pair.dtype
            )
            hard = ops.stack([keep_first, 1.0 - keep_first])
            gates = ops.stop_gradient(hard - pair) + pair
            x = gates[0] * self._run_path(block, a, x, training) + gates[1] * self._run_path(
                block, b, x, training
            )
        return self._head(x, training)

    def call(self, inputs, training=None):
        return self.run_paths(inputs, self.argmax_paths(), training=training)

    def probabilities(self) -> list[np.ndarray]:
        """The softmax of every block's architecture parameters."""
        return [ops.convert_to_numpy(ops.softmax(a)) for a in self.alphas]

    def argmax_paths(self) -> list[int]:
        """The most likely path of every block."""
        return [int(np.argmax(p)) for p in self.probabilities()]

    def path_names(self, indices) -> list[str]:
        """The candidate names of path `indices`."""
        return [self.block_candidates[b][i] for b, i in enumerate(indices)]

    def derive(self, indices=None, name: str | None = None) -> OFASubnetClassifier:
        """The found network as a plain `OFASubnetClassifier`, its path's weights copied.

        Args:
            indices: the path of every block. Defaults to `argmax_paths()`.
            name: the model's name. Defaults to Keras's.

        Returns:
            A compiled model with no search machinery whose outputs equal
            `run_paths(x, indices)` (zero blocks removed).

        Example:

        ```python
        model = supernet.derive()
        model.fit(x, y, epochs=5)
        ```
        """
        indices = self.argmax_paths() if indices is None else list(indices)
        if len(indices) != len(self.paths) or any(
            not 0 <= i < len(p) for i, p in zip(indices, self.paths, strict=False)
        ):
            raise ValueError(
                f"`indices` must hold one path index per block ({len(self.paths)} blocks). "
                f"Received: indices={indices!r}"
            )
        kernels, expands, sources = [], [], []
        block = 0
        for depth in self.stage_depths:
            stage_kernels, stage_expands, stage_sources = [], [], []
            for _ in range(depth):
                layer = self.paths[block][indices[block]]
                if layer is not None:
                    stage_kernels.append(layer.kernel_size[0])
                    stage_expands.append(layer.expansion)
                    stage_sources.append(layer)
                block += 1
            kernels.append(tuple(stage_kernels))
            expands.append(tuple(stage_expands))
            sources.append(stage_sources)
        model = subnet_of(self, kernels, expands, None, name)
        for s, stage_sources in enumerate(sources):
            for j, source in enumerate(stage_sources):
                model.get_layer(f"stage_{s}_block_{j}").set_weights(source.get_weights())
        return model

    def latency_specs(self, indices) -> list[dict]:
        """Block specs of path `indices` for `zoo.nas.latency.predict_latency`."""
        return [self._stem_spec(), *self.block_specs(indices), self._head_spec()]

    def block_specs(self, indices) -> list[dict]:
        """The spec of each block's chosen path (`{"type": "skip"}` for zero)."""
        specs = []
        for block, index in enumerate(indices):
            specs.append(self.candidate_specs(block)[index])
        return specs

    def candidate_specs(self, block: int) -> list[dict]:
        """The spec of every path of `block`, in candidate order."""
        size = -(-self.image_shape[0] // 2)
        count = 0
        for s, depth in enumerate(self.stage_depths):
            for j in range(depth):
                if count == block:
                    in_channels = (
                        self.stage_channels[s]
                        if j > 0
                        else (self.stage_channels[s - 1] if s > 0 else self.stem_channels)
                    )
                    specs = []
                    for name in self.block_candidates[block]:
                        choice = parse_candidate(name)
                        if choice is None:
                            specs.append({"type": "skip"})
                            continue
                        specs.append(
                            {
                                "type": "mbconv",
                                "input_size": size,
                                "in_channels": in_channels,
                                "out_channels": self.stage_channels[s],
                                "kernel": choice[0],
                                "expand": choice[1],
                                "stride": self.stage_strides[s] if j == 0 else 1,
                                "se_ratio": None,
                                "activation": self.activation,
                            }
                        )
                    return specs
                if j == 0:
                    size = -(-size // self.stage_strides[s])
                count += 1
        raise ValueError(f"`block` must be below {count}. Received: block={block}")

    def _stem_spec(self) -> dict:
        return {
            "type": "stem",
            "input_size": self.image_shape[0],
            "in_channels": self.image_shape[2],
            "out_channels": self.stem_channels,
            "kernel": 3,
            "stride": 2,
            "activation": self.activation,
        }

    def _head_spec(self) -> dict:
        size = -(-self.image_shape[0] // 2)
        for stride in self.stage_strides:
            size = -(-size // stride)
        return {
            "type": "head",
            "input_size": size,
            "in_channels": self.stage_channels[-1],
            "out_channels": self.head_channels,
            "num_classes": self.num_classes,
            "activation": self.activation,
        }

    def all_latency_specs(self) -> list[dict]:
        """Every block spec of the space: what its latency table must hold."""
        specs = [self._stem_spec(), self._head_spec()]
        for block in range(len(self.paths)):
            specs.extend(self.candidate_specs(block))
        return specs

    def get_config(self):
        return {
            **super().get_config(),
            "input_shape": self.image_shape,
            "num_classes": self.num_classes,
            "stem_channels": self.stem_channels,
            "stage_channels": self.stage_channels,
            "stage_depths": self.stage_depths,
            "stage_strides": self.stage_strides,
            "candidates": self.candidates,
            "head_channels": self.head_channels,
            "activation": self.activation,
        }
