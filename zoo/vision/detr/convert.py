"""Import of Hugging Face `DetrForObjectDetection` checkpoints (`model_type="detr"`)."""

from __future__ import annotations

from zoo.huggingface import register_converter
from zoo.models.checkpoint import WeightLoader, check_config
from zoo.vision.detr.backbone import DETRBackbone
from zoo.vision.detr.detector import DETRDetector

# Where the ResNet sits in the checkpoint, by transformers version.
_BACKBONE_PREFIXES = ("model.backbone.conv_encoder.model.", "model.backbone.model.")


def _load_conv_bn(loader: WeightLoader, model, name: str, hf: str) -> None:
    """A bias-free torch `Conv2d` and its (frozen) `BatchNorm2d` into `{name}_conv/_bn`."""
    conv = model.get_layer(f"{name}_conv")
    kernel = loader.get(f"{hf}.convolution.weight").transpose(2, 3, 1, 0)
    loader.assign(conv.kernel, kernel, f"{hf}.convolution.weight")
    norm = model.get_layer(f"{name}_bn")
    for variable, part in (
        (norm.gamma, "weight"),
        (norm.beta, "bias"),
        (norm.moving_mean, "running_mean"),
        (norm.moving_variance, "running_var"),
    ):
        name_hf = f"{hf}.normalization.{part}"
        loader.assign(variable, loader.get(name_hf), name_hf)


def _pick(loader: WeightLoader, *candidates: str) -> str:
    """The first module name whose `.weight` the checkpoint has (names moved between versions)."""
    for name in candidates:
        if f"{name}.weight" in loader.weights:
            return name
    return candidates[0]  # the missing-parameter error then names it


def _attention(loader: WeightLoader, layer, hf: str, num_heads: int) -> None:
    names = {part: f"{hf}.{part[0]}_proj" for part in ("query", "key", "value")}
    names["output"] = _pick(loader, f"{hf}.out_proj", f"{hf}.o_proj")
    loader.attention(layer, names, num_heads)


def _ffn(loader: WeightLoader, layer, hf: str) -> None:
    loader.dense(layer.ffn_1, _pick(loader, f"{hf}.fc1", f"{hf}.mlp.fc1"))
    loader.dense(layer.ffn_2, _pick(loader, f"{hf}.fc2", f"{hf}.mlp.fc2"))


def _backbone(config: dict, weights: dict, directory: str) -> tuple[DETRBackbone, WeightLoader]:
    check_config(config, "use_timm_backbone", False)
    check_config(config, "dilation", False)
    resnet = config.get("backbone_config") or {}
    check_config(resnet, "model_type", "resnet")
    check_config(resnet, "hidden_act", "relu")
    check_config(resnet, "downsample_in_first_stage", False)
    stages = len(resnet.get("depths", (3, 4, 6, 3)))
    out_features = resnet.get("out_features") or [f"stage{stages}"]
    check_config({"out_features": list(out_features)}, "out_features", [f"stage{stages}"])
    backbone = DETRBackbone(
        num_channels=resnet.get("num_channels", 3),
        depths=tuple(resnet.get("depths", (3, 4, 6, 3))),
        hidden_sizes=tuple(resnet.get("hidden_sizes", (256, 512, 1024, 2048))),
        block_type=resnet.get("layer_type", "bottleneck"),
        stem_width=resnet.get("embedding_size", 64),
        downsample_in_bottleneck=resnet.get("downsample_in_bottleneck", False),
        name="backbone",
    )
    prefix = next((p for p in _BACKBONE_PREFIXES if any(k.startswith(p) for k in weights)), "")
    loader = WeightLoader(weights, prefixes=(prefix,), directory=directory)
    _load_conv_bn(loader, backbone, "stem", "embedder.embedder")
    for s, depth in enumerate(backbone.depths):
        for b in range(depth):
            name, hf = f"stage_{s}_block_{b}", f"encoder.stages.{s}.layers.{b}"
            for j in range(3 if backbone.block_type == "bottleneck" else 2):
                _load_conv_bn(loader, backbone, f"{name}_{j + 1}", f"{hf}.layer.{j}")
            if any(layer.name == f"{name}_shortcut_conv" for layer in backbone.layers):
                _load_conv_bn(loader, backbone, f"{name}_shortcut", f"{hf}.shortcut")
    return backbone, loader


