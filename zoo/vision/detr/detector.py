"""The DETR detector: a backbone, a transformer encoder-decoder and class and box heads."""

from __future__ import annotations

import warnings

import keras
import tensorflow as tf
from keras import ops

from layers.validation import check_bool, check_choice, check_positive_int, check_rate
from zoo.models import Backbone, Task
from zoo.vision.detr.backbone import DETRBackbone
from zoo.vision.detr.blocks import (
    ACTIVATIONS,
    DETRDecoderLayer,
    DETREncoderLayer,
    ObjectQueries,
    SinePositionEmbedding2D,
)
from zoo.vision.detr.loss import DETRSetLoss
from zoo.vision.detr.padding import downsample_mask


def _check_feature_backbone(backbone) -> None:
    outputs = getattr(backbone, "output", None)
    if (
        not isinstance(backbone, Backbone)
        or not isinstance(outputs, dict)
        or ("feature_map" not in outputs)
    ):
        raise TypeError(
            "`backbone` must be a zoo Backbone returning {'feature_map': ...} (DETRBackbone, "
            f"ResNetBackbone, ...). Received: backbone={backbone!r}"
        )


class _LossParts:
    """Means of the set loss's parts, logged by `fit` next to the loss."""

    def __init__(self):
        names = ("loss_ce", "loss_bbox", "loss_giou")
        self.trackers = {name: keras.metrics.Mean(name=name) for name in names}


