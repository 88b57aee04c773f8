"""Import of Hugging Face `SwinModel` checkpoints (`model_type="swin"`)."""

from __future__ import annotations

from zoo.huggingface import register_converter
from zoo.models.checkpoint import WeightLoader, check_config
from zoo.vision.swin.backbone import SwinBackbone


@register_converter("swin")
def swin_from_huggingface(config: dict, weights: dict, directory: str) -> SwinBackbone:
    """Builds a `SwinBackbone` from a Hugging Face Swin config and loads its weights.

    The result takes NHWC images (the patch projection kernel is transposed from Hugging Face's
    NCHW layout) and its `sequence_output` equals `SwinModel`'s `last_hidden_state`.

    Example:

    ```python
    backbone = zoo.from_huggingface("checkpoints/swin-tiny-patch4-window7-224")
    ```
    """
    check_config(config, "hidden_act", "gelu")
    check_config(config, "qkv_bias", True)
    check_config(config, "use_absolute_embeddings", False)
    num_heads = tuple(config.get("num_heads", (3, 6, 12, 24)))
    backbone = SwinBackbone(
        image_size=config.get("image_size", 224),
        patch_size=config.get("patch_size", 4),
        num_channels=config.get("num_channels", 3),
        embed_dim=config.get("embed_dim", 96),
        depths=tuple(config.get("depths", (2, 2, 6, 2))),
        num_heads=num_heads,
        window_size=config.get("window_size", 7),
        mlp_ratio=float(config.get("mlp_ratio", 4.0)),
        drop_path_rate=0.0,
        layer_norm_epsilon=config.get("layer_norm_eps", 1e-5),
    )
    loader = WeightLoader(weights, prefixes=("swin.",))
    loader.conv(backbone.get_layer("patch_embedding"), "embeddings.patch_embeddings.projection")
    loader.layer_norm(backbone.get_layer("patch_norm"), "embeddings.norm")
    for stage, depth in enumerate(backbone.depths):
        hf_stage = f"encoder.layers.{stage}"
        for b in range(depth):
            block = backbone.get_layer(f"stage_{stage}_block_{b}")
            hf = f"{hf_stage}.blocks.{b}"
            loader.layer_norm(block.norm_1, f"{hf}.layernorm_before")
            for part in ("query", "key", "value"):
                loader.dense(getattr(block.attention, part), f"{hf}.attention.self.{part}")
            loader.dense(block.attention.projection, f"{hf}.attention.output.dense")
            name = f"{hf}.attention.self.relative_position_bias_table"
            loader.assign(block.attention.relative_position_bias.table, loader.get(name), name)
            loader.layer_norm(block.norm_2, f"{hf}.layernorm_after")
            loader.dense(block.mlp_in, f"{hf}.intermediate.dense")
            loader.dense(block.mlp_out, f"{hf}.output.dense")
        if stage < len(backbone.depths) - 1:
            merge = backbone.get_layer(f"stage_{stage}_merge")
            loader.layer_norm(merge.norm, f"{hf_stage}.downsample.norm")
            name = f"{hf_stage}.downsample.reduction.weight"
            loader.assign(merge.reduction.kernel, loader.get(name).T, name)
    loader.layer_norm(backbone.get_layer("final_norm"), "layernorm")
    return backbone
