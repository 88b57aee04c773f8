"""Import of Hugging Face `ViTModel` checkpoints (`model_type="vit"`)."""

from __future__ import annotations

from zoo.huggingface import register_converter
from zoo.models.checkpoint import WeightLoader, check_config
from zoo.vision.vit.backbone import ViTBackbone


@register_converter("vit")
def vit_from_huggingface(config: dict, weights: dict, directory: str) -> ViTBackbone:
    """Builds a `ViTBackbone` from a Hugging Face ViT config and loads its weights.

    The result takes NHWC images (Hugging Face takes NCHW `pixel_values`; the patch projection
    kernel is transposed instead) and its `sequence_output` equals `ViTModel`'s
    `last_hidden_state`. The pooler of `ViTModel`, if any, is not part of the backbone.

    Example:

    ```python
    backbone = zoo.from_huggingface("checkpoints/vit-base-patch16-224")
    ```
    """
    check_config(config, "hidden_act", "gelu")
    check_config(config, "qkv_bias", True)
    num_heads = config.get("num_attention_heads", 12)
    backbone = ViTBackbone(
        image_size=config.get("image_size", 224),
        patch_size=config.get("patch_size", 16),
        num_channels=config.get("num_channels", 3),
        hidden_dim=config.get("hidden_size", 768),
        num_layers=config.get("num_hidden_layers", 12),
        num_heads=num_heads,
        mlp_dim=config.get("intermediate_size", 3072),
        class_token=True,
        position_embedding="learned",
        layer_norm_epsilon=config.get("layer_norm_eps", 1e-12),
    )
    loader = WeightLoader(weights, prefixes=("vit.",))
    loader.conv(backbone.get_layer("patch_embedding"), "embeddings.patch_embeddings.projection")
    token = backbone.get_layer("class_token").token
    loader.assign(token, loader.get("embeddings.cls_token"), "embeddings.cls_token")
    table = backbone.get_layer("position_embedding").embeddings
    positions = loader.get("embeddings.position_embeddings")
    loader.assign(table, positions.reshape(positions.shape[-2:]), "embeddings.position_embeddings")
    for i in range(backbone.num_layers):
        block = backbone.get_layer(f"block_{i}")
        hf = f"encoder.layer.{i}"
        loader.layer_norm(block.norm_1, f"{hf}.layernorm_before")
        loader.attention(
            block.attention,
            {
                "query": f"{hf}.attention.attention.query",
                "key": f"{hf}.attention.attention.key",
                "value": f"{hf}.attention.attention.value",
                "output": f"{hf}.attention.output.dense",
            },
            num_heads,
        )
        loader.layer_norm(block.norm_2, f"{hf}.layernorm_after")
        loader.dense(block.mlp_in, f"{hf}.intermediate.dense")
        loader.dense(block.mlp_out, f"{hf}.output.dense")
    loader.layer_norm(backbone.get_layer("final_norm"), "layernorm")
    return backbone
