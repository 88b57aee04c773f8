"""Named T5 configurations, registered in the zoo: T5-small, T5 v1.1-small, a tiny one."""

from __future__ import annotations

from typing import Any

import numpy as np

from zoo.registry import register
from zoo.text.t5.backbone import T5Backbone
from zoo.text.t5.seq2seq_lm import T5Seq2SeqLM

# Raffel et al. 2020, Table 14 ("Small"; the released t5-small): 60,506,624 weights.
T5_SMALL = dict(
    vocabulary_size=32128, num_layers=6, num_heads=8, hidden_dim=512, intermediate_dim=2048,
    key_value_dim=64, dropout=0.1,
)  # fmt: skip
# T5 v1.1-small (google/t5-v1_1-small): gated GELU, 8 + 8 layers, 6 heads, untied output layer.
T5_V1_1_SMALL = dict(
    vocabulary_size=32128, num_layers=8, num_heads=6, hidden_dim=512, intermediate_dim=1024,
    key_value_dim=64, activation="gelu_approximate", gated=True, dropout=0.1,
)  # fmt: skip
# Small enough for the test suite; both attention kinds, one block each, 4 buckets.
TINY = dict(
    vocabulary_size=40, num_layers=1, num_heads=2, hidden_dim=16, intermediate_dim=24,
    key_value_dim=8, num_buckets=8, max_distance=16,
)  # fmt: skip


def seq2seq_inputs(model, batch_size: int, length: int = 6) -> dict[str, np.ndarray]:
    """Random encoder and decoder ids with padding at the end of some rows."""
    rng = np.random.default_rng(0)
    backbone = getattr(model, "backbone", model)
    lengths = length - np.arange(batch_size) % 3
    mask = (np.arange(length)[None, :] < lengths[:, None]).astype("int32")
    ids = rng.integers(2, backbone.vocabulary_size, size=(2, batch_size, length)) * mask
    return {
        "encoder_token_ids": ids[0].astype("int32"),
        "encoder_padding_mask": mask,
        "decoder_token_ids": ids[1].astype("int32"),
        "decoder_padding_mask": mask,
    }


def t5_search_space(hp) -> dict[str, Any]:
    """Depth, width, heads and dropout of a T5 (feed-forward 4 x width, heads of 16 or 32)."""
    heads = hp.Choice("num_heads", [2, 4])
    head_dim = hp.Choice("key_value_dim", [16, 32])
    width = heads * head_dim
    return {
        "num_layers": hp.Int("num_layers", 1, 4),
        "num_heads": heads,
        "key_value_dim": head_dim,
        "hidden_dim": width,
        "intermediate_dim": 4 * width,
        "dropout": hp.Float("dropout", 0.0, 0.2, step=0.1),
    }


BACKBONES = {
    "t5_small": ("T5-small: 6 + 6 layers, width 512, 8 heads, 60.5M weights.", T5_SMALL),
    "t5_v1_1_small": ("T5 v1.1-small: gated GELU, 8 + 8 layers, width 512, 6 heads.",
                      T5_V1_1_SMALL),
    "t5_tiny": ("Tiny T5 (1 + 1 layers, width 16) for tests and examples.", TINY),
}  # fmt: skip

for _name, (_description, _arguments) in BACKBONES.items():
    _gated = {"activation": "gelu_approximate", "gated": True} if _arguments.get("gated") else {}
    register(
        _name,
        T5Backbone,
        family="t5",
        task="backbone",
        description=_description,
        tiny={**TINY, **_gated},
        example_inputs=seq2seq_inputs,
        search_space=t5_search_space,
        **_arguments,
    )

register(
    "t5_seq2seq_lm",
    T5Seq2SeqLM,
    family="t5",
    task="seq2seq_lm",
    description="T5-small sequence-to-sequence LM (tied output layer, cached generation).",
    tiny=TINY,
    example_inputs=seq2seq_inputs,
    search_space=t5_search_space,
    **T5_SMALL,
)