@keras.saving.register_keras_serializable(package="keras_zoo")
class DETRDetector(Task):
    """DETR: set prediction of objects with a transformer (Carion et al. 2020).

    The backbone's feature map is projected to `hidden_dim` channels (a 1x1 convolution),
    flattened and encoded by `encoder_layers` transformer layers with 2-D sine positions;
    `num_queries` learned object queries then attend to it through `decoder_layers` decoder
    layers. Every query gives class logits (`num_classes` classes and a last "no object"
    class) and a box `(cx, cy, w, h)` in [0, 1] of the image (a 3-layer MLP and a sigmoid), as
    Hugging Face's `DetrForObjectDetection`.

    Takes float NHWC images (ImageNet-normalised for converted checkpoints), or a dict
    `{"images": ..., "pixel_mask": [batch, height, width]}` for a batch of differently sized
    images padded at the bottom and right (1 on real pixels, 0 on padding; `pad_images` makes
    both), as Hugging Face's `pixel_mask`: the mask is brought to the feature map's resolution
    (nearest), the sine positions count the valid rows and columns only and the encoder's
    self-attention and the decoder's cross-attention ignore the padded positions, so an image
    gives about the same detections padded as alone (the backbone's convolutions still see the
    padding next to the image's bottom and right edges). Boxes are then relative to each
    image's own (unpadded) size, as in the paper's code. Without a mask nothing changes.

    It returns `{"logits": [batch, num_queries, num_classes + 1], "pred_boxes": [batch,
    num_queries, 4]}`; with `auxiliary_loss` also `"aux_logits"` and `"aux_pred_boxes"`,
    `[batch, decoder_layers - 1, num_queries, ...]`, the heads applied to every earlier
    decoder layer (shared heads and final layer norm, as in the paper), which the set loss
    also trains.

    `compile()` defaults to AdamW and `DETRSetLoss` (Hungarian matching with scipy inside
    `tf.numpy_function`, so training runs in graph mode without XLA); `fit` takes images and
    padded targets `{"labels": [batch, max_boxes] (-1 = padding), "boxes": [batch, max_boxes, 4]
    (cx, cy, w, h)}` (see `zoo.vision.detr.pad_targets`, `detection_dataset`). Any other
    compiled loss (e.g. `"mse"` on the output dict) trains as usual.

    Args:
        backbone: a zoo backbone returning `{"feature_map": ...}`: `DETRBackbone` (ResNet with
            frozen batch norm), or e.g. a `ResNetBackbone`.
        num_classes: object classes, without "no object". Defaults to `91` (COCO's ids).
        num_queries: object slots per image. Defaults to `100`.
        hidden_dim: transformer width. Defaults to `256`.
        num_heads: attention heads. Defaults to `8`.
        encoder_layers: encoder layers. Defaults to `6`.
        decoder_layers: decoder layers. Defaults to `6`.
        ffn_dim: feed-forward width. Defaults to `2048`.
        dropout: transformer dropout. Defaults to `0.1`.
        activation: feed-forward activation, `"relu"` or `"gelu"`. Defaults to `"relu"`.
        auxiliary_loss: also output (and train) the heads on every decoder layer. Defaults to
            `True`.
        eos_coef: weight of "no object" in the cross-entropy. Defaults to `0.1`.
        class_cost, bbox_cost, giou_cost: matching cost weights. Default to `1`, `5`, `2`.
        bbox_loss_weight, giou_loss_weight: L1 and GIoU loss weights. Default to `5`, `2`.
        layer_norm_epsilon: layer norm epsilon. Defaults to `1e-5`.
        **kwargs: `name`, `dtype` and the other `keras.Model` arguments.

    Example:

    ```python
    detector = zoo.create("detr_tiny", num_classes=3)
    detector.fit(images, {"labels": labels, "boxes": boxes}, epochs=10)
    outputs = detector(images)  # {"logits": (b, q, 4), "pred_boxes": (b, q, 4), ...}
    batch, pixel_mask = zoo.vision.detr.pad_images([image_a, image_b])  # two sizes
    outputs = detector({"images": batch, "pixel_mask": pixel_mask})
    ```

    Reference:
        Carion et al., "End-to-End Object Detection with Transformers", ECCV 2020.
    """

    backbone_class = DETRBackbone
    default_learning_rate = 1e-4
    default_weight_decay = 1e-4

    def __init__(
        self,
        backbone: Backbone,
        num_classes: int = 91,
        num_queries: int = 100,
        hidden_dim: int = 256,
        num_heads: int = 8,
        encoder_layers: int = 6,
        decoder_layers: int = 6,
        ffn_dim: int = 2048,
        dropout: float = 0.1,
        activation: str = "relu",
        auxiliary_loss: bool = True,
        eos_coef: float = 0.1,
        class_cost: float = 1.0,
        bbox_cost: float = 5.0,
        giou_cost: float = 2.0,
        bbox_loss_weight: float = 5.0,
        giou_loss_weight: float = 2.0,
        layer_norm_epsilon: float = 1e-5,
        **kwargs,
    ):
        _check_feature_backbone(backbone)
        check_positive_int("num_classes", num_classes)
        check_positive_int("num_queries", num_queries)
        check_positive_int("hidden_dim", hidden_dim)
        check_positive_int("num_heads", num_heads)
        if hidden_dim % num_heads or (hidden_dim // 2) % 2:
            raise ValueError(
                f"`hidden_dim` must be divisible by `num_heads` ({num_heads}) and by 4 (the "
                f"sine positions split it in sin/cos pairs per axis). Received: "
                f"hidden_dim={hidden_dim}"
            )
        check_positive_int("encoder_layers", encoder_layers)
        check_positive_int("decoder_layers", decoder_layers)
        check_positive_int("ffn_dim", ffn_dim)
        check_rate("dropout", dropout)
        check_choice("activation", activation, ACTIVATIONS)
        check_bool("auxiliary_loss", auxiliary_loss)
        # The loss checks its own weights; build it once here so bad values fail early.
        DETRSetLoss(
            num_classes, eos_coef, class_cost, bbox_cost, giou_cost, bbox_loss_weight,
            giou_loss_weight,
        )  # fmt: skip

        dtype = self.dtype_policy_from(kwargs)
        images = keras.Input(shape=backbone.input.shape[1:], name="images")
        feature_map = backbone(images)["feature_map"]
        projected = keras.layers.Conv2D(hidden_dim, 1, name="input_projection", dtype=dtype)(
            feature_map
        )
        sine = SinePositionEmbedding2D(hidden_dim // 2, name="position_embedding", dtype=dtype)
        positions = sine(projected)
        flatten = keras.layers.Reshape((-1, hidden_dim), name="flatten_features", dtype=dtype)
        memory = flatten(projected)
        positions = keras.layers.Reshape((-1, hidden_dim), name="flatten_positions", dtype=dtype)(
            positions
        )
        layer_options = dict(
            hidden_dim=hidden_dim,
            num_heads=num_heads,
            ffn_dim=ffn_dim,
            dropout=dropout,
            activation=activation,
            layer_norm_epsilon=layer_norm_epsilon,
            dtype=dtype,
        )
        for i in range(encoder_layers):
            memory = DETREncoderLayer(**layer_options, name=f"encoder_layer_{i}")(memory, positions)

        queries = ObjectQueries(num_queries, hidden_dim, name="object_queries", dtype=dtype)
        query_positions = queries(memory)
        slots = keras.layers.Lambda(ops.zeros_like, name="decoder_input", dtype=dtype)(
            query_positions
        )
        decoder_norm = keras.layers.LayerNormalization(
            epsilon=layer_norm_epsilon, name="decoder_norm", dtype=dtype
        )
        decoded = []
        for i in range(decoder_layers):
            slots = DETRDecoderLayer(**layer_options, name=f"decoder_layer_{i}")(
                slots, memory, positions, query_positions
            )
            if auxiliary_loss or i == decoder_layers - 1:
                decoded.append(decoder_norm(slots))

        class_head = keras.layers.Dense(num_classes + 1, name="class_head", dtype="float32")
        box_head = [
            keras.layers.Dense(hidden_dim, activation="relu", name=f"box_head_{i}", dtype=dtype)
            for i in range(2)
        ] + [keras.layers.Dense(4, name="box_head_2", dtype="float32")]

        def heads(x):
            boxes = x
            for layer in box_head:
                boxes = layer(boxes)
            return class_head(x), keras.layers.Activation("sigmoid", dtype="float32", name=None)(
                boxes
            )

        outputs = {}
        logits, boxes = heads(decoded[-1])
        outputs["logits"] = keras.layers.Identity(name="logits", dtype="float32")(logits)
        outputs["pred_boxes"] = keras.layers.Identity(name="pred_boxes", dtype="float32")(boxes)
        if auxiliary_loss and decoder_layers > 1:
            aux = [heads(x) for x in decoded[:-1]]
            stack = keras.layers.Lambda(lambda tensors: ops.stack(tensors, axis=1), dtype="float32")
            outputs["aux_logits"] = stack([a[0] for a in aux])
            outputs["aux_pred_boxes"] = stack([a[1] for a in aux])
        super().__init__(inputs=images, outputs=outputs, backbone=backbone, dtype=dtype, **kwargs)

    def call(self, inputs, training=None, mask=None):
        if not isinstance(inputs, dict):
            return super().call(inputs, training=training, mask=mask)
        unknown = set(inputs) - {"images", "pixel_mask"}
        if "images" not in inputs or unknown:
            raise ValueError(
                'DETRDetector takes images, or a dict {"images", "pixel_mask"}. '
                f"Received: a dict with keys {sorted(inputs)}"
            )
        if inputs.get("pixel_mask") is None:
            return super().call(inputs["images"], training=training)
        return self._masked_call(inputs["images"], inputs["pixel_mask"], training)

    def _masked_call(self, images, pixel_mask, training):
        """The functional graph's computation with padded positions left out (the layers are
        those of the graph, found by name)."""
        if len(pixel_mask.shape) != 3 or (
            None not in (*pixel_mask.shape[1:], *images.shape[1:3])
            and tuple(pixel_mask.shape[1:]) != tuple(images.shape[1:3])
        ):
            raise ValueError(
                "`pixel_mask` must be (batch, height, width), the images' height and width. "
                f"Received: pixel_mask.shape={tuple(pixel_mask.shape)}, "
                f"images.shape={tuple(images.shape)}"
            )
        layer = self.get_layer
        feature_map = self.backbone(images, training=training)["feature_map"]
        projected = layer("input_projection")(feature_map)
        shape = ops.shape(projected)
        valid = downsample_mask(ops.cast(pixel_mask, "int32"), shape[1], shape[2])
        positions = layer("position_embedding")(projected, pixel_mask=valid)
        memory = ops.reshape(projected, (shape[0], -1, self.hidden_dim))
        positions = ops.reshape(positions, (shape[0], -1, self.hidden_dim))
        valid = ops.reshape(valid, (shape[0], -1))
        for i in range(self.encoder_layers):
            memory = layer(f"encoder_layer_{i}")(
                memory, positions, padding_mask=valid, training=training
            )
        query_positions = layer("object_queries")(memory)
        slots = ops.zeros_like(query_positions)
        decoded = []
        for i in range(self.decoder_layers):
            slots = layer(f"decoder_layer_{i}")(
                slots, memory, positions, query_positions, memory_mask=valid, training=training
            )
            if self.auxiliary_loss or i == self.decoder_layers - 1:
                decoded.append(layer("decoder_norm")(slots))

        def heads(x):
            boxes = x
            for i in range(3):
                boxes = layer(f"box_head_{i}")(boxes)
            return layer("class_head")(x), ops.sigmoid(ops.cast(boxes, "float32"))

        logits, boxes = heads(decoded[-1])
        outputs = {"logits": ops.cast(logits, "float32"), "pred_boxes": boxes}
        if self.auxiliary_loss and self.decoder_layers > 1:
            aux = [heads(x) for x in decoded[:-1]]
            outputs["aux_logits"] = ops.stack([ops.cast(a[0], "float32") for a in aux], axis=1)
            outputs["aux_pred_boxes"] = ops.stack([a[1] for a in aux], axis=1)
        return outputs

    def set_loss(self) -> DETRSetLoss:
        """The `DETRSetLoss` with this detector's classes and weights."""
        return DETRSetLoss(
            self.num_classes,
            self.eos_coef,
            self.class_cost,
            self.bbox_cost,
            self.giou_cost,
            self.bbox_loss_weight,
            self.giou_loss_weight,
        )

    def compile(self, optimizer="auto", loss="auto", metrics="auto", **kwargs):
        """Configures training: AdamW and `DETRSetLoss` by default (see `Task.compile`).

        With a `DETRSetLoss`, `jit_compile` is `False` (the Hungarian matching runs scipy) and
        `metrics` default to none (the loss's parts are logged as `loss_ce`, `loss_bbox` and
        `loss_giou`).
        """
        if isinstance(loss, str) and loss == "auto":
            loss = self.set_loss()
        self._detr_loss = loss if isinstance(loss, DETRSetLoss) else None
        if self._detr_loss is not None:
            if kwargs.get("jit_compile") is True:
                warnings.warn(
                    "DETRDetector: jit_compile=True, but the set loss's Hungarian matching runs "
                    "scipy (tf.numpy_function), which XLA cannot compile: compiling without XLA.",
                    stacklevel=2,
                )
            kwargs["jit_compile"] = False
            if isinstance(metrics, str) and metrics == "auto":
                metrics = None
            # Held outside Keras's attribute tracking: `compile` may run on a built model.
            self._loss_parts = _LossParts()
        elif isinstance(metrics, str) and metrics == "auto":
            metrics = None
        super().compile(optimizer=optimizer, loss=loss, metrics=metrics, **kwargs)

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        detr_loss = getattr(self, "_detr_loss", None)
        if detr_loss is None:
            return super().compute_loss(x, y, y_pred, sample_weight, training=training)
        parts = detr_loss.components(y, y_pred)
        for name, tracker in self._loss_parts.trackers.items():
            tracker.update_state(parts[name])
        total = parts["loss"]
        for extra in self.losses:
            total = total + ops.cast(extra, total.dtype)
        # As keras's losses do: the replicas' gradients are summed, so each takes its share.
        return total / tf.distribute.get_strategy().num_replicas_in_sync

    @property
    def metrics(self):
        parts = getattr(self, "_loss_parts", None)
        if parts is None or getattr(self, "_detr_loss", None) is None:
            return super().metrics
        return super().metrics + list(parts.trackers.values())
