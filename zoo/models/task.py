"""The base of every zoo task model: a backbone, a head and compile defaults in one place."""

from __future__ import annotations

import warnings
from typing import Any

import keras
import tensorflow as tf
from tensorflow.python.framework.config import is_op_determinism_enabled

from zoo.models.arguments import (
    ConstructorConfig,
    constructor_argument_names,
    from_config_value,
    resolve_dtype_policy,
)

# Arguments every keras.Model takes; a flat argument dict passes them to the task.
MODEL_ARGUMENTS = ("name", "trainable", "dtype")


class Task(ConstructorConfig, keras.Model):
    """A functional model that puts a head on a backbone; `compile()` alone makes it trainable.

    Subclasses take `backbone` (and, where they have one, `preprocessor`) as constructor
    arguments, build the head in `__init__` and call
    `super().__init__(inputs=..., outputs=..., backbone=backbone, dtype=policy, **kwargs)`.
    Their config is their constructor's arguments, the backbone and preprocessor nested with
    `keras.saving.serialize_keras_object`; the base then compiles the model with the defaults
    below, so `zoo.create(name).fit(x, y)` works as it is. A few small models (the digits CNN,
    the Bayesian classifiers) are their own network and have no separate backbone.

    Compile defaults (override per class with the class attributes): `jit_compile` is the
    family's `default_jit_compile` (`True` where XLA measured faster on CPU in
    `benchmarks/bench_xla.py`; `"auto"`, Keras's default, elsewhere), left to Keras where a
    layer declares `supports_jit = False`, TensorFlow's op determinism is on or a distribution
    strategy is in scope (Keras then compiles without XLA); AdamW with
    `default_learning_rate` and `default_weight_decay`; sparse categorical cross-entropy on
    logits (`output_activation=None`) or probabilities (`"softmax"`), label-smoothed when the
    model has `label_smoothing > 0`; sparse categorical accuracy named `"accuracy"`, as a
    weighted metric for per-token tasks (`metrics_are_weighted = True`) whose padding is masked
    with `sample_weight`.

    A task whose `backbone_class` is set can also be built from one flat dict of task and
    backbone arguments (`from_arguments`): that is how registry entries build it and how
    `.keras` files saved before the backbone was a separate argument load.

    Example:

    ```python
    model = ViTClassifier.from_preset("vit_tiny_32", num_classes=10)
    model.fit(images, labels)  # compiled with AdamW and sparse cross-entropy
    ```
    """

    backbone_class: type | None = None
    # Whether the family's training step compiles with XLA by default: `True` where
    # `benchmarks/bench_xla.py` measured it faster on CPU, else Keras's `"auto"` (XLA on GPUs).
    default_jit_compile: bool | str = "auto"
    default_learning_rate: float = 1e-3
    default_weight_decay: float = 1e-4
    metrics_are_weighted: bool = False
    # How the default loss averages: Keras's "sum_over_batch_size", or for token-level tasks
    # whose padding is weighted 0, "mean_with_sample_weight" (the mean over real tokens).
    loss_reduction: str = "sum_over_batch_size"

    def __init__(self, *, inputs, outputs, backbone=None, preprocessor=None, dtype=None, **kwargs):
        super().__init__(inputs=inputs, outputs=outputs, **kwargs)
        self.dtype_policy = resolve_dtype_policy(dtype)  # Functional ignores a `dtype` argument
        for name, value in self._constructor_arguments.items():
            if name in ("backbone", "preprocessor"):
                continue
            if not hasattr(type(self), name) and name not in self.__dict__:
                setattr(self, name, value)
        if backbone is not None:
            self.backbone = backbone
        if preprocessor is not None:
            self.preprocessor = preprocessor
        self.compile()

    @staticmethod
    def dtype_policy_from(kwargs: dict[str, Any]) -> keras.DTypePolicy:
        """Pops `dtype` from a subclass's `**kwargs` and returns the policy to build with."""
        return resolve_dtype_policy(kwargs.pop("dtype", None))

    def compile(
        self,
        optimizer="auto",
        loss="auto",
        metrics="auto",
        learning_rate: float | None = None,
        weight_decay: float | None = None,
        **kwargs,
    ):
        """Configures the model for training, with the task's defaults.

        Args:
            optimizer: an optimizer or `"auto"` for `keras.optimizers.AdamW`.
            loss: a loss or `"auto"` for sparse categorical cross-entropy matching the output
                activation (and the model's `label_smoothing`, if it has one).
            metrics: metrics or `"auto"` for sparse categorical accuracy named `"accuracy"`.
                Per-token tasks pass them as `weighted_metrics`, and only with a
                `keras.losses.Loss` (accuracy means nothing for, say, `"mse"`).
            learning_rate: learning rate of the `"auto"` optimizer. Defaults to the class's
                `default_learning_rate`.
            weight_decay: weight decay of the `"auto"` optimizer. Defaults to the class's
                `default_weight_decay`.
            **kwargs: passed to `keras.Model.compile`. `jit_compile` defaults to the class's
                `default_jit_compile`; `True` given with a layer that cannot compile warns,
                naming the layer, and compiles without XLA.
        """
        kwargs["jit_compile"] = self._resolve_jit_compile(kwargs.get("jit_compile"))
        if isinstance(optimizer, str) and optimizer == "auto":
            optimizer = keras.optimizers.AdamW(
                self.default_learning_rate if learning_rate is None else learning_rate,
                weight_decay=self.default_weight_decay if weight_decay is None else weight_decay,
            )
        if isinstance(loss, str) and loss == "auto":
            loss = self.default_loss()
        if self.metrics_are_weighted:
            metrics = kwargs.pop("weighted_metrics", metrics)
            if isinstance(metrics, str) and metrics == "auto":
                metrics = self.default_metrics() if isinstance(loss, keras.losses.Loss) else None
            # Keras keeps the previous compile's metrics when none are given; drop them so that
            # re-compiling with another loss (e.g. "mse") does not keep token accuracy.
            self._compile_metrics = None
            super().compile(optimizer=optimizer, loss=loss, weighted_metrics=metrics, **kwargs)
            return
        if isinstance(metrics, str) and metrics == "auto":
            metrics = self.default_metrics()
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def _resolve_jit_compile(self, requested):
        """`requested` (`None`: the family's default), off where XLA cannot or may not run."""
        jit_compile = self.default_jit_compile if requested is None else requested
        if jit_compile is not True:
            return jit_compile
        blockers = [layer for layer in self._flatten_layers() if not layer.supports_jit]
        if blockers:
            if requested is not None:
                names = ", ".join(f"{type(b).__name__} {b.name!r}" for b in blockers)
                warnings.warn(
                    f"{type(self).__name__}: jit_compile=True, but {names} cannot compile with "
                    "XLA (`supports_jit = False`): compiling without XLA.",
                    stacklevel=3,
                )
            return False
        if requested is None and (is_op_determinism_enabled() or tf.distribute.has_strategy()):
            # Keras's own choice there: no XLA under op determinism, nor under a distribution
            # strategy (variables mirrored on several devices do not compile).
            return "auto"
        return True

    def default_loss(self) -> keras.losses.Loss:
        """Sparse categorical cross-entropy matching `output_activation` and `label_smoothing`,
        reduced by the class's `loss_reduction`."""
        from_logits = getattr(self, "output_activation", None) is None
        label_smoothing = getattr(self, "label_smoothing", 0.0)
        reduction = self.loss_reduction
        if label_smoothing:
            from layers.losses import SparseLabelSmoothingCrossentropy

            return SparseLabelSmoothingCrossentropy(
                label_smoothing, from_logits=from_logits, reduction=reduction
            )
        return keras.losses.SparseCategoricalCrossentropy(
            from_logits=from_logits, reduction=reduction
        )

    def default_metrics(self) -> list[keras.metrics.Metric]:
        return [keras.metrics.SparseCategoricalAccuracy(name="accuracy")]

    def compile_from_config(self, config):
        # Keras skips models whose `compile` is overridden; ours takes the same arguments, so the
        # saved optimizer (and its state, restored right after) comes back on load.
        config = keras.saving.deserialize_keras_object(config)
        self.compile(**config)
        if self.built:
            self.optimizer.build(self.trainable_variables)

    @classmethod
    def backbone_arguments(cls, task_arguments: dict[str, Any]) -> dict[str, Any]:
        """Backbone arguments that follow from the task's own (e.g. ViT's class token from its
        pooling), used where the caller does not give them. Override where a task constrains
        its backbone; the default is none."""
        return {}

    @classmethod
    def from_arguments(cls, backbone_class: type | None = None, **arguments: Any) -> Task:
        """Builds the backbone and the task from one flat dict of their arguments.

        Arguments of the task's constructor (and `name`, `trainable`, `dtype`) go to the task,
        every other to a new `backbone_class` (defaults to the class's `backbone_class`), named
        `"backbone"` and built with the task's dtype policy.

        Example:

        ```python
        model = ViTClassifier.from_arguments(num_classes=10, image_size=32, patch_size=4)
        ```
        """
        backbone_class = backbone_class or cls.backbone_class
        if backbone_class is None:
            raise ValueError(
                f"{cls.__name__} has no `backbone_class`: pass `backbone=` instead. "
                f"Received: arguments={sorted(arguments)}"
            )
        task_names = set(constructor_argument_names(cls)) | set(MODEL_ARGUMENTS)
        task_arguments = {k: v for k, v in arguments.items() if k in task_names}
        backbone_arguments = {k: v for k, v in arguments.items() if k not in task_names}
        for key, value in cls.backbone_arguments(task_arguments).items():
            backbone_arguments.setdefault(key, value)
        unknown = sorted(set(backbone_arguments) - set(constructor_argument_names(backbone_class)))
        if unknown:
            raise ValueError(
                f"Unknown argument(s) {unknown} for {cls.__name__} on {backbone_class.__name__}; "
                f"the task takes {sorted(task_names - {'backbone', 'preprocessor'})} and the "
                f"backbone {constructor_argument_names(backbone_class)}. "
                f"Received: {', '.join(f'{k}={backbone_arguments[k]!r}' for k in unknown)}"
            )
        dtype = resolve_dtype_policy(task_arguments.get("dtype"))
        backbone = backbone_class(**backbone_arguments, name="backbone", dtype=dtype)
        return cls(backbone=backbone, **task_arguments)

    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> Task:
        """Builds this task from a registered preset (random weights), `overrides` applied.

        `name` is either a backbone preset (`task="backbone"`, e.g. `"bert_tiny_en_uncased"`):
        the task's own arguments among `overrides` go to the task, the rest to the backbone;
        or a registry entry of this task class itself (e.g. `"vit_tiny_digits"`).

        Example:

        ```python
        classifier = BertClassifier.from_preset("bert_tiny_en_uncased", num_classes=2)
        ```
        """
        from zoo import registry

        spec = registry.get_spec(name)
        if spec.task == "backbone":
            task_names = set(constructor_argument_names(cls)) | set(MODEL_ARGUMENTS)
            task_arguments = {k: v for k, v in overrides.items() if k in task_names}
            backbone_arguments = {k: v for k, v in overrides.items() if k not in task_names}
            for key, value in cls.backbone_arguments(task_arguments).items():
                backbone_arguments.setdefault(key, value)
            if "dtype" in task_arguments:
                backbone_arguments["dtype"] = task_arguments["dtype"]
            return cls(backbone=spec.build(**backbone_arguments), **task_arguments)
        if isinstance(spec.builder, type) and issubclass(spec.builder, cls):
            return spec.build(**overrides)
        raise ValueError(
            f"{name!r} is neither a backbone preset nor a {cls.__name__} entry (it is a "
            f"{spec.task!r} of family {spec.family!r}). Received: name={name!r}"
        )

    @classmethod
    def from_config(cls, config: dict[str, Any]):
        config = {key: from_config_value(value) for key, value in config.items()}
        if "backbone" not in config and cls.backbone_class is not None:
            # Saved before the backbone was an argument: one flat dict of both.
            return cls.from_arguments(**config)
        return cls(**config)
