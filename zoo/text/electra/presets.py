"""Named ELECTRA configurations, registered in the zoo."""

from __future__ import annotations

from zoo.registry import register
from zoo.text.electra.backbone import ElectraBackbone
from zoo.text.electra.discriminator import ElectraDiscriminator
from zoo.text.inputs import token_inputs
from zoo.text.presets import TINY, register_backbone

# Clark et al. 2020, table 6 (google/electra-small-discriminator): 12 layers, hidden 256,
# 4 heads, feed-forward 1024, embeddings 128, BERT's uncased WordPiece vocabulary.
ELECTRA_SMALL = {
    "vocabulary_size": 30522,
    "num_layers": 12,
    "num_heads": 4,
    "hidden_dim": 256,
    "intermediate_dim": 1024,
    "embedding_dim": 128,
}
# The tests' tiny version: embeddings narrower than the layers, so the projection is exercised.
ELECTRA_TINY = {**TINY, "embedding_dim": 8}

register_backbone(
    "electra_small",
    ElectraBackbone,
    "electra",
    "ELECTRA-Small discriminator: 12 layers, hidden 256, embeddings 128 (13.5M weights).",
    tiny=ELECTRA_TINY,
    **ELECTRA_SMALL,
)
register_backbone(
    "electra_tiny",
    ElectraBackbone,
    "electra",
    "A tiny ELECTRA encoder for tests and examples: 2 layers, hidden 64, embeddings 32.",
    tiny=ELECTRA_TINY,
    vocabulary_size=1000,
    num_layers=2,
    num_heads=2,
    hidden_dim=64,
    intermediate_dim=256,
    embedding_dim=32,
    max_sequence_length=128,
)
register(
    "electra_discriminator",
    ElectraDiscriminator,
    family="electra",
    task="pretraining",
    description="ELECTRA-Small discriminator with its replaced-token-detection head.",
    tiny=ELECTRA_TINY,
    example_inputs=token_inputs,
    **ELECTRA_SMALL,
)
