"""Named GPT-2 configurations (Radford et al. 2019), registered in the zoo."""

from __future__ import annotations

from zoo.registry import register
from zoo.text.gpt2.backbone import GPT2Backbone
from zoo.text.gpt2.causal_lm import GPT2CausalLM
from zoo.text.inputs import token_inputs
from zoo.text.presets import register_backbone


def gpt2_size(num_layers: int, hidden_dim: int) -> dict:
    """A published GPT-2 shape: heads hidden / 64, MLP 4 x hidden, 50257 tokens, 1024 positions."""
    return {
        "vocabulary_size": 50257,
        "num_layers": num_layers,
        "num_heads": hidden_dim // 64,
        "hidden_dim": hidden_dim,
        "intermediate_dim": 4 * hidden_dim,
        "max_sequence_length": 1024,
    }


GPT2_SMALL = gpt2_size(12, 768)  # 124M weights
GPT2_MEDIUM = gpt2_size(24, 1024)  # 355M weights
# The size the tests build: every block runs the same code.
GPT2_TINY = {
    "vocabulary_size": 64,
    "num_layers": 2,
    "num_heads": 2,
    "hidden_dim": 16,
    "intermediate_dim": 64,
    "max_sequence_length": 32,
}
TINY = {**GPT2_TINY, "num_layers": 1}

register_backbone(
    "gpt2_small",
    GPT2Backbone,
    "gpt2",
    "GPT-2 small: 12 layers, hidden 768, 124M weights, 1024-token context.",
    tiny=TINY,
    **GPT2_SMALL,
)
register_backbone(
    "gpt2_medium",
    GPT2Backbone,
    "gpt2",
    "GPT-2 medium: 24 layers, hidden 1024, 355M weights, 1024-token context.",
    tiny=TINY,
    **GPT2_MEDIUM,
)
register_backbone(
    "gpt2_tiny",
    GPT2Backbone,
    "gpt2",
    "A tiny GPT-2 (2 layers, hidden 16) for tests and examples.",
    tiny=TINY,
    **GPT2_TINY,
)
register(
    "gpt2_causal_lm",
    GPT2CausalLM,
    family="gpt2",
    task="causal_lm",
    description="GPT-2 small language model with cached generation (tied output embeddings).",
    tiny=TINY,
    example_inputs=token_inputs,
    **GPT2_SMALL,
)
