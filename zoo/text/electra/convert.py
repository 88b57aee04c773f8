"""Import of Hugging Face ELECTRA checkpoints (`model_type="electra"`): the backbone, or the
discriminator with its replaced-token-detection head (`task="pretraining"`)."""

from __future__ import annotations

from zoo.huggingface import register_converter
from zoo.models import WeightLoader
from zoo.text.bert.convert import wordpiece_tokenizer
from zoo.text.bert.preprocessor import BertPreprocessor
from zoo.text.electra.backbone import ElectraBackbone
from zoo.text.electra.discriminator import ElectraDiscriminator
from zoo.text.huggingface import (
    bert_layer_names,
    check_bert_like,
    encoder_arguments,
    load_embeddings,
    load_encoder_layer,
    register_preprocessor_converter,
)


@register_converter("electra", tasks=("backbone", "pretraining"))
def electra_from_huggingface(
    config: dict, weights: dict, directory: str, task: str = "backbone"
) -> ElectraBackbone | ElectraDiscriminator:
    """Builds an `ElectraBackbone` (or, for `task="pretraining"`, an `ElectraDiscriminator`)
    from a Hugging Face ELECTRA checkpoint and loads its weights.

    Checkpoints of `ElectraModel` and of task models (weights prefixed with `electra.`) load;
    `"pretraining"` needs `ElectraForPreTraining`'s `discriminator_predictions`. A generator
    checkpoint (`ElectraForMaskedLM`) loads as a backbone.

    Example:

    ```python
    backbone = zoo.from_huggingface("checkpoints/electra-small-discriminator")
    discriminator = zoo.from_huggingface("checkpoints/electra-small-discriminator",
                                         task="pretraining")
    ```
    """
    check_bert_like(config)
    loader = WeightLoader(weights, prefixes=("electra.",), directory=directory)
    backbone = ElectraBackbone(
        **encoder_arguments(config),
        embedding_dim=config.get("embedding_size", config["hidden_size"]),
        max_sequence_length=config["max_position_embeddings"],
        num_segments=config.get("type_vocab_size", 2),
    )
    load_embeddings(loader, backbone)
    if backbone.embedding_dim != backbone.hidden_dim:
        loader.dense(backbone.get_layer("embeddings_projection"), "embeddings_project")
    for i in range(backbone.num_layers):
        block = backbone.get_layer(f"transformer_layer_{i}")
        load_encoder_layer(loader, block, bert_layer_names(f"encoder.layer.{i}"))
    if task == "backbone":
        return backbone
    model = ElectraDiscriminator(backbone)
    head = WeightLoader(weights, directory=directory)
    head.dense(model.get_layer("rtd_dense"), "discriminator_predictions.dense")
    head.dense(model.get_layer("rtd_prediction"), "discriminator_predictions.dense_prediction")
    return model


@register_preprocessor_converter("electra")
def electra_preprocessor_from_huggingface(directory: str, sequence_length: int) -> BertPreprocessor:
    """A `BertPreprocessor` over the checkpoint's WordPiece vocabulary (BERT's layout)."""
    return BertPreprocessor(wordpiece_tokenizer(directory, "electra"), sequence_length)