@register_converter("detr")
def detr_from_huggingface(config: dict, weights: dict, directory: str) -> DETRDetector:
    """Builds a `DETRDetector` from a Hugging Face `DetrForObjectDetection` checkpoint.

    Supports transformers' own ResNet backbone (`use_timm_backbone=False`) with sine positions.
    The detector takes NHWC images of any size (Hugging Face takes NCHW `pixel_values`; the
    convolution kernels are transposed instead) and, for images without padding (no
    `pixel_mask`, or one of ones), its `logits` and `pred_boxes` equal Hugging Face's. Batch
    norms are frozen, as `DetrFrozenBatchNorm2d`.

    Example:

    ```python
    detector = zoo.from_huggingface("checkpoints/detr-resnet-50")
    outputs = detector(images)  # {"logits", "pred_boxes", ...}
    ```
    """
    check_config(config, "position_embedding_type", "sine")
    check_config(config, "activation_function", "relu", allowed=("relu", "gelu"))
    check_config(config, "encoder_attention_heads", config.get("decoder_attention_heads", 8))
    check_config(config, "encoder_ffn_dim", config.get("decoder_ffn_dim", 2048))
    backbone, backbone_loader = _backbone(config, weights, directory)
    del backbone_loader
    loader = WeightLoader(weights, directory=directory)
    classes = loader.get("class_labels_classifier.weight").shape[0] - 1
    num_heads = config.get("decoder_attention_heads", 8)
    detector = DETRDetector(
        backbone,
        num_classes=classes,
        num_queries=config.get("num_queries", 100),
        hidden_dim=config.get("d_model", 256),
        num_heads=num_heads,
        encoder_layers=config.get("encoder_layers", 6),
        decoder_layers=config.get("decoder_layers", 6),
        ffn_dim=config.get("decoder_ffn_dim", 2048),
        dropout=config.get("dropout", 0.1),
        activation=config.get("activation_function", "relu"),
        auxiliary_loss=bool(config.get("auxiliary_loss", False)),
        eos_coef=config.get("eos_coefficient", 0.1),
        class_cost=config.get("class_cost", 1),
        bbox_cost=config.get("bbox_cost", 5),
        giou_cost=config.get("giou_cost", 2),
        bbox_loss_weight=config.get("bbox_loss_coefficient", 5),
        giou_loss_weight=config.get("giou_loss_coefficient", 2),
    )
    loader.conv(detector.get_layer("input_projection"), "model.input_projection")
    queries = detector.get_layer("object_queries").embeddings
    name = "model.query_position_embeddings.weight"
    loader.assign(queries, loader.get(name), name)
    for i in range(detector.encoder_layers):
        layer, hf = detector.get_layer(f"encoder_layer_{i}"), f"model.encoder.layers.{i}"
        _attention(loader, layer.self_attention, f"{hf}.self_attn", num_heads)
        loader.layer_norm(layer.norm_1, f"{hf}.self_attn_layer_norm")
        _ffn(loader, layer, hf)
        loader.layer_norm(layer.norm_2, f"{hf}.final_layer_norm")
    for i in range(detector.decoder_layers):
        layer, hf = detector.get_layer(f"decoder_layer_{i}"), f"model.decoder.layers.{i}"
        _attention(loader, layer.self_attention, f"{hf}.self_attn", num_heads)
        loader.layer_norm(layer.norm_1, f"{hf}.self_attn_layer_norm")
        _attention(loader, layer.cross_attention, f"{hf}.encoder_attn", num_heads)
        loader.layer_norm(layer.norm_2, f"{hf}.encoder_attn_layer_norm")
        _ffn(loader, layer, hf)
        loader.layer_norm(layer.norm_3, f"{hf}.final_layer_norm")
    loader.layer_norm(detector.get_layer("decoder_norm"), "model.decoder.layernorm")
    loader.dense(detector.get_layer("class_head"), "class_labels_classifier")
    for i in range(3):
        loader.dense(detector.get_layer(f"box_head_{i}"), f"bbox_predictor.layers.{i}")
    return detector
