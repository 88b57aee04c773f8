"""`OnceForAll`: the elastic MobileNetV3-style supernet, its subnets and in-place distillation."""

from __future__ import annotations

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from layers.validation import (
    check_non_negative_float,
    check_positive_float,
    check_positive_int,
    check_positive_ints,
)
from zoo.nas.ofa.elastic import ElasticInvertedResidual, check_kernel_choices
from zoo.nas.ofa.subnet import OFASubnetClassifier, subnet_of
from zoo.vision.inputs import check_image_shape

# Progressive shrinking (the paper's Figure 2): the full network first, then elastic kernel
# size, then elastic depth, then elastic width (expand ratio).
PHASES = ("full", "kernel", "depth", "width")


@keras.saving.register_keras_serializable(package="keras_zoo")
class OnceForAll(keras.Model):
    """An elastic supernet: every depth, kernel size and expand ratio in one set of weights.

    The network is a 3x3 stride-2 stem, `len(stage_channels)` stages of up to
    `max(depth_choices)` `ElasticInvertedResidual` blocks, a 1x1 head convolution, global
    pooling and a classifier. A subnet configuration is a dict

    ```python
    {"depth": [d, ...],                   # blocks kept per stage: the first d
     "kernel": [[k, ...], ...],           # kernel size per block slot, per stage
     "expand": [[e, ...], ...]}           # expand ratio per block slot, per stage
    ```

    (`kernel` and `expand` have `max(depth_choices)` entries per stage; slots past the depth
    are ignored). `run_subnet(x, config)` runs it with the shared weights and
    `extract_subnet(config)` returns the same network as a standalone
    `OFASubnetClassifier` with the weights copied out.

    Training (`fit`) follows progressive shrinking with in-place distillation: each step runs
    the largest network and one randomly sampled subnet; the loss is the cross-entropy of both
    plus `distillation_weight` times the KL divergence from the largest network's soft labels
    (gradient stopped) to the subnet's. Which dimensions are sampled grows with the phase
    (`PHASES`: full, kernel, depth, width), set by the `ProgressiveShrinking` callback or
    `set_phase`. Calling the model runs the largest network.

    Args:
        input_shape: `(height, width, channels)`. Defaults to `(32, 32, 1)`.
        num_classes: number of classes. Defaults to `10`.
        stem_channels: filters of the stem. Defaults to `8`.
        stage_channels: output channels per stage. Defaults to `(16, 24, 32)`.
        stage_strides: stride of each stage's first block. Defaults to `(1, 2, 2)`.
        depth_choices: blocks per stage a subnet may keep. Defaults to `(1, 2, 3)`.
        kernel_choices: odd depthwise kernel sizes. Defaults to `(3, 5, 7)`.
        expand_choices: expand ratios. Defaults to `(3, 4, 6)`.
        head_channels: filters of the head convolution. Defaults to `64`.
        se_ratio: squeeze-excite ratio of every block, or `None`. Defaults to `0.25`.
        activation: activation of the stem, blocks and head. Defaults to `"hard_swish"`.
        distillation_weight: weight of the distillation term. Defaults to `1.0`.
        temperature: softmax temperature of the distillation term. Defaults to `1.0`.
        seed: seed of the subnets sampled in training. Defaults to `0`.
        **kwargs: `name` and the other `keras.Model` arguments.

    Example:

    ```python
    ofa = OnceForAll(input_shape=(32, 32, 1), num_classes=10)
    ofa.compile(optimizer="adam")
    ofa.fit(images, labels, epochs=8, callbacks=[ProgressiveShrinking(epochs_per_phase=2)])
    config = ofa.sample_subnet_config(seed=0)
    model = ofa.extract_subnet(config)  # model(images) == ofa.run_subnet(images, config)
    ```

    Reference:
        Cai, Gan, Wang, Zhang and Han, "Once-for-All: Train One Network and Specialize it for
        Efficient Deployment", ICLR 2020. https://arxiv.org/abs/1908.09791
    """

    def __init__(
        self,
        input_shape=(32, 32, 1),
        num_classes: int = 10,
        stem_channels: int = 8,
        stage_channels=(16, 24, 32),
        stage_strides=(1, 2, 2),
        depth_choices=(1, 2, 3),
        kernel_choices=(3, 5, 7),
        expand_choices=(3, 4, 6),
        head_channels: int = 64,
        se_ratio: float | None = 0.25,
        activation: str = "hard_swish",
        distillation_weight: float = 1.0,
        temperature: float = 1.0,
        seed: int = 0,
        **kwargs,
    ):
        super().__init__(**kwargs)
        self.image_shape = check_image_shape("input_shape", input_shape, allow_none=False)
        self.num_classes = check_positive_int("num_classes", num_classes)
        self.stem_channels = check_positive_int("stem_channels", stem_channels)
        self.stage_channels = check_positive_ints("stage_channels", stage_channels)
        self.stage_strides = check_positive_ints("stage_strides", stage_strides)
        if len(self.stage_strides) != len(self.stage_channels):
            raise ValueError(
                "`stage_strides` must have one stride per stage of `stage_channels`. "
                f"Received: stage_strides={stage_strides!r}"
            )
        self.depth_choices = tuple(sorted(set(check_positive_ints("depth_choices", depth_choices))))
        self.kernel_choices = check_kernel_choices(kernel_choices)
        self.expand_choices = tuple(
            sorted(set(check_positive_ints("expand_choices", expand_choices)))
        )
        self.head_channels = check_positive_int("head_channels", head_channels)
        self.se_ratio = check_positive_float("se_ratio", se_ratio, allow_none=True)
        self.activation = activation
        self.distillation_weight = check_non_negative_float(
            "distillation_weight", distillation_weight
        )
        self.temperature = check_positive_float("temperature", temperature)
        self.seed = int(seed)
        self.max_depth = max(self.depth_choices)

        self.stem_conv = keras.layers.Conv2D(
            stem_channels, 3, strides=2, padding="same", use_bias=False, name="stem_conv"
        )
        self.stem_bn = keras.layers.BatchNormalization(epsilon=1e-3, name="stem_bn")
        self.stem_act = keras.layers.Activation(activation, name="stem_act")
        self.blocks = [
            [
                ElasticInvertedResidual(
                    filters,
                    strides=stride if j == 0 else 1,
                    kernel_choices=self.kernel_choices,
                    expand_choices=self.expand_choices,
                    se_ratio=self.se_ratio,
                    activation=activation,
                    name=f"stage_{s}_block_{j}",
                )
                for j in range(self.max_depth)
            ]
            for s, (filters, stride) in enumerate(
                zip(self.stage_channels, self.stage_strides, strict=True)
            )
        ]
        self.head_conv = keras.layers.Conv2D(head_channels, 1, use_bias=False, name="head_conv")
        self.head_bn = keras.layers.BatchNormalization(epsilon=1e-3, name="head_bn")
        self.head_act = keras.layers.Activation(activation, name="head_act")
        self.pool = keras.layers.GlobalAveragePooling2D(name="pool")
        self.logits = keras.layers.Dense(num_classes, name="logits", dtype="float32")
        self.phase = keras.Variable(0, dtype="int32", trainable=False, name="phase")
        self.seed_generator = keras.random.SeedGenerator(self.seed, name="subnet_sampler")
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.subnet_accuracy = keras.metrics.SparseCategoricalAccuracy(name="subnet_accuracy")
        self.accuracy = keras.metrics.SparseCategoricalAccuracy(name="accuracy")
        self._subnet_function = None
        self.build((None, *self.image_shape))

    def build(self, input_shape):
        self._forward(ops.zeros((1, *input_shape[1:])), self._tensors(self.largest_config()))
        self.built = True

    # Configurations ------------------------------------------------------------------------

    def largest_config(self) -> dict:
        """The configuration of the largest network (deepest, largest kernels, widest)."""
        return self._uniform_config(
            max(self.depth_choices), max(self.kernel_choices), max(self.expand_choices)
        )

    def smallest_config(self) -> dict:
        """The configuration of the smallest network."""
        return self._uniform_config(
            min(self.depth_choices), min(self.kernel_choices), min(self.expand_choices)
        )

    def _uniform_config(self, depth, kernel, expand) -> dict:
        stages = len(self.stage_channels)
        return {
            "depth": [depth] * stages,
            "kernel": [[kernel] * self.max_depth for _ in range(stages)],
            "expand": [[expand] * self.max_depth for _ in range(stages)],
        }

    def sample_subnet_config(self, seed: int = 0) -> dict:
        """A uniformly random subnet configuration, reproducible from `seed`.

        Example:

        ```python
        config = ofa.sample_subnet_config(seed=3)
        ```
        """
        rng = np.random.default_rng(seed)
        stages = len(self.stage_channels)
        return {
            "depth": [int(rng.choice(self.depth_choices)) for _ in range(stages)],
            "kernel": [
                [int(rng.choice(self.kernel_choices)) for _ in range(self.max_depth)]
                for _ in range(stages)
            ],
            "expand": [
                [int(rng.choice(self.expand_choices)) for _ in range(self.max_depth)]
                for _ in range(stages)
            ],
        }

    def check_config(self, config) -> dict:
        """Checks a subnet configuration against the search space; returns it as plain lists.

        Raises:
            ValueError: a missing key, a wrong number of stages or blocks, or a value outside
                the choices (the error names it).
        """
        if not isinstance(config, dict) or set(config) != {"depth", "kernel", "expand"}:
            raise ValueError(
                "A subnet config must be a dict with the keys 'depth', 'kernel' and 'expand'. "
                f"Received: config={config!r}"
            )
        stages = len(self.stage_channels)
        depth = list(config["depth"])
        if len(depth) != stages or any(d not in self.depth_choices for d in depth):
            raise ValueError(
                f"config['depth'] must hold one of {self.depth_choices} per stage ({stages}). "
                f"Received: config['depth']={config['depth']!r}"
            )
        checked = {"depth": [int(d) for d in depth]}
        for key, choices in (("kernel", self.kernel_choices), ("expand", self.expand_choices)):
            values = config[key]
            if (
                len(values) != stages
                or any(len(v) != self.max_depth for v in values)
                or any(item not in choices for v in values for item in v)
            ):
                raise ValueError(
                    f"config[{key!r}] must hold {self.max_depth} values from {choices} per stage "
                    f"({stages} stages). Received: config[{key!r}]={values!r}"
                )
            checked[key] = [[int(item) for item in v] for v in values]
        return checked

    def _tensors(self, config: dict):
        config = self.check_config(config)
        kernel = [[self.kernel_choices.index(k) for k in v] for v in config["kernel"]]
        hidden = [
            [self._block_input_channels(s, j) * e for j, e in enumerate(v)]
            for s, v in enumerate(config["expand"])
        ]
        return (
            ops.convert_to_tensor(config["depth"], "int32"),
            ops.convert_to_tensor(kernel, "int32"),
            ops.convert_to_tensor(hidden, "int32"),
        )

    def _block_input_channels(self, stage: int, block: int) -> int:
        if block > 0:
            return self.stage_channels[stage]
        return self.stage_channels[stage - 1] if stage > 0 else self.stem_channels

    # Forward passes --------------------------------------------------------------------------

    def _forward(self, x, tensors, training=None):
        depth, kernel_index, hidden = tensors
        x = self.stem_act(self.stem_bn(self.stem_conv(x), training=training))
        for s, stage in enumerate(self.blocks):
            for j, block in enumerate(stage):

                def run(block=block, x=x, s=s, j=j):
                    return block(x, kernel_index[s, j], hidden[s, j], training=training)

                # The first block of a stage always runs; the others only within the depth.
                x = run() if j == 0 else ops.cond(j < depth[s], run, lambda x=x: x)
        x = self.head_act(self.head_bn(self.head_conv(x), training=training))
        return self.logits(self.pool(x))

    def call(self, inputs, training=None):
        return self._forward(inputs, self._tensors(self.largest_config()), training=training)

    def run_subnet(self, x, config: dict, training: bool = False):
        """Runs the subnet `config` on `x` with the supernet's weights; returns its logits.

        Example:

        ```python
        logits = ofa.run_subnet(images, ofa.sample_subnet_config(seed=0))
        ```
        """
        if self._subnet_function is None:
            self._subnet_function = tf.function(
                lambda x, d, k, h: self._forward(x, (d, k, h), training=False),
                reduce_retracing=True,
            )
        if training:
            return self._forward(ops.convert_to_tensor(x), self._tensors(config), training=True)
        return self._subnet_function(ops.convert_to_tensor(x, "float32"), *self._tensors(config))

    def extract_subnet(self, config: dict, name: str | None = None) -> OFASubnetClassifier:
        """The subnet `config` as a standalone `OFASubnetClassifier`, weights copied.

        Returns:
            A compiled Keras model with no elastic machinery whose outputs equal
            `run_subnet(x, config)`.

        Example:

        ```python
        model = ofa.extract_subnet(ofa.sample_subnet_config(seed=0))
        model.save("subnet.keras")
        ```
        """
        config = self.check_config(config)
        kernels = [tuple(v[:d]) for v, d in zip(config["kernel"], config["depth"], strict=True)]
        expands = [tuple(v[:d]) for v, d in zip(config["expand"], config["depth"], strict=True)]
        model = subnet_of(self, kernels, expands, self.se_ratio, name)
        for s, stage in enumerate(self.blocks):
            for j in range(config["depth"][s]):
                target = model.get_layer(f"stage_{s}_block_{j}")
                weights = stage[j].sub_block_weights(kernels[s][j], expands[s][j])
                for sublayer, values in weights.items():
                    getattr(target, sublayer).set_weights(values)
        return model

    def sort_channels(self) -> None:
        """Reorders every block's hidden channels by importance (before shrinking the width).

        The network's function is unchanged; an optimizer's per-weight state (Adam's moments)
        is not reordered with the weights.
        """
        for stage in self.blocks:
            for block in stage:
                block.sort_channels()

    def set_phase(self, phase: str) -> None:
        """Sets the progressive shrinking phase, one of `PHASES`."""
        if phase not in PHASES:
            raise ValueError(f"`phase` must be one of {PHASES}. Received: phase={phase!r}")
        self.phase.assign(PHASES.index(phase))

    # Training ----------------------------------------------------------------------------------

    def _random_tensors(self):
        stages = len(self.stage_channels)
        shape = (stages, self.max_depth)

        def draw(choices, shape):
            index = keras.random.randint(shape, 0, len(choices), seed=self.seed_generator)
            return ops.take(ops.convert_to_tensor(choices, "int32"), index)

        largest_kernel = len(self.kernel_choices) - 1
        kernel_index = ops.where(
            self.phase >= 1,
            draw(list(range(len(self.kernel_choices))), shape),
            ops.full(shape, largest_kernel, "int32"),
        )
        depth = ops.where(
            self.phase >= 2,
            draw(self.depth_choices, (stages,)),
            ops.full((stages,), self.max_depth, "int32"),
        )
        inputs = ops.convert_to_tensor(
            [
                [self._block_input_channels(s, j) for j in range(self.max_depth)]
                for s in range(stages)
            ],
            "int32",
        )
        expand = ops.where(
            self.phase >= 3,
            draw(self.expand_choices, shape),
            ops.full(shape, max(self.expand_choices), "int32"),
        )
        return depth, kernel_index, inputs * expand

    def train_step(self, data):
        x, y, sample_weight = keras.utils.unpack_x_y_sample_weight(data)
        if sample_weight is not None:
            raise ValueError(
                "`OnceForAll.fit` does not support sample weights. Received: sample_weight="
                f"{sample_weight!r}"
            )
        with tf.GradientTape() as tape:
            teacher = self._forward(x, self._tensors(self.largest_config()), training=True)
            student = self._forward(x, self._random_tensors(), training=True)
            cross_entropy = keras.losses.sparse_categorical_crossentropy
            soft_labels = ops.softmax(ops.stop_gradient(teacher) / self.temperature)
            log_student = ops.log_softmax(student / self.temperature)
            distillation = ops.mean(
                ops.sum(soft_labels * (ops.log(soft_labels + 1e-8) - log_student), axis=-1)
            ) * (self.temperature**2)
            loss = (
                ops.mean(cross_entropy(y, teacher, from_logits=True))
                + ops.mean(cross_entropy(y, student, from_logits=True))
                + self.distillation_weight * distillation
            )
            scaled = self.optimizer.scale_loss(loss)
        gradients = tape.gradient(scaled, self.trainable_variables)
        self.optimizer.apply(gradients, self.trainable_variables)
        self.loss_tracker.update_state(loss)
        self.accuracy.update_state(y, teacher)
        self.subnet_accuracy.update_state(y, student)
        return {m.name: m.result() for m in self.metrics}

    def test_step(self, data):
        x, y, _ = keras.utils.unpack_x_y_sample_weight(data)
        logits = self(x, training=False)
        loss = ops.mean(keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True))
        self.loss_tracker.update_state(loss)
        self.accuracy.update_state(y, logits)
        return {m.name: m.result() for m in (self.loss_tracker, self.accuracy)}

    @property
    def metrics(self):
        return [self.loss_tracker, self.accuracy, self.subnet_accuracy]

    def get_config(self):
        return {
            **super().get_config(),
            "input_shape": self.image_shape,
            "num_classes": self.num_classes,
            "stem_channels": self.stem_channels,
            "stage_channels": self.stage_channels,
            "stage_strides": self.stage_strides,
            "depth_choices": self.depth_choices,
            "kernel_choices": self.kernel_choices,
            "expand_choices": self.expand_choices,
            "head_channels": self.head_channels,
            "se_ratio": self.se_ratio,
            "activation": self.activation,
            "distillation_weight": self.distillation_weight,
            "temperature": self.temperature,
            "seed": self.seed,
        }

    # Latency ------------------------------------------------------------------------------------

    def latency_specs(self, config: dict) -> list[dict]:
        """The block specs of subnet `config` for `zoo.nas.latency.predict_latency`."""
        config = self.check_config(config)
        size = self.image_shape[0]
        specs = [
            {
                "type": "stem",
                "input_size": size,
                "in_channels": self.image_shape[2],
                "out_channels": self.stem_channels,
                "kernel": 3,
                "stride": 2,
                "activation": self.activation,
            }
        ]
        size = -(-size // 2)
        for s in range(len(self.stage_channels)):
            for j in range(config["depth"][s]):
                specs.append(
                    self._block_spec(s, j, size, config["kernel"][s][j], config["expand"][s][j])
                )
                if j == 0:
                    size = -(-size // self.stage_strides[s])
        specs.append(
            {
                "type": "head",
                "input_size": size,
                "in_channels": self.stage_channels[-1],
                "out_channels": self.head_channels,
                "num_classes": self.num_classes,
                "activation": self.activation,
            }
        )
        return specs

    def _block_spec(self, stage, block, size, kernel, expand) -> dict:
        return {
            "type": "mbconv",
            "input_size": size,
            "in_channels": self._block_input_channels(stage, block),
            "out_channels": self.stage_channels[stage],
            "kernel": kernel,
            "expand": expand,
            "stride": self.stage_strides[stage] if block == 0 else 1,
            "se_ratio": self.se_ratio,
            "activation": self.activation,
        }

    def all_latency_specs(self) -> list[dict]:
        """Every block spec any subnet uses: what a latency table for this space must hold."""
        largest = self.largest_config()
        specs = self.latency_specs(largest)
        blocks = [spec for spec in specs if spec["type"] == "mbconv"]
        result = [specs[0], specs[-1]]
        for spec in blocks:
            for kernel in self.kernel_choices:
                for expand in self.expand_choices:
                    result.append({**spec, "kernel": kernel, "expand": expand})
        return result
